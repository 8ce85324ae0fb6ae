// The CUDA backend against the CPU backend on every model fixture (all families and routing
// modes), both samples, subsets and EASY-EP: the same routing code decides on the host, so
// top-k ids must be identical except near-ties within BF16 tolerance (counted and bounded), and
// NLL agrees within 1e-2 relative. Runs only where a CUDA device is (tools/gpu-check.sh).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "analysis/corpus.h"
#include "engine/model.h"
#include "kernels/backend_maker.h"
#include "tests/gpu/gpu_tests.h"
#include "tests/swap_cascades.h"
#include "tests/test_paths.h"

namespace fs = std::filesystem;
using namespace moescope;

namespace {

struct Agreement {
  int64_t tokens = 0, same = 0, near_ties = 0, cascades = 0, differ = 0;
  double worst_weight = 0;   // max |weight difference| where the ids agree
  double worst_nll = 0;      // max relative difference of a document's mean NLL
};

std::unique_ptr<Model> load_on(const std::string& dir, bool cuda, const ExpertSubset* keep = nullptr) {
  LoadOptions opt;
  opt.subset = keep;
  if (cuda) opt.backend = backend_maker(parse_device("cuda"));
  return Model::load(dir, opt);
}

// Compares the GPU's records with the CPU's. A token whose expert sets differ is a near-tie when
// every expert swapped in or out has a CPU router logit within the BF16 tolerance of one the
// other side chose instead. A later swap at a token that already swapped is a cascade
// (tests/swap_cascades.h): counted (and bounded with the near-ties), not held to the tolerance.
void compare(const ForwardResult& cpu, const ForwardResult& gpu, Agreement& a) {
  REQUIRE(cpu.layers.size() == gpu.layers.size());
  test::SwapCascades swaps(cpu.ids.size());
  for (size_t l = 0; l < cpu.layers.size(); ++l) {
    const LayerRecord& c = cpu.layers[l];
    const LayerRecord& g = gpu.layers[l];
    REQUIRE(c.k == g.k);
    const int K = c.k, E = c.num_experts;
    const int64_t T = int64_t(c.topk_ids.size()) / K;
    for (int64_t t = 0; t < T; ++t) {
      ++a.tokens;
      std::vector<int32_t> ci(c.topk_ids.begin() + t * K, c.topk_ids.begin() + (t + 1) * K);
      std::vector<int32_t> gi(g.topk_ids.begin() + t * K, g.topk_ids.begin() + (t + 1) * K);
      std::vector<int32_t> cs = ci, gs = gi;
      std::sort(cs.begin(), cs.end());
      std::sort(gs.begin(), gs.end());
      if (cs == gs) {
        ++a.same;
        for (int i = 0; i < K; ++i) {
          const size_t j = size_t(std::find(gi.begin(), gi.end(), ci[size_t(i)]) - gi.begin());
          a.worst_weight = std::max(a.worst_weight, double(std::fabs(c.topk_weights[size_t(t * K + i)] - g.topk_weights[t * K + j])));
        }
        continue;
      }
      if (swaps.is_cascade(size_t(t))) {
        ++a.cascades;
        continue;
      }
      const float* z = c.router_logits.data() + t * E;
      float scale = 0;
      for (int e = 0; e < E; ++e) scale = std::max(scale, std::fabs(z[e]));
      const float tol = 3e-2f * scale + 1e-3f;
      std::vector<int32_t> only_c, only_g;
      std::set_difference(cs.begin(), cs.end(), gs.begin(), gs.end(), std::back_inserter(only_c));
      std::set_difference(gs.begin(), gs.end(), cs.begin(), cs.end(), std::back_inserter(only_g));
      auto near = [&](const std::vector<int32_t>& xs, const std::vector<int32_t>& ys) {
        for (int32_t x : xs) {
          bool ok = false;
          for (int32_t y : ys) ok = ok || std::fabs(z[x] - z[y]) <= tol;
          if (!ok) return false;
        }
        return true;
      };
      if (near(only_c, only_g) && near(only_g, only_c)) ++a.near_ties;
      else ++a.differ;
    }
  }
  REQUIRE(cpu.nll.size() == gpu.nll.size());
  for (const DocumentSpan& d : cpu.docs) {
    double sc = 0, sg = 0;
    int n = 0;
    for (size_t t = d.begin; t < d.end; ++t) {
      CHECK(std::isnan(cpu.nll[t]) == std::isnan(gpu.nll[t]));
      if (std::isnan(cpu.nll[t]) || std::isnan(gpu.nll[t])) continue;
      sc += cpu.nll[t];
      sg += gpu.nll[t];
      ++n;
    }
    if (n > 0) a.worst_nll = std::max(a.worst_nll, std::fabs(sg - sc) / std::max(1e-6, std::fabs(sc)));
  }
}

void check_agreement(const Agreement& a, const std::string& what) {
  MESSAGE(what << ": " << a.same << " of " << a.tokens << " token-layers identical, " << a.near_ties
                << " near-ties, " << a.cascades << " cascaded swaps after them, " << a.differ << " differ; worst weight diff " << a.worst_weight
                << ", worst document NLL rel diff " << a.worst_nll);
  CHECK(a.differ == 0);
  CHECK(double(a.near_ties + a.cascades) <= 0.02 * double(a.tokens) + 1);
  CHECK(a.worst_weight <= 2e-2);
  CHECK(a.worst_nll <= 1e-2);
}

std::vector<fs::path> fixture_dirs() {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(test::fixtures_dir() + "/models"))
    if (e.is_directory() && fs::exists(e.path() / "expected.json")) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::vector<int32_t>> heldout_documents(const Model& m, size_t count, size_t max_tokens) {
  std::vector<std::vector<int32_t>> docs;
  for (const CorpusDocument& d : read_corpus(test::source_dir() + "/samples/corpus/heldout.jsonl")) {
    std::vector<int32_t> ids = m.tokenizer()->encode(d.text).ids;
    if (ids.size() > max_tokens) ids.resize(max_tokens);
    if (!ids.empty()) docs.push_back(std::move(ids));
    if (docs.size() == count) break;
  }
  return docs;
}

}  // namespace

TEST_CASE("cuda backend: every model fixture routes as on the CPU (ids, weights, NLL, logits)") {
  if (!test::cuda_tests_can_run()) return;
  const auto dirs = fixture_dirs();
  REQUIRE(dirs.size() >= 20);
  for (const fs::path& dir : dirs) {
    CAPTURE(dir.filename().string());
    const nlohmann::json expected = nlohmann::json::parse(std::ifstream(dir / "expected.json"));
    std::vector<std::vector<int32_t>> docs;
    for (const auto& d : expected["documents"]) docs.push_back(d["ids"].get<std::vector<int32_t>>());
    const auto cpu = load_on(dir.string(), false);
    const auto gpu = load_on(dir.string(), true);
    CHECK(gpu->device().name() == "cuda:0");
    std::unique_ptr<ExpertSubset> keep;
    if (fs::exists(dir / "keep.json"))
      keep = std::make_unique<ExpertSubset>(ExpertSubset::from_file((dir / "keep.json").string(), cpu->config()));
    ForwardOptions opt;
    opt.router_logits = true;
    opt.logits = true;
    opt.mask = keep.get();
    const ForwardResult rc = cpu->forward(docs, opt), rg = gpu->forward(docs, opt);
    Agreement a;
    compare(rc, rg, a);
    check_agreement(a, dir.filename().string());
    // Logits within BF16 tolerance of the logits' scale.
    double scale = 0, worst = 0;
    for (size_t i = 0; i < rc.logits.size(); ++i) {
      scale = std::max(scale, double(std::fabs(rc.logits[i])));
      worst = std::max(worst, double(std::fabs(rc.logits[i] - rg.logits[i])));
    }
    CHECK(worst <= 3e-2 * scale + 1e-3);
  }
}

TEST_CASE("cuda backend: both samples on held-out text, a subset load, EASY-EP and an early exit") {
  if (!test::cuda_tests_can_run()) return;
  for (const std::string name : {"emo-sample", "std-sample"}) {
    CAPTURE(name);
    const std::string dir = test::source_dir() + "/samples/models/" + name;
    const auto cpu = load_on(dir, false);
    const auto gpu = load_on(dir, true);
    const auto docs = heldout_documents(*cpu, 16, 512);
    REQUIRE(docs.size() == 16);
    ForwardOptions opt;
    opt.router_logits = true;
    opt.easy_ep = true;
    const ForwardResult rc = cpu->forward(docs, opt), rg = gpu->forward(docs, opt);
    Agreement a;
    compare(rc, rg, a);
    check_agreement(a, name);
    for (size_t l = 0; l < rc.layers.size(); ++l) {
      double total = 0, diff = 0;
      for (size_t e = 0; e < rc.layers[l].easy_ep_scores.size(); ++e) {
        total += std::fabs(rc.layers[l].easy_ep_scores[e]);
        diff += std::fabs(rc.layers[l].easy_ep_scores[e] - rg.layers[l].easy_ep_scores[e]);
      }
      CHECK(diff <= 5e-2 * total + 1e-9);
    }
    // A quarter of each layer's experts, loaded on the GPU only: the routing masks the rest.
    ExpertSubset quarter = ExpertSubset::all(cpu->config());
    for (int l = 0; l < cpu->config().num_layers; ++l) {
      const LayerSpec& spec = cpu->config().layers[size_t(l)];
      if (!spec.is_moe()) continue;
      std::vector<int> kept;
      for (int e = 0; e < spec.num_standard(); e += 4) kept.push_back(e);
      quarter.kept_per_layer[size_t(l)] = kept;
    }
    const auto gpu_sub = load_on(dir, true, &quarter);
    ForwardOptions masked;
    masked.router_logits = true;
    masked.mask = &gpu_sub->loaded_subset();
    Agreement s;
    compare(cpu->forward(docs, masked), gpu_sub->forward(docs, {.router_logits = true}), s);
    check_agreement(s, name + " with a quarter of the experts");
    ForwardOptions early;
    early.last_layer = 1;
    CHECK(gpu->forward(docs, early).layers.size() == cpu->forward(docs, early).layers.size());
  }
}

TEST_CASE("cuda backend: a batch larger than one expert round and one head tile") {
  if (!test::cuda_tests_can_run()) return;
  const std::string dir = test::source_dir() + "/samples/models/emo-sample";
  const auto cpu = load_on(dir, false);
  const auto gpu = load_on(dir, true);
  // 40k tokens: several head tiles of 4096 rows; documents of uneven lengths.
  std::vector<std::vector<int32_t>> docs;
  uint32_t x = 12345;
  for (int d = 0; d < 45; ++d) {
    std::vector<int32_t> ids(size_t(200 + 37 * d));
    for (auto& id : ids) id = int32_t((x = x * 1664525u + 1013904223u) % uint32_t(cpu->config().vocab_size));
    docs.push_back(std::move(ids));
  }
  ForwardOptions opt;
  opt.router_logits = true;
  Agreement a;
  compare(cpu->forward(docs, opt), gpu->forward(docs, opt), a);
  check_agreement(a, "emo-sample, 45 documents of random ids");
}
