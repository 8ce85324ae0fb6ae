// router.cpp — per-token expert selection: the three EMO routing modes, and in mode C each
// family's router (softmax or sigmoid scores, correction bias, groups, renormalisation, scaling).
#include "engine/router.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace moescope {

namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// p[i] = softmax(z)[i] over [0, n), fp32, with -inf entries giving exactly 0.
void softmax(const float* z, int n, float* p) {
  float m = kNegInf;
  for (int i = 0; i < n; ++i) m = std::max(m, z[i]);
  if (m == kNegInf) {  // everything masked
    std::fill(p, p + n, 0.f);
    return;
  }
  float s = 0.f;
  for (int i = 0; i < n; ++i) s += (p[i] = std::exp(z[i] - m));
  const float inv = 1.f / s;
  for (int i = 0; i < n; ++i) p[i] *= inv;
}

// The `count` largest of p over candidates (eligible[i] != 0), descending; ties keep the lower id.
void top_count(const float* p, const std::vector<int>& candidates, int count, std::vector<int>& out) {
  out = candidates;
  count = std::min<int>(count, int(out.size()));
  auto better = [p](int a, int b) { return p[a] > p[b] || (p[a] == p[b] && a < b); };
  std::partial_sort(out.begin(), out.begin() + count, out.end(), better);
  out.resize(size_t(count));
}

}  // namespace

namespace {

// Experts the routed (non-fixed) part may choose from: kept standard experts that are not
// always-active; in mode A every non-always-active expert of the softmax (all E).
std::vector<int> routing_candidates(const LayerSpec& spec, const std::vector<uint8_t>& kept) {
  const int E = spec.num_experts, Estd = spec.num_standard();
  std::vector<uint8_t> is_aa(size_t(E), 0);
  for (int e : spec.always_active) is_aa[size_t(e)] = 1;
  std::vector<int> candidates;
  const int end = spec.mode == RoutingMode::AlwaysActive ? E : Estd;
  for (int e = 0; e < end; ++e)
    if (!is_aa[size_t(e)] && (kept[size_t(e)] || spec.always_kept(e))) candidates.push_back(e);
  return candidates;
}

int fixed_count(const LayerSpec& spec) {
  if (spec.mode == RoutingMode::AlwaysActive) return int(spec.always_active.size());
  if (spec.mode == RoutingMode::Shared) return spec.num_shared;
  return 0;
}

// Per-thread buffers of group-limited routing, reused for every token.
struct GroupScratch {
  std::vector<float> score, best1, best2;
  std::vector<int> members, eligible, ranked, in_groups;
  std::vector<uint8_t> keep;
};

// The candidates inside the topk_group best groups (more groups only when a subset leaves them
// fewer than k experts). Group g holds experts [g*E/n, (g+1)*E/n); only candidates (kept experts)
// count towards its score: the max selection score, or the sum of the two best.
const std::vector<int>& group_limited_candidates(const std::vector<float>& sel, const std::vector<int>& candidates,
                                                 const RouterSpec& rs, int E, int k, GroupScratch& g) {
  const int n = rs.n_group, per = E / n;
  g.best1.assign(size_t(n), kNegInf);
  g.best2.assign(size_t(n), kNegInf);
  g.members.assign(size_t(n), 0);
  for (int e : candidates) {
    const size_t i = size_t(e / per);
    const float v = sel[size_t(e)];
    if (v > g.best1[i]) { g.best2[i] = g.best1[i]; g.best1[i] = v; }
    else if (v > g.best2[i]) g.best2[i] = v;
    ++g.members[i];
  }
  g.score.resize(size_t(n));
  g.eligible.clear();
  for (int i = 0; i < n; ++i) {
    const size_t u = size_t(i);
    g.score[u] = rs.group_score == GroupScore::Max || g.best2[u] == kNegInf ? g.best1[u] : g.best1[u] + g.best2[u];
    if (g.members[u] > 0) g.eligible.push_back(i);
  }
  top_count(g.score.data(), g.eligible, int(g.eligible.size()), g.ranked);
  g.keep.assign(size_t(n), 0);
  int taken = 0, experts = 0;
  for (int i : g.ranked) {
    if (taken >= rs.topk_group && experts >= k) break;
    g.keep[size_t(i)] = 1;
    ++taken;
    experts += g.members[size_t(i)];
  }
  g.in_groups.clear();
  for (int e : candidates)
    if (g.keep[size_t(e / per)]) g.in_groups.push_back(e);
  return g.in_groups;
}

// Mode C with the family's router: scores p (softmax or sigmoid), selection scores p + bias,
// group-limited candidates, top-K, then weights from p (renormalised, scaled).
void route_scored(const float* z, const LayerSpec& spec, const RouterSpec& rs, const float* bias, bool norm_topk_prob,
                  const std::vector<int>& candidates, int k, float* p, std::vector<float>& sel, GroupScratch& groups,
                  std::vector<int>& chosen, int32_t* ids, float* w) {
  const int E = spec.num_experts;
  if (rs.score == ScoreFunc::Softmax) {
    softmax(z, E, p);
  } else {
    for (int e = 0; e < E; ++e) p[e] = z[e] == kNegInf ? 0.f : 1.f / (1.f + std::exp(-z[e]));
  }
  for (int e = 0; e < E; ++e) sel[size_t(e)] = bias ? p[e] + bias[e] : p[e];
  const std::vector<int>& from = rs.n_group > 1 ? group_limited_candidates(sel, candidates, rs, E, k, groups) : candidates;
  top_count(sel.data(), from, k, chosen);
  float sum = 0.f;
  for (size_t i = 0; i < chosen.size(); ++i) {
    ids[i] = chosen[i];
    w[i] = p[chosen[i]];
    sum += w[i];
  }
  for (size_t i = 0; i < chosen.size(); ++i) {
    if (norm_topk_prob) w[i] /= sum + rs.renorm_eps;
    w[i] *= rs.routed_scaling;
  }
}

}  // namespace

RouterOutput route_tokens(const float* logits, int64_t T, const LayerSpec& spec, int top_k, bool norm_topk_prob,
                          const std::vector<uint8_t>& kept, bool want_probs, const RouterSpec& router,
                          const float* correction_bias) {
  const int E = spec.num_experts, S = spec.num_shared, Estd = spec.num_standard();
  std::vector<uint8_t> is_aa(size_t(E), 0);
  for (int e : spec.always_active) is_aa[size_t(e)] = 1;
  const std::vector<int> candidates = routing_candidates(spec, kept);
  std::vector<uint8_t> dropped(size_t(E), 0);  // the subset mask: logit -inf before the softmax
  for (int e = 0; e < E; ++e) dropped[size_t(e)] = !kept[size_t(e)] && !spec.always_kept(e);

  RouterOutput out;
  out.k = fixed_count(spec) + std::min(top_k - fixed_count(spec), int(candidates.size()));
  out.topk_ids.resize(size_t(T) * size_t(out.k));
  out.topk_weights.resize(size_t(T) * size_t(out.k));
  if (want_probs) out.probs.assign(size_t(T) * size_t(Estd), 0.f);

#pragma omp parallel if (T > 256)
  {
    std::vector<float> z(static_cast<size_t>(E)), p(static_cast<size_t>(E)), p_shared(static_cast<size_t>(std::max(S, 1)));
    std::vector<int> chosen;
    std::vector<float> sel(static_cast<size_t>(E));
    GroupScratch groups;
#pragma omp for schedule(static)
    for (int64_t t = 0; t < T; ++t) {
      const float* row = logits + t * E;
      for (int e = 0; e < E; ++e)
        z[size_t(e)] = dropped[size_t(e)] ? kNegInf : row[e];
      int32_t* ids = out.topk_ids.data() + t * out.k;
      float* w = out.topk_weights.data() + t * out.k;
      int n = 0;
      switch (spec.mode) {
        case RoutingMode::AlwaysActive: {
          softmax(z.data(), E, p.data());  // over all E; always-active excluded from selection only
          for (int e : spec.always_active) { ids[n] = e; w[n] = p[size_t(e)]; ++n; }
          top_count(p.data(), candidates, out.k - n, chosen);
          for (int e : chosen) { ids[n] = e; w[n] = p[size_t(e)]; ++n; }
          break;
        }
        case RoutingMode::Shared: {
          softmax(z.data(), Estd, p.data());          // standard experts [0, E-S)
          softmax(z.data() + Estd, S, p_shared.data());  // shared experts [E-S, E): a separate softmax
          top_count(p.data(), candidates, out.k - S, chosen);
          for (int e : chosen) { ids[n] = e; w[n] = p[size_t(e)]; ++n; }
          std::vector<int> shared_ids(static_cast<size_t>(S));
          std::iota(shared_ids.begin(), shared_ids.end(), 0);
          std::vector<int> shared_order;
          top_count(p_shared.data(), shared_ids, S, shared_order);
          for (int s : shared_order) { ids[n] = Estd + s; w[n] = p_shared[size_t(s)]; ++n; }
          break;
        }
        case RoutingMode::Plain: {
          route_scored(z.data(), spec, router, correction_bias, norm_topk_prob, candidates, out.k, p.data(), sel, groups, chosen,
                       ids, w);
          n = int(chosen.size());
          break;
        }
      }
      if (want_probs) std::copy(p.begin(), p.begin() + Estd, out.probs.begin() + t * Estd);
    }
  }
  return out;
}

}  // namespace moescope
