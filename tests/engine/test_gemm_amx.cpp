// The BF16x3 AMX FP32 GEMM against a double-precision product. The bound is the one an FP32
// GEMM meets: |y - y_exact| <= c · 2^-24 · sum_k |x_k w_k|, with c small (4 here; a missing
// cross term such as x1·w3 alone would cost ~2^-16, i.e. c ~ 256). Shapes hit every padding edge
// (M, N, K not multiples of 32; single rows and columns) and a column sub-range. Runs only where
// the CPU has AMX-BF16; the split itself is checked everywhere.
#include <doctest/doctest.h>

#include <omp.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "engine/cpu/gemm_amx.h"
#include "engine/cpu/gemm_bf16.h"

using namespace moescope;

namespace {

std::vector<float> random_values(size_t n, std::mt19937& rng, float sd) {
  std::normal_distribution<float> dist(0.f, sd);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// Largest |y - exact| / (2^-24 · sum |x w|) over y [M, ldy] columns [n0, n1).
double worst_error_in_ulps(const std::vector<float>& x, const std::vector<float>& w, const std::vector<float>& y,
                           int64_t M, int64_t K, int64_t ldy, int64_t n0, int64_t n1) {
  double worst = 0;
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = n0; j < n1; ++j) {
      double exact = 0, magnitude = 0;
      for (int64_t k = 0; k < K; ++k) {
        const double p = double(x[size_t(i * K + k)]) * double(w[size_t(j * K + k)]);
        exact += p;
        magnitude += std::abs(p);
      }
      const double unit = std::ldexp(magnitude, -24);
      if (unit > 0) worst = std::max(worst, std::abs(double(y[size_t(i * ldy + j)]) - exact) / unit);
      else CHECK(y[size_t(i * ldy + j)] == 0.f);
    }
  return worst;
}

}  // namespace

TEST_CASE("bf16x3 split: the three parts add up to the value exactly") {
  std::mt19937 rng(3);
  std::vector<float> values = random_values(20000, rng, 1.f);
  for (float e : {1e-30f, 1e-10f, 1e10f, 3e38f}) values.push_back(e * 1.2345678f), values.push_back(-e * 0.7654321f);
  values.push_back(0.f);
  values.push_back(1.f + std::ldexp(1.f, -23));  // the last significant bit only
  values.push_back(std::nextafter(2.f, 0.f));    // every significant bit set
  for (float v : values) {
    uint16_t hi, mid, lo;
    split_bf16x3(v, hi, mid, lo);
    // Adding the smallest parts first is exact: each partial sum fits in FP32's 24 bits.
    const float sum = bf16_to_f32(hi) + (bf16_to_f32(mid) + bf16_to_f32(lo));
    CHECK_MESSAGE(sum == v, "value " << v);
  }
  uint16_t hi, mid, lo;
  split_bf16x3(std::numeric_limits<float>::infinity(), hi, mid, lo);
  CHECK(std::isinf(bf16_to_f32(hi)));
  CHECK(mid == 0);
  CHECK(lo == 0);
  split_bf16x3(std::numeric_limits<float>::quiet_NaN(), hi, mid, lo);
  CHECK(std::isnan(bf16_to_f32(hi)));
}

TEST_CASE("bf16x3 weights: one part when every weight is exact in BF16, three otherwise") {
  std::mt19937 rng(4);
  std::vector<float> w = random_values(40 * 70, rng, 0.1f);
  const AmxF32Weights full = pack_amx_f32_weights(w.data(), 40, 70);
  CHECK(full.parts == 3);
  CHECK(full.Np == 64);
  CHECK(full.Kp == 96);
  CHECK(full.bytes() == size_t(64 * 96 * 3 * 2));
  for (float& v : w) {
    uint16_t b;
    f32_to_bf16_n(&v, 1, &b);
    v = bf16_to_f32(b);
  }
  CHECK(pack_amx_f32_weights(w.data(), 40, 70).parts == 1);
}

TEST_CASE("bf16x3 AMX GEMM: FP32 accuracy against a double-precision product on every padding edge") {
  std::string why;
  if (!amx_f32_available(&why)) {
    MESSAGE("skipped: " << why);
    return;
  }
  std::mt19937 rng(5);
  struct Case {
    int64_t M, N, K;
    bool bf16_weights;
  };
  const Case cases[] = {{1, 1, 1, false},     {17, 31, 33, false},   {33, 33, 31, true},   {64, 64, 64, false},
                        {100, 70, 100, false}, {300, 40, 512, false}, {300, 96, 257, true}, {1, 130, 64, true},
                        {600, 24, 2100, false},  // K large enough that rows go in two chunks
                        {40, 40, 8192, false}, {33, 33, 1100, true}};  // k in several 512-blocks, partial blocks
  for (const Case& c : cases) {
    CAPTURE(c.M);
    CAPTURE(c.N);
    CAPTURE(c.K);
    CAPTURE(c.bf16_weights);
    const std::vector<float> x = random_values(size_t(c.M * c.K), rng, 1.f);
    std::vector<float> w = random_values(size_t(c.N * c.K), rng, 0.05f);
    if (c.bf16_weights)
      for (float& v : w) {
        uint16_t b;
        f32_to_bf16_n(&v, 1, &b);
        v = bf16_to_f32(b);
      }
    const AmxF32Weights packed = pack_amx_f32_weights(w.data(), c.N, c.K);
    CHECK(packed.parts == (c.bf16_weights ? 1 : 3));
    std::vector<float> y(size_t(c.M * c.N), std::numeric_limits<float>::quiet_NaN());
    gemm_amx_f32(x.data(), c.M, c.K, packed, y.data(), c.N);
    CHECK(worst_error_in_ulps(x, w, y, c.M, c.K, c.N, 0, c.N) <= 4.0);
  }
}

TEST_CASE("bf16x3 AMX GEMM: a column sub-range writes only those columns; inside a parallel region; deterministic") {
  if (!amx_f32_available()) return;
  std::mt19937 rng(6);
  const int64_t M = 70, N = 100, K = 48, ldy = 128;
  const std::vector<float> x = random_values(size_t(M * K), rng, 1.f), w = random_values(size_t(N * K), rng, 0.1f);
  const AmxF32Weights packed = pack_amx_f32_weights(w.data(), N, K);
  AmxF32Activations acts;
  split_amx_f32_activations(x.data(), M, K, K, acts);
  std::vector<float> y(size_t(M * ldy), -7.f);
  gemm_amx_f32(acts, packed, 32, 90, y.data() + 32, ldy);  // columns 32..90 of the product into y[:, 32:90]
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < ldy; ++j)
      if (j < 32 || j >= 90) REQUIRE(y[size_t(i * ldy + j)] == -7.f);
  CHECK(worst_error_in_ulps(x, w, y, M, K, ldy, 32, 90) <= 4.0);

  // The same product from inside a parallel region (the experts' case), on every thread at once:
  // each must equal the first bit for bit.
  std::vector<float> y_full(size_t(M * N));
  gemm_amx_f32(acts, packed, 0, N, y_full.data(), N);
  const int threads = std::max(2, omp_get_max_threads());
  std::vector<std::vector<float>> per_thread(size_t(threads), std::vector<float>(size_t(M * N)));
#pragma omp parallel for num_threads(threads)
  for (int t = 0; t < threads; ++t) gemm_amx_f32(x.data(), M, K, packed, per_thread[size_t(t)].data(), N);
  for (const auto& yt : per_thread) CHECK(std::memcmp(yt.data(), y_full.data(), y_full.size() * sizeof(float)) == 0);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 32; j < 90; ++j) CHECK(y_full[size_t(i * N + j)] == y[size_t(i * ldy + j)]);
}

TEST_CASE("bf16x3 AMX GEMM: mismatched operands are an error naming the shapes") {
  if (!amx_f32_available()) return;
  const std::vector<float> w(64 * 32, 0.5f), x(4 * 16, 1.f);
  const AmxF32Weights packed = pack_amx_f32_weights(w.data(), 64, 32);
  AmxF32Activations acts;
  split_amx_f32_activations(x.data(), 4, 16, 16, acts);
  std::vector<float> y(4 * 64);
  CHECK_THROWS_WITH(gemm_amx_f32(acts, packed, 0, 64, y.data(), 64), doctest::Contains("x K 16, w [64, 32]"));
  split_amx_f32_activations(x.data(), 2, 32, 32, acts);
  CHECK_THROWS_WITH(gemm_amx_f32(acts, packed, 16, 64, y.data(), 64), doctest::Contains("columns 16..64"));
}
