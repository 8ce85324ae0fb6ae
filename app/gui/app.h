// app.h — the moescope desktop app: the state the views share and one frame of UI.
// One full-window tab bar holds the views: Model, Text, Corpus, Groups, Subsets, Compare.
// Every model run (load, route, trace, cluster, ablate, export) is a background Job; the UI
// thread only reads finished results, so a frame never waits on the engine.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "analysis/ablation.h"
#include "analysis/doc_clusters.h"
#include "analysis/token_usage.h"
#include "analysis/subset_select.h"
#include "app/gui/corpus_state.h"
#include "app/gui/job.h"
#include "app/gui/text_router.h"
#include "app/gui/token_layout.h"
#include "app/gui/widget_file_browser.h"
#include "app/gui/widget_graph.h"
#include "app/gui/widget_wrapped_input.h"
#include "engine/model.h"

namespace moescope::gui {

enum class View { Model, Text, Corpus, Groups, Subsets, Compare, Explore };
const char* view_name(View v);
bool parse_view(const std::string& name, View* out);

struct LoadedModel {
  std::shared_ptr<const Model> model;
  std::string dir;
  ModelIdentity identity;
  // A pruned checkpoint's pruning_metadata.json in one line ("pruned from ..."), or why it could
  // not be read; empty for a model that was not pruned.
  std::string pruned_from;
};

// Loads a checkpoint for the app (a Job function): the model, its tokenizer (required) and identity.
// The only place the app reads weights: the views share the app's one model (Compare may hold a
// second); Corpus and Subsets jobs run on it and never load a copy of their own.
// `device`: where its forward passes run (the Model view's choice; cpu by default).
std::shared_ptr<const LoadedModel> load_model_job(const std::string& dir, const Device& device, JobControl& job);
// Checkpoints load_model_job has loaded in this process (save-state reports it).
int model_loads();
// True when both paths name the same folder (relative paths and symbolic links resolved).
bool same_folder(const std::string& a, const std::string& b);
// True when `m` is the checkpoint the workspace was traced with: the same folder, loaded with the
// config and weights hashes the trace recorded. Reads no weights.
bool is_traced_model(const LoadedModel& m, const TraceData& td);
// The loaded model for a job that re-runs the workspace's model (ablation sweep, greedy/EASY-EP):
// Error when the folder changed since the trace (check_model_unchanged) or when another model (or
// none) is loaded, naming the model to load in the Model view.
std::shared_ptr<const Model> traced_model(const LoadedModel* loaded, const TraceData& td);

struct AblationRun {
  std::string domain, method;
  std::vector<AblationPoint> points;
  bool cancelled = false;
};

struct ExportDone {
  std::string path, summary;
};

struct AppOptions {
  std::string model_dir, text, workspace;
  std::string emo_sample, std_sample;  // the built-in samples (Model view buttons, Compare defaults)
  std::string compare_workspace;       // a second workspace for Compare (e.g. std-sample's trace)
  std::string sample_corpus = "samples/corpus/heldout.jsonl";  // the Corpus view's default (found beside the samples)
};

class App {
 public:
  explicit App(const AppOptions& options);
  ~App();
  void frame();  // draws the window; never blocks on the model
  // True while a job runs or the routed text is older than the text (screenshots wait for this).
  bool busy() const;
  void select_view(View v) {
    requested_view_ = v;
    view_requested_ = true;
  }
  View current_view() const { return view_; }
  // A scripted command (--script): the same actions the widgets trigger. Returns an error
  // message ("" when it worked); "quit" sets quit_requested().
  std::string run_command(const std::string& line);
  bool quit_requested() const { return quit_; }
  std::string screenshot_request();  // a path asked for by the script's `screenshot`, once

 private:
  // Model
  void load_model(const std::string& dir);
  void adopt_loaded_model();
  void view_model();
  void device_choice();
  // Text
  void set_text(const std::string& text);
  // Puts a UTF-8 text file into the text box. A file that cannot be read or is not UTF-8 leaves
  // the box as it was and its error (file, byte, expected encoding) shows above it; returned too.
  std::string load_text_file(const std::string& path);
  void view_text();
  void text_heatmaps(const RoutedText& r);
  void token_tooltip(const RoutedText& r, size_t t);
  // Corpus
  void open_workspace(const std::string& path);
  void start_trace(const std::string& corpus, const std::string& workspace, int64_t max_tokens);
  void adopt_finished_trace();
  void view_corpus();
  void corpus_pools(const CorpusState& c, size_t l);
  void corpus_clusters(const CorpusState& c);
  // Groups
  void view_groups();
  void expert_details(const CorpusState& c, const LayerAnalysis& a, int expert);
  // Subsets
  void view_subsets();
  void traced_model_hint(const CorpusState& c);
  void run_ablation();
  void export_subset_json(const std::string& path);
  void export_checkpoint(const std::string& dir);
  SubsetRequest subset_request(const CorpusState& c) const;
  // Compare
  void view_compare();
  void view_explore();
  void pool_chart(const CorpusState& a, const CorpusState& b, size_t l);
  int pool_by_selections_ = 0;  // Compare's pool chart: 0 by routing mass, 1 by selections
  // A traced document's text (read from the workspace once, then cached), or its first `chars`
  // bytes cut at a character boundary with "..." (previews); an error's text when unreadable.
  std::string document_text(const CorpusState& c, size_t doc, size_t chars = 0);
  // Shows a traced document in the Text view (routed by the loaded model).
  void open_document(const CorpusState& c, size_t doc);
  void document_list(const CorpusState& c, const std::vector<size_t>& docs, const char* id);
  void search_documents(const CorpusState& c, const std::string& needle);  // the Explore view's search
  void search_tokens(const CorpusState& c, const std::string& needle);     // its token search
  void ablation_panel(const CorpusState& c, int es);
  void open_compare_workspace();
  void start_clustering();
  void corpus_usage(const CorpusState& c, size_t l);
  int usage_domain_ = -1;  // expert usage tab: -1 all documents, else a domain index
  // Explore view: colour by domain (0) or by the Corpus view's clusters (1); the search and its
  // matches (trace.docs indices); the cluster whose documents are listed; texts read so far.
  int explore_colour_ = 0, explore_cluster_ = 0;
  char explore_search_[256] = {};
  std::string explore_searched_;
  std::vector<size_t> explore_matches_;
  std::string explore_matches_workspace_;
  int explore_search_tokens_ = 0;          // 0: search documents, 1: tokens
  std::vector<TokenUsage> explore_tokens_;  // the token search's hits
  std::map<int64_t, std::string> document_texts_;
  std::string document_texts_workspace_;  // the Corpus view's "Cluster documents" (k = cluster_k_)
  void load_compare_models();
  // Shared
  // Hands a router to a side thread to be destroyed: its worker may be in the middle of a long
  // forward pass, which the UI thread must not wait for.
  void retire(std::unique_ptr<TextRouter>& router);
  std::vector<std::thread> retired_;
  // The layer's groups/co-activation of the open corpus; starts computing them when missing (null until done).
  std::shared_ptr<const LayerAnalysis> analysis_for(size_t l);
  // True when the open corpus was traced with the loaded model (its groups can colour the text).
  bool corpus_matches_model() const;
  std::shared_ptr<const CorpusState> corpus() const { return corpus_job_.result(); }
  void job_status(const char* what, double fraction, const std::string& message, bool running, const std::string& error,
                  const std::function<void()>& cancel);

  AppOptions opt_;
  View view_ = View::Text;
  View requested_view_ = View::Text;
  bool view_requested_ = true;
  bool quit_ = false;
  std::string screenshot_;

  // Model view
  Job<LoadedModel> model_job_;
  std::shared_ptr<const LoadedModel> model_;
  std::unique_ptr<TextRouter> router_;
  char model_path_[1024] = {};
  Device device_;  // where the next load runs its forward passes (Model view, script `device`)
  FileBrowser browser_;

  // Text view
  std::string text_;
  WrappedTextInput text_box_;  // edits text_ with its lines wrapped
  std::string text_file_error_;  // the last "Open text file..." that failed ("" after a success)
  std::string text_file_dir_ = ".";  // where the text file browser opens
  int layer_ = 0;        // index into the routed layers (MoE layers)
  int pinned_ = -1;      // pinned token, -1 = none
  int colour_mode_ = 0;  // 0 expert group (from the corpus), 1 top expert
  int heat_mode_ = 0;    // 0 mean probability, 1 top-k frequency
  bool heat_rows_normalised_ = false;
  TokenLayout layout_;

  // Corpus view
  Job<CorpusState> corpus_job_;
  // The Explore view's map, computed when first shown (a PCA of every document's routing).
  struct ExploreMap {
    std::string workspace;
    DocumentMap map;
  };
  Job<ExploreMap> map_job_;
  Job<TraceRun> trace_job_;
  char ws_path_[1024] = {}, corpus_path_[1024] = {}, trace_ws_path_[1024] = {};
  int trace_max_tokens_ = 256;
  int corpus_layer_ = 0;
  int corpus_heat_mode_ = 0;
  int keep_k_ = 0;
  Job<DocClusters> clusters_job_;
  int cluster_k_ = 0;

  // Groups view
  std::map<size_t, std::shared_ptr<const LayerAnalysis>> analyses_;  // per MoE layer, for the current corpus
  Job<LayerAnalysis> groups_job_;
  const CorpusState* analyses_for_ = nullptr;
  float affinity_threshold_ = 0.5f;  // Groups view: edges drawn above this cosine affinity
  ForceGraph graph_;
  size_t graph_layer_ = size_t(-1);
  int selected_expert_ = -1;

  // Subsets view
  int subset_domain_ = 0, subset_method_ = 0, subset_k_ = 4;
  Job<AblationRun> ablation_job_;
  Job<ExportDone> export_job_;
  char export_json_path_[1024] = {}, export_ckpt_path_[1024] = {};
  std::string confirm_;  // "json" or "checkpoint" while the confirmation popup is open
  std::string preview_key_, preview_error_;  // the kept experts of the current request (global/random)
  std::vector<std::string> preview_lines_;
  int preview_top_k_ = 0, preview_model_top_k_ = 0;  // experts per token under that subset / the model's
  // Stored ablation points of the open workspace and of Compare's second one (re-read when either
  // changes or a sweep finishes).
  struct AblationSource {
    std::string name;  // "emo-sample (emo.moescope)"
    std::vector<AblationPoint> points;
  };
  std::string ablation_key_;
  std::vector<AblationSource> ablation_sources_;
  int ablation_mean_ = 1;  // 1: mean over domains, 0: the chosen domain
  bool experts_in_blocks_ = false;
  int corpus_tab_request_ = -1;  // a Corpus sub-view to select on the next frame (script `corpus-tab`)  // domain x expert heatmaps: columns grouped by the domain each expert serves most

  // Compare view
  char compare_a_[1024] = {}, compare_b_[1024] = {}, compare_ws_[1024] = {};
  Job<LoadedModel> compare_job_a_, compare_job_b_;
  std::unique_ptr<TextRouter> compare_router_a_, compare_router_b_;
  const LoadedModel* compare_loaded_a_ = nullptr;
  const LoadedModel* compare_loaded_b_ = nullptr;
  Job<CorpusState> compare_corpus_job_;
  int compare_layer_ = 0;
};

}  // namespace moescope::gui
