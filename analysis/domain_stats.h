// domain_stats.h — per domain and MoE layer: expert usage, the domain's expert pool, entropy,
// experts above uniform (EMO's WebOrganizer heatmaps, emo-reference.md §5.5); domain-domain
// cosine similarity and keep-set overlap.
#pragma once

#include <vector>

#include "analysis/trace_data.h"

namespace moescope {

struct DomainLayerStats {
  std::vector<double> topk_freq;   // [Es] selections per token (token-weighted over the domain; sums to K - S)
  std::vector<double> mean_prob;   // [Es] mean routing probability over the domain's tokens (sums to 1)
  std::vector<int> pool;           // smallest expert set carrying pool_mass of mean_prob, heaviest first
  double doc_entropy_bits = 0;     // mean over documents of the entropy of doc_mean_probs (max log2 Es)
  double doc_above_uniform = 0;    // mean over documents of #experts with doc_mean_probs > 1/Es
};

struct DomainStats {
  std::string domain;
  size_t documents = 0;
  size_t tokens = 0;
  std::vector<DomainLayerStats> layers;  // [Lm]
};

std::vector<DomainStats> domain_stats(const TraceData& td, double pool_mass);

// The smallest set of indices whose values sum to at least `mass` of the total, largest first.
std::vector<int> mass_pool(const std::vector<double>& values, double mass);

// [D, D] cosine similarity of the domains' mean_prob vectors in layer l.
std::vector<std::vector<double>> domain_similarity(const std::vector<DomainStats>& s, size_t l);
// [D, D] Jaccard overlap of the domains' keep-sets (top-k experts by mean_prob) in layer l.
std::vector<std::vector<double>> keep_set_jaccard(const std::vector<DomainStats>& s, size_t l, int k);
// The top-k experts by mean_prob of one domain and layer, sorted by id.
std::vector<int> keep_set(const DomainLayerStats& s, int k);
// The indices of the k largest scores (ties: lower index first), returned sorted ascending.
std::vector<int> top_k_ids(const std::vector<double>& score, int k);

}  // namespace moescope
