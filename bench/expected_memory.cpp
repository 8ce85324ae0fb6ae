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

bool is_router(const std::string& name) { return ends_with(name, "mlp.gate.weight") || ends_with(name, "router.weight"); }

// Bytes per element of a GEMM weight stored in `dtype`, held in `mode`.
uint64_t gemm_bytes_per_element(DType dtype, ExpectedMode mode) {
  if (mode == ExpectedMode::Bf16) return 2;
  if (dtype == DType::F32) return mode == ExpectedMode::F32Amx ? 6 : 4;
  return 2;  // BF16 (one AMX part, or as stored) and F16 (always as stored)
}

}  // namespace

ExpectedMemory expected_memory(const Checkpoint& ckpt, const ModelConfig& c, const ExpertSubset& subset, ExpectedMode mode) {
  ExpectedMemory m;
  for (int l = 0; l < c.num_layers; ++l)
    for (int e = 0; e < c.layers[size_t(l)].num_experts; ++e) m.experts_kept += subset.keeps(c, l, e) ? 1 : 0;
  for (const std::string& name : ckpt.names()) {
    const TensorInfo& t = ckpt.get(name);
    const uint64_t numel = uint64_t(t.numel()), size = dtype_size(t.dtype);
    int layer = 0;
    std::string rest;
    if (!expert_tensor(name, layer, rest) || layer >= c.num_layers) {
      m.needed += numel * size;
      if (name == "model.embed_tokens.weight") m.resident += numel * size;
      else if (t.shape.size() <= 1 || is_router(name)) m.resident += 4 * numel;
      else m.resident += gemm_bytes_per_element(t.dtype, mode) * numel;
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
    m.needed += kept_numel * size;
    m.experts += kept_numel * size;
    m.resident += gemm_bytes_per_element(t.dtype, mode) * kept_numel;
  }
  // Tied embeddings: the head is the embedding where both are held the same way (F32 mode);
  // the AMX and BF16 layouts are a second copy.
  if (!ckpt.find("lm_head.weight") && ckpt.find("model.embed_tokens.weight") && mode != ExpectedMode::F32) {
    const TensorInfo& embed = ckpt.get("model.embed_tokens.weight");
    if (mode == ExpectedMode::F32Amx && embed.dtype == DType::F16) return m;  // F16 stays as stored on AMX too
    m.resident += gemm_bytes_per_element(embed.dtype, mode) * uint64_t(embed.numel());
  }
  return m;
}

}  // namespace moescope
