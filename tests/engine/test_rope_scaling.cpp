// RoPE scaling (engine/rope_scaling.h) on the rope fields of released configs, against transformers
// 5.23's own functions (ROPE_INIT_FUNCTIONS[type](config) and DeepSeek's yarn_apply_mscale), whose
// values are pasted below; and the errors of bad RoPE fields. The numbers come from
//   /opt/mtools/bin/python - <<'EOF'   (transformers 5.23.0, torch 2.15.0)
//   import torch, transformers
//   from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS
//   from transformers.models.deepseek_v2.modeling_deepseek_v2 import yarn_apply_mscale
//   def show(cfg, rope_type, qk_head_dim=None):
//       inv, af = ROPE_INIT_FUNCTIONS[rope_type](cfg)
//       print("attention_factor %.9g" % af)
//       if qk_head_dim:
//           print("softmax_scale %.9g" % torch.tensor(yarn_apply_mscale(cfg.rope_parameters, qk_head_dim ** -0.5)).float().item())
//       print(", ".join("%.9g" % x for x in inv.tolist()))  # pasted with an f suffix
//   ds = dict(hidden_size=2048, num_attention_heads=16, qk_rope_head_dim=64, qk_nope_head_dim=128, v_head_dim=128,
//             kv_lora_rank=512, max_position_embeddings=163840, rope_theta=10000.0)
//   show(transformers.DeepseekV2Config(**ds, q_lora_rank=None, rope_scaling={"type": "yarn", "factor": 40,
//        "original_max_position_embeddings": 4096, "beta_fast": 32, "beta_slow": 1, "mscale": 0.707,
//        "mscale_all_dim": 0.707}), "yarn", 192)                                   # DeepSeek-V2-Lite
//   show(transformers.DeepseekV3Config(**ds, q_lora_rank=1536, rope_scaling={"type": "yarn", "factor": 40,
//        "original_max_position_embeddings": 4096, "beta_fast": 32, "beta_slow": 1, "mscale": 1.0,
//        "mscale_all_dim": 1.0}), "yarn", 192)                                     # DeepSeek-V3
//   for hf in (4.0, 1.0):                                                          # Llama-4-Scout
//       show(transformers.Llama4TextConfig(hidden_size=5120, num_attention_heads=40, head_dim=128,
//            max_position_embeddings=10485760, rope_theta=500000.0, rope_scaling={"rope_type": "llama3",
//            "factor": 16.0, "low_freq_factor": 1.0, "high_freq_factor": hf,
//            "original_max_position_embeddings": 8192}), "llama3")
//   show(transformers.Qwen3MoeConfig(hidden_size=2048, num_attention_heads=32, head_dim=128,
//        max_position_embeddings=131072, rope_theta=1000000.0, rope_scaling={"rope_type": "yarn", "factor": 4.0,
//        "original_max_position_embeddings": 32768}), "yarn")                      # Qwen3-30B-A3B, long context
//   show(transformers.MixtralConfig(hidden_size=4096, num_attention_heads=32, head_dim=128, rope_theta=1000000.0,
//        rope_scaling={"rope_type": "linear", "factor": 2.0}), "linear")
//   EOF
#include <doctest/doctest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <vector>

#include "engine/config.h"
#include "engine/cpu/cpu_ops.h"
#include "engine/rope_scaling.h"
#include "tests/error_of.h"

using namespace moescope;
using nlohmann::json;

namespace {

// DeepSeek-V2-Lite: yarn over qk_rope_head_dim 64 (DeepSeek-V3's rope fields give the same inv_freq).
const std::vector<float> kDeepseekYarn = {
    1.0f, 0.749894202f, 0.562341332f, 0.421696514f, 0.316227764f, 0.237137362f, 0.177827939f, 0.133352146f,
    0.100000001f, 0.0749894157f, 0.0562341288f, 0.0390069261f, 0.0268793609f, 0.0183781441f, 0.012447956f,
    0.0083345091f, 0.00550000044f, 0.00356199732f, 0.00224936521f, 0.00137051346f, 0.000790569407f, 0.000414990413f,
    0.00017782794f, 3.3338034e-05f, 2.49999994e-05f, 1.87473543e-05f, 1.40585325e-05f, 1.05424124e-05f,
    7.90569447e-06f, 5.92843435e-06f, 4.44569832e-06f, 3.33380353e-06f};

// Llama-4-Scout, llama3 over head_dim 128 with the fields low_freq_factor 1, high_freq_factor 4 ...
const std::vector<float> kScoutLlama3 = {
    1.0f, 0.814617217f, 0.663601279f, 0.540580988f, 0.440366626f, 0.358730227f, 0.292227834f, 0.238053814f,
    0.193922758f, 0.157972813f, 0.128687382f, 0.10483095f, 0.0853971019f, 0.0695659518f, 0.0566696189f,
    0.0461640507f, 0.0376060307f, 0.0306345206f, 0.0249554086f, 0.0203291047f, 0.0165604409f, 0.0134904198f,
    0.0109895291f, 0.00895225909f, 0.00729266508f, 0.00594073068f, 0.00483942125f, 0.00394227589f, 0.00321144611f,
    0.00213446142f, 0.00131766323f, 0.000793944695f, 0.000461319811f, 0.000252740167f, 0.000124224505f,
    4.77810609e-05f, 3.89232773e-05f, 3.17075719e-05f, 2.58295349e-05f, 2.10411836e-05f, 1.71405118e-05f,
    1.39629547e-05f, 1.13744645e-05f, 9.26583471e-06f, 7.5481089e-06f, 6.14881947e-06f, 5.00893429e-06f,
    4.08036385e-06f, 3.32393483e-06f, 2.70773467e-06f, 2.20576726e-06f, 1.79685594e-06f, 1.46374987e-06f,
    1.19239587e-06f, 9.71346253e-07f, 7.91275397e-07f, 6.44586578e-07f, 5.25091309e-07f, 4.27748461e-07f,
    3.48451266e-07f, 2.83854405e-07f, 2.3123269e-07f, 1.8836613e-07f, 1.53446294e-07f};

// ... and with high_freq_factor 1 (= low_freq_factor: no smoothed band; transformers warns but computes).
const std::vector<float> kScoutLlama3Equal = {
    1.0f, 0.814617217f, 0.663601279f, 0.540580988f, 0.440366626f, 0.358730227f, 0.292227834f, 0.238053814f,
    0.193922758f, 0.157972813f, 0.128687382f, 0.10483095f, 0.0853971019f, 0.0695659518f, 0.0566696189f,
    0.0461640507f, 0.0376060307f, 0.0306345206f, 0.0249554086f, 0.0203291047f, 0.0165604409f, 0.0134904198f,
    0.0109895291f, 0.00895225909f, 0.00729266508f, 0.00594073068f, 0.00483942125f, 0.00394227589f, 0.00321144611f,
    0.00261609908f, 0.0021311196f, 0.00173604675f, 0.00141421345f, 0.00115204265f, 0.000938473851f, 4.77810609e-05f,
    3.89232773e-05f, 3.17075719e-05f, 2.58295349e-05f, 2.10411836e-05f, 1.71405118e-05f, 1.39629547e-05f,
    1.13744645e-05f, 9.26583471e-06f, 7.5481089e-06f, 6.14881947e-06f, 5.00893429e-06f, 4.08036385e-06f,
    3.32393483e-06f, 2.70773467e-06f, 2.20576726e-06f, 1.79685594e-06f, 1.46374987e-06f, 1.19239587e-06f,
    9.71346253e-07f, 7.91275397e-07f, 6.44586578e-07f, 5.25091309e-07f, 4.27748461e-07f, 3.48451266e-07f,
    2.83854405e-07f, 2.3123269e-07f, 1.8836613e-07f, 1.53446294e-07f};

// Qwen3-30B-A3B with its documented yarn (factor 4, original context 32768), head_dim 128.
const std::vector<float> kQwen3Yarn = {
    1.0f, 0.805842221f, 0.649381638f, 0.523299158f, 0.421696514f, 0.339820832f, 0.273841977f, 0.220673397f,
    0.177827939f, 0.143301263f, 0.115478203f, 0.0930572003f, 0.0749894157f, 0.0604296438f, 0.0486967526f,
    0.0392418988f, 0.0316227786f, 0.0254829675f, 0.0205352511f, 0.0165481716f, 0.0133352149f, 0.0107460786f,
    0.00865964312f, 0.00697830599f, 0.00537532149f, 0.0041317381f, 0.00316842273f, 0.00242342241f, 0.00184827659f,
    0.00140511245f, 0.00106436096f, 0.000802959781f, 0.000602941145f, 0.000450323569f, 0.000334240554f,
    0.000246258394f, 0.000179841154f, 0.00012993149f, 9.26230132e-05f, 6.4903943e-05f, 4.44569851e-05f,
    3.58253164e-05f, 2.88695483e-05f, 2.32643015e-05f, 1.87473561e-05f, 1.51074091e-05f, 1.21741887e-05f,
    9.81047469e-06f, 7.90569356e-06f, 6.37074163e-06f, 5.13381246e-06f, 4.13704265e-06f, 3.33380353e-06f,
    2.68651957e-06f, 2.16491094e-06f, 1.74457659e-06f, 1.40585337e-06f, 1.13289593e-06f, 9.1293532e-07f,
    7.35681795e-07f, 5.92843435e-07f, 4.7773824e-07f, 3.84981632e-07f, 3.10234441e-07f};

// Mixtral with linear factor 2, head_dim 128.
const std::vector<float> kMixtralLinear = {
    0.5f, 0.40292111f, 0.324690819f, 0.261649579f, 0.210848257f, 0.169910416f, 0.136920989f, 0.110336699f,
    0.0889139697f, 0.0716506317f, 0.0577391014f, 0.0465286002f, 0.0374947079f, 0.0302148219f, 0.0243483763f,
    0.0196209494f, 0.0158113893f, 0.0127414837f, 0.0102676256f, 0.00827408582f, 0.00666760746f, 0.00537303928f,
    0.00432982156f, 0.00348915299f, 0.00281170662f, 0.00226579187f, 0.00182587071f, 0.00147136359f, 0.00118568691f,
    0.000955476426f, 0.000769963255f, 0.000620468927f, 0.000500000024f, 0.000402921112f, 0.000324690831f,
    0.000261649548f, 0.000210848244f, 0.000169910418f, 0.000136920979f, 0.00011033671f, 8.89139701e-05f,
    7.16506329e-05f, 5.77390965e-05f, 4.6528603e-05f, 3.74947122e-05f, 3.02148183e-05f, 2.43483773e-05f,
    1.96209494e-05f, 1.58113871e-05f, 1.27414833e-05f, 1.02676249e-05f, 8.2740853e-06f, 6.66760707e-06f,
    5.37303913e-06f, 4.32982188e-06f, 3.48915319e-06f, 2.81170674e-06f, 2.26579186e-06f, 1.82587064e-06f,
    1.47136359e-06f, 1.18568687e-06f, 9.5547648e-07f, 7.69963265e-07f, 6.20468882e-07f};

// The reference's fp32 pow (vectorised) and libm's may differ in the last bit (two of the 288 values
// here do, by 1 ulp: theta 1e6, i = 37); everything else is the same fp32 operations in the same
// order, so a few ulps bound the difference, far below what any wrong step would give.
void check_close(const std::vector<float>& got, const std::vector<float>& want) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    CAPTURE(i);
    CHECK(std::fabs(got[i] - want[i]) <= 4e-7f * std::fabs(want[i]));
  }
}

ModelConfig load(json j) { return ModelConfig::from_json(j, "config.json"); }

json deepseek(const std::string& model_type, double mscale, double mscale_all_dim) {
  return {{"model_type", model_type}, {"hidden_size", 2048}, {"num_hidden_layers", 2}, {"num_attention_heads", 16},
          {"n_routed_experts", 16}, {"num_experts_per_tok", 2}, {"moe_intermediate_size", 64}, {"intermediate_size", 128},
          {"kv_lora_rank", 512}, {"q_lora_rank", nullptr}, {"qk_nope_head_dim", 128}, {"qk_rope_head_dim", 64},
          {"v_head_dim", 128}, {"max_position_embeddings", 163840}, {"rope_theta", 10000},
          {"rope_scaling", {{"type", "yarn"}, {"factor", 40}, {"original_max_position_embeddings", 4096}, {"beta_fast", 32},
                            {"beta_slow", 1}, {"mscale", mscale}, {"mscale_all_dim", mscale_all_dim}}}};
}

json llama4(double high_freq_factor) {
  return {{"model_type", "llama4_text"}, {"hidden_size", 5120}, {"num_hidden_layers", 4}, {"num_attention_heads", 40},
          {"num_key_value_heads", 8}, {"head_dim", 128}, {"num_local_experts", 4}, {"num_experts_per_tok", 1},
          {"intermediate_size", 64}, {"intermediate_size_mlp", 128}, {"max_position_embeddings", 10485760},
          {"rope_theta", 500000.0},
          {"rope_scaling", {{"rope_type", "llama3"}, {"factor", 16.0}, {"low_freq_factor", 1.0},
                            {"high_freq_factor", high_freq_factor}, {"original_max_position_embeddings", 8192}}}};
}

json qwen3(const json& rope_parameters) {
  return {{"model_type", "qwen3_moe"}, {"hidden_size", 2048}, {"num_hidden_layers", 2}, {"num_attention_heads", 32},
          {"num_key_value_heads", 4}, {"head_dim", 128}, {"num_experts", 8}, {"num_experts_per_tok", 2},
          {"moe_intermediate_size", 64}, {"intermediate_size", 128}, {"max_position_embeddings", 131072},
          {"rope_parameters", rope_parameters}};
}

}  // namespace

TEST_CASE("rope scaling: DeepSeek-V2-Lite and V3 yarn match transformers (inv_freq, cos/sin factor, softmax scale)") {
  const ModelConfig lite = load(deepseek("deepseek_v2", 0.707, 0.707));
  REQUIRE(lite.rope.type == RopeType::Yarn);
  CHECK(lite.rope.factor == 40.0);
  CHECK(lite.rope.original_max_position_embeddings == 4096);
  const RopeFrequencies f = rope_frequencies(lite.rope, lite.mla.qk_rope_head_dim);
  check_close(f.inv_freq, kDeepseekYarn);
  CHECK(f.attention_factor == 1.0f);  // mscale == mscale_all_dim
  CHECK(mla_softmax_scale(lite.rope, lite.mla.qk_head_dim()) == doctest::Approx(0.114721388).epsilon(1e-7));

  const ModelConfig v3 = load(deepseek("deepseek_v3", 1.0, 1.0));
  check_close(rope_frequencies(v3.rope, 64).inv_freq, kDeepseekYarn);
  CHECK(rope_frequencies(v3.rope, 64).attention_factor == 1.0f);
  CHECK(mla_softmax_scale(v3.rope, v3.mla.qk_head_dim()) == doctest::Approx(0.135233775).epsilon(1e-7));
  // By hand: scale = 192^-0.5 * (0.1 * ln 40 + 1)^2; default RoPE leaves 192^-0.5.
  CHECK(mla_softmax_scale(v3.rope, 192) == doctest::Approx(std::pow(0.1 * std::log(40.0) + 1.0, 2) / std::sqrt(192.0)).epsilon(1e-7));
  CHECK(mla_softmax_scale(RopeSpec{}, 192) == doctest::Approx(1.0 / std::sqrt(192.0)).epsilon(1e-7));
  // By hand, the ramp ends: frequencies up to floor(64 ln(4096 / (32 * 2 pi)) / (2 ln 10^4)) = floor(10.5) keep
  // theta^(-2i/64), from ceil(64 ln(4096 / (2 pi)) / (2 ln 10^4)) = ceil(22.5) on they are divided by 40.
  const std::vector<float> plain = rope_inv_freq(10000.f, 64);
  CHECK(f.inv_freq[10] == plain[10]);
  CHECK(f.inv_freq[11] < plain[11]);
  CHECK(f.inv_freq[22] > plain[22] / 40.f);
  CHECK(f.inv_freq[23] == doctest::Approx(plain[23] / 40.f).epsilon(1e-6));
}

TEST_CASE("rope scaling: Llama-4-Scout llama3 matches transformers") {
  const ModelConfig c = load(llama4(4.0));
  REQUIRE(c.rope.type == RopeType::Llama3);
  const RopeFrequencies f = rope_frequencies(c.rope, c.head_dim);
  check_close(f.inv_freq, kScoutLlama3);
  CHECK(f.attention_factor == 1.0f);
  check_close(rope_frequencies(load(llama4(1.0)).rope, 128).inv_freq, kScoutLlama3Equal);
}

TEST_CASE("rope scaling: Qwen3 yarn without mscale fields and linear match transformers") {
  const ModelConfig q = load(qwen3({{"rope_type", "yarn"}, {"rope_theta", 1000000.0}, {"factor", 4.0},
                                    {"original_max_position_embeddings", 32768}}));
  const RopeFrequencies f = rope_frequencies(q.rope, q.head_dim);
  check_close(f.inv_freq, kQwen3Yarn);
  CHECK(f.attention_factor == doctest::Approx(1.13862944).epsilon(1e-7));
  CHECK(f.attention_factor == doctest::Approx(0.1 * std::log(4.0) + 1.0).epsilon(1e-7));  // by hand
  CHECK(mla_softmax_scale(q.rope, 128) == doctest::Approx(1.0 / std::sqrt(128.0)).epsilon(1e-7));  // no mscale_all_dim
  // An explicit attention_factor wins over the derived one.
  const ModelConfig explicit_af = load(qwen3({{"rope_type", "yarn"}, {"rope_theta", 1000000.0}, {"factor", 4.0},
                                              {"original_max_position_embeddings", 32768}, {"attention_factor", 0.75}}));
  CHECK(rope_frequencies(explicit_af.rope, 128).attention_factor == 0.75f);

  const ModelConfig lin = load(qwen3({{"rope_type", "linear"}, {"rope_theta", 1000000.0}, {"factor", 2.0}}));
  const RopeFrequencies l = rope_frequencies(lin.rope, 128);
  check_close(l.inv_freq, kMixtralLinear);
  CHECK(l.attention_factor == 1.0f);
  const std::vector<float> plain = rope_inv_freq(1e6f, 128);
  for (size_t i = 0; i < plain.size(); ++i) CHECK(l.inv_freq[i] == plain[i] / 2.f);  // by hand: exact halving
}

TEST_CASE("rope scaling: 4.x and 5.x forms, defaults and bad fields") {
  // rope_scaling (4.x) wins over rope_parameters; theta from the chosen object, else the top level.
  json j = qwen3({{"rope_type", "default"}, {"rope_theta", 5.0}});
  j["rope_theta"] = 7.0;
  j["rope_scaling"] = {{"type", "linear"}, {"factor", 4}};
  ModelConfig c = load(j);
  CHECK(c.rope.type == RopeType::Linear);
  CHECK(c.rope_theta == 7.0f);
  // yarn without original_max_position_embeddings: max_position_embeddings (transformers' standardisation).
  c = load(qwen3({{"rope_type", "yarn"}, {"factor", 4.0}}));
  CHECK(c.rope.original_max_position_embeddings == 131072);
  CHECK(c.rope.truncate);
  CHECK(c.rope.beta_fast == 32.0);
  CHECK(c.rope.beta_slow == 1.0);
  CHECK(c.rope_theta == 10000.f);  // Qwen3-MoE's default theta

  using moescope::test::error_of;
  auto err = [](const json& rope) { return error_of([&] { load(qwen3(rope)); }); };
  CHECK(err({{"rope_type", "yarn"}}) == "config.json: field 'rope_parameters': field 'factor': missing (required for rope_type 'yarn')");
  CHECK(err({{"rope_type", "linear"}, {"factor", "2"}}) ==
        "config.json: field 'rope_parameters': field 'factor': wrong type (expected a number, found \"2\")");
  CHECK(err({{"rope_type", "linear"}, {"factor", 0.5}}) ==
        "config.json: field 'rope_parameters': field 'factor': out of range (expected a finite number >= 1, found 0.5)");
  CHECK(err({{"rope_type", "llama3"}, {"factor", 8}, {"low_freq_factor", 1}}) ==
        "config.json: field 'rope_parameters': field 'high_freq_factor': missing (required for rope_type 'llama3')");
  CHECK(err({{"rope_type", "llama3"}, {"factor", 8}, {"low_freq_factor", 4}, {"high_freq_factor", 1}}).find(
            "config.json: field 'rope_parameters': field 'high_freq_factor': below low_freq_factor") == 0);
  CHECK(err({{"rope_type", "yarn"}, {"factor", 4}, {"original_max_position_embeddings", 0}}).find(
            "config.json: field 'rope_parameters': field 'original_max_position_embeddings': out of range") == 0);
  CHECK(err({{"rope_type", "yarn"}, {"factor", 4}, {"truncate", 1}}).find(
            "config.json: field 'rope_parameters': field 'truncate': wrong type") == 0);
  CHECK(err({{"rope_type", "yarn"}, {"factor", 4}, {"mscale_all_dim", -1}}).find(
            "config.json: field 'rope_parameters': field 'mscale_all_dim': out of range") == 0);
  CHECK(err({{"rope_type", "yarn"}, {"factor", 4}, {"attention_factor", 0}}).find(
            "config.json: field 'rope_parameters': field 'attention_factor': out of range") == 0);
  CHECK(err({{"rope_type", "longrope"}, {"factor", 4}}).find(
            "config.json: field 'rope_parameters': field 'rope_type': unsupported RoPE scaling 'longrope'") == 0);
  CHECK(err({{"rope_type", "ntk-by-parts"}}).find(
            "config.json: field 'rope_parameters': field 'rope_type': unknown RoPE scaling type") == 0);
  CHECK(err({{"rope_type", "linear"}, {"factor", 2}, {"partial_rotary_factor", 0.5}}).find(
            "config.json: field 'rope_parameters': field 'partial_rotary_factor': partial rotary embeddings are not supported") == 0);
  json bad = qwen3({{"rope_type", "default"}});
  bad["rope_scaling"] = "yarn";
  CHECK(error_of([&] { load(bad); }).find("config.json: field 'rope_scaling': wrong type") == 0);
}
