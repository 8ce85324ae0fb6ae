// config_fields.h — typed, validated reads of config.json fields; every failure names the file
// and the field, and says what was expected (shared by the per-family config parsers).
#pragma once

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "engine/error.h"
#include "engine/json_file.h"

namespace moescope {

struct ConfigFields {
  const nlohmann::json& j;
  std::string source;

  std::string where(const std::string& key) const { return source + ": field '" + key + "'"; }
  bool has(const std::string& key) const { return j.contains(key) && !j[key].is_null(); }

  int integer(const std::string& key, std::optional<int> def, int min_value = 0, int max_value = 1 << 30) const {
    if (!has(key)) {
      if (def) return *def;
      fail(where(key), "missing (required)");
    }
    const nlohmann::json& v = j[key];
    if (!v.is_number_integer()) fail_expected(where(key), "wrong type", "an integer", brief(v));
    const int64_t x = v.get<int64_t>();
    if (x < min_value || x > max_value || (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(max_value)))
      fail_expected(where(key), "out of range",
                    "an integer in [" + std::to_string(min_value) + ", " + std::to_string(max_value) + "]", brief(v));
    return int(x);
  }
  // A finite number > 0 that a float holds (eps, theta, clip values, scaling factors).
  float positive(const std::string& key, float def) const {
    if (!has(key)) return def;
    const nlohmann::json& v = j[key];
    if (!v.is_number()) fail_expected(where(key), "wrong type", "a number", brief(v));
    const double x = v.get<double>();
    // Kept as float by the model code: a value that float cannot hold as a normal number
    // (1e-50 rounds to 0, 1e39 to inf) is refused here rather than turned into 0 or inf.
    if (!std::isfinite(x) || x < double(std::numeric_limits<float>::min()) || x > double(std::numeric_limits<float>::max()))
      fail_expected(where(key), "out of range", "a positive number a float holds (1.18e-38 to 3.4e38)", brief(v));
    return float(x);
  }
  bool boolean(const std::string& key, bool def) const {
    if (!has(key)) return def;
    const nlohmann::json& v = j[key];
    if (!v.is_boolean()) fail_expected(where(key), "wrong type", "true or false", brief(v));
    return v.get<bool>();
  }
  std::string string(const std::string& key, const std::string& def) const {
    if (!has(key)) return def;
    const nlohmann::json& v = j[key];
    if (!v.is_string()) fail_expected(where(key), "wrong type", "a string", brief(v));
    return v.get<std::string>();
  }
  std::optional<std::vector<int>> int_list(const std::string& key) const {
    if (!has(key)) return std::nullopt;
    const nlohmann::json& v = j[key];
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
    const nlohmann::json& v = j[key];
    if (v.is_array()) {  // generation-style lists: the first id is the primary one
      if (v.empty() || !v[0].is_number_integer()) return std::nullopt;
      return int(v[0].get<int64_t>());
    }
    if (!v.is_number_integer()) fail_expected(where(key), "wrong type", "an integer or null", brief(v));
    return int(v.get<int64_t>());
  }
  // Fails when `key` is present: a field of another family, which this one would silently ignore.
  void reject(const std::string& key, const std::string& why) const {
    if (has(key)) fail(where(key), why);
  }
};

}  // namespace moescope
