// The CUDA kernels' per-element math (kernels/math/*.h, compiled here by g++ as plain C++) against
// a double-precision definition and against the CPU backend's own functions (engine/cpu/cpu_ops.h)
// on odd sizes: what the GPU computes per element is what the CPU path computes.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "engine/cpu/cpu_ops.h"
#include "kernels/math/attention_window.h"
#include "kernels/math/expert_slots.h"
#include "kernels/math/online_softmax.h"
#include "kernels/math/rms_norm.h"
#include "kernels/math/rope.h"
#include "kernels/math/swiglu.h"
#include "kernels/plan/expert_plan.h"

using namespace moescope;

namespace {

ActMatrix random_matrix(int64_t rows, int64_t cols, std::mt19937& rng, float scale = 1.f) {
  std::normal_distribution<float> n(0.f, scale);
  ActMatrix m(rows, cols);
  for (int64_t i = 0; i < m.size(); ++i) m.data()[i] = n(rng);
  return m;
}

Matrix vector_weight(const std::vector<float>& v) {
  Matrix m;
  m.rows = 1;
  m.cols = int64_t(v.size());
  m.owned = v;
  m.data = m.owned.data();
  return m;
}

// The kernel's row: sum of squares (any order), then kmath's scale per element.
void kernel_rms_row(const float* x, const float* w, int64_t n, float eps, float* y) {
  float ss = 0.f;
  for (int64_t i = n - 1; i >= 0; --i) ss += x[i] * x[i];  // another order than the CPU's
  const float r = kmath::rms_inverse(ss, n, eps);
  for (int64_t i = 0; i < n; ++i) y[i] = kmath::rms_scale(x[i], r, w, i);
}

}  // namespace

TEST_CASE("kernel math: an RMSNorm row equals the double definition and the CPU backend's norm") {
  std::mt19937 rng(7);
  for (int64_t n : {1, 7, 33, 128, 2053}) {
    const ActMatrix x = random_matrix(3, n, rng, 2.f);
    std::vector<float> w(static_cast<size_t>(n));
    for (auto& v : w) v = std::uniform_real_distribution<float>(0.5f, 1.5f)(rng);
    ActMatrix cpu;
    rms_norm(x, vector_weight(w), 1e-5f, cpu);
    for (int64_t t = 0; t < 3; ++t) {
      std::vector<float> y(static_cast<size_t>(n)), y_plain(static_cast<size_t>(n));
      kernel_rms_row(x.data() + t * n, w.data(), n, 1e-5f, y.data());
      kernel_rms_row(x.data() + t * n, nullptr, n, 1e-5f, y_plain.data());
      double ss = 0;
      for (int64_t i = 0; i < n; ++i) ss += double(x(t, i)) * x(t, i);
      const double r = 1.0 / std::sqrt(ss / double(n) + 1e-5);
      for (int64_t i = 0; i < n; ++i) {
        const double want = double(w[size_t(i)]) * double(x(t, i)) * r;
        CHECK(y[size_t(i)] == doctest::Approx(want).epsilon(2e-6));
        CHECK(y[size_t(i)] == doctest::Approx(cpu(t, i)).epsilon(2e-6));
        CHECK(y_plain[size_t(i)] == doctest::Approx(double(x(t, i)) * r).epsilon(2e-6));
      }
    }
  }
}

TEST_CASE("kernel math: RoPE pairs and rotation equal the CPU backend's rope_apply (both pairings, MLA offsets)") {
  std::mt19937 rng(11);
  const std::vector<float> inv_freq = {1.f, 0.31f, 0.1f, 0.031f, 0.01f};  // half = 5
  const std::vector<DocumentSpan> docs = {{0, 6}, {6, 9}};
  const RopeTable rope = make_rope_table(inv_freq, 1.25f, docs, 9);
  const int half = rope.half, heads = 3;
  for (const RopePairing pairing : {RopePairing::Half, RopePairing::Interleaved})
    for (const int offset : {0, 3}) {  // MLA rotates the last dims of a [nope | rope] head
      const int stride = offset + 2 * half + 1;  // an odd extra dim after the rotated part
      const ActMatrix x = random_matrix(9, heads * stride, rng);
      ActMatrix cpu = x;
      rope_apply(cpu, heads, stride, offset, rope, pairing);
      ActMatrix k = x;
      const bool inter = pairing == RopePairing::Interleaved;
      for (int64_t t = 0; t < 9; ++t)
        for (int h = 0; h < heads; ++h)
          for (int p = 0; p < half; ++p) {
            float* v = k.data() + t * k.cols() + h * stride + offset;
            const size_t at = size_t(rope.position[size_t(t)]) * size_t(half) + size_t(p);
            kmath::rope_rotate(v[kmath::rope_first(p, inter)], v[kmath::rope_second(p, half, inter)], rope.cos[at], rope.sin[at]);
          }
      for (int64_t i = 0; i < x.size(); ++i) CHECK(k.data()[i] == doctest::Approx(cpu.data()[i]).epsilon(1e-6));
      // Dims outside [offset, offset + 2*half) are untouched.
      for (int64_t t = 0; t < 9; ++t)
        for (int h = 0; h < heads; ++h) {
          CHECK(k(t, h * stride + stride - 1) == x(t, h * stride + stride - 1));
          for (int d = 0; d < offset; ++d) CHECK(k(t, h * stride + d) == x(t, h * stride + d));
        }
    }
  // By hand: Half pairs (i, i + half), Interleaved (2i, 2i + 1); a quarter turn maps (1, 0) to (0, 1).
  CHECK(kmath::rope_first(2, false) == 2);
  CHECK(kmath::rope_second(2, 5, false) == 7);
  CHECK(kmath::rope_first(2, true) == 4);
  CHECK(kmath::rope_second(2, 5, true) == 5);
  float a = 1.f, b = 0.f;
  kmath::rope_rotate(a, b, 0.f, 1.f);
  CHECK(a == 0.f);
  CHECK(b == 1.f);
}

TEST_CASE("kernel math: Llama 4's temperature factor by hand") {
  // 1 + 0.1 * ln(1 + floor((p + 1) / 8192))
  CHECK(kmath::temperature_factor(0, 0.1f, 8192.f) == 1.f);
  CHECK(kmath::temperature_factor(8190, 0.1f, 8192.f) == 1.f);
  CHECK(kmath::temperature_factor(8191, 0.1f, 8192.f) == doctest::Approx(1.0 + 0.1 * std::log(2.0)));
  CHECK(kmath::temperature_factor(3 * 8192 + 5, 0.1f, 8192.f) == doctest::Approx(1.0 + 0.1 * std::log(4.0)));
}

TEST_CASE("kernel math: SwiGLU and the sigmoid gate against double, far into both tails") {
  for (float g : {-1000.f, -88.f, -20.f, -1.5f, -1e-3f, 0.f, 1e-3f, 0.7f, 3.f, 20.f, 88.f, 1000.f})
    for (float u : {-2.f, 0.5f, 3.f}) {
      const double want = double(g) / (1.0 + std::exp(-double(g))) * double(u);
      const float got = kmath::swiglu(g, u);
      REQUIRE(std::isfinite(got));
      CHECK(got == doctest::Approx(want).epsilon(1e-6));
      CHECK(kmath::sigmoid(g) == doctest::Approx(1.0 / (1.0 + std::exp(-double(g)))).epsilon(1e-6));
    }
}

TEST_CASE("kernel math: the running softmax equals a double log-sum-exp in any split, -inf included") {
  std::mt19937 rng(3);
  std::normal_distribution<float> n(0.f, 8.f);
  for (int size : {1, 2, 31, 32, 33, 1000}) {
    std::vector<float> x(static_cast<size_t>(size));
    for (auto& v : x) v = n(rng);
    double m = -INFINITY;
    for (float v : x) m = std::max(m, double(v));
    double s = 0;
    for (float v : x) s += std::exp(double(v) - m);
    const double lse = m + std::log(s);
    kmath::RunningSoftmax one;
    for (float v : x) one.add(v);
    CHECK(one.log_sum_exp() == doctest::Approx(lse).epsilon(1e-6));
    for (int block : {1, 5, 32}) {  // blocks of a tile, folded as the kernels fold them
      kmath::RunningSoftmax run;
      for (int b0 = 0; b0 < size; b0 += block) {
        kmath::RunningSoftmax part;
        for (int i = b0; i < std::min(size, b0 + block); ++i) part.add(x[size_t(i)]);
        run.merge(part);
      }
      CHECK(run.log_sum_exp() == doctest::Approx(lse).epsilon(1e-6));
    }
  }
  kmath::RunningSoftmax empty, some;
  some.add(2.f);
  kmath::RunningSoftmax merged = empty;
  merged.merge(some);
  CHECK(merged.log_sum_exp() == doctest::Approx(2.0));
  some.merge(empty);
  CHECK(some.log_sum_exp() == doctest::Approx(2.0));
  CHECK(kmath::rescale_factor(-INFINITY, 3.f) == 0.f);
  CHECK(kmath::rescale_factor(1.f, 3.f) == doctest::Approx(std::exp(-2.0)));
  // add() returns the factor earlier accumulators take: exp(old - new) on a new maximum, else 1.
  kmath::RunningSoftmax r;
  CHECK(r.add(1.f) == 0.f);
  CHECK(r.add(0.f) == 1.f);
  CHECK(r.add(4.f) == doctest::Approx(std::exp(-3.0)));
}

TEST_CASE("kernel math: attention's visible keys equal the CPU backend's rule (windows, chunks, both)") {
  for (int window : {0, 1, 3, 64})
    for (int chunk : {0, 1, 5, 64}) {
      AttentionShape shape;
      shape.window = window;
      shape.chunk = chunk;
      for (int64_t i = 0; i < 300; ++i) {
        const int64_t first = kmath::first_visible_key(i, window, chunk);
        CHECK(first == shape.first_key(i));
        CHECK(first <= i);  // a query always sees itself
      }
    }
  CHECK(kmath::first_visible_key(10, 4, 0) == 7);   // keys 7..10
  CHECK(kmath::first_visible_key(10, 0, 8) == 8);   // chunk [8, 16)
  CHECK(kmath::first_visible_key(10, 2, 8) == 9);   // both
}

TEST_CASE("kernel math: combining slots sums each token's experts in router order, weighted or not") {
  std::mt19937 rng(5);
  const int64_t T = 13, D = 6;
  const int K = 3, E = 5;
  std::vector<int32_t> ids(size_t(T * K));
  std::vector<float> weights(size_t(T * K));
  for (int64_t t = 0; t < T; ++t)
    for (int i = 0; i < K; ++i) {
      ids[size_t(t * K + i)] = int32_t((t * 7 + i * 3) % E);
      weights[size_t(t * K + i)] = std::uniform_real_distribution<float>(0.f, 1.f)(rng);
    }
  const ExpertPlan plan = plan_experts(ids.data(), T, K, E);
  // Expert outputs per row: a distinct value per (row, d), so a wrong row shows.
  std::vector<float> out(size_t(T * K * D));
  for (size_t i = 0; i < out.size(); ++i) out[i] = float(i % 97) * 0.25f - 7.f;
  for (int64_t t = 0; t < T; ++t)
    for (int64_t d = 0; d < D; ++d) {
      float want_w = 0.f, want_1 = 0.f;  // the CPU backend's order: slot 0, 1, ... K-1
      for (int i = 0; i < K; ++i) {
        const int64_t row = plan.row_of_slot[size_t(t * K + i)];
        CHECK(plan.slot_of_row[size_t(row)] == t * K + i);
        want_w += out[size_t(row * D + d)] * weights[size_t(t * K + i)];
        want_1 += out[size_t(row * D + d)];
      }
      CHECK(kmath::combine_slots(out.data(), D, plan.row_of_slot.data(), weights.data(), true, t, K, d) == want_w);
      CHECK(kmath::combine_slots(out.data(), D, plan.row_of_slot.data(), weights.data(), false, t, K, d) == want_1);
    }
  CHECK(kmath::slot_token(17, 3) == 5);
  CHECK(kmath::token_slot(5, 2, 3) == 17);
}
