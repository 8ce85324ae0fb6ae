// corpus_state.h — what the Corpus, Groups and Subsets views show, computed off the UI thread:
// a workspace's routing records with per-domain statistics, and per MoE layer the expert groups,
// the token co-activation (PMI) and, per expert, the documents and tokens that use it most.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "analysis/coactivation.h"
#include "analysis/domain_stats.h"
#include "analysis/expert_groups.h"
#include "analysis/doc_clusters.h"
#include "analysis/expert_usage.h"
#include "analysis/trace.h"
#include "analysis/trace_data.h"
#include "app/gui/job.h"
#include "engine/model.h"
#include "engine/tokenizer/tokenizer.h"

namespace moescope::gui {

struct CorpusState {
  std::string path;
  TraceData trace;
  std::vector<DomainStats> stats;
  std::vector<ExpertUsageLayer> usage;  // [Lm] each expert's share of the routed selections
  size_t tokens = 0;
  std::shared_ptr<const Tokenizer> tokenizer;  // of the traced model, to show tokens (null if unreadable)
  std::string token_text(int32_t id) const;    // readable text of one token id
};

// Loads the workspace (Error when it is not one or holds no trace).
std::shared_ptr<const CorpusState> load_corpus_state(const std::string& workspace, JobControl& job);

struct ExpertUse {          // one expert of one layer: who uses it most
  struct Doc { size_t doc = 0; double share = 0; };     // index into trace.docs, share of its tokens selecting the expert
  struct Tok { int32_t id = 0; double count = 0, share = 0; };  // selections, share of the token's occurrences
  std::vector<Doc> docs;
  std::vector<Tok> tokens;
};

struct LayerAnalysis {
  size_t layer = 0;                 // MoE layer index
  LayerGroups groups;
  std::vector<int> group_of;        // [Es] group index, -1 = never selected
  Coactivation coactivation;        // token level
  std::vector<ExpertUse> use;       // [Es]
};

std::shared_ptr<const LayerAnalysis> analyse_layer(const CorpusState& c, size_t l, JobControl& job);

struct TraceRun {
  std::string workspace;
  TraceSummary summary;
};

// Traces a corpus file/folder into a workspace with the app's loaded model (resumable, cancellable).
std::shared_ptr<const TraceRun> trace_into_workspace(const Model& model, const std::string& corpus, const std::string& workspace,
                                                     int64_t max_tokens, JobControl& job);

}  // namespace moescope::gui
