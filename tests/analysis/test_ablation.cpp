// test_ablation.cpp — subset sweeps: budgets, the selection statistic, and every point equal to a
// direct corpus score under the same mask.
#include <doctest/doctest.h>

#include "analysis/ablation.h"
#include "analysis/corpus_scoring.h"
#include "analysis/trace.h"
#include "tests/test_paths.h"

using namespace moescope;

TEST_CASE("ablation: default budgets follow EMO's 8/16/32/64/all scaled to the expert count") {
  CHECK(default_budgets(127) == std::vector<int>{8, 16, 32, 64, 127});
  CHECK(default_budgets(31) == std::vector<int>{2, 4, 8, 16, 31});
  CHECK(default_budgets(5) == std::vector<int>{1, 3, 5});  // 5/16..5/4 round to 1, 5/2 = 2.5 rounds to 3
}

TEST_CASE("ablation: points equal direct scores under the selected and random masks") {
  test::TempDir dir("ablation");
  const auto model = Model::load(test::fixtures_dir() + "/models/emo-per-layer");
  std::vector<CorpusDocument> docs;
  const char* odd_texts[] = {"the river runs 37 times over", "the river bends twice", "a river of stone", "rivers run"};
  const char* even_texts[] = {"code compiles fast", "code compiles 74 times", "the compiler fails", "code runs"};
  for (int i = 0; i < 8; ++i)
    docs.push_back({std::to_string(i), i % 2 ? "odd" : "even", "en", i % 2 ? odd_texts[i / 2] : even_texts[i / 2]});
  Workspace ws(dir / "w.moescope", true);
  trace_corpus(*model, docs, ws, TraceOptions{});
  const TraceData td = load_trace(ws);
  AblationOptions opt;
  opt.budgets = {2, 3};
  opt.random_seeds = 2;
  const auto all = [](const TracedDocument&) { return true; };
  const auto points = ablate_domain(*model, td, "odd", all, docs, opt);
  REQUIRE(points.size() == 1 + 2 * (1 + 2));
  CHECK(points[0].method == "full");

  std::vector<CorpusDocument> odd;
  for (const auto& d : docs)
    if (d.domain == "odd") odd.push_back(d);
  CHECK(points[0].mean_nll == doctest::Approx(score_corpus(*model, odd, {}).total.mean_nll()));
  // The selection statistic by hand: token-weighted mean of doc_mean_probs over the odd documents.
  const int dom = 1;  // domains sorted: even, odd
  std::vector<std::vector<double>> mean(td.layers.size());
  double tokens = 0;
  for (const auto& d : td.docs)
    if (d.domain == dom) tokens += double(d.tokens());
  for (size_t l = 0; l < td.layers.size(); ++l) {
    mean[l].assign(size_t(td.layers[l].num_standard), 0.0);
    for (const auto& d : td.docs)
      if (d.domain == dom)
        for (size_t e = 0; e < mean[l].size(); ++e) mean[l][e] += td.mean_probs(d, l)[e] * double(d.tokens()) / tokens;
  }
  const auto got = mean_probs_over(td, [&](const TracedDocument& d) { return d.domain == dom; });
  for (size_t l = 0; l < mean.size(); ++l)
    for (size_t e = 0; e < mean[l].size(); ++e) CHECK(got[l][e] == doctest::Approx(mean[l][e]));
  for (const AblationPoint& p : points) {
    if (p.method == "full") continue;
    CAPTURE(p.method);
    CAPTURE(p.k);
    const ExpertSubset s = p.method == "random" ? random_subset(model->config(), td, p.k, uint64_t(p.seed))
                                                : top_k_subset(model->config(), td, mean, p.k);
    CorpusScoreOptions so;
    so.mask = &s;
    CHECK(p.mean_nll == doctest::Approx(score_corpus(*model, odd, so).total.mean_nll()));
    // dense layer 0 stays full, MoE layers keep exactly k standard experts
    CHECK(s.is_full(0));
    CHECK(s.kept_standard(model->config(), 1) == p.k);
  }
  const std::string source = "test";
  store_ablations(ws, points, source);
  store_ablations(ws, points, source);  // a re-run replaces, never duplicates
  SqliteStmt count(ws.db(), "SELECT count(*) FROM ablations");
  REQUIRE(count.step());
  CHECK(count.column_int(0) == int64_t(points.size()));
}
