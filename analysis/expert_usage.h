// expert_usage.h — how evenly a model uses its experts: per MoE layer each standard expert's
// share of the routed selections (all documents, and per domain), against the uniform share
// 1/Es; experts below a quarter of it are "rarely used" and those never selected "never used".
// A subset that is cheap only because it drops experts no domain uses says little about
// modularity (issue: samples without dead experts), so `analyze`, the app and the sample
// evaluation report these numbers.
#pragma once

#include <vector>

#include "analysis/trace_data.h"

namespace moescope {

// Below this multiple of the uniform share an expert counts as rarely used.
inline constexpr double kRarelyUsedShare = 0.25;

struct ExpertUsageLayer {
  int layer = 0, num_standard = 0;
  std::vector<double> share;                         // [Es] share of the routed selections, all documents (sums to 1)
  std::vector<std::vector<double>> share_by_domain;  // [D][Es] the same over each domain's documents
  double min_vs_uniform = 0, max_vs_uniform = 0;     // min / max of share * Es
  std::vector<int> rarely_used;                      // share * Es < kRarelyUsedShare (never used included)
  std::vector<int> never_used;                       // no selection at all
};

// From the traced records: each document's top-k frequencies times its tokens are its selections.
std::vector<ExpertUsageLayer> expert_usage(const TraceData& td);

}  // namespace moescope
