// test_greedy_select.cpp — greedy layer-wise selection: each layer's choice is the top-k of that
// layer's mean routing probability with the earlier layers already pruned (recomputed here from
// per-token probabilities, a different path than the per-document means the selection uses).
#include <doctest/doctest.h>

#include <algorithm>
#include <numeric>

#include "analysis/greedy_select.h"
#include "engine/json_file.h"
#include "tests/test_paths.h"

using namespace moescope;

namespace {
std::vector<int> top_k_of_token_probs(const Model& m, const std::vector<std::vector<int32_t>>& docs, const ExpertSubset& mask,
                                      int layer, int k) {
  ForwardOptions o;
  o.mask = &mask;
  o.probs = true;
  const ForwardResult r = m.forward(docs, o);
  const LayerRecord* rec = nullptr;
  for (const auto& l : r.layers)
    if (l.layer == layer) rec = &l;
  REQUIRE(rec);
  const size_t Es = size_t(rec->num_standard), T = r.ids.size();
  std::vector<double> mean(Es, 0.0);
  for (size_t t = 0; t < T; ++t)
    for (size_t e = 0; e < Es; ++e) mean[e] += rec->probs[t * Es + e] / double(T);
  std::vector<int> ids(Es);
  std::iota(ids.begin(), ids.end(), 0);
  std::stable_sort(ids.begin(), ids.end(), [&](int a, int b) { return mean[size_t(a)] > mean[size_t(b)]; });
  ids.resize(size_t(k));
  std::sort(ids.begin(), ids.end());
  return ids;
}
}  // namespace

TEST_CASE("greedy layer-wise selection follows EMO's sequential procedure") {
  const auto model = Model::load(test::fixtures_dir() + "/models/emo-per-layer");  // layers: dense, 5 std, 7 std
  const Tokenizer& tok = *model->tokenizer();
  std::vector<std::vector<int32_t>> docs;
  for (const char* t : {"the river runs to the sea and back", "code compiles into machine words", "a third text here"})
    docs.push_back(tok.encode(t).ids);
  std::vector<std::vector<double>> scores;
  const ExpertSubset s = greedy_layerwise_subset(*model, docs, 3, 8, &scores);
  CHECK(s.is_full(0));  // dense
  REQUIRE(scores.size() == 2);
  // Layer 1 sees the full model before it.
  const ExpertSubset full = ExpertSubset::all(model->config());
  CHECK(*s.kept_per_layer[1] == top_k_of_token_probs(*model, docs, full, 1, 3));
  // Layer 2 sees layer 1 already pruned.
  ExpertSubset first = full;
  first.kept_per_layer[1] = s.kept_per_layer[1];
  CHECK(*s.kept_per_layer[2] == top_k_of_token_probs(*model, docs, first, 2, 3));
  // The early exit changes nothing about the layers it runs.
  ForwardOptions early;
  early.last_layer = 1;
  const ForwardResult a = model->forward(docs, early), b = model->forward(docs, ForwardOptions{});
  REQUIRE(a.layers.size() == 1);
  CHECK(a.layers[0].topk_ids == b.layers[0].topk_ids);
}

TEST_CASE("EASY-EP scores equal the PyTorch reference (tools/fixtures/make_easy_ep_fixture.py)") {
  for (const char* name : {"emo-shared", "emo-per-layer"}) {
    CAPTURE(name);
    const std::string dir = test::fixtures_dir() + "/models/" + name;
    const auto model = Model::load(dir);
    const nlohmann::json fx = read_json_file(dir + "/easy_ep.json", "fixture");
    const auto docs = fx["documents"].get<std::vector<std::vector<int32_t>>>();
    std::vector<std::vector<double>> scores;
    const ExpertSubset s = easy_ep_subset(*model, docs, 2, 7, &scores);  // small batches: packing must not matter
    ForwardOptions o;
    o.easy_ep = true;
    const ForwardResult r = model->forward(docs, o);  // all documents packed in one batch
    REQUIRE(r.layers.size() == fx["layers"].size());
    for (size_t l = 0; l < r.layers.size(); ++l) {
      const auto want = fx["layers"][l]["scores"].get<std::vector<double>>();
      REQUIRE(r.layers[l].easy_ep_scores.size() == want.size());
      for (size_t e = 0; e < want.size(); ++e) {
        CHECK(r.layers[l].easy_ep_scores[e] == doctest::Approx(want[e]).epsilon(1e-4));
        if (e < scores[l].size()) CHECK(scores[l][e] == doctest::Approx(want[e]).epsilon(1e-4));
      }
      // the kept experts are the top-2 standard experts by the reference score
      const int Es = model->config().layers[size_t(r.layers[l].layer)].num_standard();
      std::vector<int> ids(static_cast<size_t>(Es));
      std::iota(ids.begin(), ids.end(), 0);
      std::stable_sort(ids.begin(), ids.end(), [&](int a, int b) { return want[size_t(a)] > want[size_t(b)]; });
      ids.resize(2);
      std::sort(ids.begin(), ids.end());
      CHECK(*s.kept_per_layer[size_t(r.layers[l].layer)] == ids);
    }
  }
}
