// greedy_select.cpp — greedy layer-wise selection.
#include "analysis/greedy_select.h"

#include <algorithm>
#include <numeric>

#include "analysis/batching.h"
#include "analysis/domain_stats.h"
#include "engine/error.h"

namespace moescope {

ExpertSubset greedy_layerwise_subset(const Model& model, const std::vector<std::vector<int32_t>>& calib, int k,
                                     int64_t batch_tokens, std::vector<std::vector<double>>* scores_out) {
  const ModelConfig& c = model.config();
  if (calib.empty()) fail("greedy selection", "no calibration documents");
  ExpertSubset subset = ExpertSubset::all(c);
  for (int l = 0; l < c.num_layers; ++l) {
    const LayerSpec& spec = c.layers[size_t(l)];
    if (!spec.is_moe()) continue;
    const int Es = spec.num_standard();
    if (k > Es) fail_expected("greedy selection", "more experts than the layer has", "<= " + std::to_string(Es), std::to_string(k));
    std::vector<double> mean(size_t(Es), 0.0);
    double tokens = 0;
    ForwardOptions opt;
    opt.mask = &subset;  // layers before l pruned, l and later full
    opt.last_layer = l;
    opt.nll = false;
    for (const auto& range : pack_batches(calib, batch_tokens)) {
      const ForwardResult r = model.forward(batch_of(calib, range), opt);
      const LayerRecord& rec = r.layers.back();  // layer l
      for (size_t d = 0; d < r.docs.size(); ++d) {
        const double n = double(r.docs[d].size());
        for (int e = 0; e < Es; ++e) mean[size_t(e)] += double(rec.doc_mean_probs[d * size_t(Es) + size_t(e)]) * n;
        tokens += n;
      }
    }
    for (double& v : mean) v /= tokens;
    subset.kept_per_layer[size_t(l)] = top_k_ids(mean, k);
    if (scores_out) scores_out->push_back(mean);
  }
  return subset;
}

ExpertSubset easy_ep_subset(const Model& model, const std::vector<std::vector<int32_t>>& calib, int k,
                            int64_t batch_tokens, std::vector<std::vector<double>>* scores_out) {
  const ModelConfig& c = model.config();
  if (calib.empty()) fail("EASY-EP selection", "no calibration documents");
  std::vector<std::vector<double>> total;  // per MoE layer [E]
  ForwardOptions opt;
  opt.easy_ep = true;
  opt.nll = false;
  for (const auto& range : pack_batches(calib, batch_tokens)) {
    const ForwardResult r = model.forward(batch_of(calib, range), opt);
    if (total.empty()) total.resize(r.layers.size());
    for (size_t l = 0; l < r.layers.size(); ++l) {
      total[l].resize(r.layers[l].easy_ep_scores.size(), 0.0);
      for (size_t e = 0; e < total[l].size(); ++e) total[l][e] += r.layers[l].easy_ep_scores[e];
    }
  }
  ExpertSubset subset = ExpertSubset::all(c);
  size_t m = 0;
  for (int l = 0; l < c.num_layers; ++l) {
    const LayerSpec& spec = c.layers[size_t(l)];
    if (!spec.is_moe()) continue;
    const int Es = spec.num_standard();
    if (k > Es) fail_expected("EASY-EP selection", "more experts than the layer has", "<= " + std::to_string(Es), std::to_string(k));
    const std::vector<double> standard(total[m].begin(), total[m].begin() + Es);  // shared experts are always kept
    ++m;
    subset.kept_per_layer[size_t(l)] = top_k_ids(standard, k);
    if (scores_out) scores_out->push_back(standard);
  }
  return subset;
}

}  // namespace moescope
