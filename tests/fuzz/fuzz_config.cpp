// fuzz_config.cpp — config.json -> ModelConfig (engine/config.h) on arbitrary bytes, parsed the
// way ModelConfig::from_file does (parse_json, then from_json).
// A bug: anything but moescope::Error escaping, a sanitizer report, or an accepted config that
// breaks what the model code relies on (layer list of num_hidden_layers entries; per MoE layer
// S <= E, K <= E, always-active ids distinct and < E; Hkv divides H; even head_dim; positive
// finite eps and theta; dense layers only with a dense width; router groups that divide E and
// hold top-k experts; MLA dimensions consistent).
#include <cmath>
#include <set>

#include "engine/config.h"
#include "engine/error.h"
#include "engine/json_file.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using moescope::fuzz::bug;

void check_config(const moescope::ModelConfig& c) {
  if (c.num_layers < 1 || c.layers.size() != size_t(c.num_layers)) bug("layer list does not match num_hidden_layers");
  if (c.hidden_size < 1 || c.num_heads < 1 || c.num_kv_heads < 1 || c.num_heads % c.num_kv_heads != 0)
    bug("bad head counts accepted");
  // RoPE needs an even head_dim; with MLA it rotates only the qk_rope part (checked below).
  if (!c.mla.enabled && (c.head_dim < 2 || c.head_dim % 2 != 0)) bug("odd or tiny head_dim accepted");
  if (c.num_moe_layers() > 0 && (c.top_k < 1 || c.expert_width < 1)) bug("top_k or expert width below 1 accepted");
  if (c.shared_width < 0 || (c.shared_gate && c.shared_width == 0)) bug("bad shared MLP accepted");
  const moescope::RouterSpec& r = c.router;
  if (r.n_group < 1 || r.topk_group < 1 || r.topk_group > r.n_group || !(std::isfinite(r.routed_scaling) && r.routed_scaling > 0))
    bug("bad router groups or scaling accepted");
  if (c.mla.enabled && (c.mla.kv_lora_rank < 1 || c.mla.v_head_dim < 1 || c.mla.qk_rope_head_dim < 2 ||
                        c.mla.qk_rope_head_dim % 2 != 0 || c.head_dim != c.mla.qk_head_dim()))
    bug("bad MLA dimensions accepted");
  if (!(std::isfinite(c.rms_norm_eps) && c.rms_norm_eps > 0) || !(std::isfinite(c.rope_theta) && c.rope_theta > 0))
    bug("non-positive or non-finite eps / rope_theta accepted");
  if (c.clip_qkv && !(std::isfinite(*c.clip_qkv) && *c.clip_qkv > 0)) bug("bad clip_qkv accepted");
  for (const moescope::LayerSpec& s : c.layers) {
    if (!s.is_moe()) {
      if (s.num_experts != 0 || c.dense_width < 1) bug("dense layer without dense_intermediate_size accepted");
      continue;
    }
    if (s.num_shared < 0 || s.num_shared > s.num_experts) bug("shared experts outside [0, E] accepted");
    if (c.top_k > s.num_experts) bug("top-k above the layer's experts accepted");
    if (s.num_experts % r.n_group != 0 || r.topk_group * (s.num_experts / r.n_group) < c.top_k)
      bug("groups that cannot hold top-k experts accepted");
    if (s.sliding_window < 0 || s.attention_chunk < 0) bug("negative attention window accepted");
    std::set<int> seen;
    for (int e : s.always_active)
      if (e < 0 || e >= s.num_experts || !seen.insert(e).second) bug("bad always-active expert accepted");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const auto text = moescope::fuzz::as_text(data, size);
    const nlohmann::json j = moescope::parse_json(text.data(), text.data() + text.size(), "config.json");
    check_config(moescope::ModelConfig::from_json(j, "config.json"));
  } catch (const moescope::Error&) {
  }
  return 0;
}
