// spherical_kmeans.h — k-means on the unit sphere (cosine similarity), deterministic given a seed,
// and the cosine silhouette of a labelling. Used for expert groups and document clusters.
#pragma once

#include <cstdint>
#include <vector>

namespace moescope {

using Rows = std::vector<std::vector<double>>;

struct KMeansResult {
  std::vector<int> labels;   // [rows]
  Rows centroids;            // [k, dims], unit length
  double objective = 0;      // sum over rows of cosine similarity to its centroid (higher is better)
};

// Rows are L2-normalised first (zero rows stay zero and join cluster 0). k-means++ seeding on
// cosine distance, n_init restarts, the best objective wins.
KMeansResult spherical_kmeans(const Rows& rows, int k, uint64_t seed, int n_init = 10, int max_iter = 100);

// Mean silhouette with cosine distance (1 - cos); 0 when fewer than 2 clusters are used.
double cosine_silhouette(const Rows& rows, const std::vector<int>& labels);

Rows l2_normalized(const Rows& rows);

}  // namespace moescope
