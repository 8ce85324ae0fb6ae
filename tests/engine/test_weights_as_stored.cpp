// Weights kept as stored: the panel-widening GEMM over BF16/F16 weights against a double-precision
// product, the streamed AMX packing against the whole-matrix one, BF16 checkpoints held at two
// bytes per GEMM weight on every FP32 path, and the pre-load memory estimate against what the
// loader then holds.
#include <doctest/doctest.h>

#include <omp.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "bench/synthetic_checkpoint.h"
#include "engine/checkpoint/dtype.h"
#include "engine/error.h"
#include "engine/cpu/gemm_amx.h"
#include "engine/cpu/gemm_stored.h"
#include "engine/memory_estimate.h"
#include "engine/model.h"
#include "tests/error_of.h"
#include "tests/test_paths.h"

using namespace moescope;
using moescope::test::error_of;

namespace {

// x [M, K] and w [N, K] (w rounded to `dtype`, kept as its 16-bit codes) with a double-precision
// y = x · w^T of the same values.
struct Case {
  int64_t M, N, K;
  std::vector<float> x;
  std::vector<uint16_t> w;
  std::vector<double> want;
};

Case make_case(int64_t M, int64_t N, int64_t K, DType dtype, uint32_t seed) {
  Case c{M, N, K, {}, {}, {}};
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  c.x.resize(size_t(M * K));
  for (float& v : c.x) v = u(rng);
  c.w.resize(size_t(N * K));
  std::vector<float> wf(size_t(N * K));
  for (size_t i = 0; i < c.w.size(); ++i) {
    c.w[i] = dtype == DType::BF16 ? f32_to_bf16(u(rng)) : f32_to_f16(u(rng));
    wf[i] = dtype == DType::BF16 ? bf16_to_f32(c.w[i]) : f16_to_f32(c.w[i]);
  }
  c.want.assign(size_t(M * N), 0.0);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      double s = 0;
      for (int64_t k = 0; k < K; ++k) s += double(c.x[size_t(m * K + k)]) * double(wf[size_t(n * K + k)]);
      c.want[size_t(m * N + n)] = s;
    }
  return c;
}

// Largest |got - want| relative to the FP32 error bound K * 2^-24 * sum |x||w| (<= K here).
double worst_error(const Case& c, const std::vector<float>& y, int64_t ldy) {
  double worst = 0;
  for (int64_t m = 0; m < c.M; ++m)
    for (int64_t n = 0; n < c.N; ++n) worst = std::max(worst, std::fabs(double(y[size_t(m * ldy + n)]) - c.want[size_t(m * c.N + n)]));
  return worst;
}

}  // namespace

TEST_CASE("gemm_stored: BF16 and F16 weights widened per panel equal the FP32 product of the same values") {
  // Odd sizes: panels that do not divide N, a K that is not a multiple of any vector width.
  const int64_t shapes[][3] = {{1, 1, 1}, {3, 17, 5}, {37, 300, 129}, {129, 1000, 67}, {8, 2048, 160}};
  for (DType dtype : {DType::BF16, DType::F16}) {
    uint32_t seed = 1;
    for (const auto& s : shapes) {
      const Case c = make_case(s[0], s[1], s[2], dtype, seed++);
      CAPTURE(dtype_name(dtype));
      CAPTURE(c.M);
      CAPTURE(c.N);
      CAPTURE(c.K);
      // Row strides wider than the rows: the GEMM must honour ldx and ldy.
      const int64_t ldx = c.K + 3, ldy = c.N + 5;
      std::vector<float> x(size_t(c.M * ldx), 7.f), y(size_t(c.M * ldy), -1.f);
      for (int64_t m = 0; m < c.M; ++m) std::memcpy(&x[size_t(m * ldx)], &c.x[size_t(m * c.K)], size_t(c.K) * 4);
      gemm_stored(x.data(), c.M, ldx, c.w.data(), dtype, c.N, c.K, y.data(), ldy);
      const double bound = double(c.K) * std::ldexp(1.0, -22);
      CHECK(worst_error(c, y, ldy) <= bound);
      for (int64_t m = 0; m < c.M; ++m) CHECK(y[size_t(m * ldy + c.N)] == -1.f);  // padding never written
      // From inside a parallel region (experts run one per thread): the same values.
      std::vector<float> y2(size_t(c.M * ldy), -1.f);
#pragma omp parallel num_threads(2)
      {
#pragma omp single
        gemm_stored(x.data(), c.M, ldx, c.w.data(), dtype, c.N, c.K, y2.data(), ldy);
      }
      CHECK(worst_error(c, y2, ldy) <= bound);
    }
  }
  CHECK(stored_panel_rows(5, 1 << 20) == 16);     // never fewer than 16 rows
  CHECK(stored_panel_rows(20, 64) == 32);         // never more than N rounded up to 16
  CHECK(stored_panel_rows(100000, 2048) == 64);   // 512 KB of FP32 rows
}

TEST_CASE("AMX packing: BF16 weights packed 32 rows at a time equal the whole-matrix FP32 packing") {
  for (const auto& [N, K] : {std::pair<int64_t, int64_t>{1, 1}, {33, 70}, {96, 64}, {70, 129}}) {
    std::mt19937 rng(uint32_t(N * 131 + K));
    std::uniform_real_distribution<float> u(-2.f, 2.f);
    std::vector<uint16_t> w(size_t(N * K));
    std::vector<float> wf(w.size());
    for (size_t i = 0; i < w.size(); ++i) {
      w[i] = f32_to_bf16(u(rng));
      wf[i] = bf16_to_f32(w[i]);
    }
    const AmxF32Weights whole = pack_amx_f32_weights(wf.data(), N, K);
    REQUIRE(whole.parts == 1);  // BF16 values are exact in one part
    AmxF32Weights streamed = amx_bf16_weights(N, K);
    for (int64_t r = 0; r < N; r += 32) pack_amx_bf16_rows(streamed, r, w.data() + r * K, std::min<int64_t>(32, N - r));
    REQUIRE(streamed.packed.count == whole.packed.count);
    CHECK(std::memcmp(streamed.packed.data.get(), whole.packed.data.get(), whole.bytes()) == 0);
  }
  AmxF32Weights w = amx_bf16_weights(8, 8);
  std::vector<uint16_t> rows(64);
  CHECK(error_of([&] { pack_amx_bf16_rows(w, 4, rows.data(), 8); }).find("outside [0, 8)") != std::string::npos);
}

namespace {

SyntheticCheckpointSpec bf16_spec() {
  SyntheticCheckpointSpec s;
  s.layers = 3;
  s.experts = 8;
  s.top_k = 3;
  s.hidden = 64;
  s.intermediate = 32;
  s.heads = 4;
  s.shard_bytes = 1 << 20;
  s.tokenizer = test::source_dir() + "/samples/models/emo-sample/tokenizer.json";
  return s;
}


}  // namespace

TEST_CASE("weights as stored: a BF16 checkpoint holds 2 bytes per GEMM weight on every FP32 path, as estimated") {
  const test::TempDir tmp("weights-as-stored");
  const std::string dir = tmp / "ckpt";
  write_synthetic_checkpoint(dir, bf16_spec());
  const ExpertSubset keep = ExpertSubset::from_json_text(R"({"experts_kept_per_layer": [[1, 4], null, [6]]})", "keep",
                                                         ModelConfig::from_file(dir + "/config.json"));
  std::vector<F32Gemm> paths = {F32Gemm::Auto};
  if (amx_f32_available()) paths.push_back(F32Gemm::Blas);  // both FP32 paths where the machine has two
  std::vector<float> first_nll;
  for (const F32Gemm path : paths) {
    CAPTURE(path == F32Gemm::Blas ? "blas" : "auto");
    LoadOptions opt;
    opt.f32_gemm = path;
    opt.subset = &keep;
    opt.precision = Precision::F32;
    const auto model = Model::load(dir, opt);
    const ModelWeights& w = model->weights();
    const WeightForm form = w.plan.amx ? WeightForm::Amx : WeightForm::Stored16;
    size_t gemm_weights = 0;
    for (const LayerWeights& lw : w.layers) {
      for (const Matrix* m : {&lw.q, &lw.k, &lw.v, &lw.o}) {
        CHECK(m->form == form);
        CHECK(m->bytes() == size_t(2 * m->rows * m->cols));
        ++gemm_weights;
      }
      for (const ExpertWeights& x : lw.experts)
        if (x.loaded())
          for (const Matrix* m : {&x.gate_up, &x.down}) {
            CHECK(m->form == form);
            CHECK(m->bytes() == size_t(2 * m->rows * m->cols));
            ++gemm_weights;
          }
    }
    CHECK(gemm_weights == 3 * 4 + 2 * (3 + 8 + 2));
    // The bank source addresses every expert's tensors by id (a GPU backend uploads from it): the
    // loaded gate rows of kept expert 4 of layer 0 are its gate tensor's values.
    const ExpertBankSource& src = w.layers[0].expert_source;
    REQUIRE(src.layout == ExpertBankSource::Layout::PerExpert);
    CHECK(src.gate.size() == 8);
    CHECK(src.down_per_expert.size() == 8);
    if (form == WeightForm::Stored16) {
      const Matrix& gu = w.layers[0].experts[4].gate_up;
      CHECK(std::memcmp(gu.half, src.gate[4]->data, src.gate[4]->nbytes) == 0);
      CHECK(std::memcmp(gu.half + 32 * 64, src.up[4]->data, src.up[4]->nbytes) == 0);
    }
    CHECK(w.lm_head.form == form);
    CHECK(w.embed.form == WeightForm::Stored16);  // the embedding as stored, rows widened at lookup
    // The engine's pre-load estimate counts exactly what the loader holds.
    const Checkpoint ckpt(dir);
    ModelConfig c = model->config();
    CHECK(estimate_memory(ckpt, c, keep, w.plan).weights == w.resident_bytes);
    // Same values on both paths: BF16 weights are exact in FP32, only summation order differs.
    const ForwardResult r = model->forward({{1, 2, 3, 4, 5, 6, 7, 8}, {9, 10, 11}});
    if (first_nll.empty()) first_nll = r.nll;
    for (size_t i = 0; i < r.nll.size(); ++i)
      if (!std::isnan(r.nll[i])) CHECK(std::fabs(r.nll[i] - first_nll[i]) <= 1e-4f);
  }
}

TEST_CASE("memory check: a load that will not fit is refused with both numbers and the ways out") {
  const test::TempDir tmp("memory-check");
  const std::string dir = tmp / "ckpt";
  write_synthetic_checkpoint(dir, bf16_spec());
  const ModelConfig c = ModelConfig::from_file(dir + "/config.json");
  const Checkpoint ckpt(dir);
  WeightPlan plan;
  const MemoryEstimate all = estimate_memory(ckpt, c, ExpertSubset::all(c), plan);
  const std::string err = error_of([&] { check_memory_fits(dir, all, 1 << 20); });
  CHECK(err.find(dir) != std::string::npos);
  CHECK(err.find("will not fit in memory") != std::string::npos);
  CHECK(err.find(gib(all.total())) != std::string::npos);
  CHECK(err.find("0.00 GiB available (MemAvailable)") != std::string::npos);
  CHECK(err.find("--keep") != std::string::npos);
  CHECK(err.find("--no-memory-check") != std::string::npos);
  CHECK(error_of([&] { check_memory_fits(dir, all, all.total()); }).empty());

  // Experts per layer that fit: by hand. D = 64, I = 32: one expert is 3 * I * D BF16 weights.
  CHECK(all.per_expert == 2 * 3 * 32 * 64);
  CHECK(all.moe_layers == 3);
  CHECK(all.max_standard == 7);  // 8 experts, one shared
  ExpertSubset none;
  none.kept_per_layer.assign(3, std::vector<int>{});
  const MemoryEstimate base = estimate_memory(ckpt, c, none, plan);
  CHECK(all.weights - base.weights == 3 * 7 * all.per_expert);  // the standard experts, and nothing else
  CHECK(experts_per_layer_that_fit(base, base.total() + 3 * 5 * base.per_expert + 1) == 5);
  CHECK(experts_per_layer_that_fit(base, base.total() + 3 * 100 * base.per_expert) == 7);
  CHECK(experts_per_layer_that_fit(base, base.total() / 2) == 0);
}
