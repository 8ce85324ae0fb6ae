// token_usage.h — where chosen tokens go in a traced corpus: per token id its occurrences, the
// documents holding it and the experts it is routed to most in one MoE layer (the explorer's
// token search).
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "analysis/trace_data.h"

namespace moescope {

struct TokenUsage {
  int32_t id = 0;
  size_t occurrences = 0, documents = 0;
  std::vector<std::pair<int, double>> experts;  // (standard expert, share of the token's selections), most first
  std::vector<size_t> document_indices;         // into td.docs, corpus order
};

// One entry per id that occurs at all, most frequent first; at most `top_experts` experts each.
std::vector<TokenUsage> token_usage(const TraceData& td, size_t l, const std::vector<int32_t>& ids, int top_experts = 5);

}  // namespace moescope
