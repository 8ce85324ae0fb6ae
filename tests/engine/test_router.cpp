// Router math checked by hand: logits chosen so the softmax is exact fractions
// (z = log of 1..4 gives p = [1, 2, 3, 4] / 10).
#include <doctest/doctest.h>

#include <cmath>

#include "engine/router.h"

using namespace moescope;

namespace {

LayerSpec spec_of(int E, int S, std::vector<int> aa = {}) {
  LayerSpec s;
  s.num_experts = E;
  s.num_shared = S;
  s.always_active = std::move(aa);
  s.mode = !s.always_active.empty() ? RoutingMode::AlwaysActive : S > 0 ? RoutingMode::Shared : RoutingMode::Plain;
  return s;
}

const float L1 = 0.f, L2 = std::log(2.f), L3 = std::log(3.f), L4 = std::log(4.f);

}  // namespace

TEST_CASE("router mode C: plain softmax top-k, with and without norm_topk_prob") {
  const float logits[] = {L1, L2, L3, L4};
  const std::vector<uint8_t> all(4, 1);
  RouterOutput r = route_tokens(logits, 1, spec_of(4, 0), 2, false, all, true);
  REQUIRE(r.k == 2);
  CHECK(r.topk_ids == std::vector<int32_t>{3, 2});
  CHECK(r.topk_weights[0] == doctest::Approx(0.4f));
  CHECK(r.topk_weights[1] == doctest::Approx(0.3f));
  CHECK(r.probs[0] == doctest::Approx(0.1f));
  r = route_tokens(logits, 1, spec_of(4, 0), 2, true, all, false);
  CHECK(r.topk_weights[0] == doctest::Approx(4.f / 7.f));
  CHECK(r.topk_weights[1] == doctest::Approx(3.f / 7.f));
  CHECK(r.probs.empty());
}

TEST_CASE("router mode B: the last S experts are shared with their own softmax") {
  const float logits[] = {L1, L2, L3, L4, 7.f};  // expert 4 is shared
  const std::vector<uint8_t> all(5, 1);
  RouterOutput r = route_tokens(logits, 1, spec_of(5, 1), 3, false, all, true);
  REQUIRE(r.k == 3);
  CHECK(r.topk_ids == std::vector<int32_t>{3, 2, 4});
  CHECK(r.topk_weights[0] == doctest::Approx(0.4f));  // raw probability over the 4 standard experts
  CHECK(r.topk_weights[1] == doctest::Approx(0.3f));
  CHECK(r.topk_weights[2] == 1.0f);                   // softmax of one logit is exactly 1
  REQUIRE(r.probs.size() == 4);                        // probs cover standard experts only
  CHECK(r.probs[3] == doctest::Approx(0.4f));
}

TEST_CASE("router subset mask: dropped experts get -inf before the softmax, k shrinks with the subset") {
  const float logits[] = {L1, L2, L3, L4, 7.f};
  std::vector<uint8_t> kept = {1, 1, 1, 0, 1};  // drop expert 3; the shared one is always kept
  RouterOutput r = route_tokens(logits, 1, spec_of(5, 1), 3, false, kept, true);
  CHECK(r.topk_ids == std::vector<int32_t>{2, 1, 4});
  CHECK(r.topk_weights[0] == doctest::Approx(0.5f));  // 3 / (1 + 2 + 3)
  CHECK(r.topk_weights[1] == doctest::Approx(1.f / 3.f));
  CHECK(r.probs[3] == 0.0f);
  kept = {0, 0, 1, 0, 1};  // one standard expert left: K' = 1 routed + 1 shared
  r = route_tokens(logits, 1, spec_of(5, 1), 3, false, kept, false);
  REQUIRE(r.k == 2);
  CHECK(r.topk_ids == std::vector<int32_t>{2, 4});
  CHECK(r.topk_weights[0] == doctest::Approx(1.0f));
}

TEST_CASE("router mode A: always-active experts first with their softmax weight, then the best others") {
  const float logits[] = {L1, L2, L3, L4};
  const std::vector<uint8_t> all(4, 1);
  RouterOutput r = route_tokens(logits, 1, spec_of(4, 0, {0}), 2, false, all, true);
  REQUIRE(r.k == 2);
  CHECK(r.topk_ids == std::vector<int32_t>{0, 3});
  CHECK(r.topk_weights[0] == doctest::Approx(0.1f));  // p[AA], not 1.0
  CHECK(r.topk_weights[1] == doctest::Approx(0.4f));
  std::vector<uint8_t> kept = {0, 1, 1, 0};           // the mask never drops an always-active expert
  r = route_tokens(logits, 1, spec_of(4, 0, {0}), 2, false, kept, false);
  CHECK(r.topk_ids == std::vector<int32_t>{0, 2});
  CHECK(r.topk_weights[1] == doctest::Approx(0.5f));  // 3 / (1 + 2 + 3)
}

TEST_CASE("router: many tokens route independently") {
  std::vector<float> logits;
  for (int t = 0; t < 1000; ++t) {
    const int hot = t % 4;
    for (int e = 0; e < 4; ++e) logits.push_back(e == hot ? 5.f : 0.f);
  }
  const std::vector<uint8_t> all(4, 1);
  RouterOutput r = route_tokens(logits.data(), 1000, spec_of(4, 0), 1, false, all, false);
  for (int t = 0; t < 1000; ++t) CHECK(r.topk_ids[size_t(t)] == t % 4);
}
