// config_summary.h — one-line descriptions of what a config's family does (routing, attention,
// shared MLP), for `info` and the desktop app's Model view.
#pragma once

#include <string>

#include "engine/config.h"

namespace moescope {

// e.g. "softmax top-2 of 8, renormalised" or "sigmoid + correction bias, top-8 of 256 in the 4 best of 8 groups, x2.5".
std::string describe_routing(const ModelConfig& c);
// e.g. "GQA 32 heads / 8 key-value, head_dim 128, sliding window 4096" or "MLA: ...".
std::string describe_attention(const ModelConfig& c);
// e.g. "sigmoid-gated shared MLP, width 5632 (not routed)"; "" when the family has none.
std::string describe_shared_mlp(const ModelConfig& c);

}  // namespace moescope
