// config_families.h — the per-family and RoPE parts of config.json parsing (internal to config.cpp).
#pragma once

#include <cstdint>
#include <vector>

#include "engine/config.h"
#include "engine/config_fields.h"

namespace moescope {

// Reads the fields only c.arch's family has (widths, experts, router options, attention
// variants) into c; returns, per layer, whether the family's own rule makes it a MoE layer
// (1) or a dense MLP (0). Per-layer expert lists (EMO) are applied afterwards by the caller.
std::vector<uint8_t> read_family_fields(const ConfigFields& f, ModelConfig& c);

// rope_theta and the RoPE scaling spec into c.rope_theta and c.rope (config_rope.cpp); needs
// c.max_position_embeddings (the default pretraining context of yarn and llama3).
void read_rope(const ConfigFields& f, ModelConfig& c, float default_theta);

}  // namespace moescope
