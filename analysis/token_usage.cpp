// token_usage.cpp — token occurrences and their experts in a layer (token_usage.h).
#include "analysis/token_usage.h"

#include <algorithm>
#include <map>

namespace moescope {

std::vector<TokenUsage> token_usage(const TraceData& td, size_t l, const std::vector<int32_t>& ids, int top_experts) {
  std::map<int32_t, size_t> slot;
  std::vector<TokenUsage> out;
  for (int32_t id : ids)
    if (!slot.count(id)) {
      slot[id] = out.size();
      out.push_back({id, 0, 0, {}, {}});
    }
  const int Es = td.layers[l].num_standard, K = td.layers[l].k;
  std::vector<std::vector<double>> selections(out.size(), std::vector<double>(size_t(Es), 0.0));
  for (size_t d = 0; d < td.docs.size(); ++d) {
    const TracedDocument& doc = td.docs[d];
    std::vector<char> seen(out.size(), 0);
    for (size_t t = 0; t < doc.tokens(); ++t) {
      const auto it = slot.find(doc.ids[t]);
      if (it == slot.end()) continue;
      TokenUsage& u = out[it->second];
      ++u.occurrences;
      if (!seen[it->second]) {
        seen[it->second] = 1;
        ++u.documents;
        u.document_indices.push_back(d);
      }
      const uint16_t* picks = td.topk(doc, l, t);
      for (int j = 0; j < K; ++j)
        if (picks[j] < Es) selections[it->second][picks[j]] += 1;
    }
  }
  for (size_t i = 0; i < out.size(); ++i) {
    double total = 0;
    for (double s : selections[i]) total += s;
    std::vector<int> order(static_cast<size_t>(Es));
    for (int e = 0; e < Es; ++e) order[size_t(e)] = e;
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return selections[i][size_t(a)] > selections[i][size_t(b)]; });
    for (int j = 0; j < std::min(top_experts, Es) && total > 0; ++j)
      if (selections[i][size_t(order[size_t(j)])] > 0) out[i].experts.push_back({order[size_t(j)], selections[i][size_t(order[size_t(j)])] / total});
  }
  out.erase(std::remove_if(out.begin(), out.end(), [](const TokenUsage& u) { return u.occurrences == 0; }), out.end());
  std::stable_sort(out.begin(), out.end(), [](const TokenUsage& a, const TokenUsage& b) { return a.occurrences > b.occurrences; });
  return out;
}

}  // namespace moescope
