// synthetic_checkpoint.cpp — the EMO-shaped random checkpoint: tensor plan, shard packing,
// deterministic values, config.json and the index.
#include "bench/synthetic_checkpoint.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <vector>

#include "engine/error.h"
#include "engine/json_file.h"
#include "engine/checkpoint/safetensors_writer.h"
#include "engine/tokenizer/tokenizer.h"

namespace fs = std::filesystem;

namespace moescope {

namespace {

void check_spec(const SyntheticCheckpointSpec& s) {
  const std::string w = "synthetic checkpoint: ";
  auto positive = [&](const char* name, int v) {
    if (v < 1) fail_expected(w + name, "out of range", "at least 1", std::to_string(v));
  };
  positive("layers", s.layers);
  positive("experts", s.experts);
  positive("top_k", s.top_k);
  positive("hidden", s.hidden);
  positive("intermediate", s.intermediate);
  positive("heads", s.heads);
  positive("context", s.context);
  if (s.shared_experts < 0 || s.shared_experts >= s.experts)
    fail_expected(w + "shared_experts", "out of range", "0.." + std::to_string(s.experts - 1), std::to_string(s.shared_experts));
  if (s.top_k > s.experts || s.top_k <= s.shared_experts)
    fail_expected(w + "top_k", "out of range",
                  std::to_string(s.shared_experts + 1) + ".." + std::to_string(s.experts) + " (shared experts plus at least one routed)",
                  std::to_string(s.top_k));
  if (s.hidden % s.heads != 0 || (s.hidden / s.heads) % 2 != 0)
    fail_expected(w + "heads", "hidden / heads must be an even whole number (RoPE)",
                  "a divisor of " + std::to_string(s.hidden) + " leaving an even head size", std::to_string(s.heads));
  if (!dtype_is_float_weight(s.dtype))
    fail_expected(w + "dtype", "not a weight dtype", "F32, BF16 or F16", dtype_name(s.dtype));
  if (s.tokenizer.empty()) fail(w + "tokenizer", "missing (a tokenizer.json to copy is required)");
}

// splitmix64: a fast, well-mixed stream; one per tensor, seeded by its name, so every tensor's
// values are the same whatever the shard layout.
struct Stream {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
};

uint64_t name_seed(const std::string& name, uint64_t seed) {
  uint64_t h = 1469598103934665603ull ^ seed;
  for (unsigned char ch : name) h = (h ^ ch) * 1099511628211ull;
  return h;
}

struct Planned {
  TensorLayout layout;
  bool is_norm = false;    // RMSNorm weights are 1
  bool is_expert = false;
};

std::vector<Planned> plan(const SyntheticCheckpointSpec& s, int64_t V) {
  const int64_t D = s.hidden, I = s.intermediate, E = s.experts;
  std::vector<Planned> out;
  auto add = [&](const std::string& name, std::vector<int64_t> shape, bool norm = false, bool expert = false) {
    out.push_back({{name, s.dtype, std::move(shape)}, norm, expert});
  };
  add("model.embed_tokens.weight", {V, D});
  for (int l = 0; l < s.layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    add(p + "pre_attention_layernorm.weight", {D}, true);
    for (const char* n : {"q", "k", "v", "o"}) add(p + "self_attn." + n + "_proj.weight", {D, D});
    add(p + "pre_feedforward_layernorm.weight", {D}, true);
    add(p + "mlp.gate.weight", {E, D});
    for (int e = 0; e < E; ++e) {
      const std::string q = p + "mlp.experts." + std::to_string(e) + ".";
      add(q + "gate_proj.weight", {I, D}, false, true);
      add(q + "up_proj.weight", {I, D}, false, true);
      add(q + "down_proj.weight", {D, I}, false, true);
    }
  }
  add("model.norm.weight", {D}, true);
  add("lm_head.weight", {V, D});
  return out;
}

// Norms 1; everything else uniform with standard deviation 0.5 / sqrt(fan_in), small enough that
// 16 random layers keep the residual stream (and the NLL) finite.
void fill_values(const Planned& t, uint64_t seed, unsigned char* dst) {
  const size_t n = t.layout.nbytes() / dtype_size(t.layout.dtype);
  const double fan_in = double(t.layout.shape.back());
  const float a = float(std::sqrt(3.0) * 0.5 / std::sqrt(fan_in));
  Stream rng{name_seed(t.layout.name, seed)};
  for (size_t i = 0; i < n; ++i) {
    const float u = float(rng.next() >> 40) * (1.0f / 16777216.0f);  // [0, 1)
    const float v = t.is_norm ? 1.0f : a * (2.0f * u - 1.0f);
    if (t.layout.dtype == DType::F32) {
      std::memcpy(dst + 4 * i, &v, 4);
    } else {
      const uint16_t b = t.layout.dtype == DType::BF16 ? f32_to_bf16(v) : f32_to_f16(v);
      std::memcpy(dst + 2 * i, &b, 2);
    }
  }
}

nlohmann::ordered_json config_json(const SyntheticCheckpointSpec& s, int64_t V) {
  nlohmann::ordered_json c;
  c["architectures"] = {"EmoForCausalLM"};
  c["model_type"] = "emo";
  c["vocab_size"] = V;
  c["hidden_size"] = s.hidden;
  c["intermediate_size"] = s.intermediate;
  c["num_hidden_layers"] = s.layers;
  c["num_attention_heads"] = s.heads;
  c["num_key_value_heads"] = s.heads;
  c["head_dim"] = s.hidden / s.heads;
  c["hidden_act"] = "silu";
  c["max_position_embeddings"] = s.context;
  c["rms_norm_eps"] = 1e-6;
  c["rope_theta"] = 500000.0;
  c["rope_scaling"] = nullptr;
  c["attention_bias"] = false;
  c["attention_dropout"] = 0.0;
  c["num_experts"] = s.experts;
  c["num_experts_per_tok"] = s.top_k;
  c["num_shared_experts"] = s.shared_experts;
  c["norm_topk_prob"] = false;
  c["output_router_logits"] = false;
  c["router_aux_loss_coef"] = 0.01;
  c["tie_word_embeddings"] = false;
  c["bos_token_id"] = nullptr;
  c["eos_token_id"] = V - 1;
  c["pad_token_id"] = V - 1;
  c["torch_dtype"] = s.dtype == DType::BF16 ? "bfloat16" : s.dtype == DType::F16 ? "float16" : "float32";
  return c;
}

std::string shard_name(size_t i, size_t n) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "model-%05zu-of-%05zu.safetensors", i + 1, n);
  return buf;
}

}  // namespace

SyntheticCheckpointInfo write_synthetic_checkpoint(const std::string& dir, const SyntheticCheckpointSpec& spec) {
  check_spec(spec);
  const std::string tokenizer_text = read_text_file(spec.tokenizer, "tokenizer (tokenizer.json)");
  const int64_t V = int64_t(Tokenizer::from_json_text(tokenizer_text, spec.tokenizer).vocab_size());
  const std::vector<Planned> tensors = plan(spec, V);

  // Shards: consecutive runs of the plan, each at most shard_bytes (a larger tensor gets its own).
  std::vector<std::vector<size_t>> shards(1);
  uint64_t in_shard = 0;
  SyntheticCheckpointInfo info;
  info.vocab = int(V);
  for (size_t i = 0; i < tensors.size(); ++i) {
    const uint64_t b = tensors[i].layout.nbytes();
    if (!shards.back().empty() && in_shard + b > spec.shard_bytes) {
      shards.emplace_back();
      in_shard = 0;
    }
    shards.back().push_back(i);
    in_shard += b;
    info.tensor_bytes += b;
    if (tensors[i].is_expert) info.expert_bytes += b;
  }
  info.shards = shards.size();

  write_folder_atomically(dir, [&](const std::string& tmp) {
    nlohmann::ordered_json weight_map = nlohmann::ordered_json::object();
    for (size_t s = 0; s < shards.size(); ++s) {
      const std::string name = shard_name(s, shards.size());
      std::vector<TensorLayout> layouts;
      for (size_t i : shards[s]) {
        layouts.push_back(tensors[i].layout);
        weight_map[tensors[i].layout.name] = name;
      }
      write_safetensors_streamed(
          (fs::path(tmp) / name).string(), layouts,
          [&](size_t k, unsigned char* dst) { fill_values(tensors[shards[s][k]], spec.seed, dst); }, {{"format", "pt"}});
    }
    nlohmann::ordered_json index;
    index["metadata"] = {{"total_size", info.tensor_bytes}};
    index["weight_map"] = weight_map;
    write_file_atomically((fs::path(tmp) / "model.safetensors.index.json").string(), index.dump(2) + "\n");
    write_file_atomically((fs::path(tmp) / "config.json").string(), config_json(spec, V).dump(2) + "\n");
    write_file_atomically((fs::path(tmp) / "tokenizer.json").string(), tokenizer_text);
  });
  return info;
}

}  // namespace moescope
