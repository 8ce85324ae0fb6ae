// bench-gemm-amx — the BF16x3 AMX FP32 GEMM (engine/cpu/gemm_amx.h) against the BLAS FP32 GEMM
// (gemm_nt) on the shapes of a forward pass, side by side in one process: interleaved rounds,
// medians, the ratio, and each one's largest error against a double-precision product.
// Shapes (default: the CPU benchmark model's, a 2048-token chunk): output head block
// [2048 x 512] · [512 x 2048]^T, expert gate+up [2048 x 512] · [512 x 512]^T, expert down
// [2048 x 256] · [256 x 512]^T, attention q/k/v [2048 x 512] · [512 x 1536]^T.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "app/cli/args.h"
#include "engine/cpu/blas_core.h"
#include "engine/cpu/cpu_ops.h"
#include "engine/error.h"
#include "engine/cpu/gemm_amx.h"
#include "engine/cpu/gemm_bf16.h"
#include "engine/cpu/gemm_f32.h"

using namespace moescope;

namespace {

constexpr const char* kUsage =
    "bench-gemm-amx [--rows M] [--hidden D] [--expert-width I] [--qkv N] [--repeat R] [--threads N] [--bf16-weights]\n"
    "  Times the AMX BF16x3 FP32 GEMM against BLAS sgemm on forward-pass shapes (M rows each) of a\n"
    "  model with hidden width D (512), expert width I (256) and q+k+v outputs N (3 D).\n"
    "  --bf16-weights: weights exact in BF16, as a BF16 checkpoint's (three products instead of six).";

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

struct Shape {
  const char* name;
  int64_t N, K;
};

}  // namespace

int main(int argc, char** argv) {
  moescope::match_blas_kernels_to_cpu(argv);  // BLAS sgemm is the reference: its kernels must fit the CPU
  const std::vector<std::string> argv_list(argv + 1, argv + argc);
  if (!argv_list.empty() && (argv_list[0] == "--help" || argv_list[0] == "-h")) {
    std::puts(kUsage);
    return 0;
  }
  try {
    const cli::Args args(argv_list, {"bf16-weights"}, {"rows", "repeat", "threads", "hidden", "expert-width", "qkv"});
    const int64_t M = args.get_int("rows", 2048, 1);
    const int repeat = args.get_int("repeat", 9, 1);
    const bool bf16_weights = args.flag("bf16-weights");
    set_cpu_threads(args.get_int("threads", 0, 0));
    std::string why;
    if (!amx_f32_available(&why)) {
      std::printf("AMX BF16x3 GEMM not available here: %s\n", why.c_str());
      return 0;
    }
    // Model widths: hidden D, expert width I, q+k+v outputs (defaults: the CPU benchmark model's).
    const int64_t D = args.get_int("hidden", 512, 1), I = args.get_int("expert-width", 256, 1);
    const int64_t QKV = args.get_int("qkv", int(3 * D), 1);
    const Shape shapes[] = {{"output head block", 2048, D}, {"expert gate+up", 2 * I, D},
                            {"expert down", D, I}, {"attention q/k/v", QKV, D}};
    std::mt19937 rng(1);
    std::normal_distribution<float> dist;
    std::printf("FP32 GEMM, %lld rows, %d threads, weights %s; medians of %d interleaved rounds\n", (long long)M,
                cpu_threads(), bf16_weights ? "exact in BF16" : "full FP32", repeat);
    std::printf("%-20s%8s%8s%14s%14s%8s%16s%16s\n", "shape", "N", "K", "BLAS GFLOP/s", "AMX GFLOP/s", "ratio",
                "BLAS max err", "AMX max err");
    for (const Shape& s : shapes) {
      std::vector<float> x(size_t(M * s.K)), w(size_t(s.N * s.K)), y_blas(size_t(M * s.N)), y_amx(size_t(M * s.N));
      for (float& v : x) v = dist(rng);
      for (float& v : w) v = dist(rng) * 0.05f;
      if (bf16_weights)
        for (float& v : w) v = bf16_to_f32([&] { uint16_t b; f32_to_bf16_n(&v, 1, &b); return b; }());
      const AmxF32Weights packed = pack_amx_f32_weights(w.data(), s.N, s.K);
      std::vector<double> t_blas, t_amx;
      for (int r = 0; r <= repeat; ++r) {  // round 0 warms up
        auto t0 = std::chrono::steady_clock::now();
        gemm_nt(x.data(), s.K, w.data(), s.K, y_blas.data(), s.N, M, s.N, s.K);
        const double tb = seconds_since(t0);
        t0 = std::chrono::steady_clock::now();
        gemm_amx_f32(x.data(), M, s.K, packed, y_amx.data(), s.N);  // includes splitting x
        const double ta = seconds_since(t0);
        if (r > 0) t_blas.push_back(tb), t_amx.push_back(ta);
      }
      double err_blas = 0, err_amx = 0;  // on a sample of outputs, against double
      for (int64_t i = 0; i < M; i += 7)
        for (int64_t j = 0; j < s.N; j += 5) {
          double ref = 0;
          for (int64_t k = 0; k < s.K; ++k) ref += double(x[size_t(i * s.K + k)]) * double(w[size_t(j * s.K + k)]);
          err_blas = std::max(err_blas, std::abs(double(y_blas[size_t(i * s.N + j)]) - ref));
          err_amx = std::max(err_amx, std::abs(double(y_amx[size_t(i * s.N + j)]) - ref));
        }
      const double flops = 2.0 * double(M) * double(s.N) * double(s.K);
      const double mb = median(t_blas), ma = median(t_amx);
      std::printf("%-20s%8lld%8lld%14.1f%14.1f%7.2fx%16.3g%16.3g\n", s.name, (long long)s.N, (long long)s.K,
                  flops / mb / 1e9, flops / ma / 1e9, mb / ma, err_blas, err_amx);
    }
    return 0;
  } catch (const Error& e) {
    std::fprintf(stderr, "bench-gemm-amx: %s\n", e.what());
    return 1;
  }
}
