// spherical_kmeans.cpp — cosine k-means and silhouette.
#include "analysis/spherical_kmeans.h"

#include <cmath>
#include <limits>
#include <random>

namespace moescope {

namespace {

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

void normalize(std::vector<double>& v) {
  const double n = std::sqrt(dot(v, v));
  if (n > 0)
    for (double& x : v) x /= n;
}

}  // namespace

Rows l2_normalized(const Rows& rows) {
  Rows out = rows;
  for (auto& r : out) normalize(r);
  return out;
}

KMeansResult spherical_kmeans(const Rows& input, int k, uint64_t seed, int n_init, int max_iter) {
  const Rows x = l2_normalized(input);
  const size_t n = x.size();
  KMeansResult best;
  best.objective = -std::numeric_limits<double>::infinity();
  if (n == 0 || k <= 0) return best;
  k = int(std::min<size_t>(size_t(k), n));
  std::mt19937_64 rng(seed);
  for (int run = 0; run < n_init; ++run) {
    // k-means++: the next centre is drawn with probability proportional to its cosine distance
    // to the nearest centre so far.
    Rows c;
    c.push_back(x[std::uniform_int_distribution<size_t>(0, n - 1)(rng)]);
    std::vector<double> dist(n);
    while (int(c.size()) < k) {
      double total = 0;
      for (size_t i = 0; i < n; ++i) {
        double d = std::numeric_limits<double>::infinity();
        for (const auto& ci : c) d = std::min(d, std::max(0.0, 1.0 - dot(x[i], ci)));
        dist[i] = d;
        total += d;
      }
      size_t pick = 0;
      if (total > 0) {
        double r = std::uniform_real_distribution<double>(0, total)(rng);
        for (pick = 0; pick + 1 < n && r >= dist[pick]; ++pick) r -= dist[pick];
      } else {
        pick = std::uniform_int_distribution<size_t>(0, n - 1)(rng);
      }
      c.push_back(x[pick]);
    }
    std::vector<int> labels(n, -1);
    double objective = 0;
    for (int it = 0; it < max_iter; ++it) {
      bool changed = false;
      objective = 0;
      for (size_t i = 0; i < n; ++i) {
        int arg = 0;
        double bestsim = -std::numeric_limits<double>::infinity();
        for (int j = 0; j < k; ++j) {
          const double s = dot(x[i], c[size_t(j)]);
          if (s > bestsim) {
            bestsim = s;
            arg = j;
          }
        }
        if (labels[i] != arg) changed = true;
        labels[i] = arg;
        objective += bestsim;
      }
      if (!changed && it > 0) break;
      Rows sums(size_t(k), std::vector<double>(x[0].size(), 0.0));
      std::vector<size_t> members(size_t(k), 0);
      for (size_t i = 0; i < n; ++i) {
        ++members[size_t(labels[i])];
        for (size_t f = 0; f < x[i].size(); ++f) sums[size_t(labels[i])][f] += x[i][f];
      }
      for (int j = 0; j < k; ++j)
        if (members[size_t(j)]) {
          normalize(sums[size_t(j)]);
          c[size_t(j)] = sums[size_t(j)];
        }
    }
    if (objective > best.objective) {
      best.objective = objective;
      best.labels = labels;
      best.centroids = c;
    }
  }
  return best;
}

double cosine_silhouette(const Rows& rows, const std::vector<int>& labels) {
  const Rows x = l2_normalized(rows);
  const size_t n = x.size();
  int k = 0;
  for (int l : labels) k = std::max(k, l + 1);
  std::vector<size_t> size(size_t(k), 0);
  for (int l : labels) ++size[size_t(l)];
  int used = 0;
  for (size_t s : size) used += s > 0;
  if (used < 2) return 0.0;
  double total = 0;
  for (size_t i = 0; i < n; ++i) {
    std::vector<double> sum(size_t(k), 0.0);
    for (size_t j = 0; j < n; ++j)
      if (j != i) sum[size_t(labels[j])] += 1.0 - dot(x[i], x[j]);
    const size_t own = size[size_t(labels[i])];
    if (own <= 1) continue;  // a singleton's silhouette is 0
    const double a = sum[size_t(labels[i])] / double(own - 1);
    double b = std::numeric_limits<double>::infinity();
    for (int c = 0; c < k; ++c)
      if (c != labels[i] && size[size_t(c)] > 0) b = std::min(b, sum[size_t(c)] / double(size[size_t(c)]));
    total += (b - a) / std::max(a, b);
  }
  return total / double(n);
}

}  // namespace moescope
