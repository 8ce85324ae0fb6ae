// Golden tests: the CPU forward pass against outputs made by Hugging Face transformers (OLMoE)
// and by the PyTorch EMO reference written from emo-reference.md (tools/fixtures/). Every
// fixture folder under tests/fixtures/models with an expected.json is checked: logits, router
// logits, top-k ids and weights, per-token NLL. All documents of a fixture run packed in ONE
// batch here while the reference ran them one by one, so this also proves attention and
// routing never leak across document boundaries.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/cpu/gemm_amx.h"
#include "engine/model.h"
#include "tests/test_paths.h"

namespace fs = std::filesystem;
using namespace moescope;

namespace {

nlohmann::json read_json(const fs::path& p) {
  std::ifstream in(p);
  return nlohmann::json::parse(in);
}

struct Tolerance {
  double atol, rtol;
  bool close(double got, double want) const { return std::fabs(got - want) <= atol + rtol * std::fabs(want); }
};

// Max |got - want| over a [rows, cols] block, and whether every entry is within tolerance.
template <typename Get>
bool all_close(const nlohmann::json& want, size_t rows, size_t cols, Get got, Tolerance tol, double& worst) {
  bool ok = true;
  for (size_t r = 0; r < rows; ++r)
    for (size_t c = 0; c < cols; ++c) {
      const double w = want[r][c].get<double>(), g = got(r, c);
      worst = std::max(worst, std::fabs(g - w));
      ok = ok && tol.close(g, w);
    }
  return ok;
}

std::vector<fs::path> fixture_dirs() {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(moescope::test::fixtures_dir() + "/models"))
    if (e.is_directory() && fs::exists(e.path() / "expected.json")) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}


}  // namespace

TEST_CASE("golden: every model fixture matches its reference outputs") {
  const auto dirs = fixture_dirs();
  REQUIRE(dirs.size() >= 9);  // olmoe and emo variants; see tools/fixtures/make_model_fixtures.py
  const Tolerance tol{2e-4, 1e-4};
  // Both FP32 GEMM paths where the machine has two: AMX BF16x3 (the default there) and BLAS.
  std::vector<F32Gemm> modes = {F32Gemm::Auto};
  if (amx_f32_available()) modes.push_back(F32Gemm::Blas);
  for (const F32Gemm mode : modes) {
    for (const fs::path& dir : dirs) {
      CAPTURE(dir.filename().string());
      const nlohmann::json expected = read_json(dir / "expected.json");
      LoadOptions load;
      load.f32_gemm = mode;
      std::unique_ptr<Model> model = Model::load(dir.string(), load);
      CAPTURE(model->gemm_kernels());
      CHECK((model->gemm_kernels().find("AMX-BF16 tiles") != std::string::npos) == (mode == F32Gemm::Auto && amx_f32_available()));
      std::unique_ptr<ExpertSubset> keep;
      if (fs::exists(dir / "keep.json"))
        keep = std::make_unique<ExpertSubset>(ExpertSubset::from_file((dir / "keep.json").string(), model->config()));

      std::vector<std::vector<int32_t>> docs;
      for (const auto& d : expected["documents"]) docs.push_back(d["ids"].get<std::vector<int32_t>>());
      REQUIRE(docs.size() >= 2);
      ForwardOptions opt;
      opt.logits = true;
      opt.router_logits = true;
      opt.probs = true;
      opt.mask = keep.get();
      const ForwardResult r = model->forward(docs, opt);
      const size_t V = size_t(model->config().vocab_size);

      for (size_t d = 0; d < docs.size(); ++d) {
        CAPTURE(d);
        const auto& out = expected["outputs"][d];
        const size_t t0 = r.docs[d].begin, T = r.docs[d].size();
        double worst = 0;
        CHECK(all_close(out["logits"], T, V, [&](size_t t, size_t v) { return r.logits[(t0 + t) * V + v]; }, tol, worst));
        MESSAGE("logits max |diff| " << worst);
        for (size_t t = 0; t + 1 < T; ++t) CHECK(tol.close(r.nll[t0 + t], out["nll"][t].get<double>()));

        const auto& layers = out["layers"];
        REQUIRE(layers.size() == r.layers.size());
        for (size_t i = 0; i < layers.size(); ++i) {
          const LayerRecord& rec = r.layers[i];
          CAPTURE(rec.layer);
          REQUIRE(layers[i]["layer"].get<int>() == rec.layer);
          const size_t E = size_t(rec.num_experts), K = size_t(rec.k);
          double w_logit = 0, w_weight = 0;
          CHECK(all_close(layers[i]["router_logits"], T, E,
                          [&](size_t t, size_t e) { return rec.router_logits[(t0 + t) * E + e]; }, tol, w_logit));
          REQUIRE(layers[i]["topk_ids"][0].size() == K);
          for (size_t t = 0; t < T; ++t)
            for (size_t k = 0; k < K; ++k)
              CHECK(rec.topk_ids[(t0 + t) * K + k] == layers[i]["topk_ids"][t][k].get<int>());
          CHECK(all_close(layers[i]["topk_weights"], T, K,
                          [&](size_t t, size_t k) { return rec.topk_weights[(t0 + t) * K + k]; }, tol, w_weight));
        }
      }
    }
  }
}
