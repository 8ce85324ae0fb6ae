// view_subsets.cpp — the Subsets view: pick a domain, a selection method and a budget k; run the
// ablation sweep in the background (bits per byte vs k: selected subsets, random subsets, the
// full model); export the subset JSON or a pruned checkpoint after a confirmation that shows
// exactly what will be written.
#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>

#include "analysis/ablation_summary.h"
#include "analysis/corpus.h"
#include "analysis/pruned_checkpoint.h"
#include "analysis/workspace.h"
#include "app/gui/app.h"
#include "app/gui/widget_curves.h"
#include "engine/checkpoint/safetensors_writer.h"
#include "engine/subset.h"

namespace fs = std::filesystem;

namespace moescope::gui {

namespace {
constexpr const char* kMethods[] = {"global", "greedy", "easy-ep", "random"};
constexpr const char* kMethodLabels = "global mean probability\0greedy layer-wise\0EASY-EP\0random\0";

bool reruns_model(const SubsetRequest& req) { return req.method == "greedy" || req.method == "easy-ep"; }

// greedy and EASY-EP re-run the traced model: the app's, never a copy select_subset would load.
SubsetSelection choose_subset(const LoadedModel* loaded, const TraceData& td, const SubsetRequest& req) {
  const auto model = reruns_model(req) ? traced_model(loaded, td) : nullptr;
  return select_subset(td, req, model.get());
}
}  // namespace

SubsetRequest App::subset_request(const CorpusState& c) const {
  SubsetRequest req;
  req.method = kMethods[std::clamp(subset_method_, 0, 3)];
  req.domain = c.trace.domains.empty() ? "" : c.trace.domains[size_t(std::clamp(subset_domain_, 0, int(c.trace.domains.size()) - 1))];
  req.k = subset_k_;
  return req;
}

void App::run_ablation() {
  const auto c = corpus();
  if (!c) return;
  const SubsetRequest req = subset_request(*c);
  // The job holds the app's model: loading another one meanwhile does not free it under the sweep.
  ablation_job_.start([c, req, loaded = model_](JobControl& job) {
    job.report(0, "checking the traced model");
    const auto model = traced_model(loaded.get(), c->trace);
    // Evaluate on the workspace's held-out quarter; calibrate on the rest (as `subset ablate` without --eval).
    Workspace ws(c->path, false);
    std::vector<CorpusDocument> eval;
    for (auto& d : ws.corpus())
      if (is_workspace_heldout(std::stoll(d.id)) && d.domain == req.domain) eval.push_back(std::move(d));
    auto calibration = [](const TracedDocument& d) { return !is_workspace_heldout(d.id); };
    AblationOptions opt;
    opt.random_seeds = 2;
    opt.max_tokens_per_doc = c->trace.run["settings"]["max_tokens_per_doc"].get<int64_t>();
    opt.stop = &job.stop_flag();
    const size_t total = 1 + (default_budgets(min_standard_experts(c->trace)).size() - 1) * size_t(1 + opt.random_seeds);
    size_t done = 0;
    opt.progress = [&](const AblationPoint& p) {
      char msg[128];
      std::snprintf(msg, sizeof msg, "%s k=%d: %.4f bits/byte", p.method.c_str(), p.k, p.bits_per_byte);
      job.report(double(++done) / double(total), msg);
    };
    if (reruns_model(req)) {
      const auto calib = calibration_ids(c->trace, [&](const TracedDocument& d) {
        return c->trace.domains[size_t(d.domain)] == req.domain && calibration(d);
      });
      opt.method = subset_method_name(req.method);
      const Model* m = model.get();
      opt.select = [m, calib, req](int k) { return rerun_subset(req.method, *m, calib, k); };
    }
    auto run = std::make_shared<AblationRun>();
    run->domain = req.domain;
    run->method = req.method == "random" ? "global_mean_prob" : subset_method_name(req.method);
    run->points = ablate_domain(*model, c->trace, req.domain, calibration, eval, opt);
    run->cancelled = job.cancelled();
    if (!run->cancelled) store_ablations(ws, run->points, "workspace split (1 in 4 documents held out)");
    return std::shared_ptr<const AblationRun>(run);
  });
}

void App::export_subset_json(const std::string& path) {
  const auto c = corpus();
  if (!c) return;
  const SubsetRequest req = subset_request(*c);
  export_job_.start([c, req, path, loaded = model_](JobControl& job) {
    job.report(0.2, "selecting experts");
    const SubsetSelection sel = choose_subset(loaded.get(), c->trace, req);
    write_file_atomically(path, sel.file.dump(2) + "\n");
    auto done = std::make_shared<ExportDone>();
    done->path = path;
    done->summary = "wrote " + path + " (" + std::to_string(req.k) + " standard experts per MoE layer, " + sel.file["method"].get<std::string>() + ")";
    return std::shared_ptr<const ExportDone>(done);
  });
}

void App::export_checkpoint(const std::string& dir) {
  const auto c = corpus();
  if (!c) return;
  const SubsetRequest req = subset_request(*c);
  export_job_.start([c, req, dir, loaded = model_](JobControl& job) {
    job.report(0.1, "selecting experts");
    const SubsetSelection sel = choose_subset(loaded.get(), c->trace, req);
    const std::string model_dir = c->trace.run["model"]["path"].get<std::string>();
    const ModelConfig cfg = ModelConfig::from_file((fs::path(model_dir) / "config.json").string());
    const ExpertSubset subset = ExpertSubset::from_json_text(sel.file.dump(), "the selected subset", cfg);
    job.report(0.4, "writing the pruned checkpoint");
    nlohmann::json meta = sel.file;
    meta.erase("experts_kept_per_layer");
    meta["pruning_method"] = meta["method"];
    const PrunedCheckpointInfo info = write_pruned_checkpoint(model_dir, subset, dir, meta);
    auto done = std::make_shared<ExportDone>();
    done->path = dir;
    char buf[160];
    std::snprintf(buf, sizeof buf, "wrote %s: %zu tensors, %.2f MB (BF16), pruning_metadata.json with the original ids", dir.c_str(),
                  info.tensors, double(info.bytes) / 1e6);
    done->summary = buf;
    return std::shared_ptr<const ExportDone>(done);
  });
}

// The sweep and greedy/EASY-EP run the traced model as the app's one model: when another (or
// none) is loaded, say so and offer to load it through the Model view's path.
void App::traced_model_hint(const CorpusState& c) {
  if (model_ && is_traced_model(*model_, c.trace)) return;
  const std::string path = c.trace.run["model"]["path"].get<std::string>();
  ImGui::TextColored(ImVec4(1, 0.7f, 0.3f, 1), "traced with %s; %s%s: the sweep and greedy/EASY-EP need the traced model",
                     path.c_str(), model_ ? "the loaded model is " : "no model loaded", model_ ? model_->dir.c_str() : "");
  ImGui::SameLine();
  ImGui::BeginDisabled(model_job_.running());
  if (ImGui::Button("Load the traced model")) {
    std::snprintf(model_path_, sizeof model_path_, "%s", path.c_str());
    load_model(path);
  }
  ImGui::EndDisabled();
}

// The stored ablation results as % loss increase vs k: the mean over domains or the chosen
// domain, with the Compare view's second workspace overlaid when one is open.
void App::ablation_panel(const CorpusState& c, int es) {
  open_compare_workspace();
  const auto other = compare_corpus_job_.result();
  const auto run = ablation_job_.result();
  const std::string key = c.path + "|" + (other ? other->path : "") + "|" + std::to_string(reinterpret_cast<uintptr_t>(run.get()));
  if (key != ablation_key_ && !ablation_job_.running()) {  // re-read after a sweep stores its points
    ablation_key_ = key;
    ablation_sources_.clear();
    try {
      for (const CorpusState* s : {&c, other.get()}) {
        if (!s) continue;
        Workspace ws(s->path, false);
        const std::string model = fs::path(s->trace.run["model"]["path"].get<std::string>()).filename().string();
        ablation_sources_.push_back({model + " (" + fs::path(s->path).filename().string() + ")", stored_ablations(ws)});
      }
    } catch (const Error& e) {
      ablation_sources_.clear();
      preview_error_ = e.what();
    }
  }
  if (run && run->cancelled) ImGui::TextDisabled("the last sweep was cancelled: its points were not stored");
  const std::string domain = c.trace.domains[size_t(subset_domain_)];
  ImGui::RadioButton("mean over domains", &ablation_mean_, 1);
  ImGui::SameLine();
  ImGui::RadioButton(("domain " + domain).c_str(), &ablation_mean_, 0);
  ImGui::SameLine();
  ImGui::TextDisabled("%% loss increase (bits per byte) over the full model; random subsets: mean of seeds, spread shaded");
  // One colour per model and method: model A blues, model B reds; random subsets lighter, dashed.
  auto color = [](size_t source, const std::string& method) {
    const ImU32 a[] = {IM_COL32(90, 170, 255, 255), IM_COL32(60, 210, 220, 255), IM_COL32(170, 130, 255, 255), IM_COL32(150, 200, 255, 255)};
    const ImU32 b[] = {IM_COL32(255, 110, 90, 255), IM_COL32(255, 170, 60, 255), IM_COL32(200, 140, 110, 255), IM_COL32(255, 175, 150, 255)};
    const int i = method == "greedy_layerwise" ? 1 : method == "easy_ep" ? 2 : method == "random" ? 3 : 0;
    return source == 0 ? a[i] : b[i];
  };
  std::vector<CurveSeries> series;
  std::string title;
  double kmin = es;
  for (size_t i = 0; i < ablation_sources_.size() && i < 2; ++i) {
    const AblationCurves curves = ablation_curves(ablation_sources_[i].points, ablation_mean_ ? "" : domain);
    if (curves.empty()) continue;
    title += (title.empty() ? "" : "  vs  ") + ablation_sources_[i].name;
    const std::string prefix = ablation_sources_.size() > 1 ? ablation_sources_[i].name.substr(0, ablation_sources_[i].name.find(' ')) + ": " : "";
    for (const auto& [method, curve] : curves.by_method) {
      const bool rnd = method == "random";
      CurveSeries s{prefix + ablation_method_label(method), color(i, method), {}, {}, rnd, {}, {}};
      for (const AblationCurvePoint& p : curve) {
        s.x.push_back(p.k), s.y.push_back(p.increase_pct);
        if (rnd) s.band_low.push_back(p.min_pct), s.band_high.push_back(p.max_pct);
        kmin = std::min(kmin, double(p.k));
      }
      if (curves.full_k > 0) {  // the full model closes every curve
        s.x.push_back(curves.full_k), s.y.push_back(0);
        if (rnd) s.band_low.push_back(0), s.band_high.push_back(0);
      }
      series.push_back(std::move(s));
    }
    if (ablation_mean_) title += ", mean over " + std::to_string(curves.domains.size()) + " domains";
  }
  if (series.empty()) {
    ImGui::TextDisabled("no stored sweep for %s yet: Run ablation sweep (or `moescope-cli subset ablate`)",
                        ablation_mean_ ? "any domain" : domain.c_str());
    return;
  }
  series.push_back({"full model", IM_COL32(200, 200, 200, 255), {kmin, double(es)}, {0, 0}, true, {}, {}});
  ImGui::TextUnformatted(title.c_str());
  CurveAxes axes{"standard experts kept per layer (k)", "% loss increase", true};
  axes.marker_x = subset_k_;
  axes.marker_label = "k = " + std::to_string(subset_k_);
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  draw_curves("##curves", ImVec2(std::min(avail.x, 1000.f), std::max(240.f, avail.y - 8)), series, axes);
}

void App::view_subsets() {
  const auto c = corpus();
  if (!c) {
    ImGui::TextDisabled("open a traced workspace in the Corpus tab first: subsets are chosen from its documents");
    return;
  }
  const TraceData& td = c->trace;
  const int es = min_standard_experts(td);
  subset_domain_ = std::clamp(subset_domain_, 0, int(td.domains.size()) - 1);
  subset_k_ = std::clamp(subset_k_, 1, es);
  ImGui::SetNextItemWidth(220);
  if (ImGui::BeginCombo("domain", td.domains[size_t(subset_domain_)].c_str())) {
    for (size_t i = 0; i < td.domains.size(); ++i)
      if (ImGui::Selectable(td.domains[i].c_str(), int(i) == subset_domain_)) subset_domain_ = int(i);
    ImGui::EndCombo();
  }
  ImGui::SameLine();
  ImGui::SetNextItemWidth(220);
  ImGui::Combo("method", &subset_method_, kMethodLabels);
  ImGui::SameLine();
  ImGui::SetNextItemWidth(200);
  ImGui::SliderInt("budget k (experts per layer)", &subset_k_, 1, es);
  const SubsetRequest req = subset_request(*c);
  // The chosen subset at a glance (global/random are instant; greedy/EASY-EP re-run the model on
  // export), and the experts per token it routes with (the same for every method at this k).
  const bool instant = req.method == "global" || req.method == "random";
  const std::string key = c->path + "|" + req.domain + "|" + req.method + "|" + std::to_string(req.k);
  if (key != preview_key_) {  // recomputed only when the request changes (it reads config.json)
    preview_key_ = key;
    preview_lines_.clear();
    preview_error_.clear();
    preview_top_k_ = preview_model_top_k_ = 0;
    try {
      SubsetRequest quick = req;
      if (!instant) quick.method = "global";  // same budget, so the same top-k
      const SubsetSelection sel = select_subset(td, quick);
      preview_top_k_ = sel.top_k;
      preview_model_top_k_ = sel.model_top_k;
      if (instant) {
        size_t moe = 0;
        for (const auto& kept : sel.file["experts_kept_per_layer"]) {
          if (kept.is_null()) continue;
          std::string line = "L" + std::to_string(td.layers[moe++].layer) + " keeps";
          for (int e : kept) {
            line += ' ';
            line += std::to_string(e);
          }
          preview_lines_.push_back(line);
        }
      }
    } catch (const Error& e) {
      preview_error_ = e.what();
    }
  }
  if (preview_top_k_ > 0) {
    if (preview_top_k_ < preview_model_top_k_)
      ImGui::TextColored(ImVec4(1, 0.8f, 0.4f, 1),
                         "each token routes to %d experts per layer (the model's top-%d, capped at the %d this subset keeps), "
                         "in the sweep and in the exported checkpoint alike",
                         preview_top_k_, preview_model_top_k_, preview_top_k_);
    else
      ImGui::Text("each token routes to %d experts per layer (the model's top-k), in the sweep and in the exported checkpoint alike",
                  preview_top_k_);
  }
  for (const auto& line : preview_lines_) ImGui::TextUnformatted(line.c_str());
  if (!preview_error_.empty()) ImGui::TextColored(ImVec4(1, 0.45f, 0.4f, 1), "%s", preview_error_.c_str());
  if (!instant)
    ImGui::TextDisabled("%s re-runs the model on the domain's documents: the experts are chosen when you export or sweep",
                        req.method.c_str());
  ImGui::Separator();
  traced_model_hint(*c);
  ImGui::BeginDisabled(ablation_job_.running());
  if (ImGui::Button("Run ablation sweep")) run_ablation();
  ImGui::EndDisabled();
  ImGui::SameLine();
  ImGui::TextDisabled("budgets Es/16 .. Es/2 and all; 2 random subsets per budget; held-out quarter of the workspace");
  const auto ap = ablation_job_.progress();
  job_status("sweeping", ap.first, ap.second, ablation_job_.running(), ablation_job_.error(), [this] { ablation_job_.cancel(); });
  ImGui::SetNextItemWidth(420);
  ImGui::InputText("##json_path", export_json_path_, sizeof export_json_path_);
  ImGui::SameLine();
  if (ImGui::Button("Export subset JSON...")) confirm_ = "json";
  ImGui::SameLine();
  ImGui::SetNextItemWidth(300);
  ImGui::InputText("##ckpt_path", export_ckpt_path_, sizeof export_ckpt_path_);
  ImGui::SameLine();
  if (ImGui::Button("Export pruned checkpoint...")) confirm_ = "checkpoint";
  const auto ep = export_job_.progress();
  job_status("exporting", ep.first, ep.second, export_job_.running(), export_job_.error(), nullptr);
  if (const auto done = export_job_.result(); done && !export_job_.running()) ImGui::TextColored(ImVec4(0.5f, 0.9f, 0.5f, 1), "%s", done->summary.c_str());
  // Confirmation: what will be written, where.
  if (!confirm_.empty()) ImGui::OpenPopup("Confirm export");
  if (ImGui::BeginPopupModal("Confirm export", nullptr, ImGuiWindowFlags_AlwaysAutoResize)) {
    const bool json = confirm_ == "json";
    const std::string target = json ? export_json_path_ : export_ckpt_path_;
    ImGui::Text("%s", json ? "Write the subset file" : "Write a pruned checkpoint folder");
    ImGui::BulletText("to %s", fs::absolute(target).lexically_normal().c_str());
    ImGui::BulletText("domain %s, method %s, %d standard experts per MoE layer (shared experts always kept)", req.domain.c_str(),
                      req.method.c_str(), req.k);
    if (fs::exists(target)) {
      if (json) ImGui::TextColored(ImVec4(1, 0.7f, 0.3f, 1), "the file exists and will be replaced");
      else ImGui::TextColored(ImVec4(1, 0.45f, 0.4f, 1), "the folder exists: choose another (checkpoints are never overwritten)");
    }
    if (!json)
      ImGui::BulletText("BF16 safetensors, config.json, tokenizer.json, pruning_metadata.json (original ids); %d of %d experts per layer",
                        req.k, es);
    if (ImGui::Button("Write")) {
      json ? export_subset_json(target) : export_checkpoint(target);
      confirm_.clear();
      ImGui::CloseCurrentPopup();
    }
    ImGui::SameLine();
    if (ImGui::Button("Cancel")) {
      confirm_.clear();
      ImGui::CloseCurrentPopup();
    }
    ImGui::EndPopup();
  }
  ablation_panel(*c, es);
}

}  // namespace moescope::gui
