// app.cpp — the app's frame (one full-window tab bar), model loading and the Model view.
#include "app/gui/app.h"

#include "engine/memory_estimate.h"  // gib

#include "engine/config_summary.h"

#include <imgui.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "app/gui/widget_export.h"
#include "engine/checkpoint/pruning_provenance.h"
#include "engine/error.h"
#include "kernels/backend_maker.h"
#include "kernels/cuda_device.h"

namespace fs = std::filesystem;

namespace moescope::gui {

namespace {
constexpr View kViews[] = {View::Model, View::Text, View::Corpus, View::Groups, View::Subsets, View::Compare, View::Explore};

void copy_into(char* buf, size_t n, const std::string& s) { std::snprintf(buf, n, "%s", s.c_str()); }
}  // namespace

const char* view_name(View v) {
  switch (v) {
    case View::Model: return "Model";
    case View::Text: return "Text";
    case View::Corpus: return "Corpus";
    case View::Groups: return "Groups";
    case View::Subsets: return "Subsets";
    case View::Compare: return "Compare";
    case View::Explore: return "Explore";
  }
  return "?";
}

bool parse_view(const std::string& name, View* out) {
  for (View v : kViews) {
    std::string n = view_name(v);
    for (char& c : n) c = char(std::tolower(static_cast<unsigned char>(c)));
    if (n == name) {
      *out = v;
      return true;
    }
  }
  return false;
}

App::App(const AppOptions& options) : opt_(options), text_(options.text) {
  copy_into(model_path_, sizeof model_path_, opt_.model_dir);
  copy_into(ws_path_, sizeof ws_path_, opt_.workspace);
  copy_into(corpus_path_, sizeof corpus_path_, opt_.sample_corpus);
  copy_into(trace_ws_path_, sizeof trace_ws_path_, "corpus.moescope");
  copy_into(export_json_path_, sizeof export_json_path_, "subset.json");
  copy_into(export_ckpt_path_, sizeof export_ckpt_path_, "pruned-model");
  copy_into(compare_a_, sizeof compare_a_, opt_.emo_sample);
  copy_into(compare_b_, sizeof compare_b_, opt_.std_sample);
  copy_into(compare_ws_, sizeof compare_ws_, opt_.compare_workspace);
  load_model(opt_.model_dir);
  if (!opt_.workspace.empty()) open_workspace(opt_.workspace);
}

App::~App() {
  trace_job_.cancel();
  ablation_job_.cancel();
  router_.reset();
  for (auto& t : retired_) t.join();
}

void App::retire(std::unique_ptr<TextRouter>& router) {
  if (!router) return;
  retired_.emplace_back([r = std::shared_ptr<TextRouter>(router.release())]() mutable { r.reset(); });
}

bool App::busy() const {
  if (model_job_.running() || corpus_job_.running() || trace_job_.running() || groups_job_.running() ||
      clusters_job_.running() || map_job_.running() || ablation_job_.running() || export_job_.running() || compare_job_a_.running() ||
      compare_job_b_.running() || compare_corpus_job_.running())
    return true;
  for (const TextRouter* r : {router_.get(), compare_router_a_.get(), compare_router_b_.get()})
    if (r && !r->idle()) return true;
  if (view_ == View::Groups && !graph_.settled() && graph_.nodes() > 0) return true;
  return false;
}

std::string App::screenshot_request() {
  std::string s;
  s.swap(screenshot_);
  if (s.empty()) s.swap(figure_exports().pending_png);  // a figure's "Save the window as PNG"
  return s;
}

namespace {
std::atomic<int> g_model_loads{0};
}  // namespace

int model_loads() { return g_model_loads.load(); }

std::shared_ptr<const LoadedModel> load_model_job(const std::string& dir, const Device& device, JobControl& job) {
  job.report(0.2, "loading " + dir + (device.kind == DeviceKind::Cpu ? "" : " onto " + device.name()));
  auto m = std::make_shared<LoadedModel>();
  LoadOptions options;
  options.f32_gemm = f32_gemm_from_environment();  // the app's edge: read once per load
  options.backend = backend_maker(device);         // null for the CPU; an Error without that device
  m->model = std::shared_ptr<const Model>(Model::load(dir, options).release());
  ++g_model_loads;
  if (!m->model->tokenizer()) fail(dir, "has no tokenizer.json (needed to route text)");
  m->dir = dir;
  m->identity = identify_model(m->model->checkpoint());
  try {
    if (const auto p = read_pruning_provenance(dir, m->model->config())) m->pruned_from = p->summary(m->model->config());
  } catch (const Error& e) {
    m->pruned_from = std::string("unreadable pruning metadata: ") + e.what();  // the model itself loaded fine
  }
  return m;
}

bool same_folder(const std::string& a, const std::string& b) {
  std::error_code ea, eb;
  const fs::path pa = fs::weakly_canonical(a, ea), pb = fs::weakly_canonical(b, eb);
  return !ea && !eb && pa == pb;
}

bool is_traced_model(const LoadedModel& m, const TraceData& td) {
  const auto& rec = td.run["model"];
  return same_folder(m.dir, rec["path"].get<std::string>()) && m.identity.config_hash == rec["config_hash"] &&
         m.identity.weights_hash == rec["weights_hash"];
}

// Refused rather than loaded here: loading replaces the model every view routes with (the Text
// view's too), may take minutes and tens of GB, and a second copy beside the app's is what this
// avoids; so the user loads it, in the Model view or with the Subsets view's button.
std::shared_ptr<const Model> traced_model(const LoadedModel* loaded, const TraceData& td) {
  check_model_unchanged(td);
  if (loaded && is_traced_model(*loaded, td)) return loaded->model;
  const std::string path = td.run["model"]["path"].get<std::string>();
  fail(path, std::string("is the model the workspace was traced with; ") +
                 (loaded ? "the loaded model is " + loaded->dir : "no model is loaded") +
                 ". Load it in the Model view (the app keeps one model in memory)");
}

void App::load_model(const std::string& dir) {
  model_job_.start([dir, device = device_](JobControl& job) { return load_model_job(dir, device, job); });
}

// A finished load replaces the model and its text router (the old router finishes first).
void App::adopt_loaded_model() {
  const auto loaded = model_job_.result();
  if (!loaded || loaded == model_) return;
  retire(router_);
  model_ = loaded;
  router_ = std::make_unique<TextRouter>(model_->model);
  router_->submit(text_, std::chrono::milliseconds(0));
  layer_ = 0;
  pinned_ = -1;
}

void App::job_status(const char* what, double fraction, const std::string& message, bool running, const std::string& error,
                     const std::function<void()>& cancel) {
  if (running) {
    char overlay[64];
    std::snprintf(overlay, sizeof overlay, "%s %.0f%%", what, 100 * fraction);
    ImGui::ProgressBar(float(fraction), ImVec2(300, 0), overlay);
    ImGui::SameLine();
    ImGui::TextDisabled("%s", message.c_str());
    if (cancel) {
      ImGui::SameLine();
      ImGui::PushID(what);
      if (ImGui::Button("Cancel")) cancel();
      ImGui::PopID();
    }
  }
  if (!error.empty()) ImGui::TextColored(ImVec4(1, 0.45f, 0.4f, 1), "%s", error.c_str());
}

void App::frame() {
  adopt_loaded_model();
  adopt_finished_trace();
  const ImGuiViewport* vp = ImGui::GetMainViewport();
  ImGui::SetNextWindowPos(vp->WorkPos);
  ImGui::SetNextWindowSize(vp->WorkSize);
  ImGui::Begin("moescope", nullptr,
               ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoSavedSettings |
                   ImGuiWindowFlags_NoBringToFrontOnFocus);
  // Header: the loaded model and what runs in the background.
  if (model_) ImGui::Text("model: %s", model_->dir.c_str());
  else ImGui::TextDisabled("no model loaded");
  if (!figure_exports().last_message.empty()) {
    ImGui::SameLine();
    ImGui::TextDisabled("  |  %s (right-click a figure to export it)", figure_exports().last_message.c_str());
  }
  if (model_job_.running()) {
    ImGui::SameLine();
    ImGui::TextDisabled("(loading %s...)", model_path_);
  }
  const std::string model_error = model_job_.error();
  if (!model_error.empty()) ImGui::TextColored(ImVec4(1, 0.45f, 0.4f, 1), "%s", model_error.c_str());
  if (ImGui::BeginTabBar("views")) {
    for (View v : kViews) {
      const ImGuiTabItemFlags flags = view_requested_ && v == requested_view_ ? ImGuiTabItemFlags_SetSelected : 0;
      if (ImGui::BeginTabItem(view_name(v), nullptr, flags)) {
        view_ = v;
        switch (v) {
          case View::Model: view_model(); break;
          case View::Text: view_text(); break;
          case View::Corpus: view_corpus(); break;
          case View::Groups: view_groups(); break;
          case View::Subsets: view_subsets(); break;
          case View::Compare: view_compare(); break;
          case View::Explore: view_explore(); break;
        }
        ImGui::EndTabItem();
      }
    }
    view_requested_ = false;
    ImGui::EndTabBar();
  }
  ImGui::End();
}

// Where the next load runs: the CPU, or a CUDA device where this build has the backend and the
// machine has one (otherwise the reason shows beside the choice).
void App::device_choice() {
  const CudaDeviceInfo& cuda = cuda_device_info();
  ImGui::SetNextItemWidth(260);
  const std::string current = device_.kind == DeviceKind::Cpu ? "cpu" : device_.name();
  if (ImGui::BeginCombo("run on##device", current.c_str())) {
    if (ImGui::Selectable("cpu", device_.kind == DeviceKind::Cpu)) device_ = Device{};
    for (int i = 0; cuda.available && i < cuda.count; ++i) {
      const Device d{DeviceKind::Cuda, i};
      const std::string label = d.name() + (i == 0 ? " (" + cuda.name + ")" : std::string());
      if (ImGui::Selectable(label.c_str(), device_.kind == DeviceKind::Cuda && device_.index == i)) device_ = d;
    }
    ImGui::EndCombo();
  }
  ImGui::SameLine();
  ImGui::TextDisabled("%s", cuda.available ? "applies to the next load" : cuda.reason.c_str());
}

void App::view_model() {
  ImGui::TextUnformatted("Checkpoint folder (Hugging Face layout: config.json, *.safetensors, tokenizer.json)");
  ImGui::SetNextItemWidth(620);
  const bool enter = ImGui::InputText("##folder", model_path_, sizeof model_path_, ImGuiInputTextFlags_EnterReturnsTrue);
  ImGui::SameLine();
  if (ImGui::Button("Load") || enter) load_model(model_path_);
  ImGui::SameLine();
  if (ImGui::Button("Browse...")) browser_.open(model_path_, true, {}, "Open a checkpoint folder");
  std::string picked;
  if (browser_.draw(&picked)) {
    copy_into(model_path_, sizeof model_path_, picked);
    load_model(picked);
  }
  if (!opt_.emo_sample.empty()) {
    if (ImGui::Button("EMO sample")) {
      copy_into(model_path_, sizeof model_path_, opt_.emo_sample);
      load_model(opt_.emo_sample);
    }
    ImGui::SameLine();
    if (ImGui::Button("standard sample")) {
      copy_into(model_path_, sizeof model_path_, opt_.std_sample);
      load_model(opt_.std_sample);
    }
    ImGui::SameLine();
    ImGui::TextDisabled("built-in sample models (samples/models)");
  }
  device_choice();
  ImGui::SetNextItemWidth(160);
  ImGui::SliderFloat("zoom", &ImGui::GetIO().FontGlobalScale, 0.5f, 3.f, "%.2fx");
  ImGui::SameLine();
  ImGui::TextDisabled("Ctrl+= / Ctrl+- / Ctrl+0; Ctrl+1..7 switch views. The zoom is remembered (text sharp from the next start; --ui-scale sets it)");
  static char folder[1024] = ".";
  ImGui::SetNextItemWidth(260);
  if (ImGui::InputText("export folder", folder, sizeof folder)) figure_exports().folder = folder;
  ImGui::SameLine();
  ImGui::TextDisabled("right-click a figure: its data as CSV, the window as PNG");
  job_status("loading", model_job_.progress().first, model_job_.progress().second, model_job_.running(), "", nullptr);
  ImGui::Separator();
  if (!model_) return;
  const ModelConfig& c = model_->model->config();
  // Wide enough for the routing and attention descriptions (a DeepSeek line runs ~110 characters).
  if (ImGui::BeginTable("info", 2, ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_SizingFixedFit)) {
    auto row = [](const char* k, const std::string& v) {
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(k);
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(v.c_str());
    };
    int moe = 0;
    for (const auto& l : c.layers) moe += l.is_moe();
    row("folder", model_->dir);
    if (!model_->pruned_from.empty()) row("pruned", model_->pruned_from);
    row("architecture", c.model_type);
    row("layers", std::to_string(c.num_layers) + " (" + std::to_string(moe) + " MoE)");
    row("hidden size", std::to_string(c.hidden_size));
    row("attention heads", std::to_string(c.num_heads) + " (" + std::to_string(c.num_kv_heads) + " key/value)");
    row("vocabulary", std::to_string(c.vocab_size));
    row("context", std::to_string(c.max_position_embeddings));
    row("experts per token (top-k)", std::to_string(c.top_k));
    if (!c.layers.empty())
      row("experts per layer", std::to_string(c.layers.back().num_experts) + " (" + std::to_string(c.layers.back().num_shared) + " shared)");
    row("routing", describe_routing(c));
    row("attention", describe_attention(c));
    if (c.shared_width > 0) row("shared MLP", describe_shared_mlp(c));
    const ModelWeights& w = model_->model->weights();
    char held[48];
    std::snprintf(held, sizeof held, "%.1f MiB", double(w.resident_bytes) / double(1 << 20));
    const uint64_t on_device = model_->model->backend().device_weight_bytes();
    if (on_device > 0)
      row("weights on the device", gib(on_device) + " (BF16; the host keeps " + std::string(held) + " of routers and vectors)");
    else
      row("weights in memory", (w.resident_bytes >= (uint64_t(1) << 30) ? gib(w.resident_bytes) : std::string(held)) + " (" +
                                   w.storage_dtype + " checkpoint, kept as stored)");
    row("device", model_->model->device().name());
    row("weight GEMMs", model_->model->gemm_kernels());
    row("config hash", model_->identity.config_hash);
    row("weights hash", model_->identity.weights_hash);
    ImGui::EndTable();
  }
}

}  // namespace moescope::gui
