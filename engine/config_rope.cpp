// config_rope.cpp — the RoPE part of config.json: theta and the scaling spec (`rope_scaling` of
// 4.x configs, `rope_parameters` of 5.x), read the way transformers 5.23 standardises them
// (RotaryEmbeddingConfigMixin): the non-empty `rope_scaling` wins over `rope_parameters`; theta
// from that object, else the top-level `rope_theta`, else the family default.
#include <cmath>
#include <nlohmann/json.hpp>

#include "engine/config_rope.h"
#include "engine/error.h"
#include "engine/json_file.h"

namespace moescope {

namespace {

using nlohmann::json;

struct RopeTypeName {
  RopeType type;
  const char* name;
};
constexpr RopeTypeName kRopeTypes[] = {
    {RopeType::Default, "default"}, {RopeType::Linear, "linear"}, {RopeType::Yarn, "yarn"}, {RopeType::Llama3, "llama3"}};

// A finite number within `expected` ("> 0", ">= 0", ">= 1"), from the RoPE object; nullopt if absent or null.
std::optional<double> number(const ConfigFields& r, const char* key, const char* expected) {
  if (!r.has(key)) return std::nullopt;
  const json& v = r.j[key];
  if (!v.is_number()) fail_expected(r.where(key), "wrong type", "a number", brief(v));
  const double x = v.get<double>();
  const std::string e = expected;
  const bool ok = e == "> 0" ? x > 0 : e == ">= 1" ? x >= 1 : x >= 0;
  if (!std::isfinite(x) || !ok || x > 3.0e38) fail_expected(r.where(key), "out of range", "a finite number " + e, brief(v));
  return x;
}

double required(const ConfigFields& r, const char* key, const std::string& type, const char* expected) {
  const auto x = number(r, key, expected);
  if (!x) fail(r.where(key), "missing (required for rope_type '" + type + "')");
  return *x;
}

RopeType rope_type_of(const ConfigFields& r) {
  std::string type = "default";
  const char* key = r.has("rope_type") ? "rope_type" : r.has("type") ? "type" : nullptr;
  if (key) type = r.string(key, "default");
  for (const RopeTypeName& t : kRopeTypes)
    if (type == t.name) return t.type;
  if (type == "dynamic" || type == "longrope")
    fail_expected(r.where(key), "unsupported RoPE scaling '" + type + "' (its frequencies change with the sequence length)",
                  "'default', 'linear', 'yarn' or 'llama3'", "'" + type + "'");
  fail_expected(r.where(key), "unknown RoPE scaling type", "'default', 'linear', 'yarn' or 'llama3'", "'" + type + "'");
}

void read_scaling(const ConfigFields& r, ModelConfig& c) {
  RopeSpec& s = c.rope;
  s.type = rope_type_of(r);
  const std::string type = rope_type_name(s.type);
  if (const auto p = number(r, "partial_rotary_factor", "> 0"); p && *p != 1.0)
    fail_expected(r.where("partial_rotary_factor"), "partial rotary embeddings are not supported", "1.0", brief(r.j["partial_rotary_factor"]));
  if (s.type == RopeType::Default) return;
  // DeepSeek's attention reads mscale_all_dim for any non-default type (yarn_apply_mscale).
  s.mscale_all_dim = number(r, "mscale_all_dim", ">= 0").value_or(0.0);
  if (s.type == RopeType::Yarn || s.type == RopeType::Llama3) {
    // transformers' standardize_rope_params: the pretraining context defaults to max_position_embeddings.
    s.original_max_position_embeddings = r.integer("original_max_position_embeddings", c.max_position_embeddings, 1);
  }
  if (s.type == RopeType::Yarn && r.j.contains("factor") && r.j["factor"].is_null()) {
    // _compute_yarn_parameters: a null factor is the context ratio.
    s.factor = double(c.max_position_embeddings) / double(s.original_max_position_embeddings);
    if (s.factor < 1.0)
      fail_expected(r.where("factor"), "null factor gives max_position_embeddings / original_max_position_embeddings < 1",
                    "a ratio >= 1", std::to_string(s.factor));
  } else {
    s.factor = required(r, "factor", type, ">= 1");
  }
  if (s.type == RopeType::Yarn) {
    if (s.theta == 1.0)  // the ramp bounds divide by ln(theta)
      fail_expected(r.where("rope_theta"), "yarn needs a theta other than 1", "rope_theta != 1", "1");
    s.attention_factor = number(r, "attention_factor", "> 0");
    // `beta_fast or 32`: 0 and null mean the default, like an absent field.
    s.beta_fast = number(r, "beta_fast", ">= 0").value_or(0.0);
    s.beta_slow = number(r, "beta_slow", ">= 0").value_or(0.0);
    if (s.beta_fast == 0.0) s.beta_fast = 32.0;
    if (s.beta_slow == 0.0) s.beta_slow = 1.0;
    s.mscale = number(r, "mscale", ">= 0").value_or(0.0);
    s.truncate = r.boolean("truncate", true);
  }
  if (s.type == RopeType::Llama3) {
    s.low_freq_factor = required(r, "low_freq_factor", type, "> 0");
    s.high_freq_factor = required(r, "high_freq_factor", type, "> 0");
    if (s.high_freq_factor < s.low_freq_factor)
      fail_expected(r.where("high_freq_factor"), "below low_freq_factor", ">= " + std::to_string(s.low_freq_factor),
                    brief(r.j["high_freq_factor"]));
  }
}

}  // namespace

const char* rope_type_name(RopeType type) {
  for (const RopeTypeName& t : kRopeTypes)
    if (t.type == type) return t.name;
  return "?";
}

void read_rope(const ConfigFields& f, ModelConfig& c, float default_theta) {
  const char* key = nullptr;
  for (const char* k : {"rope_scaling", "rope_parameters"}) {
    if (!f.has(k)) continue;
    if (!f.j[k].is_object()) fail_expected(f.where(k), "wrong type", "an object or null", brief(f.j[k]));
    if (!key && !f.j[k].empty()) key = k;
  }
  c.rope = RopeSpec{};
  c.rope.theta = default_theta;
  if (f.has("rope_theta")) {
    f.positive("rope_theta", default_theta);  // validates; kept in double for the yarn ramp bounds
    c.rope.theta = f.j["rope_theta"].get<double>();
  }
  if (key) {
    const ConfigFields r{f.j[key], f.source + ": field '" + key + "'"};
    if (r.has("rope_theta")) {
      r.positive("rope_theta", default_theta);  // validates
      c.rope.theta = r.j["rope_theta"].get<double>();
    }
    read_scaling(r, c);
  }
  c.rope_theta = float(c.rope.theta);
}

}  // namespace moescope
