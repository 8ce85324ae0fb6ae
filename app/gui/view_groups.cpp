// view_groups.cpp — the Groups view: a layer's experts as a graph laid out by force over the same
// affinity the emergent expert groups are clustered by (cosine of the experts' document usage),
// colour = group, edges drawn above an affinity threshold; each group's domains and enriched
// tokens, and for a clicked expert the documents and tokens that use it most.
#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <set>

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
  ImGui::SliderFloat("affinity threshold", &affinity_threshold_, 0.f, 1.f, "%.2f");
  ImGui::SameLine();
  ImGui::TextDisabled("affinity: cosine of two experts' document usage, what the groups are clustered by");
  const size_t l = size_t(corpus_layer_);
  const auto a = analysis_for(l);
  const auto gp = groups_job_.progress();
  job_status("analysing", gp.first, gp.second, groups_job_.running(), groups_job_.error(), nullptr);
  if (!a) return;
  const int Es = td.layers[l].num_standard;
  if (graph_layer_ != l || graph_.nodes() != Es) {
    // The layout links each expert to its 3 most alike experts by the groups' own affinity (a
    // nearest-neighbour graph: busy experts are alike in absolute terms, so a global cut would
    // tie them all together), so a group's experts sit together; the threshold filters drawn edges.
    const auto& aff = a->groups.affinity;
    std::set<std::pair<int, int>> linked;
    for (int i = 0; i < Es; ++i) {
      std::vector<int> near;
      for (int j = 0; j < Es; ++j)
        if (j != i && aff[size_t(i)][size_t(j)] > 0) near.push_back(j);
      const size_t n = std::min<size_t>(3, near.size());
      std::partial_sort(near.begin(), near.begin() + ptrdiff_t(n), near.end(),
                        [&](int x, int y) { return aff[size_t(i)][size_t(x)] > aff[size_t(i)][size_t(y)]; });
      for (size_t m = 0; m < n; ++m) linked.insert({std::min(i, near[m]), std::max(i, near[m])});
    }
    std::vector<GraphEdge> edges;
    for (const auto& [i, j] : linked) edges.push_back({i, j, float(aff[size_t(i)][size_t(j)])});
    graph_.reset(Es, std::move(edges));
    graph_layer_ = l;
    if (selected_expert_ >= Es) selected_expert_ = -1;
  }
  graph_.step(4);
  ImGui::Text("%zu groups (cosine silhouette %.3f), modularity %.3f (top-group share %.3f vs %.3f shuffled); %zu edges",
              a->groups.groups.size(), a->groups.silhouette, a->groups.modularity, a->groups.top_group_share,
              a->groups.shuffled_top_group_share, graph_.edges_above(affinity_threshold_));
  const float side = std::min(ImGui::GetContentRegionAvail().x * 0.5f, ImGui::GetContentRegionAvail().y - 8);
  std::vector<ImU32> colors;
  std::vector<std::string> labels;
  for (int e = 0; e < Es; ++e) {
    colors.push_back(group_color(a->group_of[size_t(e)]));
    labels.push_back(std::to_string(e));
  }
  int hovered = -1;
  const int clicked = graph_.draw("##graph", ImVec2(side, side), colors, labels, affinity_threshold_, selected_expert_, &hovered);
  if (clicked >= 0) selected_expert_ = clicked == selected_expert_ ? -1 : clicked;
  if (hovered >= 0) {
    const int g = a->group_of[size_t(hovered)];
    ImGui::SetTooltip("expert %d, group %s, selected by %.0f tokens\nclick for its documents and tokens", hovered,
                      g >= 0 ? (std::to_string(g) + " (" + group_label(a->groups.groups[size_t(g)], td.domains) + ")").c_str()
                             : "none (never selected)",
                      a->coactivation.count[size_t(hovered)]);
  }
  ImGui::SameLine();
  ImGui::BeginChild("group_list", ImVec2(0, 0), true);
  if (selected_expert_ >= 0) {
    expert_details(*c, *a, selected_expert_);
    ImGui::Separator();
  }
  for (size_t g = 0; g < a->groups.groups.size(); ++g) {
    const ExpertGroup& grp = a->groups.groups[g];
    ImGui::ColorButton(prefixed("##g", long(g)).c_str(), ImGui::ColorConvertU32ToFloat4(group_color(int(g))),
                       ImGuiColorEditFlags_NoTooltip, ImVec2(14, 14));
    ImGui::SameLine();
    std::string experts;
    for (int e : grp.experts) {
      if (!experts.empty()) experts += ' ';
      experts += std::to_string(e);
    }
    std::string what = group_label(grp, td.domains);
    if (grp.share >= kMinorGroupShare && grp.share < kGeneralGroupShare) {
      char buf[48];
      std::snprintf(buf, sizeof buf, ", %.1f%% of selections", 100 * grp.share);
      what += buf;
    }
    ImGui::Text("group %zu, %s; experts %s", g, what.c_str(), experts.c_str());
    // Too little routing to say what a group is for: no domain or token is named after it.
    if (grp.share < kMinorGroupShare) continue;
    std::string doms;
    for (const auto& d : grp.domains) {
      char buf[128];
      std::snprintf(buf, sizeof buf, "%s%s x%.1f", doms.empty() ? "" : ", ", td.domains[size_t(d.index)].c_str(), d.enrichment);
      doms += buf;
    }
    ImGui::TextWrapped("  domains enriched: %s", doms.empty() ? "(none)" : doms.c_str());
    // Enriched tokens (used by this group more than by the layer as a whole), as `analyze` lists
    // them: what the group is for, unlike the most frequent tokens ("\n", ",", "the") every group sees.
    std::string toks;
    for (size_t i = 0; i < std::min<size_t>(8, grp.tokens.size()); ++i) {
      char buf[32];
      std::snprintf(buf, sizeof buf, " x%.1f", grp.tokens[i].enrichment);
      toks += (i ? " | " : "") + c->token_text(grp.tokens[i].index) + buf;
    }
    ImGui::TextWrapped("  enriched tokens: %s", toks.empty() ? "(none seen 5 times)" : toks.c_str());
  }
  if (!a->groups.unused.empty()) ImGui::TextDisabled("%zu experts never selected in this layer", a->groups.unused.size());
  ImGui::EndChild();
}

void App::expert_details(const CorpusState& c, const LayerAnalysis& a, int e) {
  const ExpertUse& u = a.use[size_t(e)];
  ImGui::Text("expert %d (group %d)", e, a.group_of[size_t(e)]);
  if (ImGui::BeginTable("expert_docs", 3, ImGuiTableFlags_RowBg | ImGuiTableFlags_SizingStretchProp)) {
    ImGui::TableSetupColumn("domain", ImGuiTableColumnFlags_WidthFixed, 120);
    ImGui::TableSetupColumn("tokens selecting", ImGuiTableColumnFlags_WidthFixed, 110);
    ImGui::TableSetupColumn("document (click to read it routed)");
    ImGui::TableHeadersRow();
    for (size_t i = 0; i < u.docs.size(); ++i) {
      const auto& d = u.docs[i];
      const TracedDocument& doc = c.trace.docs[d.doc];
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(c.trace.domains[size_t(doc.domain)].c_str());
      ImGui::TableNextColumn();
      ImGui::Text("%.0f%%", 100 * d.share);
      ImGui::TableNextColumn();
      std::string preview = document_text(c, d.doc, 100);
      for (char& ch : preview)
        if (ch == '\n' || ch == '\t' || ch == '\r') ch = ' ';
      ImGui::PushID(int(i));
      if (ImGui::Selectable("##doc", false, ImGuiSelectableFlags_SpanAllColumns)) open_document(c, d.doc);
      if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s: %s", doc.ext_id.c_str(), document_text(c, d.doc, 400).c_str());
      ImGui::SameLine(0, 0);
      ImGui::TextUnformatted(preview.c_str());
      ImGui::PopID();
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
  // The group's enriched tokens: what tells this expert's group apart, beside its own busiest tokens.
  const int g = a.group_of[size_t(e)];
  if (g >= 0 && a.groups.groups[size_t(g)].share >= kMinorGroupShare) {
    std::string enriched;
    for (const auto& t : a.groups.groups[size_t(g)].tokens) enriched += (enriched.empty() ? "" : " | ") + c.token_text(t.index);
    ImGui::TextWrapped("its group's enriched tokens: %s", enriched.empty() ? "(none)" : enriched.c_str());
  }
}

}  // namespace moescope::gui
