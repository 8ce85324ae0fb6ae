// view_explore.cpp — the Explore view: the workspace's documents in 2-D (the first two principal
// components of their routing, the first step of EMO's clustering) coloured by domain or by the
// Corpus view's clusters; hover for a document's preview, click to read it routed in the Text
// view; search the documents by text; each cluster's documents with previews.
#include <imgui.h>

#include <algorithm>
#include <cmath>

#include "analysis/token_usage.h"
#include "analysis/workspace.h"
#include "app/gui/app.h"
#include "app/gui/colors.h"

namespace moescope::gui {

namespace {

// The first `chars` bytes of text, cut at a UTF-8 character start, newlines as spaces.
std::string preview_of(const std::string& text, size_t chars) {
  if (chars == 0 || text.size() <= chars) return text;
  size_t n = chars;
  while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;  // not inside a character
  return text.substr(0, n) + "...";
}

std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  return s;
}

}  // namespace

std::string App::document_text(const CorpusState& c, size_t doc, size_t chars) {
  if (document_texts_workspace_ != c.path) {
    document_texts_.clear();
    document_texts_workspace_ = c.path;
  }
  const int64_t id = c.trace.docs[doc].id;
  auto it = document_texts_.find(id);
  if (it == document_texts_.end()) {
    try {
      Workspace ws(c.path, false);
      it = document_texts_.emplace(id, ws.document_text(id)).first;
    } catch (const Error& e) {
      return std::string("(unreadable: ") + e.what() + ")";  // not cached: a busy database may answer later
    }
  }
  return preview_of(it->second, chars);
}

void App::open_document(const CorpusState& c, size_t doc) {
  set_text(document_text(c, doc));
  select_view(View::Text);
}

// A table of documents: domain, id and a one-line preview; a click opens one in the Text view.
void App::document_list(const CorpusState& c, const std::vector<size_t>& docs, const char* id) {
  if (!ImGui::BeginTable(id, 3, ImGuiTableFlags_RowBg | ImGuiTableFlags_ScrollY | ImGuiTableFlags_SizingStretchProp,
                         ImVec2(0, std::min(320.f, 24.f + 22.f * float(docs.size())))))
    return;
  ImGui::TableSetupColumn("domain", ImGuiTableColumnFlags_WidthFixed, 130);
  ImGui::TableSetupColumn("document", ImGuiTableColumnFlags_WidthFixed, 90);
  ImGui::TableSetupColumn("text (click to read it routed)");
  ImGui::TableHeadersRow();
  ImGuiListClipper clip;
  clip.Begin(int(docs.size()));
  while (clip.Step())
    for (int i = clip.DisplayStart; i < clip.DisplayEnd; ++i) {
      const TracedDocument& d = c.trace.docs[docs[size_t(i)]];
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(c.trace.domains[size_t(d.domain)].c_str());
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(d.ext_id.c_str());
      ImGui::TableNextColumn();
      ImGui::PushID(i);
      // The text is drawn, not used as the label: "##" in a document would cut a label short.
      if (ImGui::Selectable("##doc", false, ImGuiSelectableFlags_SpanAllColumns)) open_document(c, docs[size_t(i)]);
      ImGui::SameLine(0, 0);
      ImGui::TextUnformatted(one_line(document_text(c, docs[size_t(i)], 120)).c_str());
      ImGui::PopID();
    }
  ImGui::EndTable();
}

void App::view_explore() {
  const auto c = corpus();
  if (!c) {
    ImGui::TextDisabled("open a traced workspace in the Corpus tab first: the explorer maps its documents");
    return;
  }
  const TraceData& td = c->trace;
  if (explore_matches_workspace_ != c->path) {  // matches index the documents of the workspace searched
    explore_matches_.clear();
    explore_searched_.clear();
    explore_matches_workspace_ = c->path;
  }
  // The map: computed in the background the first time this workspace is explored.
  const auto shown = map_job_.result();
  if ((!shown || shown->workspace != c->path) && !map_job_.running()) {
    map_job_.start([c](JobControl& job) {
      job.report(0.3, "principal components of the documents' routing");
      auto m = std::make_shared<ExploreMap>();
      m->workspace = c->path;
      m->map = document_map(c->trace);
      return std::shared_ptr<const ExploreMap>(m);
    });
  }
  job_status("mapping", 0.3, "principal components of the documents' routing", map_job_.running(), map_job_.error(), nullptr);
  if (!shown || shown->workspace != c->path || shown->map.x.size() != td.docs.size()) return;
  const DocumentMap& map = shown->map;
  const auto clusters = clusters_job_.result();
  const bool have_clusters = clusters && clusters->labels.size() == td.docs.size();
  ImGui::RadioButton("colour by domain", &explore_colour_, 0);
  ImGui::SameLine();
  ImGui::BeginDisabled(!have_clusters);
  ImGui::RadioButton("by cluster", &explore_colour_, 1);
  ImGui::EndDisabled();
  if (!have_clusters) explore_colour_ = 0;
  ImGui::SameLine();
  ImGui::TextDisabled("%s; axes: the first two principal components of the documents' routing (%.0f%% of its variance)",
                      have_clusters ? "clusters from the Corpus view" : "clusters: run them in Corpus > document clusters",
                      100 * map.explained);
  const float side = std::min(ImGui::GetContentRegionAvail().x * 0.55f, ImGui::GetContentRegionAvail().y - 8);
  const int n = int(td.docs.size());
  // Scatter: the map scaled to the square with a margin.
  float x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (int i = 0; i < n; ++i) {
    x0 = std::min(x0, map.x[size_t(i)]), x1 = std::max(x1, map.x[size_t(i)]);
    y0 = std::min(y0, map.y[size_t(i)]), y1 = std::max(y1, map.y[size_t(i)]);
  }
  if (!(x1 > x0)) x1 = x0 + 1;
  if (!(y1 > y0)) y1 = y0 + 1;
  ImGui::BeginChild("map", ImVec2(side, side), true);
  const ImVec2 o = ImGui::GetCursorScreenPos(), size = ImGui::GetContentRegionAvail();
  const float pad = 12;
  auto px = [&](int i) {
    return ImVec2(o.x + pad + (map.x[size_t(i)] - x0) / (x1 - x0) * (size.x - 2 * pad),
                  o.y + pad + (y1 - map.y[size_t(i)]) / (y1 - y0) * (size.y - 2 * pad));
  };
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const std::vector<size_t>& matched = explore_matches_;
  std::vector<char> is_match(size_t(n), 0);
  for (size_t m : matched)
    if (m < is_match.size()) is_match[m] = 1;
  const float r = n > 5000 ? 1.5f : 3.f;
  for (int i = 0; i < n; ++i) {
    const int cls = explore_colour_ == 1 ? clusters->labels[size_t(i)] : td.docs[size_t(i)].domain;
    const ImU32 col = explore_colour_ == 1 ? group_color(cls, 0.85f) : category_color(cls, 0.85f);
    dl->AddCircleFilled(px(i), r, col);
    if (is_match[size_t(i)]) dl->AddCircle(px(i), r + 3, IM_COL32(255, 255, 255, 230), 0, 1.5f);
  }
  ImGui::InvisibleButton("##map_area", size);
  if (ImGui::IsItemHovered()) {
    const ImVec2 m = ImGui::GetIO().MousePos;
    int best = -1;
    float best_d = 8;
    for (int i = 0; i < n; ++i) {
      const ImVec2 p = px(i);
      const float d = std::hypot(p.x - m.x, p.y - m.y);
      if (d < best_d) best_d = d, best = i;
    }
    if (best >= 0) {
      const TracedDocument& d = td.docs[size_t(best)];
      ImGui::SetTooltip("%s (%s%s%s), %zu tokens%s\n%s\nclick to read it routed in the Text view", d.ext_id.c_str(),
                        td.domains[size_t(d.domain)].c_str(), d.lang.empty() ? "" : ", ", d.lang.c_str(), d.tokens(),
                        have_clusters ? (", cluster " + std::to_string(clusters->labels[size_t(best)])).c_str() : "",
                        document_text(*c, size_t(best), 280).c_str());
      if (ImGui::IsMouseClicked(ImGuiMouseButton_Left)) open_document(*c, size_t(best));
    }
  }
  ImGui::EndChild();
  ImGui::SameLine();
  ImGui::BeginChild("explore_side", ImVec2(0, side), true);
  // Legend: the domains (or clusters) by colour.
  if (explore_colour_ == 0) {
    for (size_t d = 0; d < td.domains.size(); ++d) {
      if (d > 0) ImGui::SameLine();
      const float w = ImGui::CalcTextSize(td.domains[d].c_str()).x + 8;
      if (d > 0 && ImGui::GetContentRegionAvail().x < w) ImGui::NewLine();
      ImGui::ColorButton(("##dom" + std::to_string(d)).c_str(), ImGui::ColorConvertU32ToFloat4(category_color(int(d))),
                         ImGuiColorEditFlags_NoTooltip, ImVec2(10, 10));
      ImGui::SameLine(0, 3);
      ImGui::TextUnformatted(td.domains[d].c_str());
    }
  }
  ImGui::Separator();
  ImGui::RadioButton("documents", &explore_search_tokens_, 0);
  ImGui::SameLine();
  ImGui::RadioButton("tokens", &explore_search_tokens_, 1);
  ImGui::SameLine();
  ImGui::SetNextItemWidth(-90);
  const bool enter = ImGui::InputTextWithHint("##search", explore_search_tokens_ ? "tokens whose text holds this" : "search the documents' text",
                                              explore_search_, sizeof explore_search_, ImGuiInputTextFlags_EnterReturnsTrue);
  ImGui::SameLine();
  if (ImGui::Button("Search") || enter) {
    if (explore_search_tokens_) search_tokens(*c, explore_search_);
    else if (explore_searched_ != explore_search_) search_documents(*c, explore_search_);
  }
  if (explore_search_tokens_ && !explore_tokens_.empty()) {
    const size_t l = std::min(size_t(corpus_layer_), td.layers.size() - 1);
    ImGui::TextDisabled("layer %d (the Corpus view's); click a token to ring its documents", td.layers[l].layer);
    if (ImGui::BeginTable("##tokens", 4, ImGuiTableFlags_RowBg | ImGuiTableFlags_ScrollY | ImGuiTableFlags_SizingStretchProp,
                          ImVec2(0, std::min(240.f, 24.f + 22.f * float(explore_tokens_.size()))))) {
      for (const char* h : {"token", "occurrences", "documents", "experts it goes to (share)"}) ImGui::TableSetupColumn(h);
      ImGui::TableHeadersRow();
      for (size_t i = 0; i < explore_tokens_.size(); ++i) {
        const TokenUsage& u = explore_tokens_[i];
        ImGui::TableNextRow();
        ImGui::TableNextColumn();
        ImGui::PushID(int(i));
        if (ImGui::Selectable("##tok", false, ImGuiSelectableFlags_SpanAllColumns)) {
          explore_matches_ = u.document_indices;
          explore_searched_ = "token '" + c->token_text(u.id) + "'";
        }
        ImGui::SameLine(0, 0);
        ImGui::Text("'%s' #%d", c->token_text(u.id).c_str(), u.id);
        ImGui::PopID();
        ImGui::TableNextColumn();
        ImGui::Text("%zu", u.occurrences);
        ImGui::TableNextColumn();
        ImGui::Text("%zu", u.documents);
        ImGui::TableNextColumn();
        std::string ex;
        for (const auto& [e, share] : u.experts) ex += (ex.empty() ? "" : ", ") + std::to_string(e) + " (" + std::to_string(int(100 * share + 0.5)) + "%)";
        ImGui::TextUnformatted(ex.c_str());
      }
      ImGui::EndTable();
    }
  }
  if (!explore_searched_.empty()) {
    ImGui::Text("%zu documents contain \"%s\"%s (ringed on the map)", matched.size(), explore_searched_.c_str(),
                matched.size() >= 500 ? ", the first 500" : "");
    document_list(*c, matched, "##matches");
  }
  if (have_clusters) {
    ImGui::Separator();
    explore_cluster_ = std::clamp(explore_cluster_, 0, clusters->k - 1);
    ImGui::SetNextItemWidth(120);
    ImGui::InputInt("cluster", &explore_cluster_);
    explore_cluster_ = std::clamp(explore_cluster_, 0, clusters->k - 1);
    std::vector<size_t> members;
    for (int i = 0; i < n; ++i)
      if (clusters->labels[size_t(i)] == explore_cluster_) members.push_back(size_t(i));
    ImGui::SameLine();
    ImGui::TextDisabled("%zu documents", members.size());
    document_list(*c, members, "##cluster_docs");
  }
  ImGui::EndChild();
}

// Tokens of the vocabulary whose text holds `needle` (at most 50), and where they go in the
// Corpus view's layer.
void App::search_tokens(const CorpusState& c, const std::string& needle) {
  explore_tokens_.clear();
  if (needle.empty() || !c.tokenizer) return;
  std::vector<int32_t> ids;
  for (size_t id = 0; id < c.tokenizer->vocab_size() && ids.size() < 50; ++id)
    if (c.tokenizer->decode({int32_t(id)}).find(needle) != std::string::npos) ids.push_back(int32_t(id));
  const size_t l = std::min(size_t(std::max(0, corpus_layer_)), c.trace.layers.size() - 1);
  explore_tokens_ = token_usage(c.trace, l, ids);
}

void App::search_documents(const CorpusState& c, const std::string& needle) {
  explore_matches_workspace_ = c.path;
  explore_searched_ = needle;
  explore_matches_.clear();
  if (needle.empty()) return;
  try {
    Workspace ws(c.path, false);
    std::map<int64_t, size_t> index;
    for (size_t i = 0; i < c.trace.docs.size(); ++i) index[c.trace.docs[i].id] = i;
    for (int64_t id : ws.find_documents(needle, 500))
      if (auto it = index.find(id); it != index.end()) explore_matches_.push_back(it->second);
  } catch (const Error& e) {
    explore_searched_ = needle + " (" + e.what() + ")";
  }
}

}  // namespace moescope::gui
