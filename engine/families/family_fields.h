// family_fields.h — config and naming helpers several families share (family_fields.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/checkpoint/tensor_names.h"
#include "engine/config.h"
#include "engine/config_fields.h"

namespace moescope {

// Experts per MoE layer: `num_experts`, or `num_local_experts` (Mixtral's name for it).
int read_num_experts(const ConfigFields& f, bool required);

// EMO's per-layer fields; any other family would ignore them, so they are refused.
void reject_emo_fields(const ConfigFields& f, const std::string& family);

// Every layer MoE (1) or dense (0).
std::vector<uint8_t> all_layers(const ModelConfig& c, uint8_t moe);

// Per layer, 1 where `layer_types` names `windowed` ("sliding_attention", "chunked_attention") and
// 0 where it names "full_attention"; anything else is refused by name.
std::vector<uint8_t> windowed_layers(const ConfigFields& f, const ModelConfig& c, const std::string& windowed);

// The MoE block under n.prefix + `block` ("mlp.", "block_sparse_moe.", "feed_forward."): its
// router (`router_leaf`), DeepSeek's selection bias, experts, and the shared MLP (`shared_leaf`).
void set_moe_block(LayerTensorNames& n, const std::string& block, const char* router_leaf = "gate.weight",
                   const char* shared_leaf = "shared_expert.");
// Llama-style norm names: input_layernorm before attention, post_attention_layernorm before the MLP.
void set_llama_norms(LayerTensorNames& n);
// The common layout: Llama-style norms, the dense MLP and the MoE block both under "mlp.".
void set_llama_layout(LayerTensorNames& n);

}  // namespace moescope
