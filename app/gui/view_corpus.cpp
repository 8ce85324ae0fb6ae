// view_corpus.cpp — the Corpus view: open a traced workspace, or trace a corpus (JSONL or domain
// folders) with the loaded model (progress, tokens/s, Cancel; resumable). Per MoE layer: the
// domain x expert heatmap, domain-domain similarity, per-domain pools and their overlap, and
// document clusters with their purity against the domain labels.
#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "app/gui/labels.h"
#include "app/gui/app.h"
#include "app/gui/widget_layer_slider.h"
#include "app/gui/widget_heatmap.h"

namespace moescope::gui {

void App::open_workspace(const std::string& path) {
  std::snprintf(ws_path_, sizeof ws_path_, "%s", path.c_str());
  clusters_job_.reset();
  corpus_job_.start([path](JobControl& job) { return load_corpus_state(path, job); });
}

// The job holds the app's model: loading another one meanwhile does not free it under the trace.
void App::start_trace(const std::string& corpus, const std::string& workspace, int64_t max_tokens) {
  if (!model_) return;
  trace_job_.start([loaded = model_, corpus, workspace, max_tokens](JobControl& job) {
    return trace_into_workspace(*loaded->model, corpus, workspace, max_tokens, job);
  });
}

bool App::corpus_matches_model() const {
  const auto c = corpus();
  if (!c || !model_) return false;
  const auto& m = c->trace.run["model"];
  return m.value("config_hash", "") == model_->identity.config_hash && m.value("weights_hash", "") == model_->identity.weights_hash;
}

std::shared_ptr<const LayerAnalysis> App::analysis_for(size_t l) {
  const auto c = corpus();
  if (!c) return nullptr;
  if (analyses_for_ != c.get()) {  // another corpus: forget the old layers
    analyses_.clear();
    analyses_for_ = c.get();
    groups_job_.reset();
  }
  if (const auto done = groups_job_.result(); done && !groups_job_.running()) {
    analyses_[done->layer] = done;
    groups_job_.clear();
  }
  const auto it = analyses_.find(l);
  if (it != analyses_.end()) return it->second;
  if (!groups_job_.running()) groups_job_.start([c, l](JobControl& job) { return analyse_layer(*c, l, job); });
  return nullptr;
}

// A finished trace opens its workspace (whatever view is showing).
void App::adopt_finished_trace() {
  if (const auto run = trace_job_.result(); run && !trace_job_.running()) {
    const std::string ws = run->workspace;
    trace_job_.clear();
    open_workspace(ws);
  }
}

void App::view_corpus() {
  ImGui::SetNextItemWidth(520);
  ImGui::InputText("##ws", ws_path_, sizeof ws_path_);
  ImGui::SameLine();
  if (ImGui::Button("Open workspace")) open_workspace(ws_path_);
  ImGui::SameLine();
  if (ImGui::Button("Browse...##ws")) browser_.open(ws_path_, false, {".moescope"}, "Open a workspace");
  std::string picked;
  if (browser_.draw(&picked)) {
    if (picked.size() > 9 && picked.substr(picked.size() - 9) == ".moescope") open_workspace(picked);
    else std::snprintf(corpus_path_, sizeof corpus_path_, "%s", picked.c_str());
  }
  if (ImGui::CollapsingHeader("Trace a corpus with the loaded model", trace_job_.running() ? ImGuiTreeNodeFlags_DefaultOpen : 0)) {
    ImGui::SetNextItemWidth(420);
    ImGui::InputText("corpus (JSONL or domain folders)", corpus_path_, sizeof corpus_path_);
    ImGui::SameLine();
    if (ImGui::Button("Browse...##corpus")) browser_.open(corpus_path_, false, {".jsonl"}, "Open a corpus");
    ImGui::SetNextItemWidth(420);
    ImGui::InputText("workspace to write", trace_ws_path_, sizeof trace_ws_path_);
    ImGui::SetNextItemWidth(160);
    ImGui::InputInt("tokens per document (0 = context)", &trace_max_tokens_, 64);
    trace_max_tokens_ = std::max(0, trace_max_tokens_);
    ImGui::BeginDisabled(!model_ || trace_job_.running());
    if (ImGui::Button("Trace")) start_trace(corpus_path_, trace_ws_path_, trace_max_tokens_);
    ImGui::EndDisabled();
    ImGui::SameLine();
    ImGui::TextDisabled("resumes where an earlier run stopped; Cancel keeps every finished batch");
  }
  const auto tp = trace_job_.progress();
  job_status("tracing", tp.first, tp.second, trace_job_.running(), trace_job_.error(), [this] { trace_job_.cancel(); });
  const auto cp = corpus_job_.progress();
  job_status("opening", cp.first, cp.second, corpus_job_.running(), corpus_job_.error(), nullptr);
  const auto c = corpus();
  if (!c) {
    ImGui::TextDisabled("open a workspace (moescope-cli trace writes one) or trace a corpus above");
    return;
  }
  const TraceData& td = c->trace;
  ImGui::Text("%s: %zu documents, %zu tokens, %zu domains", c->path.c_str(), td.docs.size(), c->tokens, td.domains.size());
  layer_slider("MoE layer##corpus", &corpus_layer_, td.layers);
  const size_t l = size_t(corpus_layer_);
  // A script's `corpus-tab N` selects a tab once (ImGui keeps the user's choice otherwise).
  auto tab_flags = [&](int i) {
    const bool pick = corpus_tab_request_ == i;
    if (pick) corpus_tab_request_ = -1;
    return pick ? ImGuiTabItemFlags_SetSelected : ImGuiTabItemFlags_None;
  };
  if (ImGui::BeginTabBar("corpus_tabs")) {
    if (ImGui::BeginTabItem("domain x expert", nullptr, tab_flags(0))) {
      ImGui::SetNextItemWidth(170);
      ImGui::Combo("##corpus_heat", &corpus_heat_mode_, "mean probability\0top-k frequency\0");
      ImGui::SameLine();
      ImGui::Checkbox("experts in blocks by the domain they serve most", &experts_in_blocks_);
      HeatmapData d;
      d.rows = int(c->stats.size());
      d.cols = td.layers[l].num_standard;
      d.value_name = corpus_heat_mode_ == 0 ? "mean probability" : "selections per token";
      d.row_name = "domain";
      for (const auto& s : c->stats) {
        d.row_labels.push_back(s.domain + " (" + std::to_string(s.layers[l].pool.size()) + ")");
        for (double x : corpus_heat_mode_ == 0 ? s.layers[l].mean_prob : s.layers[l].topk_freq) d.values.push_back(float(x));
      }
      ImGui::TextDisabled("rows: domain (experts in its 90%% pool); columns: standard experts");
      if (experts_in_blocks_) order_columns_by_top_row(d);
      draw_heatmap("##domain_heat", d, 16.f);
      ImGui::EndTabItem();
    }
    if (ImGui::BeginTabItem("domain similarity", nullptr, tab_flags(1))) {
      HeatmapData d;
      const auto sim = domain_similarity(c->stats, l);
      d.rows = d.cols = int(sim.size());
      d.value_name = "cosine of mean probabilities";
      d.row_name = d.col_name = "domain";
      for (const auto& s : c->stats) d.row_labels.push_back(s.domain);
      d.col_labels = d.row_labels;
      for (const auto& row : sim)
        for (double x : row) d.values.push_back(float(x));
      draw_heatmap("##sim_heat", d, 16.f);
      ImGui::EndTabItem();
    }
    if (ImGui::BeginTabItem("pools and overlap", nullptr, tab_flags(2))) {
      corpus_pools(*c, l);
      ImGui::EndTabItem();
    }
    if (ImGui::BeginTabItem("document clusters", nullptr, tab_flags(3))) {
      corpus_clusters(*c);
      ImGui::EndTabItem();
    }
    if (ImGui::BeginTabItem("expert usage", nullptr, tab_flags(4))) {
      corpus_usage(*c, l);
      ImGui::EndTabItem();
    }
    ImGui::EndTabBar();
  }
}

void App::corpus_pools(const CorpusState& c, size_t l) {
  const int Es = c.trace.layers[l].num_standard;
  if (keep_k_ <= 0) keep_k_ = std::max(1, Es / 8);
  keep_k_ = std::clamp(keep_k_, 1, Es);
  ImGui::BeginChild("pools", ImVec2(430, 0), true);
  if (ImGui::BeginTable("pool_table", 4, ImGuiTableFlags_RowBg | ImGuiTableFlags_ScrollY | ImGuiTableFlags_BordersInnerV)) {
    ImGui::TableSetupColumn("domain");
    ImGui::TableSetupColumn("docs");
    ImGui::TableSetupColumn("90% pool");
    ImGui::TableSetupColumn("entropy (bits)");
    ImGui::TableHeadersRow();
    for (const auto& s : c.stats) {
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(s.domain.c_str());
      ImGui::TableNextColumn();
      ImGui::Text("%zu", s.documents);
      ImGui::TableNextColumn();
      ImGui::Text("%zu / %d", s.layers[l].pool.size(), Es);
      ImGui::TableNextColumn();
      ImGui::Text("%.2f", s.layers[l].doc_entropy_bits);
    }
    ImGui::EndTable();
  }
  ImGui::EndChild();
  ImGui::SameLine();
  ImGui::BeginGroup();
  ImGui::SetNextItemWidth(200);
  ImGui::SliderInt("keep-set size k", &keep_k_, 1, Es);
  ImGui::TextDisabled("Jaccard overlap of the domains' top-k experts by mean probability");
  HeatmapData d;
  const auto jac = keep_set_jaccard(c.stats, l, keep_k_);
  d.rows = d.cols = int(jac.size());
  d.value_name = "Jaccard";
  d.row_name = d.col_name = "domain";
  for (const auto& s : c.stats) d.row_labels.push_back(s.domain);
  d.col_labels = d.row_labels;
  for (const auto& row : jac)
    for (double x : row) d.values.push_back(float(x));
  draw_heatmap("##jaccard", d, 16.f);
  ImGui::EndGroup();
}

// Each expert's share of the routed selections in the layer (all documents or one domain), as a
// multiple of the uniform share; experts under a quarter of it are flagged. Below, every layer.
void App::corpus_usage(const CorpusState& c, size_t l) {
  const ExpertUsageLayer& u = c.usage[l];
  const int Es = u.num_standard;
  usage_domain_ = std::clamp(usage_domain_, -1, int(c.trace.domains.size()) - 1);
  ImGui::SetNextItemWidth(220);
  if (ImGui::BeginCombo("documents##usage", usage_domain_ < 0 ? "all documents" : c.trace.domains[size_t(usage_domain_)].c_str())) {
    if (ImGui::Selectable("all documents", usage_domain_ < 0)) usage_domain_ = -1;
    for (size_t d = 0; d < c.trace.domains.size(); ++d)
      if (ImGui::Selectable(c.trace.domains[d].c_str(), int(d) == usage_domain_)) usage_domain_ = int(d);
    ImGui::EndCombo();
  }
  ImGui::SameLine();
  ImGui::TextDisabled("share of the routed selections x %d (1 = uniform); red: under %.2fx", Es, kRarelyUsedShare);
  const std::vector<double>& share = usage_domain_ < 0 ? u.share : u.share_by_domain[size_t(usage_domain_)];
  float top = 1;
  for (double s : share) top = std::max(top, float(s * Es));
  // Bars drawn by hand: ImGui's histogram has one colour, and a rarely used expert must stand out.
  const ImVec2 o = ImGui::GetCursorScreenPos();
  const float w = std::min(ImGui::GetContentRegionAvail().x, 1100.f), h = 180, bw = w / float(std::max(1, Es));
  ImDrawList* dl = ImGui::GetWindowDrawList();
  dl->AddRect(o, ImVec2(o.x + w, o.y + h), IM_COL32(70, 70, 80, 255));
  auto y_of = [&](double v) { return o.y + h - float(v / top) * (h - 4); };
  for (int e = 0; e < Es; ++e) {
    const double v = share[size_t(e)] * Es;
    const ImU32 col = v < kRarelyUsedShare ? IM_COL32(235, 90, 80, 255) : IM_COL32(90, 170, 255, 255);
    // A rarely used expert's bar is at least a few pixels tall, so it shows as a red stub.
    dl->AddRectFilled(ImVec2(o.x + e * bw + 1, std::min(y_of(v), o.y + h - 5)), ImVec2(o.x + (e + 1) * bw - 1, o.y + h), col);
  }
  const int label_every = std::max(1, int(std::ceil((ImGui::CalcTextSize("000").x + 4) / bw)));
  for (int e = 0; e < Es; e += label_every)
    dl->AddText(ImVec2(o.x + e * bw + 1, o.y + h + 2), ImGui::GetColorU32(ImGuiCol_TextDisabled), std::to_string(e).c_str());
  for (double ref : {1.0, kRarelyUsedShare}) dl->AddLine(ImVec2(o.x, y_of(ref)), ImVec2(o.x + w, y_of(ref)), IM_COL32(200, 200, 200, 160));
  ImGui::InvisibleButton("##usage_bars", ImVec2(w, h + ImGui::GetTextLineHeight() + 4));
  if (ImGui::IsItemHovered()) {
    const int e = int((ImGui::GetIO().MousePos.x - o.x) / bw);
    if (e >= 0 && e < Es) ImGui::SetTooltip("expert %d: %.2f%% of the selections, %.2fx uniform", e, 100 * share[size_t(e)], share[size_t(e)] * Es);
  }
  ImGui::TextDisabled("standard experts 0 .. %d; lines at 1x (uniform) and %.2fx", Es - 1, kRarelyUsedShare);
  if (ImGui::BeginTable("usage_layers", 5, ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_SizingFixedFit)) {
    for (const char* h : {"layer", "least used", "most used", "rarely used (all documents)", "never used"}) ImGui::TableSetupColumn(h);
    ImGui::TableHeadersRow();
    for (const ExpertUsageLayer& x : c.usage) {
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      ImGui::Text("L%d", x.layer);
      ImGui::TableNextColumn();
      ImGui::Text("%.2fx", x.min_vs_uniform);
      ImGui::TableNextColumn();
      ImGui::Text("%.2fx", x.max_vs_uniform);
      ImGui::TableNextColumn();
      std::string ids;
      for (int e : x.rarely_used) ids += (ids.empty() ? "" : " ") + std::to_string(e);
      if (x.rarely_used.empty()) ImGui::TextUnformatted("none");
      else ImGui::TextColored(ImVec4(1, 0.5f, 0.45f, 1), "%zu: %s", x.rarely_used.size(), ids.c_str());
      ImGui::TableNextColumn();
      ImGui::Text("%zu", x.never_used.size());
    }
    ImGui::EndTable();
  }
}

void App::start_clustering() {
  const auto cs = corpus();
  if (!cs) return;
  const int k = std::clamp(cluster_k_, 2, std::max(2, int(cs->trace.docs.size())));
  clusters_job_.start([cs, k](JobControl& job) {
    job.report(0.3, "PCA, spherical k-means");
    DocClusterOptions o;
    o.k = k;
    return std::make_shared<const DocClusters>(cluster_documents(cs->trace, o));
  });
}

void App::corpus_clusters(const CorpusState& c) {
  if (cluster_k_ <= 0) cluster_k_ = int(c.trace.domains.size());
  ImGui::SetNextItemWidth(160);
  ImGui::InputInt("clusters k", &cluster_k_);
  cluster_k_ = std::clamp(cluster_k_, 2, std::max(2, int(c.trace.docs.size())));
  ImGui::SameLine();
  if (ImGui::Button("Cluster documents")) start_clustering();
  ImGui::SameLine();
  ImGui::TextDisabled("EMO's pipeline: per-layer mean probabilities -> centre -> PCA 95%% -> L2 -> spherical k-means");
  job_status("clustering", 0.3, "", clusters_job_.running(), clusters_job_.error(), nullptr);
  const auto r = clusters_job_.result();
  if (!r || r->labels.size() != c.trace.docs.size()) return;
  // Purity: the share of documents in their cluster's majority domain.
  size_t majority = 0;
  for (const auto& row : r->domain_counts) majority += size_t(*std::max_element(row.begin(), row.end()));
  ImGui::Text("k = %d, %d PCA components (%.0f%% of variance); purity %.3f, NMI %.3f, ARI %.3f, silhouette %.3f", r->k,
              r->components, 100 * r->explained, double(majority) / double(r->labels.size()), r->nmi, r->ari, r->silhouette_cosine);
  HeatmapData d;
  d.rows = r->k;
  d.cols = int(c.trace.domains.size());
  d.col_labels = c.trace.domains;
  d.value_name = "share of the cluster's documents";
  d.row_name = "cluster";
  d.col_name = "domain";
  for (int i = 0; i < r->k; ++i) {
    const auto& row = r->domain_counts[size_t(i)];
    int n = 0;
    for (int x : row) n += x;
    const auto top = size_t(std::max_element(row.begin(), row.end()) - row.begin());
    std::string label = prefixed("c", i);
    label += " " + c.trace.domains[top] + " (" + std::to_string(n) + ")";
    d.row_labels.push_back(label);
    for (int x : row) d.values.push_back(n ? float(x) / float(n) : 0.f);
  }
  ImGui::TextDisabled("rows: clusters (majority domain, documents); columns: domains");
  draw_heatmap("##clusters", d, 14.f);
}

}  // namespace moescope::gui
