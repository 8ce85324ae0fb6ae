// flops.h — useful floating-point work of a forward pass (multiply-adds count 2), for
// benchmarks that report achieved FLOP/s against a peak. Only the work the math needs is
// counted: K experts per token, causal attention over each document's prefix.
#pragma once

#include <vector>

#include "engine/config.h"
#include "engine/cpu/cpu_ops.h"

namespace moescope {

struct ForwardFlops {
  double projections = 0;  // q, k, v, o
  double attention = 0;    // scores and weighted sum, causal
  double router = 0;
  double experts = 0;      // routed + shared experts, dense MLPs
  double lm_head = 0;
  double total() const { return projections + attention + router + experts + lm_head; }
};

ForwardFlops forward_flops(const ModelConfig& config, const std::vector<DocumentSpan>& docs);

}  // namespace moescope
