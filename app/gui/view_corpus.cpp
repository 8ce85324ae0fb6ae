// view_corpus.cpp — the Corpus view: open a traced workspace; per layer the domain x expert
// heatmap (mean routing probability), each domain's pool size, and domain-domain similarity.
#include <imgui.h>

#include <algorithm>
#include <cstdio>

#include "app/gui/app.h"
#include "app/gui/widget_heatmap.h"

namespace moescope::gui {

void App::view_corpus() {
  ImGui::Begin("Corpus");
  ImGui::InputText("workspace", ws_buf_, sizeof ws_buf_);
  ImGui::SameLine();
  if (ImGui::Button("Open")) corpus_.open(ws_buf_);
  if (corpus_.loading()) ImGui::TextDisabled("loading...");
  const std::string err = corpus_.error();
  if (!err.empty()) ImGui::TextColored(ImVec4(1, 0.4f, 0.4f, 1), "%s", err.c_str());
  const auto v = corpus_.view();
  if (!v) {
    ImGui::TextDisabled("make one with: moescope-cli trace --model DIR --corpus FILE --workspace WS.moescope");
    ImGui::End();
    return;
  }
  const TraceData& td = v->trace;
  ImGui::Text("%zu documents, %zu tokens, %zu domains", td.docs.size(), v->tokens, td.domains.size());
  const int layers = int(td.layers.size());
  corpus_layer_ = std::clamp(corpus_layer_, 0, layers - 1);
  char format[48];
  std::snprintf(format, sizeof format, "%%d (layer %d)", td.layers[size_t(corpus_layer_)].layer);
  ImGui::SetNextItemWidth(260);
  ImGui::SliderInt("MoE layer##corpus", &corpus_layer_, 0, layers - 1, format);
  const size_t l = size_t(corpus_layer_);
  if (ImGui::BeginTabBar("corpus_tabs")) {
    if (ImGui::BeginTabItem("domain x expert")) {
      HeatmapData d;
      d.rows = int(v->stats.size());
      d.cols = td.layers[l].num_standard;
      d.value_name = "mean probability";
      for (const auto& s : v->stats) {
        char label[96];
        std::snprintf(label, sizeof label, "%s (%zu)", s.domain.c_str(), s.layers[l].pool.size());
        d.row_labels.push_back(label);
        for (double x : s.layers[l].mean_prob) d.values.push_back(float(x));
      }
      ImGui::TextDisabled("rows: domain (experts in its 90%% pool)");
      draw_heatmap("##domain_heat", d, 16.f);
      ImGui::EndTabItem();
    }
    if (ImGui::BeginTabItem("domain similarity")) {
      HeatmapData d;
      const auto sim = domain_similarity(v->stats, l);
      d.rows = d.cols = int(sim.size());
      d.value_name = "cosine";
      for (const auto& s : v->stats) d.row_labels.push_back(s.domain);
      for (const auto& row : sim)
        for (double x : row) d.values.push_back(float(x));
      draw_heatmap("##sim_heat", d, 16.f);
      ImGui::EndTabItem();
    }
    ImGui::EndTabBar();
  }
  ImGui::End();
}

}  // namespace moescope::gui
