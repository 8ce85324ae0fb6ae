// config_rope.h — the RoPE part of config.json parsing (config_rope.cpp; internal to config.cpp).
#pragma once

#include "engine/config.h"
#include "engine/config_fields.h"

namespace moescope {

// rope_theta and the RoPE scaling spec into c.rope_theta and c.rope; needs
// c.max_position_embeddings (the default pretraining context of yarn and llama3).
void read_rope(const ConfigFields& f, ModelConfig& c, float default_theta);

}  // namespace moescope
