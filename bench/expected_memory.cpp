// expected_memory.cpp — classifying checkpoint tensors by name into shared weights and experts.
#include "bench/expected_memory.h"

#include <cctype>
#include <string>

namespace moescope {

namespace {

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// The decimal number at s[i...] (at most 9 digits); -1 when there is none. i moves past it.
int number_at(const std::string& s, size_t& i) {
  const size_t start = i;
  int v = 0;
  while (i < s.size() && i - start < 9 && std::isdigit(static_cast<unsigned char>(s[i]))) v = v * 10 + (s[i++] - '0');
  return i == start ? -1 : v;
}

// "model.layers.L.mlp.experts.<rest>" -> L and <rest>; false for anything else.
bool expert_tensor(const std::string& name, int& layer, std::string& rest) {
  const std::string head = "model.layers.", mid = ".mlp.experts.";
  if (name.rfind(head, 0) != 0) return false;
  size_t i = head.size();
  layer = number_at(name, i);
  if (layer < 0 || name.compare(i, mid.size(), mid) != 0) return false;
  rest = name.substr(i + mid.size());
  return true;
}

bool has_bf16_copy(const std::string& name) {
  for (const char* p : {"q_proj.weight", "k_proj.weight", "v_proj.weight", "o_proj.weight", "mlp.gate_proj.weight",
                        "mlp.up_proj.weight", "mlp.down_proj.weight"})
    if (ends_with(name, p)) return true;
  return name == "lm_head.weight";
}

}  // namespace

ExpectedMemory expected_memory(const Checkpoint& ckpt, const ModelConfig& c, const ExpertSubset& subset) {
  ExpectedMemory m;
  for (int l = 0; l < c.num_layers; ++l)
    for (int e = 0; e < c.layers[size_t(l)].num_experts; ++e) m.experts_kept += subset.keeps(c, l, e) ? 1 : 0;
  for (const std::string& name : ckpt.names()) {
    const uint64_t numel = uint64_t(ckpt.get(name).numel());
    const uint64_t amx_bytes_per_element = ckpt.get(name).dtype == DType::BF16 ? 2 : 6;
    int layer = 0;
    std::string rest;
    if (!expert_tensor(name, layer, rest) || layer >= c.num_layers) {
      m.shared_f32 += 4 * numel;
      if (has_bf16_copy(name)) m.bf16_copies += 2 * numel, m.amx_copies += amx_bytes_per_element * numel;
      continue;
    }
    const int E = c.layers[size_t(layer)].num_experts;
    uint64_t kept_numel = 0;
    size_t at = 0;
    if (const int e = number_at(rest, at); e >= 0) {
      kept_numel = e < E && subset.keeps(c, layer, e) ? numel : 0;  // mlp.experts.E.{gate,up,down}_proj.weight
    } else if (E > 0) {
      int kept = 0;  // fused [E, ...]: an equal share per kept expert
      for (int e = 0; e < E; ++e) kept += subset.keeps(c, layer, e) ? 1 : 0;
      kept_numel = numel / uint64_t(E) * uint64_t(kept);
    }
    m.experts_f32 += 4 * kept_numel;
    m.bf16_copies += 2 * kept_numel;
    m.amx_copies += amx_bytes_per_element * kept_numel;
  }
  // Tied embeddings: the head is the embedding, and its BF16 copy is made all the same.
  if (!ckpt.find("lm_head.weight") && ckpt.find("model.embed_tokens.weight")) {
    const TensorInfo& embed = ckpt.get("model.embed_tokens.weight");
    m.bf16_copies += 2 * uint64_t(embed.numel());
    m.amx_copies += (embed.dtype == DType::BF16 ? 2 : 6) * uint64_t(embed.numel());
  }
  return m;
}

}  // namespace moescope
