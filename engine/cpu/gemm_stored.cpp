// gemm_stored.cpp — panel-widening FP32 GEMM over BF16/F16 weights (see gemm_stored.h).
#include "engine/cpu/gemm_stored.h"

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "engine/error.h"
#include "engine/cpu/gemm_f32.h"

namespace moescope {

namespace {
// One thread's widened panel. 512 KB leaves room in a 1-2 MB L2 for the blocks of x the GEMM
// packs beside it; smaller panels make the GEMM re-read x more often.
constexpr int64_t kPanelBytes = int64_t(512) << 10;
}  // namespace

int64_t stored_panel_rows(int64_t N, int64_t K) {
  const int64_t rows = kPanelBytes / (4 * std::max<int64_t>(K, 1)) / 16 * 16;
  return std::min(std::max<int64_t>(rows, 16), (N + 15) / 16 * 16);
}

void widen_stored(const uint16_t* w, DType dtype, int64_t n, float* out) {
  if (dtype == DType::BF16) return bf16_to_f32_n(w, size_t(n), out);
  if (dtype != DType::F16) fail("gemm_stored", std::string("weights are ") + dtype_name(dtype) + ", expected BF16 or F16");
  convert_to_f32(dtype, w, out, size_t(n));
}

void gemm_stored(const float* x, int64_t M, int64_t ldx, const uint16_t* w, DType dtype, int64_t N, int64_t K, float* y,
                 int64_t ldy) {
  if (M <= 0 || N <= 0) return;
  const int64_t rows = stored_panel_rows(N, K), panels = (N + rows - 1) / rows;
  auto panel = [&](int64_t p) {
    thread_local std::vector<float> buf;
    const int64_t n0 = p * rows, n = std::min(rows, N - n0);
    buf.resize(size_t(n * K));
    widen_stored(w + n0 * K, dtype, n * K, buf.data());
    gemm_nt(x, ldx, buf.data(), K, y + n0, ldy, M, n, K);  // y[:, n0:n0+n] = x · panel^T
  };
  const bool parallel = !omp_in_parallel() && omp_get_max_threads() > 1 && panels > 1 && M * N * K >= (int64_t(1) << 21);
  if (!parallel) {
    for (int64_t p = 0; p < panels; ++p) panel(p);
    return;
  }
#pragma omp parallel for schedule(dynamic)
  for (int64_t p = 0; p < panels; ++p) panel(p);
}

}  // namespace moescope
