// config.cpp — parsing config.json for the supported families (emo, olmoe) and resolving the
// per-layer expert structure exactly as emo-reference.md §1.2 and §1.4 describe.
#include "engine/config.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

#include "engine/error.h"
#include "engine/json_file.h"

namespace moescope {

namespace {

using nlohmann::json;

struct Fields {
  const json& j;
  std::string source;

  std::string where(const std::string& key) const { return source + ": field '" + key + "'"; }
  bool has(const std::string& key) const { return j.contains(key) && !j[key].is_null(); }

  int integer(const std::string& key, std::optional<int> def, int min_value = 0, int max_value = 1 << 30) const {
    if (!has(key)) {
      if (def) return *def;
      fail(where(key), "missing (required)");
    }
    const json& v = j[key];
    if (!v.is_number_integer()) fail_expected(where(key), "wrong type", "an integer", brief(v));
    int64_t x = v.get<int64_t>();
    if (x < min_value || x > max_value)
      fail_expected(where(key), "out of range",
                    "an integer in [" + std::to_string(min_value) + ", " + std::to_string(max_value) + "]", brief(v));
    return int(x);
  }
  // A finite number > 0 (eps, theta, clip values).
  float positive(const std::string& key, float def) const {
    if (!has(key)) return def;
    const json& v = j[key];
    if (!v.is_number()) fail_expected(where(key), "wrong type", "a number", brief(v));
    const double x = v.get<double>();
    if (!std::isfinite(x) || x <= 0 || x > 3.0e38)
      fail_expected(where(key), "out of range", "a finite number > 0", brief(v));
    return float(x);
  }
  bool boolean(const std::string& key, bool def) const {
    if (!has(key)) return def;
    const json& v = j[key];
    if (!v.is_boolean()) fail_expected(where(key), "wrong type", "true or false", brief(v));
    return v.get<bool>();
  }
  std::optional<std::vector<int>> int_list(const std::string& key) const {
    if (!has(key)) return std::nullopt;
    const json& v = j[key];
    if (!v.is_array()) fail_expected(where(key), "wrong type", "a list of integers or null", brief(v));
    std::vector<int> out;
    for (const auto& x : v) {
      if (!x.is_number_integer() || x.get<int64_t>() < 0 || x.get<int64_t>() > (1 << 30))
        fail_expected(where(key), "bad list entry", "integers in [0, 2^30]", brief(x));
      out.push_back(int(x.get<int64_t>()));
    }
    return out;
  }
  std::optional<int> token_id(const std::string& key) const {
    if (!has(key)) return std::nullopt;
    const json& v = j[key];
    if (v.is_array()) {  // generation-style lists: the first id is the primary one
      if (v.empty() || !v[0].is_number_integer()) return std::nullopt;
      return int(v[0].get<int64_t>());
    }
    if (!v.is_number_integer()) fail_expected(where(key), "wrong type", "an integer or null", brief(v));
    return int(v.get<int64_t>());
  }
};

std::optional<Arch> arch_from_model_type(const std::string& t) {
  if (t == "emo" || t == "flex_olmo_noqknorm_prenorm") return Arch::Emo;
  if (t == "olmoe") return Arch::Olmoe;
  return std::nullopt;
}

void read_rope(const Fields& f, ModelConfig& c) {
  // transformers 5 writes rope_parameters {rope_theta, rope_type}; older files use rope_theta + rope_scaling.
  c.rope_theta = f.positive("rope_theta", 10000.f);
  const char* scaling_keys[] = {"rope_scaling", "rope_parameters"};
  for (const char* key : scaling_keys) {
    if (!f.has(key)) continue;
    const json& r = f.j[key];
    if (!r.is_object()) fail_expected(f.where(key), "wrong type", "an object or null", brief(r));
    std::string type = "default";
    if (r.contains("rope_type") && r["rope_type"].is_string()) type = r["rope_type"].get<std::string>();
    else if (r.contains("type") && r["type"].is_string()) type = r["type"].get<std::string>();
    if (type != "default")
      fail_expected(f.where(key), "unsupported RoPE scaling", "rope_type 'default'", "'" + type + "'");
    if (r.contains("rope_theta")) c.rope_theta = Fields{r, f.source + ": field '" + key + "'"}.positive("rope_theta", c.rope_theta);
  }
}

void resolve_layers(const Fields& f, ModelConfig& c) {
  auto experts_per_layer = f.int_list("num_experts_per_layer");
  auto shared_per_layer = f.int_list("num_shared_experts_per_layer");
  auto always_active = f.int_list("always_active_experts");
  std::optional<std::vector<std::vector<int>>> aa_per_layer;
  if (f.has("always_active_experts_per_layer")) {
    const json& v = f.j["always_active_experts_per_layer"];
    if (!v.is_array() || v.size() != size_t(c.num_layers))
      fail_expected(f.where("always_active_experts_per_layer"), "wrong shape",
                    "a list of " + std::to_string(c.num_layers) + " lists", brief(v));
    aa_per_layer.emplace();
    for (const auto& layer : v) {
      std::vector<int> ids;
      if (!layer.is_null()) {
        if (!layer.is_array()) fail_expected(f.where("always_active_experts_per_layer"), "bad entry", "a list of expert ids or null", brief(layer));
        for (const auto& x : layer) {
          if (!x.is_number_integer() || x.get<int64_t>() < 0 || x.get<int64_t>() > (1 << 30))
            fail_expected(f.where("always_active_experts_per_layer"), "bad expert id", "a non-negative integer", brief(x));
          ids.push_back(int(x.get<int64_t>()));
        }
      }
      aa_per_layer->push_back(ids);
    }
  }
  if (experts_per_layer && experts_per_layer->size() != size_t(c.num_layers))
    fail_expected(f.where("num_experts_per_layer"), "wrong length", std::to_string(c.num_layers) + " entries (num_hidden_layers)",
                  std::to_string(experts_per_layer->size()));
  if (shared_per_layer && shared_per_layer->size() != size_t(c.num_layers))
    fail_expected(f.where("num_shared_experts_per_layer"), "wrong length", std::to_string(c.num_layers) + " entries (num_hidden_layers)",
                  std::to_string(shared_per_layer->size()));

  c.layers.resize(size_t(c.num_layers));
  for (int l = 0; l < c.num_layers; ++l) {
    LayerSpec& s = c.layers[size_t(l)];
    const std::string at = f.source + ": layer " + std::to_string(l);
    s.num_experts = experts_per_layer ? (*experts_per_layer)[size_t(l)] : c.num_experts;
    s.num_shared = shared_per_layer ? (*shared_per_layer)[size_t(l)] : std::min(c.num_shared_experts, s.num_experts);
    if (aa_per_layer) s.always_active = (*aa_per_layer)[size_t(l)];
    else if (always_active) s.always_active = *always_active;
    if (!s.is_moe()) {
      s.num_shared = 0;
      s.always_active.clear();
      if (c.dense_width <= 0) fail(f.where("dense_intermediate_size"), "required when a layer has 0 experts (layer " + std::to_string(l) + ")");
      continue;
    }
    if (s.num_shared > s.num_experts)
      fail_expected(at, "more shared experts than experts", "S <= " + std::to_string(s.num_experts), std::to_string(s.num_shared));
    std::set<int> seen;
    for (int e : s.always_active) {
      if (e >= s.num_experts) fail_expected(at, "always-active expert id out of range", "< " + std::to_string(s.num_experts), std::to_string(e));
      if (!seen.insert(e).second) fail(at, "always-active expert " + std::to_string(e) + " listed twice");
    }
    if (!s.always_active.empty()) s.mode = RoutingMode::AlwaysActive;
    else if (s.num_shared > 0) s.mode = RoutingMode::Shared;
    else s.mode = RoutingMode::Plain;

    if (c.top_k > s.num_experts)
      fail_expected(f.where("num_experts_per_tok"), "top-k exceeds the experts of layer " + std::to_string(l),
                    "<= " + std::to_string(s.num_experts), std::to_string(c.top_k));
    if (s.mode == RoutingMode::AlwaysActive && int(s.always_active.size()) > c.top_k)
      fail_expected(at, "more always-active experts than top-k", "<= " + std::to_string(c.top_k), std::to_string(s.always_active.size()));
    if (s.mode == RoutingMode::Shared && s.num_shared > c.top_k)
      fail_expected(at, "more shared experts than top-k", "<= " + std::to_string(c.top_k), std::to_string(s.num_shared));
    if (s.mode != RoutingMode::Plain && c.norm_topk_prob)
      fail(f.where("norm_topk_prob"), "must be false with shared or always-active experts (as in EMO's reference code)");
  }
}

}  // namespace

const char* arch_name(Arch a) { return a == Arch::Emo ? "emo" : "olmoe"; }

ModelConfig ModelConfig::from_file(const std::string& path) {
  return from_json(read_json_file(path, "config.json of a Hugging Face checkpoint"), path);
}

ModelConfig ModelConfig::from_json(const json& j, const std::string& source) {
  if (!j.is_object()) fail_expected(source, "bad config", "a JSON object", j.type_name());
  Fields f{j, source};
  ModelConfig c;
  if (!f.has("model_type") || !j["model_type"].is_string()) fail(f.where("model_type"), "missing (required)");
  c.model_type = j["model_type"].get<std::string>();
  auto arch = arch_from_model_type(c.model_type);
  if (!arch)
    fail_expected(f.where("model_type"), "unknown architecture", "emo, flex_olmo_noqknorm_prenorm or olmoe", "'" + c.model_type + "'");
  c.arch = *arch;

  c.hidden_size = f.integer("hidden_size", std::nullopt, 1);
  c.num_layers = f.integer("num_hidden_layers", std::nullopt, 1, 65536);
  c.num_heads = f.integer("num_attention_heads", std::nullopt, 1);
  c.num_kv_heads = f.integer("num_key_value_heads", c.num_heads, 1);
  if (c.num_heads % c.num_kv_heads != 0)
    fail_expected(f.where("num_key_value_heads"), "must divide num_attention_heads", "a divisor of " + std::to_string(c.num_heads),
                  std::to_string(c.num_kv_heads));
  if (!f.has("head_dim") && c.hidden_size % c.num_heads != 0)
    fail(f.where("num_attention_heads"), "hidden_size is not divisible by it and no head_dim is given");
  c.head_dim = f.integer("head_dim", c.hidden_size / c.num_heads, 2);
  if (c.head_dim % 2 != 0) fail_expected(f.where("head_dim"), "RoPE needs an even head dimension", "an even number", std::to_string(c.head_dim));
  c.expert_width = f.integer("intermediate_size", std::nullopt, 1);
  c.dense_width = f.integer("dense_intermediate_size", 0, 0);
  c.num_experts = f.integer("num_experts", std::nullopt, 0);
  c.top_k = f.integer("num_experts_per_tok", std::nullopt, 1);
  c.norm_topk_prob = f.boolean("norm_topk_prob", false);
  c.attention_bias = f.boolean("attention_bias", false);
  c.tie_word_embeddings = f.boolean("tie_word_embeddings", false);
  c.rms_norm_eps = f.positive("rms_norm_eps", c.arch == Arch::Emo ? 1e-6f : 1e-5f);
  c.max_position_embeddings = f.integer("max_position_embeddings", 4096, 1);
  c.vocab_size = f.integer("vocab_size", 0, 0);
  c.eos_token_id = f.token_id("eos_token_id");
  c.pad_token_id = f.token_id("pad_token_id");
  if (f.has("hidden_act") && j["hidden_act"] != "silu")
    fail_expected(f.where("hidden_act"), "unsupported activation", "\"silu\"", brief(j["hidden_act"]));
  read_rope(f, c);

  if (c.arch == Arch::Emo) {
    c.num_shared_experts = f.integer("num_shared_experts", 0, 0);
    c.dense_mlp_bias = f.boolean("dense_mlp_bias", false);
    if (f.boolean("qk_norm", false)) fail(f.where("qk_norm"), "EMO checkpoints have no q/k norm (emo-reference.md §1.3)");
  } else {
    c.qk_norm = true;
    if (f.has("clip_qkv")) c.clip_qkv = f.positive("clip_qkv", 1.f);
    for (const char* k : {"num_shared_experts", "num_experts_per_layer", "always_active_experts"})
      if (f.has(k)) fail(f.where(k), "not an OLMoE field (model_type is 'olmoe'; use 'emo')");
  }
  resolve_layers(f, c);
  return c;
}

int ModelConfig::num_moe_layers() const {
  return int(std::count_if(layers.begin(), layers.end(), [](const LayerSpec& s) { return s.is_moe(); }));
}

int ModelConfig::max_experts() const {
  int m = 0;
  for (const auto& s : layers) m = std::max(m, s.num_experts);
  return m;
}

}  // namespace moescope
