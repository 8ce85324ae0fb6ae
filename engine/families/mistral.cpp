// mistral.cpp — Mistral (dense): every layer an MLP, a sliding window (transformers' default 4096).
#include "engine/families/family.h"
#include "engine/families/family_fields.h"

namespace moescope {

namespace {

std::vector<uint8_t> read_mistral(const ConfigFields& f, ModelConfig& c) {
  c.dense_width = f.integer("intermediate_size", std::nullopt, 1);
  // transformers' MistralConfig defaults to a 4096 window when the key is absent; null means none.
  const int window = f.j.contains("sliding_window") ? f.integer("sliding_window", 0, 0) : 4096;
  for (auto& s : c.layers) s.sliding_window = window;
  f.reject("num_experts", "a Mistral (dense) config has no experts: use model_type 'mixtral'");
  f.reject("num_local_experts", "a Mistral (dense) config has no experts: use model_type 'mixtral'");
  return all_layers(c, 0);
}

void mistral_names(const ModelConfig&, LayerTensorNames& n) {
  set_llama_layout(n);
}

}  // namespace

const Family kMistralFamily = {Arch::Mistral, {"mistral"}, "Mistral", 1e-6f, 131072, 10000.f, read_mistral, mistral_names};

}  // namespace moescope
