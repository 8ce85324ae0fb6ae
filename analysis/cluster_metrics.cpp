// cluster_metrics.cpp — clustering quality measures.
#include "analysis/cluster_metrics.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace moescope {

namespace {

int count_of(const std::vector<int>& v) { return v.empty() ? 0 : *std::max_element(v.begin(), v.end()) + 1; }

// centroid [k, dims] and size per cluster
void centroids(const Rows& x, const std::vector<int>& labels, int k, Rows& c, std::vector<double>& n) {
  const size_t dims = x.empty() ? 0 : x[0].size();
  c.assign(size_t(k), std::vector<double>(dims, 0.0));
  n.assign(size_t(k), 0.0);
  for (size_t i = 0; i < x.size(); ++i) {
    n[size_t(labels[i])] += 1;
    for (size_t f = 0; f < dims; ++f) c[size_t(labels[i])][f] += x[i][f];
  }
  for (int j = 0; j < k; ++j)
    if (n[size_t(j)] > 0)
      for (double& v : c[size_t(j)]) v /= n[size_t(j)];
}

double sq_dist(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += (a[i] - b[i]) * (a[i] - b[i]);
  return s;
}

// Counts of each label of a, of b, and of each (a, b) pair.
struct Contingency {
  double n = 0;
  std::map<int, double> a, b;
  std::map<std::pair<int, int>, double> joint;
  Contingency(const std::vector<int>& x, const std::vector<int>& y) : n(double(x.size())) {
    for (size_t i = 0; i < x.size(); ++i) {
      a[x[i]] += 1;
      b[y[i]] += 1;
      joint[{x[i], y[i]}] += 1;
    }
  }
};

double entropy(const std::map<int, double>& counts, double total, double base_log) {
  double h = 0;
  for (const auto& [_, c] : counts)
    if (c > 0) h -= (c / total) * std::log(c / total);
  return h / base_log;
}

}  // namespace

double calinski_harabasz(const Rows& x, const std::vector<int>& labels) {
  const int k = count_of(labels);
  const double n = double(x.size());
  if (k < 2 || n <= k) return 0.0;
  Rows c;
  std::vector<double> size;
  centroids(x, labels, k, c, size);
  std::vector<double> mean(x[0].size(), 0.0);
  for (const auto& r : x)
    for (size_t f = 0; f < r.size(); ++f) mean[f] += r[f] / n;
  double between = 0, within = 0;
  for (int j = 0; j < k; ++j) between += size[size_t(j)] * sq_dist(c[size_t(j)], mean);
  for (size_t i = 0; i < x.size(); ++i) within += sq_dist(x[i], c[size_t(labels[i])]);
  return within > 0 ? (between / (k - 1)) / (within / (n - k)) : 0.0;
}

double davies_bouldin(const Rows& x, const std::vector<int>& labels) {
  const int k = count_of(labels);
  if (k < 2) return 0.0;
  Rows c;
  std::vector<double> size;
  centroids(x, labels, k, c, size);
  std::vector<double> spread(size_t(k), 0.0);
  for (size_t i = 0; i < x.size(); ++i) spread[size_t(labels[i])] += std::sqrt(sq_dist(x[i], c[size_t(labels[i])]));
  for (int j = 0; j < k; ++j)
    if (size[size_t(j)] > 0) spread[size_t(j)] /= size[size_t(j)];
  double total = 0;
  int used = 0;
  for (int i = 0; i < k; ++i) {
    if (size[size_t(i)] == 0) continue;
    double worst = 0;
    for (int j = 0; j < k; ++j) {
      if (j == i || size[size_t(j)] == 0) continue;
      const double d = std::sqrt(sq_dist(c[size_t(i)], c[size_t(j)]));
      worst = std::max(worst, d > 0 ? (spread[size_t(i)] + spread[size_t(j)]) / d : INFINITY);
    }
    total += worst;
    ++used;
  }
  return used ? total / used : 0.0;
}

double normalized_mutual_info(const std::vector<int>& a, const std::vector<int>& b) {
  const Contingency t(a, b);
  const double n = t.n;
  double mi = 0;
  for (const auto& [key, c] : t.joint) mi += (c / n) * std::log(c * n / (t.a.at(key.first) * t.b.at(key.second)));
  const double ha = entropy(t.a, n, 1.0), hb = entropy(t.b, n, 1.0);
  if (ha + hb <= 0) return 1.0;  // both labelings constant: identical
  return mi / ((ha + hb) / 2);
}

double adjusted_rand_index(const std::vector<int>& a, const std::vector<int>& b) {
  auto pairs = [](double c) { return c * (c - 1) / 2; };
  const Contingency t(a, b);
  double sum_joint = 0, sum_a = 0, sum_b = 0;
  for (const auto& [_, c] : t.joint) sum_joint += pairs(c);
  for (const auto& [_, c] : t.a) sum_a += pairs(c);
  for (const auto& [_, c] : t.b) sum_b += pairs(c);
  const double expected = sum_a * sum_b / pairs(t.n);
  const double max_index = (sum_a + sum_b) / 2;
  if (max_index == expected) return 1.0;
  return (sum_joint - expected) / (max_index - expected);
}

double mean_label_entropy_bits(const std::vector<int>& clusters, const std::vector<int>& labels) {
  std::map<int, std::map<int, double>> per;
  std::map<int, double> size;
  for (size_t i = 0; i < clusters.size(); ++i) {
    per[clusters[i]][labels[i]] += 1;
    size[clusters[i]] += 1;
  }
  double total = 0;
  for (const auto& [c, counts] : per) total += entropy(counts, size[c], std::log(2.0));
  return per.empty() ? 0.0 : total / double(per.size());
}

}  // namespace moescope
