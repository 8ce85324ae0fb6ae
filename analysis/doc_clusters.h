// doc_clusters.h — document clusters as EMO's pipeline makes them (emo-reference.md §5.2-5.3):
// per-layer mean routing probabilities concatenated [N, sum Es] -> mean-centring -> PCA keeping
// 95% of the variance -> L2 -> spherical k-means; quality measures and agreement with the
// domain labels. Deterministic given the seed.
#pragma once

#include <cstdint>
#include <vector>

#include "analysis/spherical_kmeans.h"
#include "analysis/trace_data.h"

namespace moescope {

struct DocClusterOptions {
  int k = 32;                 // capped at the number of documents
  bool topk_freq = false;     // cluster top-k frequency vectors instead of mean probabilities
  double variance = 0.95;
  uint64_t seed = 42;
  size_t silhouette_sample = 2000;  // silhouette is O(N^2): computed on a seeded subsample
};

struct DocClusters {
  int k = 0;
  int components = 0;               // PCA components kept
  double explained = 0;             // variance share they carry
  std::vector<int> labels;          // [N] cluster of each traced document
  std::vector<std::vector<int>> domain_counts;  // [k, domains]
  double silhouette_cosine = 0, calinski_harabasz = 0, davies_bouldin = 0;
  double mean_label_entropy_bits = 0, nmi = 0, ari = 0;
};

DocClusters cluster_documents(const TraceData& td, const DocClusterOptions& opt);

// Rows centred and projected on the principal components carrying `variance` of the total
// (or on exactly `fixed_components` of them when that is > 0).
Rows pca_project(const Rows& x, double variance, int* components, double* explained, int fixed_components = 0);

// Documents in 2-D: the first two principal components of their per-layer mean routing
// probabilities (centred; the first step of EMO's clustering), for the app's explorer.
struct DocumentMap {
  std::vector<float> x, y;  // [N] per traced document
  double explained = 0;     // variance share of the two components
};
DocumentMap document_map(const TraceData& td);

}  // namespace moescope
