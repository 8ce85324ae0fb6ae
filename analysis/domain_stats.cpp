// domain_stats.cpp — per-domain expert usage statistics.
#include "analysis/domain_stats.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace moescope {

std::vector<int> mass_pool(const std::vector<double>& values, double mass) {
  std::vector<int> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return values[size_t(a)] > values[size_t(b)]; });
  const double total = std::accumulate(values.begin(), values.end(), 0.0);
  std::vector<int> pool;
  double acc = 0;
  for (int e : order) {
    if (total <= 0 || acc >= mass * total * (1 - 1e-12)) break;
    pool.push_back(e);
    acc += values[size_t(e)];
  }
  return pool;
}

std::vector<DomainStats> domain_stats(const TraceData& td, double pool_mass) {
  const size_t D = td.domains.size(), L = td.layers.size();
  std::vector<DomainStats> out(D);
  for (size_t d = 0; d < D; ++d) {
    out[d].domain = td.domains[d];
    out[d].layers.resize(L);
    for (size_t l = 0; l < L; ++l) {
      out[d].layers[l].topk_freq.assign(size_t(td.layers[l].num_standard), 0.0);
      out[d].layers[l].mean_prob.assign(size_t(td.layers[l].num_standard), 0.0);
    }
  }
  for (const TracedDocument& doc : td.docs) {
    DomainStats& s = out[size_t(doc.domain)];
    ++s.documents;
    s.tokens += doc.tokens();
    const double T = double(doc.tokens());
    for (size_t l = 0; l < L; ++l) {
      const size_t Es = size_t(td.layers[l].num_standard);
      const float* mp = td.mean_probs(doc, l);
      const float* tf = td.topk_freq(doc, l);
      DomainLayerStats& ls = s.layers[l];
      double sum = 0, entropy = 0;
      int above = 0;
      for (size_t e = 0; e < Es; ++e) {
        ls.topk_freq[e] += double(tf[e]) * T;
        ls.mean_prob[e] += double(mp[e]) * T;
        sum += mp[e];
        if (mp[e] > 1.0 / double(Es)) ++above;
      }
      for (size_t e = 0; e < Es; ++e)
        if (mp[e] > 0 && sum > 0) entropy -= (mp[e] / sum) * std::log2(mp[e] / sum);
      ls.doc_entropy_bits += entropy;
      ls.doc_above_uniform += above;
    }
  }
  for (DomainStats& s : out) {
    if (!s.documents) continue;
    for (DomainLayerStats& ls : s.layers) {
      for (double& v : ls.topk_freq) v /= double(s.tokens);
      for (double& v : ls.mean_prob) v /= double(s.tokens);
      ls.doc_entropy_bits /= double(s.documents);
      ls.doc_above_uniform /= double(s.documents);
      ls.pool = mass_pool(ls.mean_prob, pool_mass);
    }
  }
  return out;
}

std::vector<std::vector<double>> domain_similarity(const std::vector<DomainStats>& s, size_t l) {
  const size_t D = s.size();
  std::vector<std::vector<double>> sim(D, std::vector<double>(D, 0.0));
  for (size_t a = 0; a < D; ++a)
    for (size_t b = 0; b < D; ++b) {
      const auto& x = s[a].layers[l].mean_prob;
      const auto& y = s[b].layers[l].mean_prob;
      double xy = 0, xx = 0, yy = 0;
      for (size_t e = 0; e < x.size(); ++e) {
        xy += x[e] * y[e];
        xx += x[e] * x[e];
        yy += y[e] * y[e];
      }
      sim[a][b] = xx > 0 && yy > 0 ? xy / std::sqrt(xx * yy) : 0.0;
    }
  return sim;
}

std::vector<int> top_k_ids(const std::vector<double>& score, int k) {
  std::vector<int> order(score.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return score[size_t(a)] > score[size_t(b)]; });
  order.resize(std::min(order.size(), size_t(std::max(0, k))));
  std::sort(order.begin(), order.end());
  return order;
}

std::vector<int> keep_set(const DomainLayerStats& s, int k) { return top_k_ids(s.mean_prob, k); }

std::vector<std::vector<double>> keep_set_jaccard(const std::vector<DomainStats>& s, size_t l, int k) {
  const size_t D = s.size();
  std::vector<std::vector<int>> sets(D);
  for (size_t d = 0; d < D; ++d) sets[d] = keep_set(s[d].layers[l], k);
  std::vector<std::vector<double>> j(D, std::vector<double>(D, 0.0));
  for (size_t a = 0; a < D; ++a)
    for (size_t b = 0; b < D; ++b) {
      std::vector<int> inter;
      std::set_intersection(sets[a].begin(), sets[a].end(), sets[b].begin(), sets[b].end(), std::back_inserter(inter));
      const size_t uni = sets[a].size() + sets[b].size() - inter.size();
      j[a][b] = uni ? double(inter.size()) / double(uni) : 1.0;
    }
  return j;
}

}  // namespace moescope
