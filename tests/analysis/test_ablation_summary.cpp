// test_ablation_summary.cpp — ablation points -> % loss increase curves, checked by hand: each
// domain against its own full model, seeds averaged first, then domains weighted equally.
#include <doctest/doctest.h>

#include "analysis/ablation_summary.h"
#include "tests/test_paths.h"

using namespace moescope;

namespace {
AblationPoint pt(const std::string& domain, const std::string& method, int k, int64_t seed, double bpb) {
  AblationPoint p;
  p.domain = domain;
  p.method = method;
  p.k = k;
  p.seed = seed;
  p.bits_per_byte = bpb;
  p.mean_nll = bpb / 2;
  p.tokens = 10;
  p.documents = 1;
  return p;
}
}  // namespace

TEST_CASE("ablation curves: % increase per domain over its own full model, then the mean over domains") {
  const std::vector<AblationPoint> points = {
      pt("a", "full", 8, -1, 2.0), pt("b", "full", 8, -1, 4.0),                               // full models
      pt("a", "global_mean_prob", 2, -1, 2.2), pt("b", "global_mean_prob", 2, -1, 4.0),       // +10%, +0%
      pt("a", "random", 2, 0, 3.0), pt("a", "random", 2, 1, 2.6),                             // a: +50%, +30%
      pt("b", "random", 2, 0, 4.4), pt("b", "random", 2, 1, 6.0),                             // b: +10%, +50%
      pt("c", "global_mean_prob", 2, -1, 9.0)};                                               // no full point: left out
  const AblationCurves mean = ablation_curves(points);
  CHECK(mean.domains == std::vector<std::string>{"a", "b"});
  CHECK(mean.full_bits_per_byte == doctest::Approx(3.0));
  CHECK(mean.full_k == 8);
  REQUIRE(mean.by_method.at("global_mean_prob").size() == 1);
  const AblationCurvePoint& g = mean.by_method.at("global_mean_prob")[0];
  CHECK(g.k == 2);
  CHECK(g.increase_pct == doctest::Approx(5.0));      // (10 + 0) / 2, not 100 * (6.2 / 6 - 1)
  CHECK(g.bits_per_byte == doctest::Approx(3.1));
  const AblationCurvePoint& r = mean.by_method.at("random")[0];
  // a: seeds mean 2.8 -> +40%; b: seeds mean 5.2 -> +30%; mean 35%.
  CHECK(r.increase_pct == doctest::Approx(35.0));
  // Spread over seeds of the domain mean: seed 0 (50 + 10) / 2 = 30, seed 1 (30 + 50) / 2 = 40.
  CHECK(r.min_pct == doctest::Approx(30.0));
  CHECK(r.max_pct == doctest::Approx(40.0));
  const AblationCurves only_a = ablation_curves(points, "a");
  CHECK(only_a.by_method.at("global_mean_prob")[0].increase_pct == doctest::Approx(10.0));
  CHECK(only_a.by_method.at("random")[0].min_pct == doctest::Approx(30.0));
  CHECK(ablation_curves(points, "c").empty());
}

TEST_CASE("ablation curves: a budget some domains lack is left out of the mean; mean rows cover complete groups") {
  const std::vector<AblationPoint> points = {pt("a", "full", 8, -1, 2.0), pt("b", "full", 8, -1, 4.0),
                                             pt("a", "global_mean_prob", 2, -1, 2.2), pt("a", "global_mean_prob", 4, -1, 2.1),
                                             pt("b", "global_mean_prob", 4, -1, 4.2)};
  const AblationCurves mean = ablation_curves(points);
  REQUIRE(mean.by_method.at("global_mean_prob").size() == 1);
  CHECK(mean.by_method.at("global_mean_prob")[0].k == 4);
  CHECK(mean.by_method.at("global_mean_prob")[0].increase_pct == doctest::Approx(5.0));
  const std::vector<AblationPoint> rows = mean_over_domains(points);
  REQUIRE(rows.size() == 2);  // full and k = 4; k = 2 only in a
  for (const AblationPoint& p : rows) {
    CHECK(p.domain == kMeanOverDomains);
    CHECK(p.tokens == 20);
  }
  CHECK(rows[0].method == "full");
  CHECK(rows[0].bits_per_byte == doctest::Approx(3.0));
  CHECK(rows[1].bits_per_byte == doctest::Approx(3.15));
  CHECK(rows[1].mean_nll == doctest::Approx(1.575));
}

TEST_CASE("stored ablations: a domain swept on two evaluation sets reads back the set of its latest sweep only") {
  moescope::test::TempDir tmp("ablation-store");
  Workspace ws(tmp / "w.moescope", true);
  store_ablations(ws, {pt("a", "full", 8, -1, 2.0), pt("a", "global_mean_prob", 2, -1, 2.2)}, "split");
  store_ablations(ws, {pt("a", "full", 8, -1, 4.0), pt("a", "global_mean_prob", 2, -1, 4.8)}, "/eval.jsonl");
  store_ablations(ws, mean_over_domains({pt("a", "full", 8, -1, 4.0)}), "/eval.jsonl");  // domain "*": never read back
  const std::vector<AblationPoint> points = stored_ablations(ws);
  REQUIRE(points.size() == 2);
  const AblationCurves c = ablation_curves(points);
  CHECK(c.full_bits_per_byte == doctest::Approx(4.0));
  CHECK(c.by_method.at("global_mean_prob")[0].increase_pct == doctest::Approx(20.0));
}

TEST_CASE("ablation curves: a random seed only some domains were swept with stays out of the spread") {
  const std::vector<AblationPoint> points = {pt("a", "full", 8, -1, 2.0), pt("b", "full", 8, -1, 4.0),
                                             pt("a", "random", 2, 0, 2.2), pt("b", "random", 2, 0, 4.4),  // +10%, +10%
                                             pt("a", "random", 2, 1, 3.0)};                               // a only: +50%
  const AblationCurvePoint r = ablation_curves(points).by_method.at("random")[0];
  CHECK(r.min_pct == doctest::Approx(10.0));
  CHECK(r.max_pct == doctest::Approx(10.0));
  CHECK(r.increase_pct == doctest::Approx((30.0 + 10.0) / 2));  // a's seeds averaged first: (10 + 50) / 2
}
