// family.h — one model family: everything moescope knows about it beyond the common transformer,
// kept in the family's own file under engine/families/ (as llama.cpp's src/models/): its
// config.json fields and defaults, its tensor names, how its files store experts, and what a
// pruned export writes. Adding a family = its file + one line in registry.cpp (+ its Arch value).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/checkpoint/checkpoint.h"
#include "engine/checkpoint/tensor_names.h"
#include "engine/config.h"
#include "engine/config_fields.h"

namespace moescope {

struct Family {
  Arch arch;
  std::vector<const char*> model_types;  // config.json's model_type values it answers to; the first is its name
  const char* display_name;              // in messages ("Qwen2-MoE")
  // Defaults of the family's transformers config class.
  float rms_norm_eps;
  int max_position_embeddings;
  float rope_theta;
  // Reads the fields only this family has into c (c.layers is sized, every layer dense); returns,
  // per layer, 1 where the family's own rule makes it a MoE layer. Per-layer lists (EMO) are
  // applied afterwards by config.cpp.
  std::vector<uint8_t> (*read_config)(const ConfigFields& f, ModelConfig& c);
  // Layer names as the Hub saves them: n.prefix is set; fill the norms, blocks and expert parts.
  void (*hub_names)(const ModelConfig& c, LayerTensorNames& n);
  // Names in files saved from transformers' in-memory layout where they differ (Mixtral), else null.
  void (*saved_names)(const ModelConfig& c, const Checkpoint& ckpt, LayerTensorNames& n) = nullptr;
  // Experts as two input-major banks, gate_up_proj [E, D, 2I] and down_proj [E, I, D] (Llama 4).
  bool experts_input_major = false;
  // config.json may list experts per layer (EMO); other families' exports keep one count.
  bool per_layer_expert_counts = false;
  // Where a pruned export writes a uniform expert count when the config names none.
  const char* expert_count_key = "num_experts";
  // The width a dense layer needs (named when it is missing).
  const char* dense_width_key = "intermediate_size";
};

// The registry (registry.cpp).
const Family& family_of(Arch arch);
const Family* family_by_model_type(const std::string& model_type);
std::string known_model_types();  // "emo, flex_olmo_noqknorm_prenorm, olmoe, ..."

// The families (one file each).
extern const Family kEmoFamily, kOlmoeFamily, kFlexOlmoFamily, kMixtralFamily, kMistralFamily, kQwen2MoeFamily,
    kQwen3MoeFamily, kDeepseekV2Family, kDeepseekV3Family, kLlama4Family;

}  // namespace moescope
