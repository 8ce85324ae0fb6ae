// test_expert_usage.cpp — shares of routed selections per expert, checked by hand on a made-up
// trace: selections = a document's top-k frequency x its tokens, summed, then normalised.
#include <doctest/doctest.h>

#include "analysis/expert_usage.h"

using namespace moescope;

TEST_CASE("expert usage: shares of selections over all documents and per domain; rarely and never used experts") {
  TraceData td;
  td.layers = {LayerLayout{3, 2, 4}};  // layer 3, top-2, 4 standard experts
  td.es_offset = {0};
  td.k_offset = {0};
  td.domains = {"a", "b"};
  TracedDocument d0, d1;
  d0.domain = 0;
  d0.ids.assign(10, 1);
  d0.topk_freq = {1.0f, 0.9f, 0.1f, 0.0f};  // 10 tokens: 10, 9, 1, 0 selections
  d1.domain = 1;
  d1.ids.assign(30, 1);
  d1.topk_freq = {0.5f, 1.0f, 0.5f, 0.0f};  // 30 tokens: 15, 30, 15, 0
  td.docs = {d0, d1};
  const auto usage = expert_usage(td);
  REQUIRE(usage.size() == 1);
  const ExpertUsageLayer& u = usage[0];
  CHECK(u.layer == 3);
  // 25, 39, 16, 0 of 80 selections.
  CHECK(u.share[0] == doctest::Approx(25.0 / 80));
  CHECK(u.share[1] == doctest::Approx(39.0 / 80));
  CHECK(u.share[2] == doctest::Approx(16.0 / 80));
  CHECK(u.share[3] == 0);
  CHECK(u.share_by_domain[0][0] == doctest::Approx(10.0 / 20));
  CHECK(u.share_by_domain[1][2] == doctest::Approx(15.0 / 60));
  CHECK(u.max_vs_uniform == doctest::Approx(4 * 39.0 / 80));
  CHECK(u.min_vs_uniform == 0);
  CHECK(u.never_used == std::vector<int>{3});
  CHECK(u.rarely_used == std::vector<int>{3});  // expert 2 has 0.8x of uniform: used
  td.docs[0].topk_freq = {1.0f, 0.98f, 0.02f, 0.0f};  // selections 10, 9.8, 0.2, 0
  td.docs[1].topk_freq = {0.9f, 1.0f, 0.05f, 0.05f};  // selections 27, 30, 1.5, 1.5: of 80, expert 2 0.085x, 3 0.075x
  const ExpertUsageLayer v = expert_usage(td)[0];
  CHECK(v.never_used.empty());
  CHECK(v.rarely_used == std::vector<int>{2, 3});
}
