// view_heatmap.cpp — layer x expert heatmap of the routed text (mean routing probability over its
// tokens, standard experts) and of the pinned token, plus the text's expert pool per layer.
#include <imgui.h>

#include <algorithm>
#include <cstdio>

#include "analysis/domain_stats.h"
#include "app/gui/app.h"
#include "app/gui/widget_heatmap.h"

namespace moescope::gui {

void App::view_heatmap() {
  ImGui::Begin("Routing");
  const auto routed = router_ ? router_->latest() : nullptr;
  if (!routed || routed->result.layers.empty()) {
    ImGui::TextDisabled("type some text");
    ImGui::End();
    return;
  }
  const ForwardResult& r = routed->result;
  HeatmapData d;
  d.rows = int(r.layers.size());
  d.cols = 0;
  for (const auto& l : r.layers) d.cols = std::max(d.cols, l.num_standard);
  d.values.assign(size_t(d.rows) * size_t(d.cols), NAN);
  d.value_name = "mean probability";
  for (int i = 0; i < d.rows; ++i) {
    const LayerRecord& l = r.layers[size_t(i)];
    char label[16];
    std::snprintf(label, sizeof label, "L%d", l.layer);
    d.row_labels.push_back(label);
    for (int e = 0; e < l.num_standard; ++e) d.values[size_t(i) * size_t(d.cols) + size_t(e)] = l.doc_mean_probs[size_t(e)];
  }
  ImGui::TextUnformatted("whole text: mean routing probability");
  draw_heatmap("##text_heat", d);
  // The text's pool: experts carrying 90% of its routing mass, per layer.
  ImGui::Separator();
  ImGui::TextUnformatted("expert pool (90% of the text's routing mass)");
  for (const LayerRecord& l : r.layers) {
    const std::vector<double> mean(l.doc_mean_probs.begin(), l.doc_mean_probs.begin() + l.num_standard);
    ImGui::Text("L%d: %zu of %d experts", l.layer, mass_pool(mean, 0.9).size(), l.num_standard);
  }
  if (pinned_ >= 0 && size_t(pinned_) < routed->enc.ids.size()) {
    ImGui::Separator();
    ImGui::Text("pinned token %d: routing weights", pinned_);
    HeatmapData p = d;
    std::fill(p.values.begin(), p.values.end(), 0.f);
    p.value_name = "weight";
    for (int i = 0; i < p.rows; ++i) {
      const LayerRecord& l = r.layers[size_t(i)];
      for (int j = 0; j < l.k; ++j) {
        const int e = l.topk_ids[size_t(pinned_) * size_t(l.k) + size_t(j)];
        if (e < l.num_standard) p.values[size_t(i) * size_t(p.cols) + size_t(e)] = l.topk_weights[size_t(pinned_) * size_t(l.k) + size_t(j)];
      }
    }
    draw_heatmap("##pin_heat", p);
  }
  ImGui::End();
}

}  // namespace moescope::gui
