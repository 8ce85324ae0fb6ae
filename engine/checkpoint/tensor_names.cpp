// tensor_names.cpp — a layer's tensor names: the prefix here, the rest from its family (engine/families/).
#include "engine/checkpoint/tensor_names.h"

#include "engine/families/family.h"

namespace moescope {

LayerTensorNames hub_layer_tensor_names(const ModelConfig& c, int l) {
  LayerTensorNames n;
  n.prefix = c.tensor_prefix + "model.layers." + std::to_string(l) + ".";
  family_of(c.arch).hub_names(c, n);
  return n;
}

LayerTensorNames layer_tensor_names(const ModelConfig& c, const Checkpoint& ckpt, int l) {
  LayerTensorNames n = hub_layer_tensor_names(c, l);
  if (const auto saved = family_of(c.arch).saved_names) saved(c, ckpt, n);
  return n;
}

std::string model_tensor(const ModelConfig& c, const std::string& name) { return c.tensor_prefix + name; }

}  // namespace moescope
