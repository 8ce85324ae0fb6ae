// param_count.h — parameter counts of a model from its config alone (no weights needed), the way
// model cards quote them: total = every weight; active = what one token uses (its K routed
// experts, shared MLPs, attention, embeddings and head).
#pragma once

#include "engine/config.h"

namespace moescope {

struct ParamCounts {
  double total = 0;
  double active = 0;
};

// Uses c.vocab_size for the embedding (and the head unless tied).
ParamCounts count_params(const ModelConfig& c);

// Parameters a token does not use: (E - K) routed experts in every MoE layer.
double inactive_params(const ModelConfig& c);

}  // namespace moescope
