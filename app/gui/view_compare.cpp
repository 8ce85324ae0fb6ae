// view_compare.cpp — the Compare view: the Text view's text routed by two models side by side
// (by default the EMO sample and the standard sample: one glance shows EMO's concentrated,
// document-level pools against per-token routing spread over many experts), and two traced
// workspaces' domain x expert heatmaps of the same layer.
#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <tuple>

#include "analysis/domain_stats.h"
#include "app/gui/labels.h"
#include "app/gui/app.h"
#include "app/gui/widget_export.h"
#include "app/gui/widget_heatmap.h"

namespace fs = std::filesystem;

namespace moescope::gui {

namespace {

// Min and max of a routed text's mean probabilities: both columns' heatmaps share one scale.
void widen_range(const TextRouter* router, std::pair<float, float>& range) {
  const auto r = router ? router->latest() : nullptr;
  if (!r) return;
  for (const auto& l : r->result.layers)
    for (int e = 0; e < l.num_standard && size_t(e) < l.doc_mean_probs.size(); ++e) {
      range.first = std::min(range.first, l.doc_mean_probs[size_t(e)]);
      range.second = std::max(range.second, l.doc_mean_probs[size_t(e)]);
    }
}

// One model's column: layer x expert heatmap of the text (on the shared scale) and the pool size per layer.
void routed_column(const char* id, const std::string& dir, const TextRouter* router, const std::string& error,
                   std::pair<float, float> scale) {
  ImGui::TextUnformatted(dir.c_str());
  if (!error.empty()) ImGui::TextColored(ImVec4(1, 0.45f, 0.4f, 1), "%s", error.c_str());
  const auto r = router ? router->latest() : nullptr;
  if (!r || r->result.layers.empty()) {
    ImGui::TextDisabled(router ? "routing..." : "not loaded");
    return;
  }
  if (!r->error.empty()) ImGui::TextColored(ImVec4(1, 0.6f, 0.3f, 1), "%s", r->error.c_str());
  HeatmapData d;
  d.rows = int(r->result.layers.size());
  for (const auto& l : r->result.layers) d.cols = std::max(d.cols, l.num_standard);
  d.values.assign(size_t(d.rows) * size_t(d.cols), NAN);
  d.value_name = "mean probability";
  d.row_name = "layer";
  if (scale.second > scale.first) std::tie(d.scale_lo, d.scale_hi) = scale;
  double pool_sum = 0, nll = 0;
  size_t nll_n = 0;
  for (float x : r->result.nll)
    if (std::isfinite(x)) nll += x, ++nll_n;
  std::string pools;
  for (int i = 0; i < d.rows; ++i) {
    const LayerRecord& l = r->result.layers[size_t(i)];
    d.row_labels.push_back(prefixed("L", l.layer));
    for (int e = 0; e < l.num_standard; ++e) d.values[size_t(i) * size_t(d.cols) + size_t(e)] = l.doc_mean_probs[size_t(e)];
    const std::vector<double> mean(l.doc_mean_probs.begin(), l.doc_mean_probs.begin() + l.num_standard);
    const size_t n = mass_pool(mean, 0.9).size();
    pool_sum += double(n) / l.num_standard;
    if (!pools.empty()) pools += ", ";
    pools += std::to_string(n);
  }
  ImGui::Text("%zu tokens, mean NLL %.3f nats", r->enc.ids.size(), nll_n ? nll / double(nll_n) : 0.0);
  if (r->windows.size() > 1)
    ImGui::TextDisabled("in %zu windows of at most %zu tokens (this model's context), each routed on its own", r->windows.size(),
                        r->windows[0].size());
  ImGui::Text("90%% pool per layer: %s (%.0f%% of the experts on average)", pools.c_str(), 100 * pool_sum / d.rows);
  draw_heatmap(id, d);
}

}  // namespace

void App::load_compare_models() {
  retire(compare_router_a_);
  retire(compare_router_b_);
  compare_loaded_a_ = compare_loaded_b_ = nullptr;
  for (auto [job, dir] : {std::pair{&compare_job_a_, std::string(compare_a_)}, std::pair{&compare_job_b_, std::string(compare_b_)}}) {
    // The app's model when it is this folder (the default: the EMO sample): one copy of a checkpoint.
    if (model_ && same_folder(model_->dir, dir)) job->start([loaded = model_](JobControl&) { return loaded; });
    else job->start([dir, device = device_](JobControl& ctl) { return load_model_job(dir, device, ctl); });
  }
}

// The second workspace named on the command line (or typed here) opens once, for Compare and for
// the Subsets view's overlaid ablation curves.
void App::open_compare_workspace() {
  if (!compare_corpus_job_.result() && !compare_corpus_job_.running() && compare_corpus_job_.error().empty() && compare_ws_[0]) {
    const std::string p = compare_ws_;
    compare_corpus_job_.start([p](JobControl& job) { return load_corpus_state(p, job); });
  }
}

void App::view_compare() {
  // First visit, once the app's model is in (model A may be it).
  if (!compare_router_a_ && !compare_router_b_ && !compare_job_a_.running() && !compare_job_b_.running() &&
      !compare_job_a_.result() && compare_job_a_.error().empty() && !model_job_.running())
    load_compare_models();
  // Adopt finished loads; re-route when the text changed.
  for (auto [job, router, seen] : {std::tuple{&compare_job_a_, &compare_router_a_, &compare_loaded_a_},
                                   std::tuple{&compare_job_b_, &compare_router_b_, &compare_loaded_b_}}) {
    const auto m = job->result();
    if (m && !job->running() && m.get() != *seen) {
      retire(*router);
      *router = std::make_unique<TextRouter>(m->model);
      *seen = m.get();
      (*router)->submit(text_, std::chrono::milliseconds(0));
    }
    if (*router) {
      const auto latest = (*router)->latest();
      if (latest && latest->text != text_ && (*router)->idle()) (*router)->submit(text_, std::chrono::milliseconds(0));
    }
  }
  ImGui::SetNextItemWidth(420);
  ImGui::InputText("model A", compare_a_, sizeof compare_a_);
  ImGui::SameLine();
  ImGui::SetNextItemWidth(420);
  ImGui::InputText("model B", compare_b_, sizeof compare_b_);
  ImGui::SameLine();
  if (ImGui::Button("Load both")) load_compare_models();
  ImGui::TextDisabled("the text of the Text tab, routed by both models");
  std::pair<float, float> scale{INFINITY, -INFINITY};
  widen_range(compare_router_a_.get(), scale);
  widen_range(compare_router_b_.get(), scale);
  if (ImGui::BeginTable("cmp", 2, ImGuiTableFlags_BordersInnerV)) {
    ImGui::TableNextRow();
    ImGui::TableNextColumn();
    routed_column("##cmp_a", compare_a_, compare_router_a_.get(), compare_job_a_.error(), scale);
    ImGui::TableNextColumn();
    routed_column("##cmp_b", compare_b_, compare_router_b_.get(), compare_job_b_.error(), scale);
    ImGui::EndTable();
  }
  // Corpus side by side: the open workspace against a second one.
  ImGui::Separator();
  ImGui::SetNextItemWidth(420);
  ImGui::InputText("second workspace", compare_ws_, sizeof compare_ws_);
  ImGui::SameLine();
  if (ImGui::Button("Open##cmpws")) {
    const std::string p = compare_ws_;
    compare_corpus_job_.start([p](JobControl& job) { return load_corpus_state(p, job); });
  }
  open_compare_workspace();
  job_status("opening", 0.5, "", compare_corpus_job_.running(), compare_corpus_job_.error(), nullptr);
  const auto a = corpus(), b = compare_corpus_job_.result();
  if (!a || !b) {
    ImGui::TextDisabled("open a workspace in the Corpus tab and a second one here to compare domain pools");
    return;
  }
  const int layers = int(std::min(a->trace.layers.size(), b->trace.layers.size()));
  compare_layer_ = std::clamp(compare_layer_, 0, layers - 1);
  ImGui::SetNextItemWidth(220);
  ImGui::SliderInt("MoE layer##cmp", &compare_layer_, 0, layers - 1);
  // Both maps on one colour scale: a model whose domains spread their mass looks paler, as it is.
  const size_t l = size_t(compare_layer_);
  HeatmapData maps[2];
  double pools[2] = {0, 0};
  for (int i = 0; i < 2; ++i) {
    const CorpusState& c = i == 0 ? *a : *b;
    HeatmapData& d = maps[i];
    d.rows = int(c.stats.size());
    d.cols = c.trace.layers[l].num_standard;
    d.value_name = "mean probability";
    d.row_name = "domain";
    for (const auto& s : c.stats) {
      pools[i] += double(s.layers[l].pool.size());
      d.row_labels.push_back(s.domain);
      for (double x : s.layers[l].mean_prob) d.values.push_back(float(x));
    }
  }
  ImGui::SameLine();
  ImGui::Checkbox("experts in blocks by the domain they serve most##cmp", &experts_in_blocks_);
  if (experts_in_blocks_)
    for (HeatmapData& d : maps) order_columns_by_top_row(d);
  std::tie(maps[0].scale_lo, maps[0].scale_hi) = heatmap_range({&maps[0], &maps[1]});
  maps[1].scale_lo = maps[0].scale_lo;
  maps[1].scale_hi = maps[0].scale_hi;
  if (ImGui::BeginTable("cmp_ws", 2, ImGuiTableFlags_BordersInnerV)) {
    ImGui::TableNextRow();
    for (int i = 0; i < 2; ++i) {
      ImGui::TableNextColumn();
      const CorpusState& c = i == 0 ? *a : *b;
      ImGui::TextUnformatted(c.trace.run["model"]["path"].get<std::string>().c_str());
      ImGui::Text("mean 90%% pool of a domain: %.1f of %d experts", pools[i] / std::max(1, maps[i].rows), maps[i].cols);
      draw_heatmap(i == 0 ? "##cmp_heat_a" : "##cmp_heat_b", maps[i], 12.f);
    }
    ImGui::EndTable();
  }
  pool_chart(*a, *b, l);
}

// Per domain, the experts carrying 90% of the layer's routing of model A next to model B's: by
// routing mass (mean probability, EMO's pool) or by selections (top-k frequency).
void App::pool_chart(const CorpusState& a, const CorpusState& b, size_t l) {
  ImGui::Separator();
  ImGui::TextUnformatted("90% expert pool per domain, this layer:");
  ImGui::SameLine();
  ImGui::RadioButton("by routing mass", &pool_by_selections_, 0);
  ImGui::SameLine();
  ImGui::RadioButton("by selections", &pool_by_selections_, 1);
  struct Row {
    std::string domain;
    double pool[2];
  };
  std::vector<Row> rows;
  const int es[2] = {a.trace.layers[l].num_standard, b.trace.layers[l].num_standard};
  auto pool_of = [&](const DomainLayerStats& s) {
    return pool_by_selections_ ? double(mass_pool(s.topk_freq, 0.9).size()) : double(s.pool.size());
  };
  for (const auto& sa : a.stats)
    for (const auto& sb : b.stats)
      if (sa.domain == sb.domain) rows.push_back({sa.domain, {pool_of(sa.layers[l]), pool_of(sb.layers[l])}});
  if (rows.empty()) {
    ImGui::TextDisabled("the two workspaces share no domain");
    return;
  }
  const std::string name[2] = {fs::path(a.trace.run["model"]["path"].get<std::string>()).filename().string(),
                               fs::path(b.trace.run["model"]["path"].get<std::string>()).filename().string()};
  const ImU32 col[2] = {IM_COL32(90, 170, 255, 255), IM_COL32(255, 110, 90, 255)};
  float label_w = 0;
  for (const Row& r : rows) label_w = std::max(label_w, ImGui::CalcTextSize(r.domain.c_str()).x);
  label_w += 10;
  const float bar_h = ImGui::GetTextLineHeight() * 0.5f, row_h = 2 * bar_h + 4;
  const float w = std::min(ImGui::GetContentRegionAvail().x, 900.f) - label_w - 60;
  const ImVec2 o = ImGui::GetCursorScreenPos();
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const int most = std::max(es[0], es[1]);
  for (size_t r = 0; r < rows.size(); ++r) {
    const float y = o.y + float(r) * row_h;
    dl->AddText(ImVec2(o.x, y + row_h / 2 - ImGui::GetTextLineHeight() / 2), ImGui::GetColorU32(ImGuiCol_Text), rows[r].domain.c_str());
    for (int m = 0; m < 2; ++m) {
      const float len = float(rows[r].pool[m] / most) * w;
      dl->AddRectFilled(ImVec2(o.x + label_w, y + float(m) * bar_h), ImVec2(o.x + label_w + len, y + float(m + 1) * bar_h - 1), col[m]);
      char n[16];
      std::snprintf(n, sizeof n, "%.0f", rows[r].pool[m]);
      dl->AddText(ImGui::GetFont(), ImGui::GetFontSize() * 0.7f, ImVec2(o.x + label_w + len + 4, y + float(m) * bar_h - 2),
                  ImGui::GetColorU32(ImGuiCol_TextDisabled), n);
    }
  }
  ImGui::InvisibleButton("##pools", ImVec2(label_w + w + 60, float(rows.size()) * row_h));
  figure_context_menu("pool_sizes", [&] {
    std::string csv = "domain," + csv_field(name[0]) + "," + csv_field(name[1]) + "\n";
    for (const Row& r : rows) csv += csv_field(r.domain) + "," + std::to_string(int(r.pool[0])) + "," + std::to_string(int(r.pool[1])) + "\n";
    return csv;
  });
  if (ImGui::IsItemHovered()) {
    const int r = int((ImGui::GetIO().MousePos.y - o.y) / row_h);
    if (r >= 0 && r < int(rows.size()))
      ImGui::SetTooltip("%s: %s %.0f of %d experts, %s %.0f of %d", rows[size_t(r)].domain.c_str(), name[0].c_str(), rows[size_t(r)].pool[0],
                        es[0], name[1].c_str(), rows[size_t(r)].pool[1], es[1]);
  }
  double mean[2] = {0, 0};
  for (const Row& r : rows) mean[0] += r.pool[0] / double(rows.size()), mean[1] += r.pool[1] / double(rows.size());
  ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(col[0]), "%s: mean %.1f of %d", name[0].c_str(), mean[0], es[0]);
  ImGui::SameLine();
  ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(col[1]), "   %s: mean %.1f of %d", name[1].c_str(), mean[1], es[1]);
}

}  // namespace moescope::gui
