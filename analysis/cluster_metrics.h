// cluster_metrics.h — quality of a clustering: internal (Calinski-Harabasz, Davies-Bouldin, on
// Euclidean geometry; silhouette lives in spherical_kmeans.h) and against labels (NMI with
// arithmetic-mean normalisation, adjusted Rand index, mean label entropy per cluster in bits).
#pragma once

#include <vector>

#include "analysis/spherical_kmeans.h"

namespace moescope {

double calinski_harabasz(const Rows& x, const std::vector<int>& labels);
double davies_bouldin(const Rows& x, const std::vector<int>& labels);
double normalized_mutual_info(const std::vector<int>& a, const std::vector<int>& b);
double adjusted_rand_index(const std::vector<int>& a, const std::vector<int>& b);
// Mean over clusters of the entropy (bits) of the label distribution inside the cluster.
double mean_label_entropy_bits(const std::vector<int>& clusters, const std::vector<int>& labels);

}  // namespace moescope
