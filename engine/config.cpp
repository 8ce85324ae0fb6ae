// config.cpp — parsing config.json: the fields every family shares, the family by model_type
// (its own fields in engine/families/), and the per-layer expert structure (EMO's per-layer
// lists and routing modes exactly as emo-reference.md §1.2 and §1.4 describe).
#include "engine/config.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

#include "engine/config_rope.h"
#include "engine/families/family.h"
#include "engine/error.h"
#include "engine/json_file.h"

namespace moescope {

namespace {

using nlohmann::json;
using Fields = ConfigFields;

void resolve_layers(const Fields& f, ModelConfig& c, const std::vector<uint8_t>& moe_by_rule) {
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

  for (int l = 0; l < c.num_layers; ++l) {
    LayerSpec& s = c.layers[size_t(l)];
    const std::string at = f.source + ": layer " + std::to_string(l);
    s.num_experts = experts_per_layer ? (*experts_per_layer)[size_t(l)] : (moe_by_rule[size_t(l)] ? c.num_experts : 0);
    s.num_shared = shared_per_layer ? (*shared_per_layer)[size_t(l)] : std::min(c.num_shared_experts, s.num_experts);
    if (aa_per_layer) s.always_active = (*aa_per_layer)[size_t(l)];
    else if (always_active) s.always_active = *always_active;
    if (!s.is_moe()) {
      s.num_shared = 0;
      s.always_active.clear();
      if (c.dense_width <= 0)
        fail(f.where(family_of(c.arch).dense_width_key),
             "required when a layer has 0 experts (layer " + std::to_string(l) + ")");
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

const char* arch_name(Arch a) { return family_of(a).model_types.front(); }

ModelConfig ModelConfig::from_file(const std::string& path) {
  return from_json(read_json_file(path, "config.json of a Hugging Face checkpoint"), path);
}

ModelConfig ModelConfig::from_json(const json& j, const std::string& source) {
  if (!j.is_object()) fail_expected(source, "bad config", "a JSON object", j.type_name());
  Fields f{j, source};
  ModelConfig c;
  if (!f.has("model_type") || !j["model_type"].is_string()) fail(f.where("model_type"), "missing (required)");
  c.model_type = j["model_type"].get<std::string>();
  if (c.model_type == "llama4") {
    // The multimodal Llama 4 (Llama4ForConditionalGeneration): its language model is a llama4_text
    // model with every tensor under "language_model.".
    if (!f.has("text_config") || !j["text_config"].is_object())
      fail_expected(f.where("text_config"), "missing", "an object (a multimodal Llama 4 config holds its text model there)",
                    f.has("text_config") ? brief(j["text_config"]) : std::string("nothing"));
    json text = j["text_config"];
    text["model_type"] = "llama4_text";
    ModelConfig t = from_json(text, source + ": text_config");
    t.model_type = "llama4";
    t.tensor_prefix = "language_model.";
    return t;
  }
  const Family* family = family_by_model_type(c.model_type);
  if (!family) fail_expected(f.where("model_type"), "unknown architecture", "one of " + known_model_types(), "'" + c.model_type + "'");
  c.arch = family->arch;

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
  c.tie_word_embeddings = f.boolean("tie_word_embeddings", false);
  c.rms_norm_eps = f.positive("rms_norm_eps", family->rms_norm_eps);
  c.max_position_embeddings = f.integer("max_position_embeddings", family->max_position_embeddings, 1);
  c.vocab_size = f.integer("vocab_size", 0, 0);
  c.eos_token_id = f.token_id("eos_token_id");
  c.pad_token_id = f.token_id("pad_token_id");
  if (f.has("hidden_act") && j["hidden_act"] != "silu")
    fail_expected(f.where("hidden_act"), "unsupported activation", "\"silu\"", brief(j["hidden_act"]));
  read_rope(f, c, family->rope_theta);

  c.layers.assign(size_t(c.num_layers), LayerSpec{});
  const std::vector<uint8_t> moe_by_rule = family->read_config(f, c);
  resolve_layers(f, c, moe_by_rule);
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
