// The CUDA kernels one at a time against the CPU backend's functions on random inputs: packed
// attention (GQA, sliding windows, chunks, q/k wider than v, one-token documents; both kernels),
// per-head RMSNorm and the output head's log-sum-exp fold. FP32 kernels to FP32's tolerance.
// Built where the CUDA backend is; runs where a device is.
#include <doctest/doctest.h>

#include "tests/gpu/gpu_tests.h"

#ifdef MOESCOPE_WITH_CUDA
#include <cmath>
#include <random>
#include <vector>

#include "engine/cpu/cpu_ops.h"
#include "kernels/cuda/device_array.h"
#include "kernels/cuda/ops.h"

using namespace moescope;
using cuda::DeviceArray;

namespace {

ActMatrix random_matrix(int64_t rows, int64_t cols, std::mt19937& rng) {
  std::normal_distribution<float> n(0.f, 1.f);
  ActMatrix m(rows, cols);
  for (int64_t i = 0; i < m.size(); ++i) m.data()[i] = n(rng);
  return m;
}

template <typename T>
DeviceArray<T> on_device(const T* host, size_t n) {
  DeviceArray<T> d;
  d.upload(host, n);
  return d;
}

std::vector<float> to_host(const DeviceArray<float>& d, size_t n) {
  std::vector<float> h(n);
  cuda::check(cudaMemcpy(h.data(), d.get(), n * 4, cudaMemcpyDeviceToHost), "test copy");
  return h;
}

}  // namespace

TEST_CASE("cuda backend: the attention kernel equals the CPU's packed attention") {
  if (!test::cuda_tests_can_run()) return;
  std::mt19937 rng(23);
  const std::vector<DocumentSpan> docs = {{0, 1}, {1, 38}, {38, 138}, {138, 139}};
  const int64_t T = 139;
  struct Case { int H, Hkv, Dqk, Dv, window, chunk; };
  for (const Case c : {Case{4, 4, 16, 16, 0, 0}, Case{8, 2, 64, 64, 0, 0}, Case{4, 1, 24, 16, 0, 0},
                       Case{4, 2, 32, 32, 7, 0}, Case{4, 2, 32, 32, 0, 16}, Case{2, 2, 128, 128, 33, 40},
                       Case{2, 1, 192, 128, 0, 0}}) {
    CAPTURE(c.H);
    CAPTURE(c.Dqk);
    CAPTURE(c.window);
    CAPTURE(c.chunk);
    const ActMatrix q = random_matrix(T, c.H * c.Dqk, rng), k = random_matrix(T, c.Hkv * c.Dqk, rng),
                    v = random_matrix(T, c.Hkv * c.Dv, rng);
    const float scale = 1.f / std::sqrt(float(c.Dqk));
    ActMatrix want;
    attention_packed(q, k, v, {c.H, c.Hkv, c.Dqk, c.Dv, scale, c.window, c.chunk}, docs, want);
    std::vector<int32_t> begin(static_cast<size_t>(T));
    for (const DocumentSpan& d : docs)
      for (size_t t = d.begin; t < d.end; ++t) begin[t] = int32_t(d.begin);
    auto dq = on_device(q.data(), size_t(q.size())), dk = on_device(k.data(), size_t(k.size())),
         dv = on_device(v.data(), size_t(v.size()));
    auto db = on_device(begin.data(), begin.size());
    // The FP32 kernel to FP32 rounding; the tensor-core one (head widths multiples of 16) to BF16's.
    for (const bool fp32 : {true, false}) {
      CAPTURE(fp32);
      DeviceArray<float> out(size_t(want.size()));
      std::vector<float> poison(size_t(want.size()), NAN);
      out.upload(poison.data(), poison.size());
      cuda::attention(dq.get(), dk.get(), dv.get(), db.get(), T, {c.H, c.Hkv, c.Dqk, c.Dv, scale, c.window, c.chunk, fp32},
                      out.get(), nullptr);
      cuda::check(cudaDeviceSynchronize(), "attention");
      const std::vector<float> got = to_host(out, size_t(want.size()));
      double worst = 0;
      for (int64_t i = 0; i < want.size(); ++i) {
        REQUIRE(std::isfinite(got[size_t(i)]));
        worst = std::max(worst, double(std::fabs(got[size_t(i)] - want.data()[i])));
      }
      const bool tensor_cores = !fp32 && c.Dqk % 16 == 0 && c.Dv % 16 == 0;
      MESSAGE("attention H " << c.H << " Dqk " << c.Dqk << (tensor_cores ? " tensor cores" : " fp32") << ": max |diff| " << worst);
      CHECK(worst < (tensor_cores ? 3e-2 : 2e-5));
    }
  }
}

TEST_CASE("cuda backend: per-head RMSNorm and the log-sum-exp fold equal the CPU's") {
  if (!test::cuda_tests_can_run()) return;
  std::mt19937 rng(29);
  const int64_t T = 37, H = 3, Dh = 40;
  ActMatrix x = random_matrix(T, H * Dh, rng);
  std::vector<float> w(static_cast<size_t>(Dh));
  for (auto& v : w) v = std::uniform_real_distribution<float>(0.5f, 1.5f)(rng);
  Matrix wm;
  wm.rows = 1, wm.cols = Dh, wm.owned = w, wm.data = wm.owned.data();
  ActMatrix want = x;
  rms_norm_heads_inplace(want, wm, int(H), int(Dh), 1e-6f);
  auto dx = on_device(x.data(), size_t(x.size()));
  auto dw = on_device(w.data(), w.size());
  cuda::rms_norm(dx.get(), H * Dh, dx.get(), H * Dh, T, int(H), Dh, dw.get(), 1e-6f, nullptr);
  const std::vector<float> got = to_host(dx, size_t(x.size()));
  for (int64_t i = 0; i < want.size(); ++i) CHECK(got[size_t(i)] == doctest::Approx(want.data()[i]).epsilon(1e-5));

  // Fold two vocabulary tiles of a [5, 300] logits matrix; row 2 has no target (a document's end).
  const int64_t n = 5, V = 300, split = 172;
  const ActMatrix z = random_matrix(n, V, rng);
  const std::vector<int32_t> next = {3, 299, -1, 172, 171};
  std::vector<float> m0(size_t(n), -INFINITY), s0(size_t(n), 0.f), t0(size_t(n), NAN);
  auto dm = on_device(m0.data(), m0.size()), ds = on_device(s0.data(), s0.size()), dt = on_device(t0.data(), t0.size());
  auto dn = on_device(next.data(), next.size());
  for (const auto& [v0, nb] : {std::pair<int64_t, int64_t>{0, split}, {split, V - split}}) {
    std::vector<float> tile(size_t(n * nb));
    for (int64_t r = 0; r < n; ++r)
      for (int64_t c = 0; c < nb; ++c) tile[size_t(r * nb + c)] = z(r, v0 + c);
    auto dz = on_device(tile.data(), tile.size());
    cuda::fold_logits(dz.get(), n, nb, v0, dn.get(), dm.get(), ds.get(), dt.get(), nullptr);
    cuda::check(cudaDeviceSynchronize(), "fold");
  }
  const auto m = to_host(dm, size_t(n)), s = to_host(ds, size_t(n)), t = to_host(dt, size_t(n));
  for (int64_t r = 0; r < n; ++r) {
    if (next[size_t(r)] < 0) {
      CHECK(std::isnan(t[size_t(r)]));
      continue;
    }
    double mx = -INFINITY, sum = 0;
    for (int64_t c = 0; c < V; ++c) mx = std::max(mx, double(z(r, c)));
    for (int64_t c = 0; c < V; ++c) sum += std::exp(double(z(r, c)) - mx);
    const double nll = mx + std::log(sum) - double(z(r, next[size_t(r)]));
    CHECK(double(m[size_t(r)]) + std::log(double(s[size_t(r)])) - double(t[size_t(r)]) == doctest::Approx(nll).epsilon(1e-5));
  }
}

#else

TEST_CASE("cuda backend: kernels (this build has no CUDA backend)") { CHECK_FALSE(moescope::test::cuda_tests_can_run()); }

#endif
