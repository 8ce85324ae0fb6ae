// pruned_checkpoint.cpp — EMO-style pruned checkpoint export.
#include "analysis/pruned_checkpoint.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <cstring>
#include <fstream>

#include "engine/checkpoint/checkpoint.h"
#include "engine/config.h"
#include "engine/error.h"
#include "engine/json_file.h"
#include "engine/checkpoint/safetensors_writer.h"
#include "engine/checkpoint/tensor_names.h"
#include "engine/families/family.h"

namespace fs = std::filesystem;

namespace moescope {

namespace {

// BF16 bytes of n elements starting at element `first` of a float tensor.
std::vector<unsigned char> bf16_slice(const TensorInfo& t, size_t first, size_t n) {
  std::vector<unsigned char> out(n * 2);
  const size_t es = dtype_size(t.dtype);
  if (t.dtype == DType::BF16) {
    std::memcpy(out.data(), t.data + first * es, n * 2);
    return out;
  }
  std::vector<float> f(n);
  convert_to_f32(t.dtype, t.data + first * es, f.data(), n);
  for (size_t i = 0; i < n; ++i) {
    const uint16_t b = f32_to_bf16(f[i]);
    out[2 * i] = uint8_t(b & 0xff);
    out[2 * i + 1] = uint8_t(b >> 8);
  }
  return out;
}

TensorToWrite whole(const TensorInfo& t) {
  if (!dtype_is_float_weight(t.dtype)) {  // integer buffers are copied as they are
    TensorToWrite w{t.name, t.dtype, t.shape, std::vector<unsigned char>(t.data, t.data + t.nbytes)};
    return w;
  }
  return {t.name, DType::BF16, t.shape, bf16_slice(t, 0, size_t(t.numel()))};
}

// Rows [r0, r0 + n) of the first dimension of t (each row = numel / shape[0] elements).
std::vector<unsigned char> rows_bf16(const TensorInfo& t, int64_t r0, int64_t n) {
  const size_t row = size_t(t.numel() / t.shape[0]);
  return bf16_slice(t, size_t(r0) * row, size_t(n) * row);
}

struct GroupsKept {
  int n_group = 0;
};

// Grouped routing (DeepSeek) survives pruning only if the routed experts still fall in equal
// consecutive groups: each original group keeps the same number of experts or none (a group
// dropped whole), the same groups in every layer. Then the pruned router sees the same groups.
GroupsKept groups_kept(const ModelConfig& c, const std::vector<std::vector<int>>& kept_per_layer, const std::string& out_dir) {
  GroupsKept g;
  std::vector<int> pattern;
  for (int l = 0; l < c.num_layers; ++l) {
    const LayerSpec& spec = c.layers[size_t(l)];
    if (!spec.is_moe()) continue;
    const int per = spec.num_experts / c.router.n_group;
    std::vector<int> count(size_t(c.router.n_group), 0);
    for (int e : kept_per_layer[size_t(l)]) ++count[size_t(e / per)];
    int size = 0;
    for (int n : count) {
      if (n == 0) continue;
      if (size && n != size)
        fail(out_dir, "layer " + std::to_string(l) + ": grouped routing (n_group " + std::to_string(c.router.n_group) +
                          ") needs the same number of kept experts in every kept group, or whole groups dropped");
      size = n;
    }
    if (c.router.group_score == GroupScore::TopTwoSum && size < 2)
      fail(out_dir, "layer " + std::to_string(l) + ": DeepSeek-V3 scores a group by its two best experts: keep at least 2 per kept group");
    if (!pattern.empty() && pattern != count)
      fail(out_dir, "grouped routing needs the same groups kept in every layer (layer " + std::to_string(l) + " differs)");
    pattern = count;
  }
  for (int n : pattern) g.n_group += n > 0 ? 1 : 0;
  return g;
}

}  // namespace

PrunedCheckpointInfo write_pruned_checkpoint(const std::string& model_dir, const ExpertSubset& subset,
                                             const std::string& out_dir, const nlohmann::json& metadata) {
  if (fs::exists(out_dir)) fail(out_dir, "already exists (choose a new folder; nothing is overwritten)");
  const std::string config_path = (fs::path(model_dir) / "config.json").string();
  const ModelConfig c = ModelConfig::from_file(config_path);
  nlohmann::json cfg = read_json_file(config_path, "model config");
  const Checkpoint ckpt(model_dir);
  if (subset.kept_per_layer.size() != size_t(c.num_layers))
    fail_expected(out_dir, "subset has the wrong number of layers", std::to_string(c.num_layers),
                  std::to_string(subset.kept_per_layer.size()));

  PrunedCheckpointInfo info;
  std::vector<TensorToWrite> out;
  std::vector<int> experts_per_layer, shared_per_layer;
  std::vector<nlohmann::json> aa_per_layer;
  nlohmann::json kept_json = nlohmann::json::array();
  bool uniform = true;
  int first_count = -1;
  for (int l = 0; l < c.num_layers; ++l) {
    const LayerSpec& spec = c.layers[size_t(l)];
    std::vector<int> kept;
    for (int e = 0; e < spec.num_experts; ++e)
      if (subset.keeps(c, l, e)) kept.push_back(e);  // ascending: standard first, shared last
    info.kept_per_layer.push_back(kept);
    experts_per_layer.push_back(int(kept.size()));
    shared_per_layer.push_back(spec.num_shared);
    nlohmann::json aa = nlohmann::json::array();
    for (int a : spec.always_active)
      aa.push_back(int(std::lower_bound(kept.begin(), kept.end(), a) - kept.begin()));
    aa_per_layer.push_back(aa);
    kept_json.push_back(spec.is_moe() && !subset.is_full(l) ? nlohmann::json(kept) : nlohmann::json());
    if (spec.is_moe()) {
      if (first_count < 0) first_count = int(kept.size());
      uniform = uniform && int(kept.size()) == first_count;
    }
  }

  // Tensors: everything but the experts and routers as is (in BF16), then the kept experts
  // renumbered, under the family's Hub names (Mixtral: block_sparse_moe.experts.J.w1/w3/w2).
  std::vector<LayerTensorNames> names;
  for (int l = 0; l < c.num_layers; ++l) names.push_back(layer_tensor_names(c, ckpt, l));
  auto starts_with = [](const std::string& s, const std::string& p) { return s.compare(0, p.size(), p) == 0; };
  for (const std::string& name : ckpt.names()) {
    int layer = -1;
    for (int l = 0; l < c.num_layers && layer < 0; ++l)
      if (c.layers[size_t(l)].is_moe() && starts_with(name, names[size_t(l)].moe)) layer = l;
    if (layer >= 0 && starts_with(name, names[size_t(layer)].experts)) continue;
    const bool bias = layer >= 0 && name == names[size_t(layer)].router_bias;
    if (layer >= 0 && (name == names[size_t(layer)].router || bias)) {
      const TensorInfo& t = ckpt.get(name);
      const auto& kept = info.kept_per_layer[size_t(layer)];
      const LayerTensorNames hub = hub_layer_tensor_names(c, layer);
      const std::string out_name = bias ? hub.router_bias : hub.router;
      TensorToWrite w{out_name, bias ? t.dtype : DType::BF16,
                      bias ? std::vector<int64_t>{int64_t(kept.size())} : std::vector<int64_t>{int64_t(kept.size()), t.shape[1]}, {}};
      if (bias) {  // the selection bias stays in its own dtype (FP32 in DeepSeek-V3's files)
        const size_t es = dtype_size(t.dtype);
        for (int e : kept) w.bytes.insert(w.bytes.end(), t.data + size_t(e) * es, t.data + size_t(e + 1) * es);
        out.push_back(std::move(w));
        continue;
      }
      for (int e : kept) {
        auto row = rows_bf16(t, e, 1);
        w.bytes.insert(w.bytes.end(), row.begin(), row.end());
      }
      out.push_back(std::move(w));
      continue;
    }
    out.push_back(whole(ckpt.get(name)));
  }
  for (int l = 0; l < c.num_layers; ++l) {
    if (!c.layers[size_t(l)].is_moe()) continue;
    const LayerTensorNames& n = names[size_t(l)];
    const TensorInfo* fused = ckpt.find(n.experts + "gate_up_proj");
    const LayerTensorNames hub = hub_layer_tensor_names(c, l);
    const auto& kept = info.kept_per_layer[size_t(l)];
    if (family_of(c.arch).experts_input_major && ckpt.find(n.experts + "gate_up_proj")) {  // two input-major banks [E, D, 2I] and [E, I, D], sliced along E
      for (const char* bank : {"gate_up_proj", "down_proj"}) {
        const TensorInfo& t = ckpt.get(n.experts + bank);
        TensorToWrite w{hub.experts + bank, DType::BF16, {int64_t(kept.size()), t.shape[1], t.shape[2]}, {}};
        for (int e : kept) {
          auto block = rows_bf16(t, e, 1);
          w.bytes.insert(w.bytes.end(), block.begin(), block.end());
        }
        out.push_back(std::move(w));
      }
      continue;
    }
    for (size_t j = 0; j < kept.size(); ++j) {
      const int e = kept[j], to = int(j);
      if (fused) {
        const TensorInfo& down_t = ckpt.get(n.experts + "down_proj");
        const int64_t I2 = fused->shape[1], D = fused->shape[2];
        const size_t per = size_t(I2 * D), half = per / 2;
        out.push_back({hub.expert(to, hub.gate), DType::BF16, {I2 / 2, D}, bf16_slice(*fused, size_t(e) * per, half)});
        out.push_back({hub.expert(to, hub.up), DType::BF16, {I2 / 2, D}, bf16_slice(*fused, size_t(e) * per + half, half)});
        out.push_back({hub.expert(to, hub.down), DType::BF16, {down_t.shape[1], down_t.shape[2]}, rows_bf16(down_t, e, 1)});
      } else {
        const char* from_parts[] = {n.gate, n.up, n.down};
        const char* to_parts[] = {hub.gate, hub.up, hub.down};
        for (int i = 0; i < 3; ++i) {
          TensorToWrite w = whole(ckpt.get(n.expert(e, from_parts[i])));
          w.name = hub.expert(to, to_parts[i]);
          out.push_back(std::move(w));
        }
      }
    }
  }

  // config.json
  int min_kept = 1 << 30;
  for (int l = 0; l < c.num_layers; ++l)
    if (c.layers[size_t(l)].is_moe()) min_kept = std::min(min_kept, experts_per_layer[size_t(l)]);
  const bool per_layer_lists = cfg.contains("num_experts_per_layer") && !cfg["num_experts_per_layer"].is_null();
  if (first_count < 0) {
    // No MoE layer (a dense model): nothing about experts changes.
  } else if (!uniform || per_layer_lists) {
    if (!family_of(c.arch).per_layer_expert_counts)
      fail(out_dir, std::string(arch_name(c.arch)) +
                        " configs have one expert count for all layers: keep the same number of experts in every MoE layer");
    cfg["num_experts_per_layer"] = experts_per_layer;
    cfg["num_shared_experts_per_layer"] = shared_per_layer;
    cfg["num_experts"] = min_kept;
  } else {
    // Whichever name the family uses for the routed-expert count (Mixtral and Llama 4:
    // num_local_experts; DeepSeek: n_routed_experts).
    bool set = false;
    for (const char* key : {"num_experts", "num_local_experts", "n_routed_experts"})
      if (cfg.contains(key) && !cfg[key].is_null()) {
        cfg[key] = first_count;
        set = true;
      }
    if (!set) cfg[family_of(c.arch).expert_count_key] = first_count;
  }
  if (c.router.n_group > 1 && first_count >= 0) {
    const GroupsKept g = groups_kept(c, info.kept_per_layer, out_dir);
    cfg["n_group"] = g.n_group;
    cfg["topk_group"] = std::min(c.router.topk_group, g.n_group);
  }
  if (first_count >= 0) cfg["num_experts_per_tok"] = std::min(c.top_k, min_kept);
  if (cfg.contains("always_active_experts_per_layer") || cfg.contains("always_active_experts")) {
    bool any = false;
    for (const auto& a : aa_per_layer) any = any || !a.empty();
    if (any) {
      cfg["always_active_experts_per_layer"] = aa_per_layer;
      cfg.erase("always_active_experts");
    }
  }
  cfg["output_router_logits"] = true;
  cfg["torch_dtype"] = "bfloat16";

  nlohmann::json meta = metadata.is_object() ? metadata : nlohmann::json::object();
  meta["original_model"] = fs::absolute(model_dir).lexically_normal().string();
  meta["num_shared_experts"] = c.num_shared_experts;
  meta["experts_kept_per_layer"] = kept_json;
  // The original layer sizes, so the pruned model can say "k of E" and map its ids back without
  // the original folder (engine/checkpoint/pruning_provenance.h).
  nlohmann::json original_sizes = nlohmann::json::array();
  for (const LayerSpec& spec : c.layers) original_sizes.push_back(spec.num_experts);
  meta["original_experts_per_layer"] = original_sizes;

  // The folder appears complete or not at all.
  write_folder_atomically(out_dir, [&](const std::string& dir) {
    const fs::path tmp(dir);
    write_safetensors((tmp / "model.safetensors").string(), out, {{"format", "pt"}});
    write_file_atomically((tmp / "config.json").string(), cfg.dump(2) + "\n");
    write_file_atomically((tmp / "pruning_metadata.json").string(), meta.dump(2) + "\n");
    for (const char* extra : {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json"}) {
      const fs::path src = fs::path(model_dir) / extra;
      if (fs::exists(src)) fs::copy_file(src, tmp / extra);
    }
  });
  info.tensors = out.size();
  for (const auto& t : out) info.bytes += t.bytes.size();
  return info;
}

}  // namespace moescope
