// expert_usage.cpp — per-expert shares of routed selections (expert_usage.h).
#include "analysis/expert_usage.h"

#include <algorithm>

namespace moescope {

namespace {
void normalise(std::vector<double>& v) {
  double sum = 0;
  for (double x : v) sum += x;
  if (sum > 0)
    for (double& x : v) x /= sum;
}
}  // namespace

std::vector<ExpertUsageLayer> expert_usage(const TraceData& td) {
  std::vector<ExpertUsageLayer> out;
  for (size_t l = 0; l < td.layers.size(); ++l) {
    ExpertUsageLayer u;
    u.layer = td.layers[l].layer;
    u.num_standard = td.layers[l].num_standard;
    const size_t Es = size_t(u.num_standard);
    u.share.assign(Es, 0);
    u.share_by_domain.assign(td.domains.size(), std::vector<double>(Es, 0));
    for (const TracedDocument& d : td.docs) {
      const float* f = td.topk_freq(d, l);  // selections per token of the document
      for (size_t e = 0; e < Es; ++e) {
        const double selections = double(f[e]) * double(d.tokens());
        u.share[e] += selections;
        u.share_by_domain[size_t(d.domain)][e] += selections;
      }
    }
    for (size_t e = 0; e < Es; ++e)
      if (u.share[e] == 0) u.never_used.push_back(int(e));
    normalise(u.share);
    for (auto& s : u.share_by_domain) normalise(s);
    u.min_vs_uniform = Es ? *std::min_element(u.share.begin(), u.share.end()) * double(Es) : 0;
    u.max_vs_uniform = Es ? *std::max_element(u.share.begin(), u.share.end()) * double(Es) : 0;
    for (size_t e = 0; e < Es; ++e)
      if (u.share[e] * double(Es) < kRarelyUsedShare) u.rarely_used.push_back(int(e));
    out.push_back(std::move(u));
  }
  return out;
}

}  // namespace moescope
