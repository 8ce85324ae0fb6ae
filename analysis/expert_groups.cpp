// expert_groups.cpp — grouping experts by their document usage, naming the groups.
#include "analysis/expert_groups.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <numeric>
#include <random>

#include "analysis/spherical_kmeans.h"

namespace moescope {

namespace {

// Mean over documents of the largest share of a document's selections inside one group.
double top_group_share(const TraceData& td, size_t l, const std::vector<int>& group_of, int groups) {
  const size_t Es = size_t(td.layers[l].num_standard);
  double total = 0;
  size_t n = 0;
  std::vector<double> g(static_cast<size_t>(groups));
  for (const TracedDocument& d : td.docs) {
    std::fill(g.begin(), g.end(), 0.0);
    const float* tf = td.topk_freq(d, l);
    double sum = 0;
    for (size_t e = 0; e < Es; ++e)
      if (group_of[e] >= 0) {
        g[size_t(group_of[e])] += tf[e];
        sum += tf[e];
      }
    if (sum <= 0) continue;
    total += *std::max_element(g.begin(), g.end()) / sum;
    ++n;
  }
  return n ? total / double(n) : 0.0;
}

}  // namespace

LayerGroups expert_groups(const TraceData& td, size_t l, const GroupOptions& opt) {
  const size_t Es = size_t(td.layers[l].num_standard), K = size_t(td.layers[l].k);
  const size_t N = td.docs.size(), D = td.domains.size();
  LayerGroups out;
  out.layer = td.layers[l].layer;

  // profile [Es, N]: selections of expert e in document d.
  Rows profile(Es, std::vector<double>(N, 0.0));
  std::vector<double> expert_total(Es, 0.0);
  for (size_t d = 0; d < N; ++d) {
    const float* tf = td.topk_freq(td.docs[d], l);
    for (size_t e = 0; e < Es; ++e) {
      profile[e][d] = double(tf[e]) * double(td.docs[d].tokens());
      expert_total[e] += profile[e][d];
    }
  }
  std::vector<int> used;
  for (size_t e = 0; e < Es; ++e) (expert_total[e] > 0 ? used : out.unused).push_back(int(e));
  std::vector<double> norm(Es, 0.0);
  for (size_t e = 0; e < Es; ++e)
    for (double x : profile[e]) norm[e] += x * x;
  out.affinity.assign(Es, std::vector<double>(Es, 0.0));
  for (size_t a = 0; a < Es; ++a)
    for (size_t b = a; b < Es; ++b) {
      if (norm[a] <= 0 || norm[b] <= 0) continue;
      double dot = 0;
      for (size_t d = 0; d < N; ++d) dot += profile[a][d] * profile[b][d];
      out.affinity[a][b] = out.affinity[b][a] = dot / std::sqrt(norm[a] * norm[b]);
    }
  Rows rows;
  for (int e : used) rows.push_back(profile[size_t(e)]);

  std::vector<int> labels(used.size(), 0);
  int groups = 1;
  if (used.size() >= 3) {
    out.silhouette = -2;
    for (int k = 2; k <= std::min<int>(opt.max_groups, int(used.size()) - 1); ++k) {
      const KMeansResult r = spherical_kmeans(rows, k, opt.seed + uint64_t(k));
      const double s = cosine_silhouette(rows, r.labels);
      if (s > out.silhouette + 1e-12) {
        out.silhouette = s;
        labels = r.labels;
        groups = k;
      }
    }
  }
  // Renumber groups by size (largest first), drop empty ones.
  std::vector<int> size(static_cast<size_t>(groups), 0);
  for (int g : labels) ++size[size_t(g)];
  std::vector<int> order(static_cast<size_t>(groups));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return size[size_t(a)] > size[size_t(b)]; });
  std::vector<int> rank(static_cast<size_t>(groups), -1);
  int live = 0;
  for (int g : order)
    if (size[size_t(g)] > 0) rank[size_t(g)] = live++;
  std::vector<int> group_of(Es, -1);
  out.groups.resize(size_t(live));
  for (size_t i = 0; i < used.size(); ++i) {
    const int g = rank[size_t(labels[i])];
    group_of[size_t(used[i])] = g;
    out.groups[size_t(g)].experts.push_back(used[i]);
  }

  // Shares: overall, per domain, per token.
  const double all = std::accumulate(expert_total.begin(), expert_total.end(), 0.0);
  std::vector<std::vector<double>> dom_sel(size_t(live), std::vector<double>(D, 0.0));
  std::vector<double> dom_total(D, 0.0);
  std::vector<std::map<int32_t, double>> tok_sel(static_cast<size_t>(live));
  std::map<int32_t, double> tok_total;
  for (size_t d = 0; d < N; ++d) {
    const TracedDocument& doc = td.docs[d];
    for (size_t e = 0; e < Es; ++e)
      if (group_of[e] >= 0) {
        dom_sel[size_t(group_of[e])][size_t(doc.domain)] += profile[e][d];
        dom_total[size_t(doc.domain)] += profile[e][d];
      }
    for (size_t t = 0; t < doc.tokens(); ++t) {
      const uint16_t* ids = td.topk(doc, l, t);
      for (size_t j = 0; j < K; ++j)
        if (ids[j] < Es && group_of[ids[j]] >= 0) {
          tok_sel[size_t(group_of[ids[j]])][doc.ids[t]] += 1;
          tok_total[doc.ids[t]] += 1;
        }
    }
  }
  for (int g = 0; g < live; ++g) {
    ExpertGroup& grp = out.groups[size_t(g)];
    for (int e : grp.experts) grp.share += expert_total[size_t(e)];
    grp.share = all > 0 ? grp.share / all : 0;
    for (size_t d = 0; d < D; ++d) {
      if (dom_total[d] <= 0 || grp.share <= 0) continue;
      const double share = dom_sel[size_t(g)][d] / dom_total[d];
      if (share / grp.share > 1.0) grp.domains.push_back({int(d), share, share / grp.share, dom_sel[size_t(g)][d]});
    }
    std::sort(grp.domains.begin(), grp.domains.end(), [](const auto& a, const auto& b) { return a.enrichment > b.enrichment; });
    if (int(grp.domains.size()) > opt.top_domains) grp.domains.resize(size_t(opt.top_domains));
    for (const auto& [tok, count] : tok_sel[size_t(g)]) {
      const double total = tok_total[tok];
      grp.frequent_tokens.push_back({tok, count / total, grp.share > 0 ? count / total / grp.share : 0, count});
      if (total < opt.min_token_count || grp.share <= 0) continue;
      const double share = count / total;
      if (share / grp.share > 1.0) grp.tokens.push_back({tok, share, share / grp.share, count});
    }
    // Most enriched first; ties (common with small counts) broken by frequency.
    std::sort(grp.tokens.begin(), grp.tokens.end(), [](const auto& a, const auto& b) {
      return a.enrichment != b.enrichment ? a.enrichment > b.enrichment : a.count > b.count;
    });
    if (int(grp.tokens.size()) > opt.top_tokens) grp.tokens.resize(size_t(opt.top_tokens));
    std::sort(grp.frequent_tokens.begin(), grp.frequent_tokens.end(), [](const auto& a, const auto& b) {
      return a.count != b.count ? a.count > b.count : a.index < b.index;
    });
    if (int(grp.frequent_tokens.size()) > opt.top_tokens) grp.frequent_tokens.resize(size_t(opt.top_tokens));
  }

  if (live >= 2) {
    out.top_group_share = top_group_share(td, l, group_of, live);
    std::mt19937_64 rng(opt.seed);
    double shuffled = 0;
    constexpr int kShuffles = 20;
    std::vector<int> labels_used;
    for (int e : used) labels_used.push_back(group_of[size_t(e)]);
    for (int s = 0; s < kShuffles; ++s) {
      std::shuffle(labels_used.begin(), labels_used.end(), rng);
      std::vector<int> g2(Es, -1);
      for (size_t i = 0; i < used.size(); ++i) g2[size_t(used[i])] = labels_used[i];
      shuffled += top_group_share(td, l, g2, live);
    }
    out.shuffled_top_group_share = shuffled / kShuffles;
    out.modularity = out.top_group_share - out.shuffled_top_group_share;
  }
  return out;
}

std::string group_label(const ExpertGroup& g, const std::vector<std::string>& domains) {
  char buf[96];
  if (g.share < kMinorGroupShare) {
    std::snprintf(buf, sizeof buf, "minor (%.1f%% of selections)", 100 * g.share);
    return buf;
  }
  if (g.share >= kGeneralGroupShare) {
    std::snprintf(buf, sizeof buf, "general (%.0f%% of selections)", 100 * g.share);
    return buf;
  }
  if (g.domains.empty() || size_t(g.domains[0].index) >= domains.size()) return "mixed";
  std::snprintf(buf, sizeof buf, " x%.1f", g.domains[0].enrichment);
  return domains[size_t(g.domains[0].index)] + buf;
}

}  // namespace moescope
