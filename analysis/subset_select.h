// subset_select.h — choosing the experts a subset keeps, from a traced workspace, and the
// versioned subset file (`moescope-subset/1`) that records the choice. Shared by
// `moescope-cli subset select` and the desktop app's Subsets view.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "analysis/trace_data.h"
#include "engine/model.h"

namespace moescope {

struct SubsetRequest {
  std::string method = "global";  // global (mean router probability), greedy, easy-ep or random
  std::string domain, lang;       // calibration documents: this domain / language ("" = all)
  int k = 0;                      // standard experts kept per MoE layer
  uint64_t seed = 0;              // random only
};

struct SubsetSelection {
  nlohmann::json file;        // the subset file: schema, model, method, ..., experts_kept_per_layer
  std::string ranking;        // vllm-ascend expert_list_file: per MoE layer every expert, best first
  size_t calibration_documents = 0;
  int top_k = 0;              // experts per token under the subset (the model's top-k, capped: ExpertSubset::top_k)
  int model_top_k = 0;        // the model's own
};

// The method names as the file records them (global -> global_mean_prob, ...); Error for others.
std::string subset_method_name(const std::string& method);

// Throws Error naming the option (method, domain, k) when the request does not fit the workspace.
// greedy/easy-ep re-run the model: `model` when given, else the workspace's model is loaded (and
// refused when its files changed since the trace).
SubsetSelection select_subset(const TraceData& td, const SubsetRequest& req, const Model* model = nullptr,
                              const LoadOptions& load = {});

// The chosen documents' token ids as traced (cut at the trace's max_tokens_per_doc): the
// calibration set that greedy and EASY-EP re-run through the model.
std::vector<std::vector<int32_t>> calibration_ids(const TraceData& td, const std::function<bool(const TracedDocument&)>& chosen);

// The subset a re-running method ("greedy" or "easy-ep") keeps at budget k; scores as in greedy_select.h.
ExpertSubset rerun_subset(const std::string& method, const Model& model, const std::vector<std::vector<int32_t>>& calib, int k,
                          std::vector<std::vector<double>>* scores = nullptr);

// The smallest number of standard experts over the traced MoE layers (budgets every layer can serve).
int min_standard_experts(const TraceData& td);

// Ablation and greedy selection must see the model the workspace was traced with: Error when the
// folder's config or weights hash differs from the one recorded.
void check_model_unchanged(const TraceData& td);

}  // namespace moescope
