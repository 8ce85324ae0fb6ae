// ablation.h — how much a model loses when only a subset of its experts is kept: held-out NLL
// and bits per byte of one domain for a sweep of budgets k (standard experts per layer), for the
// subset chosen from the domain's calibration documents and for random subsets of the same size,
// against the full model. Results are stored in the workspace (table `ablations`).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "analysis/corpus.h"
#include "analysis/trace_data.h"
#include "engine/model.h"

namespace moescope {

// Per MoE layer [Lm][Es]: the mean routing probability over the chosen documents (token-weighted),
// the calibration statistic of EMO's global selection (emo-reference.md §4.1).
std::vector<std::vector<double>> mean_probs_over(const TraceData& td, const std::function<bool(const TracedDocument&)>& use);

// Kept original ids per model layer (null/full for dense layers): the top-k standard experts by `score`.
ExpertSubset top_k_subset(const ModelConfig& c, const TraceData& td, const std::vector<std::vector<double>>& score, int k);
// k random standard experts per MoE layer (one generator across layers, like EMO's random_prune).
ExpertSubset random_subset(const ModelConfig& c, const TraceData& td, int k, uint64_t seed);

// Budgets scaled to the model: Es/16, Es/8, Es/4, Es/2 (at least 1, distinct) and all.
std::vector<int> default_budgets(int num_standard);
// Error "where: budget 40 is more than the 31 standard experts of a MoE layer (expected budgets
// from 1 to 31, ...)" unless every budget is in 1..num_standard (the smallest Es of the layers).
void check_budgets(const std::vector<int>& budgets, int num_standard, const std::string& where);
// The evaluation documents of `domain`; Error when there are none (nothing to measure the loss on).
std::vector<CorpusDocument> heldout_documents(const std::vector<CorpusDocument>& eval, const std::string& domain);

// The held-out split of a workspace's own documents, used when no evaluation corpus is given:
// documents whose id hashes to 0 mod 4 are evaluated on, the others calibrate the selection.
inline bool is_workspace_heldout(int64_t doc_id) { return (uint64_t(doc_id) * 0x9E3779B97F4A7C15ull >> 62) == 0; }

struct AblationPoint {
  std::string domain, method;  // method: "full", "global_mean_prob", "random"
  int k = 0;                   // standard experts per layer (the layer's Es for "full")
  int64_t seed = -1;           // random subsets only
  double mean_nll = 0, bits_per_byte = 0;
  size_t tokens = 0, documents = 0;
};

struct AblationOptions {
  std::vector<int> budgets;          // empty = default_budgets
  // The subset to evaluate at budget k; empty = the global mean-probability top-k of the domain's
  // calibration documents. `method` names it in the results.
  std::function<ExpertSubset(int k)> select;
  std::string method = "global_mean_prob";
  int random_seeds = 3;
  int64_t max_tokens_per_doc = 0;
  std::function<void(const AblationPoint&)> progress;
  const std::atomic<bool>* stop = nullptr;  // checked between points; a stopped sweep returns what it has
};

// calibration: the traced documents the selection may look at; eval: held-out documents of the domain.
std::vector<AblationPoint> ablate_domain(const Model& model, const TraceData& td, const std::string& domain,
                                         const std::function<bool(const TracedDocument&)>& calibration,
                                         const std::vector<CorpusDocument>& eval, const AblationOptions& opt);

void store_ablations(Workspace& ws, const std::vector<AblationPoint>& points, const std::string& eval_source);

}  // namespace moescope
