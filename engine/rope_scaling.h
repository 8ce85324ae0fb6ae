// rope_scaling.h — RoPE inverse frequencies and the cos/sin attention factor of a RopeSpec, as
// transformers 5.23 computes them (modeling_rope_utils: _compute_linear_scaling_rope_parameters,
// _compute_yarn_parameters, _compute_llama3_parameters), and DeepSeek's yarn softmax scale.
#pragma once

#include <vector>

#include "engine/config.h"

namespace moescope {

struct RopeFrequencies {
  std::vector<float> inv_freq;     // [dim/2], fp32 op by op like the reference
  float attention_factor = 1.f;    // cos and sin are multiplied by it (yarn; 1 otherwise)
};

// inv_freq [dim/2]: theta^(-2i/dim), in fp32 like the reference (the default RoPE).
std::vector<float> rope_inv_freq(float theta, int dim);

// Frequencies of the `dim` rotated dimensions of a head (head_dim, or qk_rope_head_dim for MLA).
RopeFrequencies rope_frequencies(const RopeSpec& spec, int dim);

// DeepSeek-V2/V3 attention's softmax scale: qk_head_dim^-0.5, times mscale² with
// mscale = 0.1 * mscale_all_dim * ln(factor) + 1 when the type is not default and mscale_all_dim is
// set (yarn_apply_mscale; mscale is 1 for factor <= 1).
float mla_softmax_scale(const RopeSpec& spec, int qk_head_dim);

}  // namespace moescope
