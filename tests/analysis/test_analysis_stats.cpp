// test_analysis_stats.cpp — domain statistics, co-activation and expert groups on hand-built
// routing records whose answers are worked out by hand.
#include <doctest/doctest.h>

#include <cmath>

#include "analysis/cluster_metrics.h"
#include "analysis/coactivation.h"
#include "analysis/doc_clusters.h"
#include "analysis/domain_stats.h"
#include "analysis/expert_groups.h"
#include "analysis/spherical_kmeans.h"
#include "analysis/token_usage.h"

using namespace moescope;

namespace {

// One MoE layer, Es = 4 standard experts, K = 2 routed per token (no shared expert).
// Domain "a" documents route to experts {0, 1}, domain "b" documents to {2, 3}.
TraceData two_domain_trace() {
  TraceData td;
  td.layers = {{0, 2, 4}};
  td.es_offset = {0};
  td.k_offset = {0};
  td.domains = {"a", "b"};
  auto doc = [&](int domain, std::vector<std::vector<uint16_t>> picks, std::vector<float> probs) {
    TracedDocument d;
    d.domain = domain;
    for (size_t t = 0; t < picks.size(); ++t) {
      d.ids.push_back(int32_t(domain == 0 ? 10 + t : 20 + t));
      for (uint16_t e : picks[t]) d.topk_ids.push_back(e);
    }
    d.mean_probs = probs;
    d.topk_freq.assign(4, 0.f);
    for (const auto& p : picks)
      for (uint16_t e : p) d.topk_freq[e] += 1.f / float(picks.size());
    td.docs.push_back(d);
  };
  // (probabilities keep clear of the 90% pool boundary, so float rounding cannot move it)
  doc(0, {{0, 1}, {0, 1}}, {0.5f, 0.3f, 0.12f, 0.08f});                  // 2 tokens
  doc(0, {{0, 1}, {1, 0}, {0, 1}, {0, 1}}, {0.62f, 0.3f, 0.04f, 0.04f});  // 4 tokens
  doc(1, {{2, 3}, {3, 2}}, {0.12f, 0.08f, 0.4f, 0.4f});
  doc(1, {{2, 3}, {2, 3}}, {0.05f, 0.03f, 0.52f, 0.4f});
  return td;
}

}  // namespace

TEST_CASE("domain stats: token-weighted usage, pools, entropy, above-uniform (hand-computed)") {
  const TraceData td = two_domain_trace();
  const auto s = domain_stats(td, 0.9);
  REQUIRE(s.size() == 2);
  CHECK(s[0].documents == 2);
  CHECK(s[0].tokens == 6);
  const DomainLayerStats& a = s[0].layers[0];
  // mean_prob: (2*0.5 + 4*0.62)/6 = 0.58, 0.3, (2*0.12 + 4*0.04)/6 = 0.0667, (2*0.08 + 4*0.04)/6
  CHECK(a.mean_prob[0] == doctest::Approx(0.58));
  CHECK(a.mean_prob[1] == doctest::Approx(0.3));
  CHECK(a.mean_prob[2] == doctest::Approx(0.4 / 6));
  CHECK(a.mean_prob[3] == doctest::Approx(0.32 / 6));
  // every token picks 0 and 1: one selection per token each
  CHECK(a.topk_freq[0] == doctest::Approx(1.0));
  CHECK(a.topk_freq[1] == doctest::Approx(1.0));
  CHECK(a.topk_freq[2] == doctest::Approx(0.0));
  // pool: 0.58 + 0.3 = 0.88 < 0.9, + 0.0667 = 0.947 -> three experts
  CHECK(a.pool == std::vector<int>{0, 1, 2});
  auto h = [](std::vector<double> p) {
    double s = 0;
    for (double x : p) s -= x * std::log2(x);
    return s;
  };
  CHECK(a.doc_entropy_bits == doctest::Approx((h({0.5, 0.3, 0.12, 0.08}) + h({0.62, 0.3, 0.04, 0.04})) / 2).epsilon(1e-6));
  CHECK(a.doc_above_uniform == doctest::Approx(2.0));  // 0.5, 0.3 > 0.25 and 0.62, 0.3 > 0.25
  CHECK(mass_pool({0.1, 0.6, 0.3}, 0.5) == std::vector<int>{1});

  const auto sim = domain_similarity(s, 0);
  CHECK(sim[0][0] == doctest::Approx(1.0));
  const auto& b = s[1].layers[0].mean_prob;
  double xy = 0, xx = 0, yy = 0;
  for (int e = 0; e < 4; ++e) {
    xy += a.mean_prob[size_t(e)] * b[size_t(e)];
    xx += a.mean_prob[size_t(e)] * a.mean_prob[size_t(e)];
    yy += b[size_t(e)] * b[size_t(e)];
  }
  CHECK(sim[0][1] == doctest::Approx(xy / std::sqrt(xx * yy)));
  const auto jac = keep_set_jaccard(s, 0, 2);
  CHECK(jac[0][1] == doctest::Approx(0.0));  // {0,1} vs {2,3}
  CHECK(jac[1][1] == doctest::Approx(1.0));
  CHECK(keep_set(s[0].layers[0], 3) == std::vector<int>{0, 1, 2});
}

TEST_CASE("co-activation: token and document counts, PMI by hand") {
  const TraceData td = two_domain_trace();
  const Coactivation t = token_coactivation(td, 0);
  CHECK(t.units == 10);
  CHECK(t.count[0] == 6);
  CHECK(t.pair[0][1] == 6);
  CHECK(t.pair[0][2] == 0);
  CHECK(t.pmi[0][1] == doctest::Approx(std::log(6.0 * 10 / (6.0 * 6.0))));
  CHECK(std::isnan(t.pmi[0][2]));
  // Document pools at 90%: doc0 {0,1,2}, doc1 {0,1}, doc2 {2,3,0}, doc3 {2,3}
  const Coactivation d = document_coactivation(td, 0, 0.9);
  CHECK(d.units == 4);
  CHECK(d.count == std::vector<double>{3, 2, 3, 2});
  CHECK(d.pair[0][2] == 2);
  CHECK(d.pair[1][3] == 0);
  CHECK(d.pmi[2][3] == doctest::Approx(std::log(2.0 * 4 / (3.0 * 2.0))));
}

TEST_CASE("expert groups: experts serving the same documents form a group named by its domain") {
  const TraceData td = two_domain_trace();
  const LayerGroups g = expert_groups(td, 0, GroupOptions{});
  REQUIRE(g.groups.size() == 2);
  std::vector<std::vector<int>> sets = {g.groups[0].experts, g.groups[1].experts};
  std::sort(sets.begin(), sets.end());
  CHECK(sets[0] == std::vector<int>{0, 1});
  CHECK(sets[1] == std::vector<int>{2, 3});
  for (const ExpertGroup& grp : g.groups) {
    REQUIRE(grp.domains.size() == 1);
    const int want = grp.experts[0] < 2 ? 0 : 1;
    CHECK(grp.domains[0].index == want);
    CHECK(grp.domains[0].share == doctest::Approx(1.0));
    // domain a has 12 of 20 selections: the {0,1} group's share is 0.6, enrichment 1/0.6
    CHECK(grp.share == doctest::Approx(want == 0 ? 0.6 : 0.4));
  }
  for (const ExpertGroup& grp : g.groups) {
    // Each token id occurs once per document here and always routes into its own domain's group:
    // 2 selections per occurrence (K = 2, both experts in the group).
    REQUIRE(!grp.frequent_tokens.empty());
    CHECK(grp.frequent_tokens[0].count == doctest::Approx(4.0));  // token 10 (or 20): 2 occurrences x 2
    CHECK(grp.frequent_tokens[0].share == doctest::Approx(1.0));
  }
  CHECK(g.silhouette == doctest::Approx(1.0));  // identical profiles inside a group, orthogonal across
  CHECK(g.top_group_share == doctest::Approx(1.0));
  CHECK(g.modularity > 0.0);
  CHECK(g.modularity == doctest::Approx(1.0 - g.shuffled_top_group_share));
  // The affinity the groups come from: experts 0 and 1 serve the same documents in the same
  // proportions (cosine 1), experts of different domains never share a document (cosine 0).
  REQUIRE(g.affinity.size() == 4);
  CHECK(g.affinity[0][1] == doctest::Approx(1.0));
  CHECK(g.affinity[2][3] == doctest::Approx(1.0));
  CHECK(g.affinity[0][2] == doctest::Approx(0.0));
  CHECK(g.affinity[1][0] == g.affinity[0][1]);
}

TEST_CASE("expert groups: a group's label names its domain only when it carries between 1% and half of the routing") {
  ExpertGroup g;
  g.domains.push_back({1, 0.8, 2.26, 0});
  const std::vector<std::string> domains = {"code", "lang_ja"};
  g.share = 0.2;
  CHECK(group_label(g, domains) == "lang_ja x2.3");
  g.share = 0.004;
  CHECK(group_label(g, domains) == "minor (0.4% of selections)");
  g.share = 0.52;
  CHECK(group_label(g, domains) == "general (52% of selections)");
  g.share = 0.2;
  g.domains.clear();
  CHECK(group_label(g, domains) == "mixed");
}

TEST_CASE("document map: the first principal component separates documents that route differently") {
  const TraceData td = two_domain_trace();
  const DocumentMap m = document_map(td);
  REQUIRE(m.x.size() == 4);
  // Domain a's documents lean on experts 0/1, b's on 2/3: the first component puts them on
  // opposite sides of the centre, and it carries most of the variance.
  CHECK(m.x[0] * m.x[2] < 0);
  CHECK(m.x[0] * m.x[1] > 0);
  CHECK(m.x[2] * m.x[3] > 0);
  CHECK(m.explained > 0.9);
  CHECK(m.explained <= 1.0 + 1e-12);
}

TEST_CASE("spherical k-means and cosine silhouette on separable directions") {
  Rows rows = {{1, 0.1, 0}, {2, 0, 0.1}, {0, 1, 0.05}, {0.1, 3, 0}, {0, 0, 1}, {0.1, 0, 2}};
  const KMeansResult r = spherical_kmeans(rows, 3, 1);
  CHECK(r.labels[0] == r.labels[1]);
  CHECK(r.labels[2] == r.labels[3]);
  CHECK(r.labels[4] == r.labels[5]);
  CHECK(r.labels[0] != r.labels[2]);
  CHECK(r.labels[2] != r.labels[4]);
  CHECK(cosine_silhouette(rows, r.labels) > 0.8);
  CHECK(cosine_silhouette(rows, std::vector<int>(6, 0)) == 0.0);
  // Same seed, same answer.
  CHECK(spherical_kmeans(rows, 3, 1).labels == r.labels);
}

TEST_CASE("cluster metrics: NMI and ARI of a known pair, CH and DB by hand, label entropy") {
  // sklearn's documented example: ARI([0,0,1,1], [0,0,1,2]) = 0.5714..., NMI (arithmetic) = 0.8
  CHECK(adjusted_rand_index({0, 0, 1, 1}, {0, 0, 1, 2}) == doctest::Approx(4.0 / 7.0));
  CHECK(normalized_mutual_info({0, 0, 1, 1}, {0, 0, 1, 2}) == doctest::Approx(0.8));
  CHECK(normalized_mutual_info({0, 0, 1, 1}, {5, 5, 3, 3}) == doctest::Approx(1.0));
  CHECK(adjusted_rand_index({0, 0, 1, 1}, {1, 1, 0, 0}) == doctest::Approx(1.0));
  // Two clusters on a line: {0, 2} around 1 and {10, 12} around 11; overall mean 6.
  const Rows x = {{0}, {2}, {10}, {12}};
  const std::vector<int> l = {0, 0, 1, 1};
  // between = 2*25 + 2*25 = 100 (k-1 = 1); within = 4 * 1 = 4 (n-k = 2): CH = 100 / 2 = 50
  CHECK(calinski_harabasz(x, l) == doctest::Approx(50.0));
  // spreads 1 and 1, centroid distance 10: DB = (1 + 1) / 10 = 0.2
  CHECK(davies_bouldin(x, l) == doctest::Approx(0.2));
  // cluster 0 holds labels {a, b}: 1 bit; cluster 1 holds {a, a}: 0 bits -> mean 0.5
  CHECK(mean_label_entropy_bits({0, 0, 1, 1}, {0, 1, 0, 0}) == doctest::Approx(0.5));
}

TEST_CASE("PCA keeps the components carrying the asked variance") {
  // Points on the line y = 2x (plus a tiny orthogonal wobble): one component carries > 99%.
  Rows x;
  for (int i = 0; i < 20; ++i) x.push_back({double(i), 2.0 * i + (i % 2 ? 1e-3 : -1e-3)});
  int comps = 0;
  double explained = 0;
  const Rows p = pca_project(x, 0.95, &comps, &explained);
  CHECK(comps == 1);
  CHECK(explained > 0.999);
  CHECK(p[0].size() == 1);
  // Projection = signed distance along the line from the mean (9.5, 19): |p| = sqrt(5) * |i - 9.5|
  CHECK(std::abs(p[0][0]) == doctest::Approx(std::sqrt(5.0) * 9.5).epsilon(1e-4));
  pca_project(x, 1.0, &comps, &explained);
  CHECK(comps == 2);
}

TEST_CASE("token usage: occurrences, documents and the experts a token goes to, by hand") {
  const TraceData td = two_domain_trace();
  // Token 10 opens both documents of domain a, routed to {0, 1} both times; token 13 is the last
  // token of the second document, routed to {0, 1}; token 99 never occurs.
  const std::vector<TokenUsage> u = token_usage(td, 0, {13, 10, 99});
  REQUIRE(u.size() == 2);
  CHECK(u[0].id == 10);
  CHECK(u[0].occurrences == 2);
  CHECK(u[0].documents == 2);
  CHECK(u[0].document_indices == std::vector<size_t>{0, 1});
  REQUIRE(u[0].experts.size() == 2);
  CHECK(u[0].experts[0].second == doctest::Approx(0.5));
  CHECK(u[0].experts[0].first + u[0].experts[1].first == 1);  // experts 0 and 1
  CHECK(u[1].id == 13);
  CHECK(u[1].occurrences == 1);
  CHECK(u[1].document_indices == std::vector<size_t>{1});
}
