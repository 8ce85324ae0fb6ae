// workspace_run.cpp — checking meta 'run' before anything indexes into it.
#include "analysis/workspace_run.h"

#include "engine/error.h"
#include "engine/json_file.h"

namespace moescope {

namespace {

using nlohmann::json;

struct RunChecker {
  const std::string& where;

  const json& member(const json& obj, const char* key, const std::string& at) const {
    auto it = obj.find(key);
    if (it == obj.end()) fail(where + ": field '" + at + key + "'", "missing (a damaged or foreign workspace?)");
    return *it;
  }
  void object(const json& v, const std::string& name) const {
    if (!v.is_object()) fail_expected(where + ": field '" + name + "'", "wrong type", "an object", brief(v));
  }
  void string(const json& obj, const char* key, const std::string& at) const {
    const json& v = member(obj, key, at);
    if (!v.is_string()) fail_expected(where + ": field '" + at + key + "'", "wrong type", "a string", brief(v));
  }
  void integer(const json& obj, const char* key, const std::string& at, int64_t lo, int64_t hi) const {
    const json& v = member(obj, key, at);
    if (!v.is_number_integer() || v.get<int64_t>() < lo || v.get<int64_t>() > hi)
      fail_expected(where + ": field '" + at + key + "'", "bad value",
                    "an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]", brief(v));
  }
};

}  // namespace

void check_run_record(const json& run, const std::string& where) {
  const RunChecker c{where};
  if (!run.is_object()) fail_expected(where, "bad run record", "an object", brief(run));

  const json& model = c.member(run, "model", "");
  c.object(model, "model");
  for (const char* key : {"path", "config_hash", "weights_hash"}) c.string(model, key, "model.");

  const json& settings = c.member(run, "settings", "");
  c.object(settings, "settings");
  c.integer(settings, "max_tokens_per_doc", "settings.", 0, INT64_MAX);
  const json& probs = c.member(settings, "probs", "settings.");
  if (!probs.is_boolean()) fail_expected(where + ": field 'settings.probs'", "wrong type", "true or false", brief(probs));
  if (settings.contains("precision")) c.string(settings, "precision", "settings.");

  const json& layers = c.member(run, "layers", "");
  if (!layers.is_array()) fail_expected(where + ": field 'layers'", "wrong type", "a list", brief(layers));
  for (size_t i = 0; i < layers.size(); ++i) {
    const std::string at = "layers[" + std::to_string(i) + "]";
    c.object(layers[i], at);
    c.integer(layers[i], "layer", at + ".", 0, 65535);
    c.integer(layers[i], "k", at + ".", 1, 65536);          // top-k ids are stored as uint16
    c.integer(layers[i], "num_standard", at + ".", 0, 65536);
  }
}

}  // namespace moescope
