// doc_clusters.cpp — EMO-style document clustering.
#include "analysis/doc_clusters.h"

#include <Eigen/Dense>
#include <algorithm>
#include <numeric>
#include <random>

#include "analysis/cluster_metrics.h"
#include "analysis/spherical_kmeans.h"

namespace moescope {

Rows pca_project(const Rows& x, double variance, int* components, double* explained, int fixed_components) {
  const Eigen::Index n = Eigen::Index(x.size()), f = x.empty() ? 0 : Eigen::Index(x[0].size());
  Eigen::MatrixXd m(n, f);  // [N, F]
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index j = 0; j < f; ++j) m(i, j) = x[size_t(i)][size_t(j)];
  m.rowwise() -= m.colwise().mean();
  const Eigen::MatrixXd cov = (m.transpose() * m) / double(std::max<Eigen::Index>(1, n - 1));  // [F, F]
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(cov);
  const Eigen::VectorXd values = eig.eigenvalues().reverse();          // descending
  const Eigen::MatrixXd vectors = eig.eigenvectors().rowwise().reverse();  // columns match
  const double total = std::max(0.0, values.sum());
  int keep = 0;
  double acc = 0;
  if (fixed_components > 0) {
    while (keep < std::min<Eigen::Index>(f, fixed_components)) acc += std::max(0.0, values(keep++));
  } else {
    while (keep < f && (total <= 0 || acc < variance * total)) acc += std::max(0.0, values(keep++));
  }
  keep = std::max(keep, 1);
  if (components) *components = keep;
  if (explained) *explained = total > 0 ? acc / total : 1.0;
  const Eigen::MatrixXd proj = m * vectors.leftCols(keep);  // [N, keep]
  Rows out(static_cast<size_t>(n), std::vector<double>(static_cast<size_t>(keep)));
  for (Eigen::Index i = 0; i < n; ++i)
    for (int j = 0; j < keep; ++j) out[size_t(i)][size_t(j)] = proj(i, j);
  return out;
}

DocumentMap document_map(const TraceData& td) {
  Rows feats;
  for (const TracedDocument& d : td.docs) feats.emplace_back(d.mean_probs.begin(), d.mean_probs.end());
  DocumentMap out;
  if (feats.empty()) return out;
  int kept = 0;
  const Rows p = pca_project(feats, 1.0, &kept, &out.explained, 2);
  for (const auto& row : p) {
    out.x.push_back(float(row[0]));
    out.y.push_back(row.size() > 1 ? float(row[1]) : 0.f);
  }
  return out;
}

DocClusters cluster_documents(const TraceData& td, const DocClusterOptions& opt) {
  Rows feats;
  std::vector<int> domain;
  for (const TracedDocument& d : td.docs) {
    const std::vector<float>& f = opt.topk_freq ? d.topk_freq : d.mean_probs;
    feats.emplace_back(f.begin(), f.end());
    domain.push_back(d.domain);
  }
  DocClusters out;
  const Rows z = l2_normalized(pca_project(feats, opt.variance, &out.components, &out.explained));
  out.k = std::max(1, std::min<int>(opt.k, int(z.size())));
  const KMeansResult km = spherical_kmeans(z, out.k, opt.seed);
  out.labels = km.labels;
  out.domain_counts.assign(size_t(out.k), std::vector<int>(td.domains.size(), 0));
  for (size_t i = 0; i < z.size(); ++i) ++out.domain_counts[size_t(out.labels[i])][size_t(domain[i])];
  // Silhouette on a seeded subsample (it needs all pairs).
  std::vector<size_t> idx(z.size());
  std::iota(idx.begin(), idx.end(), 0);
  if (idx.size() > opt.silhouette_sample) {
    std::mt19937_64 rng(opt.seed);
    std::shuffle(idx.begin(), idx.end(), rng);
    idx.resize(opt.silhouette_sample);
  }
  Rows zs;
  std::vector<int> ls;
  for (size_t i : idx) {
    zs.push_back(z[i]);
    ls.push_back(out.labels[i]);
  }
  out.silhouette_cosine = cosine_silhouette(zs, ls);
  out.calinski_harabasz = calinski_harabasz(z, out.labels);
  out.davies_bouldin = davies_bouldin(z, out.labels);
  out.mean_label_entropy_bits = mean_label_entropy_bits(out.labels, domain);
  out.nmi = normalized_mutual_info(out.labels, domain);
  out.ari = adjusted_rand_index(out.labels, domain);
  return out;
}

}  // namespace moescope
