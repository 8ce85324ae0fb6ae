// view_text.cpp — the Text view: type or paste text, or open a UTF-8 file; it is routed as you
// type (debounced, in the background). Tokens are drawn over the text, coloured by the expert
// group each token leans on in the selected layer (groups of the open corpus, when it was traced
// with this model) or by its heaviest expert; hover a token for its experts in every layer, click
// to pin it. On the right: layer x expert heatmaps of the whole text and of the pinned token, and
// the text's expert pool.
#include <imgui.h>
#include <imgui_stdlib.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "analysis/domain_stats.h"
#include "app/gui/labels.h"
#include "app/gui/app.h"
#include "app/gui/widget_layer_slider.h"
#include "app/gui/colors.h"
#include "engine/error.h"
#include "engine/json_file.h"
#include "app/gui/widget_heatmap.h"

namespace moescope::gui {

void App::set_text(const std::string& text) {
  text_ = text;
  text_file_error_.clear();  // a new text replaces the message of a file that failed to open
  pinned_ = -1;
  if (router_) router_->submit(text_);
}

std::string App::load_text_file(const std::string& path) {
  try {
    std::string text = read_utf8_text_file(path, "text file");
    const std::filesystem::path folder = std::filesystem::path(path).parent_path();
    text_file_dir_ = (folder.empty() ? std::filesystem::path(".") : folder).string();
    set_text(text);
  } catch (const Error& e) {
    text_file_error_ = e.what();
  }
  return text_file_error_;
}

void App::token_tooltip(const RoutedText& r, size_t t) {
  ImGui::BeginTooltip();
  const auto& off = r.enc.offsets[t];
  ImGui::Text("token %zu: '%s' (id %d)", t, visible_token(r.text.substr(off.first, off.second - off.first)).c_str(), r.enc.ids[t]);
  if (t < r.result.nll.size() && std::isfinite(r.result.nll[t])) ImGui::Text("NLL of the next token: %.3f nats", r.result.nll[t]);
  ImGui::Separator();
  for (const LayerRecord& l : r.result.layers) {
    std::string line = "layer " + std::to_string(l.layer) + ":";
    for (int j = 0; j < l.k; ++j) {
      char buf[48];
      const int e = l.topk_ids[t * size_t(l.k) + size_t(j)];
      std::snprintf(buf, sizeof buf, "  %d%s %.3f", e, e >= l.num_standard ? "(shared)" : "", l.topk_weights[t * size_t(l.k) + size_t(j)]);
      line += buf;
    }
    ImGui::TextUnformatted(line.c_str());
  }
  ImGui::TextDisabled("click to pin");
  ImGui::EndTooltip();
}

namespace {

// "0, 1024, 2048" (the first few window starts, then "...").
std::string window_starts(const RoutedText& r) {
  std::string s;
  for (size_t w = 0; w < r.windows.size() && w < 8; ++w) {
    if (w) s += ", ";
    s += std::to_string(r.windows[w].begin);
  }
  if (r.windows.size() > 8) s += ", ...";
  return s;
}

// One legend entry: the name on its colour, wrapped to a new line when the row is full; true
// while hovered (the caller's tooltip).
bool legend_chip(const std::string& id, const std::string& name, ImU32 color, bool may_wrap) {
  const float w = ImGui::CalcTextSize(name.c_str()).x + 6, h = ImGui::GetTextLineHeight() + 2;
  if (may_wrap && ImGui::GetContentRegionAvail().x < w) ImGui::NewLine();
  ImGui::InvisibleButton(id.c_str(), ImVec2(w, h));
  const ImVec2 q = ImGui::GetItemRectMin();
  ImGui::GetWindowDrawList()->AddRectFilled(q, ImVec2(q.x + w, q.y + h), color, 3.f);
  ImGui::GetWindowDrawList()->AddText(ImVec2(q.x + 3, q.y + 1), ImGui::GetColorU32(ImGuiCol_Text), name.c_str());
  return ImGui::IsItemHovered();
}

// A token's colour class in a layer: the group carrying most of its routing weight (when groups
// are known), else its heaviest standard expert; -1 for none. Computed only for visible tokens.
int token_colour(const LayerRecord& l, size_t t, const LayerAnalysis* a, std::vector<float>& mass) {
  const int32_t* ids = l.topk_ids.data() + t * size_t(l.k);
  const float* w = l.topk_weights.data() + t * size_t(l.k);
  if (a) {
    mass.assign(a->groups.groups.size(), 0.f);
    for (int j = 0; j < l.k; ++j)
      if (ids[j] < l.num_standard && a->group_of[size_t(ids[j])] >= 0) mass[size_t(a->group_of[size_t(ids[j])])] += w[j];
    const auto it = std::max_element(mass.begin(), mass.end());
    return it != mass.end() && *it > 0 ? int(it - mass.begin()) : -1;
  }
  int top = -1;
  float best = -1;
  for (int j = 0; j < l.k; ++j)
    if (ids[j] < l.num_standard && w[j] > best) best = w[j], top = ids[j];
  return top;
}

}  // namespace

void App::view_text() {
  const float right_w = std::min(520.f, ImGui::GetContentRegionAvail().x * 0.42f);
  ImGui::BeginChild("text_left", ImVec2(-right_w, 0));
  if (ImGui::Button("Open text file...")) browser_.open(text_file_dir_, false, {""}, "Open a text file (UTF-8)");
  ImGui::SameLine();
  ImGui::TextDisabled("or type / paste below: the text is routed as you type");
  std::string picked;
  if (browser_.draw(&picked)) load_text_file(picked);
  if (!text_file_error_.empty()) {
    ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(1, 0.6f, 0.3f, 1));
    ImGui::TextWrapped("%s", text_file_error_.c_str());
    ImGui::PopStyleColor();
  }
  if (text_box_.draw("##text", text_, ImVec2(-1, 130)) && router_) set_text(text_);  // edited in place, lines wrapped
  const auto routed = router_ ? router_->latest() : nullptr;
  if (!routed) {
    ImGui::TextDisabled(model_ || model_job_.running() ? "routing..." : "no model loaded (Model tab)");
    ImGui::EndChild();
    return;
  }
  const RoutedText& r = *routed;
  if (!r.error.empty()) ImGui::TextColored(ImVec4(1, 0.6f, 0.3f, 1), "%s", r.error.c_str());
  if (r.windows.size() > 1) {
    ImGui::TextDisabled("text of %zu tokens split into %zu windows of at most %zu tokens (the model's context); each is routed on its own,",
                        r.enc.ids.size(), r.windows.size(), r.windows[0].size());
    ImGui::TextDisabled("so its last token has no NLL; windows start at tokens marked with a bar: %s", window_starts(r).c_str());
  }
  const int layers = int(r.result.layers.size());
  if (layers == 0 || r.enc.ids.empty()) {
    ImGui::TextDisabled("type some text");
    ImGui::EndChild();
    return;
  }
  layer_slider("MoE layer", &layer_, r.result.layers);
  ImGui::SameLine();
  ImGui::SetNextItemWidth(150);
  ImGui::Combo("colour", &colour_mode_, "expert group\0top expert\0");
  ImGui::SameLine();
  ImGui::TextDisabled("%zu tokens, routed in %.0f ms%s", r.enc.ids.size(), 1000 * r.seconds, router_->busy() ? " (updating)" : "");
  const auto groups = colour_mode_ == 0 && corpus_matches_model() ? analysis_for(size_t(layer_)) : nullptr;
  const bool by_group = groups != nullptr;
  if (colour_mode_ == 0 && !by_group)
    ImGui::TextDisabled(corpus_matches_model() ? "computing the layer's expert groups..."
                                               : "groups come from a corpus traced with this model (Corpus tab); colouring by top expert");
  if (by_group) {  // legend: each group's colour and the domain that uses it most
    const auto c = corpus();
    for (size_t g = 0; g < groups->groups.groups.size(); ++g) {
      const ExpertGroup& grp = groups->groups.groups[g];
      std::string name = prefixed("", long(g));
      name += ": ";
      name += group_label(grp, c->trace.domains);
      if (legend_chip(prefixed("##legend", long(g)), name, group_color(int(g), 0.55f), g > 0))
        ImGui::SetTooltip("group %zu: %zu experts, %.1f%% of the corpus's selections in this layer", g, grp.experts.size(), 100 * grp.share);
      ImGui::SameLine();
    }
    ImGui::NewLine();
  } else {
    // Legend for top-expert colouring: the experts most tokens lean on in this layer, by colour.
    const LayerRecord& l = r.result.layers[size_t(layer_)];
    std::vector<int> count(size_t(l.num_standard), 0);
    std::vector<float> scratch;
    for (size_t t = 0; t < r.enc.ids.size(); ++t)
      if (const int e = token_colour(l, t, nullptr, scratch); e >= 0) ++count[size_t(e)];
    std::vector<int> order;
    for (int e = 0; e < l.num_standard; ++e)
      if (count[size_t(e)] > 0) order.push_back(e);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return count[size_t(a)] > count[size_t(b)]; });
    ImGui::TextDisabled("colour = the expert with the largest weight:");
    for (size_t i = 0; i < std::min<size_t>(12, order.size()); ++i) {
      ImGui::SameLine();
      const std::string name = "expert " + std::to_string(order[i]) + " (" + std::to_string(count[size_t(order[i])]) + ")";
      if (legend_chip(prefixed("##top", long(i)), name, category_color(order[i], 0.55f), true)) ImGui::SetTooltip("expert %d is the heaviest for %d tokens of the text", order[i], count[size_t(order[i])]);
    }
    if (order.size() > 12) {
      ImGui::SameLine();
      ImGui::TextDisabled("and %zu more", order.size() - 12);
    }
  }
  ImGui::Separator();
  // Token boxes: laid out once per text/width, only the visible rows drawn.
  ImGui::BeginChild("tokens", ImVec2(0, 0), false);
  layout_.update(r.text, r.enc, r.version, ImGui::GetContentRegionAvail().x);
  const ImVec2 origin = ImGui::GetCursorScreenPos();
  const float scroll = ImGui::GetScrollY(), view_h = ImGui::GetWindowHeight();
  const auto [first, last] = layout_.visible(scroll, scroll + view_h);
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const float lh = layout_.line_height();
  const ImU32 text_col = ImGui::GetColorU32(ImGuiCol_Text);
  const LayerRecord& shown = r.result.layers[size_t(layer_)];
  std::vector<float> mass;
  for (size_t t = first; t < last; ++t) {
    const TokenLayout::Box& b = layout_.boxes()[t];
    const ImVec2 p(origin.x + b.x, origin.y + float(b.line) * lh);
    const int cls = token_colour(shown, t, groups.get(), mass);
    dl->AddRectFilled(p, ImVec2(p.x + b.w, p.y + lh - 3), by_group ? group_color(cls, 0.55f) : category_color(cls, 0.55f), 3.f);
    if (int(t) == pinned_) dl->AddRect(p, ImVec2(p.x + b.w, p.y + lh - 3), IM_COL32(255, 255, 255, 255), 3.f, 0, 2.f);
    dl->AddText(ImVec2(p.x + 2, p.y + 1), text_col, b.label.c_str());
    // Windows after the first are all one context long, so a start is a multiple of the first's size.
    if (r.windows.size() > 1 && t > 0 && t % r.windows[0].size() == 0)
      dl->AddLine(ImVec2(p.x - 2, p.y - 1), ImVec2(p.x - 2, p.y + lh - 2), IM_COL32(255, 210, 80, 255), 3.f);
  }
  ImGui::Dummy(ImVec2(1, float(layout_.lines()) * lh));
  if (ImGui::IsWindowHovered()) {
    const ImVec2 m = ImGui::GetIO().MousePos;
    const int t = layout_.hit(m.x - origin.x, m.y - origin.y);
    if (t >= 0) {
      token_tooltip(r, size_t(t));
      if (ImGui::IsMouseClicked(ImGuiMouseButton_Left)) pinned_ = pinned_ == t ? -1 : t;
    }
  }
  ImGui::EndChild();
  ImGui::EndChild();
  ImGui::SameLine();
  ImGui::BeginChild("text_right", ImVec2(0, 0), true);
  text_heatmaps(r);
  ImGui::EndChild();
}

void App::text_heatmaps(const RoutedText& r) {
  const ForwardResult& f = r.result;
  HeatmapData d;
  d.rows = int(f.layers.size());
  for (const auto& l : f.layers) d.cols = std::max(d.cols, l.num_standard);
  d.values.assign(size_t(d.rows) * size_t(d.cols), NAN);
  ImGui::SetNextItemWidth(170);
  ImGui::Combo("##heatmode", &heat_mode_, "mean probability\0top-k frequency\0");
  ImGui::SameLine();
  ImGui::Checkbox("normalise rows", &heat_rows_normalised_);
  d.value_name = heat_mode_ == 0 ? "mean probability" : "share of tokens selecting";
  d.row_name = "layer";
  for (int i = 0; i < d.rows; ++i) {
    const LayerRecord& l = f.layers[size_t(i)];
    d.row_labels.push_back(prefixed("L", l.layer));
    const auto& src = heat_mode_ == 0 ? l.doc_mean_probs : l.doc_topk_freq;
    float mx = 0;
    for (int e = 0; e < l.num_standard; ++e) mx = std::max(mx, src[size_t(e)]);
    for (int e = 0; e < l.num_standard; ++e)
      d.values[size_t(i) * size_t(d.cols) + size_t(e)] = heat_rows_normalised_ && mx > 0 ? src[size_t(e)] / mx : src[size_t(e)];
  }
  ImGui::TextUnformatted("whole text: layer x expert");
  draw_heatmap("##text_heat", d);
  ImGui::Separator();
  ImGui::TextUnformatted("expert pool: experts carrying 90% of the text's routing mass");
  for (const LayerRecord& l : f.layers) {
    const std::vector<double> mean(l.doc_mean_probs.begin(), l.doc_mean_probs.begin() + l.num_standard);
    const size_t n = mass_pool(mean, 0.9).size();
    ImGui::Text("L%-3d %3zu of %d", l.layer, n, l.num_standard);
    ImGui::SameLine(ImGui::CalcTextSize("L000 0000 of 0000").x + 16);
    ImGui::ProgressBar(float(n) / float(l.num_standard), ImVec2(-1, ImGui::GetTextLineHeight()), "");
  }
  if (pinned_ >= 0 && size_t(pinned_) < r.enc.ids.size()) {
    ImGui::Separator();
    const auto& off = r.enc.offsets[size_t(pinned_)];
    ImGui::Text("pinned token %d '%s': routing weights", pinned_, visible_token(r.text.substr(off.first, off.second - off.first)).c_str());
    HeatmapData p = d;
    std::fill(p.values.begin(), p.values.end(), 0.f);
    p.value_name = "weight";
    for (int i = 0; i < p.rows; ++i) {
      const LayerRecord& l = f.layers[size_t(i)];
      for (int j = 0; j < l.k; ++j) {
        const int e = l.topk_ids[size_t(pinned_) * size_t(l.k) + size_t(j)];
        if (e < l.num_standard) p.values[size_t(i) * size_t(p.cols) + size_t(e)] = l.topk_weights[size_t(pinned_) * size_t(l.k) + size_t(j)];
      }
    }
    draw_heatmap("##pin_heat", p);
  } else {
    ImGui::TextDisabled("click a token to pin it");
  }
}

}  // namespace moescope::gui
