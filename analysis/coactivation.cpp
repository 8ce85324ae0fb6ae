// coactivation.cpp — expert co-activation counts and PMI.
#include "analysis/coactivation.h"

#include <cmath>
#include <limits>

#include "analysis/domain_stats.h"

namespace moescope {

namespace {

Coactivation make(size_t Es) {
  Coactivation c;
  c.count.assign(Es, 0.0);
  c.pair.assign(Es, std::vector<double>(Es, 0.0));
  return c;
}

void finish(Coactivation& c) {
  const size_t Es = c.count.size();
  c.pmi.assign(Es, std::vector<double>(Es, std::numeric_limits<double>::quiet_NaN()));
  for (size_t i = 0; i < Es; ++i)
    for (size_t j = 0; j < Es; ++j)
      if (c.pair[i][j] > 0) c.pmi[i][j] = std::log(c.pair[i][j] * double(c.units) / (c.count[i] * c.count[j]));
}

}  // namespace

Coactivation token_coactivation(const TraceData& td, size_t l) {
  const size_t Es = size_t(td.layers[l].num_standard), K = size_t(td.layers[l].k);
  Coactivation c = make(Es);
  std::vector<size_t> sel;
  for (const TracedDocument& d : td.docs)
    for (size_t t = 0; t < d.tokens(); ++t) {
      const uint16_t* ids = td.topk(d, l, t);
      sel.clear();
      for (size_t j = 0; j < K; ++j)
        if (ids[j] < Es) sel.push_back(ids[j]);  // shared experts are not routed choices
      for (size_t a : sel) {
        c.count[a] += 1;
        for (size_t b : sel) c.pair[a][b] += 1;
      }
      ++c.units;
    }
  finish(c);
  return c;
}

Coactivation document_coactivation(const TraceData& td, size_t l, double pool_mass) {
  const size_t Es = size_t(td.layers[l].num_standard);
  Coactivation c = make(Es);
  for (const TracedDocument& d : td.docs) {
    const float* mp = td.mean_probs(d, l);
    const std::vector<int> pool = mass_pool(std::vector<double>(mp, mp + Es), pool_mass);
    for (int a : pool) {
      c.count[size_t(a)] += 1;
      for (int b : pool) c.pair[size_t(a)][size_t(b)] += 1;
    }
    ++c.units;
  }
  finish(c);
  return c;
}

}  // namespace moescope
