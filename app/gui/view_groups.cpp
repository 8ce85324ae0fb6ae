// view_groups.cpp — the Groups view: a layer's experts as a graph (edges: token-level PMI above
// a threshold, layout by force, colour = emergent expert group), each group's domains and tokens,
// and for a clicked expert the documents and tokens that use it most.
#include <imgui.h>

#include <algorithm>
#include <cmath>

#include "app/gui/labels.h"
#include "app/gui/app.h"
#include "app/gui/widget_layer_slider.h"
#include "app/gui/colors.h"

namespace moescope::gui {

void App::view_groups() {
  const auto c = corpus();
  if (!c) {
    ImGui::TextDisabled("open a traced workspace in the Corpus tab first");
    return;
  }
  const TraceData& td = c->trace;
  layer_slider("MoE layer##groups", &corpus_layer_, td.layers);
  ImGui::SameLine();
  ImGui::SetNextItemWidth(200);
  ImGui::SliderFloat("PMI threshold", &pmi_threshold_, 0.f, 3.f, "%.2f");
  const size_t l = size_t(corpus_layer_);
  const auto a = analysis_for(l);
  const auto gp = groups_job_.progress();
  job_status("analysing", gp.first, gp.second, groups_job_.running(), groups_job_.error(), nullptr);
  if (!a) return;
  const int Es = td.layers[l].num_standard;
  if (graph_layer_ != l || graph_.nodes() != Es) {
    // The layout uses every pair selected together for one token more often than chance (PMI > 0,
    // seen at least 5 times); the threshold only filters which edges are drawn.
    std::vector<GraphEdge> edges;
    for (int i = 0; i < Es; ++i)
      for (int j = i + 1; j < Es; ++j) {
        const double pmi = a->coactivation.pmi[size_t(i)][size_t(j)];
        if (std::isfinite(pmi) && pmi > 0 && a->coactivation.pair[size_t(i)][size_t(j)] >= 5) edges.push_back({i, j, float(pmi)});
      }
    graph_.reset(Es, std::move(edges));
    graph_layer_ = l;
    if (selected_expert_ >= Es) selected_expert_ = -1;
  }
  graph_.step(4);
  ImGui::Text("%zu groups (cosine silhouette %.3f), modularity %.3f (top-group share %.3f vs %.3f shuffled); %zu edges",
              a->groups.groups.size(), a->groups.silhouette, a->groups.modularity, a->groups.top_group_share,
              a->groups.shuffled_top_group_share, graph_.edges_above(pmi_threshold_));
  const float side = std::min(ImGui::GetContentRegionAvail().x * 0.5f, ImGui::GetContentRegionAvail().y - 8);
  std::vector<ImU32> colors;
  std::vector<std::string> labels;
  for (int e = 0; e < Es; ++e) {
    colors.push_back(category_color(a->group_of[size_t(e)]));
    labels.push_back(std::to_string(e));
  }
  int hovered = -1;
  const int clicked = graph_.draw("##graph", ImVec2(side, side), colors, labels, pmi_threshold_, selected_expert_, &hovered);
  if (clicked >= 0) selected_expert_ = clicked == selected_expert_ ? -1 : clicked;
  if (hovered >= 0) {
    const int g = a->group_of[size_t(hovered)];
    ImGui::SetTooltip("expert %d, group %s, selected by %.0f tokens\nclick for its documents and tokens", hovered,
                      g >= 0 ? std::to_string(g).c_str() : "none (never selected)", a->coactivation.count[size_t(hovered)]);
  }
  ImGui::SameLine();
  ImGui::BeginChild("group_list", ImVec2(0, 0), true);
  if (selected_expert_ >= 0) {
    expert_details(*c, *a, selected_expert_);
    ImGui::Separator();
  }
  for (size_t g = 0; g < a->groups.groups.size(); ++g) {
    const ExpertGroup& grp = a->groups.groups[g];
    ImGui::ColorButton(prefixed("##g", long(g)).c_str(), ImGui::ColorConvertU32ToFloat4(category_color(int(g))),
                       ImGuiColorEditFlags_NoTooltip, ImVec2(14, 14));
    ImGui::SameLine();
    std::string experts;
    for (int e : grp.experts) {
      if (!experts.empty()) experts += ' ';
      experts += std::to_string(e);
    }
    ImGui::Text("group %zu: %.1f%% of selections; experts %s", g, 100 * grp.share, experts.c_str());
    std::string doms;
    for (const auto& d : grp.domains) {
      char buf[128];
      std::snprintf(buf, sizeof buf, "%s%s x%.1f", doms.empty() ? "" : ", ", td.domains[size_t(d.index)].c_str(), d.enrichment);
      doms += buf;
    }
    ImGui::TextWrapped("  domains: %s", doms.empty() ? "(none enriched)" : doms.c_str());
    std::string toks;
    for (size_t i = 0; i < std::min<size_t>(8, grp.frequent_tokens.size()); ++i)
      toks += (i ? " | " : "") + c->token_text(grp.frequent_tokens[i].index);
    ImGui::TextWrapped("  frequent tokens: %s", toks.c_str());
  }
  if (!a->groups.unused.empty()) ImGui::TextDisabled("%zu experts never selected in this layer", a->groups.unused.size());
  ImGui::EndChild();
}

void App::expert_details(const CorpusState& c, const LayerAnalysis& a, int e) {
  const ExpertUse& u = a.use[size_t(e)];
  ImGui::Text("expert %d (group %d)", e, a.group_of[size_t(e)]);
  if (ImGui::BeginTable("expert_docs", 3, ImGuiTableFlags_RowBg | ImGuiTableFlags_SizingStretchProp)) {
    ImGui::TableSetupColumn("document");
    ImGui::TableSetupColumn("domain");
    ImGui::TableSetupColumn("tokens selecting");
    ImGui::TableHeadersRow();
    for (const auto& d : u.docs) {
      const TracedDocument& doc = c.trace.docs[d.doc];
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(doc.ext_id.c_str());
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(c.trace.domains[size_t(doc.domain)].c_str());
      ImGui::TableNextColumn();
      ImGui::Text("%.0f%%", 100 * d.share);
    }
    ImGui::EndTable();
  }
  std::string toks;
  for (const auto& t : u.tokens) {
    char buf[48];
    std::snprintf(buf, sizeof buf, " (%.0f, %.0f%%)", t.count, 100 * t.share);
    toks += (toks.empty() ? "" : " | ") + c.token_text(t.id) + buf;
  }
  ImGui::TextWrapped("tokens (selections, share of the token's occurrences): %s", toks.c_str());
}

}  // namespace moescope::gui
