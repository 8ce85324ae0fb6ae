// fuzz_subset.cpp — ExpertSubset::from_json_text (engine/subset.h) on arbitrary bytes, against
// two fixture configs: emo-shared (3 MoE layers, a shared expert) and emo-per-layer (a dense
// layer, per-layer expert and shared counts).
// A bug: anything but moescope::Error escaping, a sanitizer report, or an accepted subset that
// breaks what routing relies on: one entry per layer, dense layers null, ids sorted, distinct and
// < E, and a plain-routed layer keeping at least one expert.
#include <algorithm>

#include "engine/config.h"
#include "engine/error.h"
#include "engine/subset.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using moescope::fuzz::bug;

void check_subset(const moescope::ModelConfig& c, const moescope::ExpertSubset& s) {
  if (s.kept_per_layer.size() != size_t(c.num_layers)) bug("subset has the wrong number of layers");
  for (int l = 0; l < c.num_layers; ++l) {
    const moescope::LayerSpec& spec = c.layers[size_t(l)];
    const auto& kept = s.kept_per_layer[size_t(l)];
    if (!kept) continue;
    if (!spec.is_moe()) bug("a dense layer has a kept list");
    if (!std::is_sorted(kept->begin(), kept->end()) || std::adjacent_find(kept->begin(), kept->end()) != kept->end())
      bug("kept ids not sorted and distinct");
    for (int e : *kept)
      if (e < 0 || e >= spec.num_experts) bug("kept id out of range");
    if (spec.mode == moescope::RoutingMode::Plain && s.kept_standard(c, l) == 0) bug("plain layer keeps nothing");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const moescope::ModelConfig configs[] = {
      moescope::ModelConfig::from_file(moescope::fuzz::source_path("tests/fixtures/models/emo-shared/config.json")),
      moescope::ModelConfig::from_file(moescope::fuzz::source_path("tests/fixtures/models/emo-per-layer/config.json")),
  };
  const std::string text(moescope::fuzz::as_text(data, size));
  for (const moescope::ModelConfig& c : configs) {
    try {
      check_subset(c, moescope::ExpertSubset::from_json_text(text, "keep.json", c));
    } catch (const moescope::Error&) {
    }
  }
  return 0;
}
