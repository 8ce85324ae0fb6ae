// The MoE families beyond EMO/OLMoE: the real configs in ../shared/oracles load with the
// structure their model cards state, parameter counts from config.json alone equal the
// published figures and the tensors actually stored, and family-specific fields are checked.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/checkpoint/checkpoint.h"
#include "engine/config.h"
#include "engine/config_summary.h"
#include "engine/error.h"
#include "engine/model.h"
#include "engine/param_count.h"
#include "engine/checkpoint/safetensors_writer.h"
#include "engine/checkpoint/weight_files.h"
#include "tests/error_of.h"
#include "tests/test_paths.h"

namespace fs = std::filesystem;
using namespace moescope;
using nlohmann::json;

namespace {

ModelConfig oracle_config(const std::string& name) {
  return ModelConfig::from_file(moescope::test::oracles_dir() + "/configs/" + name + "/config.json");
}

// Rounds to the precision model cards quote (46.7B, 12.9B).
double billions(double n, int digits) {
  const double scale = std::pow(10.0, digits);
  return std::round(n / 1e9 * scale) / scale;
}

}  // namespace

TEST_CASE("families: Mixtral-8x7B's real config loads; 46.7B total and 12.9B active parameters") {
  const ModelConfig c = oracle_config("mixtral-8x7b-v0.1");
  CHECK(c.arch == Arch::Mixtral);
  CHECK(c.num_layers == 32);
  CHECK(c.num_moe_layers() == 32);
  CHECK(c.layers[0].num_experts == 8);
  CHECK(c.layers[0].num_shared == 0);
  CHECK(c.top_k == 2);
  CHECK(c.norm_topk_prob);  // Mixtral renormalises its top-2 whatever the config says
  CHECK(c.num_kv_heads == 8);
  CHECK(c.head_dim == 128);
  CHECK(c.rope_theta == 1e6f);
  CHECK(c.rms_norm_eps == 1e-5f);
  CHECK(c.layers[31].sliding_window == 0);  // this (Dec 2023) config has no sliding_window key
  const ParamCounts p = count_params(c);
  CHECK(billions(p.total, 1) == 46.7);
  CHECK(billions(p.active, 1) == 12.9);
  // By hand: 32 layers x (attention 2*4096*4096 + 2*4096*1024, router 8*4096, 8 experts of
  // 3*4096*14336, 2 norms) + embedding and head 2*32000*4096 + final norm.
  const double layer = 2.0 * 4096 * 4096 + 2.0 * 4096 * 1024 + 8.0 * 4096 + 8.0 * 3 * 4096 * 14336 + 2.0 * 4096;
  CHECK(p.total == 32 * layer + 2.0 * 32000 * 4096 + 4096);
  CHECK(p.active == p.total - 32 * 6.0 * 3 * 4096 * 14336);
}

TEST_CASE("families: WizardLM-2-8x22B (Mixtral-8x22B) counts exactly the bytes its real index lists") {
  const std::string dir = moescope::test::oracles_dir() + "/configs/wizardlm-2-8x22b";
  const ModelConfig c = ModelConfig::from_file(dir + "/config.json");
  CHECK(c.arch == Arch::Mixtral);
  CHECK(c.num_layers == 56);
  const WeightFiles files = find_weight_files(dir);
  CHECK(files.has_index);
  CHECK_FALSE(files.complete);  // the shards are not in the oracle folder
  CHECK(files.index_tensors == 1739);
  CHECK(files.index_shards == 59);
  // Every tensor is BF16 (2 bytes): the index's total_size is twice the parameter count.
  const ParamCounts p = count_params(c);
  CHECK(p.total * 2 == files.index_total_size);
  CHECK(billions(p.total, 0) == 141);
  CHECK(billions(p.active, 0) == 39);
}

TEST_CASE("families: Qwen3-30B-A3B's real config loads; 30.5B total and 3.3B active parameters") {
  const ModelConfig c = oracle_config("qwen3-30b-a3b");
  CHECK(c.arch == Arch::Qwen3Moe);
  CHECK(c.num_layers == 48);
  CHECK(c.num_moe_layers() == 48);
  CHECK(c.layers[0].num_experts == 128);
  CHECK(c.top_k == 8);
  CHECK(c.norm_topk_prob);
  CHECK(c.head_dim == 128);  // given explicitly: not hidden / heads (= 64)
  CHECK(c.qk_norm == QkNorm::PerHead);
  CHECK(c.expert_width == 768);
  CHECK(c.shared_width == 0);
  const ParamCounts p = count_params(c);
  CHECK(billions(p.total, 1) == 30.5);
  CHECK(std::floor(p.active / 1e8) == 33);  // 3.353B: the model card's "3.3B" is truncated
  CHECK(p.active == 3353032704.0);           // = 48 x (attention + router + 8 experts + norms) + 2 x 151936 x 2048 + 2048
}

TEST_CASE("families: Mistral-7B (dense) loads with its 4096-token sliding window and 7.24B parameters") {
  const ModelConfig c = oracle_config("mistral-7b-v0.1");
  CHECK(c.arch == Arch::Mistral);
  CHECK(c.num_moe_layers() == 0);
  CHECK(c.layers[0].sliding_window == 4096);
  CHECK(billions(count_params(c).total, 2) == 7.24);
}

TEST_CASE("families: parameter counts from config.json equal the tensors stored, for every fixture model") {
  int checked = 0;
  for (const auto& e : fs::directory_iterator(moescope::test::fixtures_dir() + "/models")) {
    if (!e.is_directory() || !fs::exists(e.path() / "config.json")) continue;
    CAPTURE(e.path().filename().string());
    ModelConfig c = ModelConfig::from_file((e.path() / "config.json").string());
    const Checkpoint ckpt(e.path().string());
    double stored = 0;
    for (const auto& name : ckpt.names()) stored += double(ckpt.get(name).numel());
    c.vocab_size = int(ckpt.get("model.embed_tokens.weight").shape[0]);
    CHECK(count_params(c).total == stored);
    ++checked;
  }
  CHECK(checked >= 15);
}

TEST_CASE("families: family fields are validated and other families' fields refused") {
  json q = {{"model_type", "qwen2_moe"}, {"hidden_size", 32}, {"num_hidden_layers", 4}, {"num_attention_heads", 4},
            {"num_experts", 4}, {"num_experts_per_tok", 2}, {"moe_intermediate_size", 8}, {"intermediate_size", 24},
            {"shared_expert_intermediate_size", 16}, {"decoder_sparse_step", 2}, {"mlp_only_layers", json::array({3})}};
  ModelConfig c = ModelConfig::from_json(q, "q.json");
  // MoE where (l + 1) % 2 == 0 and l not in mlp_only_layers: only layer 1.
  CHECK(c.layers[0].num_experts == 0);
  CHECK(c.layers[1].num_experts == 4);
  CHECK(c.layers[2].num_experts == 0);
  CHECK(c.layers[3].num_experts == 0);
  CHECK(c.dense_width == 24);
  CHECK(c.shared_width == 16);
  CHECK(c.shared_gate);
  CHECK(c.qkv_bias);   // Qwen2-MoE's default
  CHECK_FALSE(c.o_bias);
  q["use_sliding_window"] = true;
  q["sliding_window"] = 5;
  q["max_window_layers"] = 2;
  c = ModelConfig::from_json(q, "q.json");  // transformers' default pattern: even layers below max_window_layers
  CHECK(c.layers[0].sliding_window == 5);
  CHECK(c.layers[1].sliding_window == 0);
  CHECK(c.layers[2].sliding_window == 0);
  q["mlp_only_layers"] = json::array({7});
  CHECK(moescope::test::error_of([&] { ModelConfig::from_json(q, "q.json"); }) ==
        "q.json: field 'mlp_only_layers': layer index out of range (expected < 4 (num_hidden_layers), found 7)");
  q["mlp_only_layers"] = json::array();
  q["num_shared_experts"] = 1;
  CHECK(moescope::test::error_of([&] { ModelConfig::from_json(q, "q.json"); }).find(
            "q.json: field 'num_shared_experts': not a field of Qwen2-MoE configs") == 0);

  json m = {{"model_type", "mixtral"}, {"hidden_size", 32}, {"num_hidden_layers", 2}, {"num_attention_heads", 4},
            {"num_local_experts", 4}, {"num_experts_per_tok", 2}, {"intermediate_size", 8}, {"sliding_window", 3}};
  c = ModelConfig::from_json(m, "m.json");
  CHECK(c.layers[1].num_experts == 4);
  CHECK(c.layers[1].sliding_window == 3);
  m["num_experts_per_tok"] = 5;
  CHECK(moescope::test::error_of([&] { ModelConfig::from_json(m, "m.json"); }).find("top-k exceeds the experts of layer 0") !=
        std::string::npos);

  json f = {{"model_type", "flex_olmo"}, {"hidden_size", 32}, {"num_hidden_layers", 2}, {"num_attention_heads", 4},
            {"num_experts", 4}, {"num_experts_per_tok", 2}, {"intermediate_size", 8}};
  c = ModelConfig::from_json(f, "f.json");
  CHECK(c.norm_placement == NormPlacement::Post);
  CHECK(c.qk_norm == QkNorm::Full);
  CHECK(c.rope_theta == 500000.f);  // FlexOlmo's default theta
}

TEST_CASE("families: a multimodal Llama 4 checkpoint (model_type llama4) runs its text model") {
  // Built from the llama4_text fixture: config under text_config, every tensor under
  // "language_model.", plus a vision tensor that must be ignored.
  const std::string src = moescope::test::fixtures_dir() + "/models/llama4-chunked";
  moescope::test::TempDir tmp("llama4-multimodal");
  const Checkpoint text(src);
  std::vector<TensorToWrite> tensors;
  for (const auto& name : text.names()) {
    const TensorInfo& t = text.get(name);
    tensors.push_back({"language_model." + name, t.dtype, t.shape, std::vector<unsigned char>(t.data, t.data + t.nbytes)});
  }
  tensors.push_back(tensor_f32("vision_model.patch_embedding.weight", {2, 3}, {1, 2, 3, 4, 5, 6}));
  write_safetensors(tmp / "model.safetensors", tensors, {{"format", "pt"}});
  std::ifstream in(src + "/config.json");
  const json text_config = json::parse(in);
  const json wrapper = {{"model_type", "llama4"}, {"architectures", {"Llama4ForConditionalGeneration"}},
                        {"text_config", text_config}, {"vision_config", {{"hidden_size", 8}}}};
  std::ofstream(tmp / "config.json") << wrapper.dump(2);

  LoadOptions no_tokenizer;
  no_tokenizer.load_tokenizer = false;
  const auto a = Model::load(src, no_tokenizer);
  const auto b = Model::load(tmp.str(), no_tokenizer);
  CHECK(b->config().model_type == "llama4");
  CHECK(b->config().arch == Arch::Llama4);
  const std::vector<int32_t> ids = {5, 77, 12, 200, 31, 9, 150, 3, 44, 18, 99};
  const ForwardResult ra = a->forward({ids}), rb = b->forward({ids});
  REQUIRE(ra.layers.size() == rb.layers.size());
  for (size_t l = 0; l < ra.layers.size(); ++l) CHECK(ra.layers[l].topk_ids == rb.layers[l].topk_ids);
  for (size_t t = 0; t + 1 < ids.size(); ++t) CHECK(ra.nll[t] == rb.nll[t]);  // the last is NaN (no next token)

  // Without its text_config the wrapper is refused by name.
  std::ofstream(tmp / "config.json") << json{{"model_type", "llama4"}}.dump();
  CHECK(moescope::test::error_of([&] { Model::load(tmp.str()); })
            .find("field 'text_config': missing (expected an object") != std::string::npos);
}

TEST_CASE("families: info's one-line descriptions say what each family does") {
  auto fixture = [](const std::string& name) {
    return ModelConfig::from_file(moescope::test::fixtures_dir() + "/models/" + name + "/config.json");
  };
  CHECK(describe_routing(fixture("deepseek_v3-noaux")) ==
        "sigmoid + correction bias, top-3 of 8 in the 2 best of 4 groups, renormalised, x2.5");
  CHECK(describe_routing(fixture("llama4-chunked")) == "sigmoid top-1 of 4, weight on the expert's input");
  CHECK(describe_routing(fixture("mistral-dense")) == "none (dense model)");
  CHECK(describe_attention(fixture("deepseek_v2-lite")) ==
        "MLA 4 heads (kv latent 16, q/k 8 + rope 4, v 6), RoPE interleaved");
  CHECK(describe_attention(fixture("llama4-chunked")) ==
        "GQA 4 heads / 2 key-value, head_dim 8, L2 q/k norm, chunks of 8, no RoPE in 1 layer, RoPE interleaved");
  CHECK(describe_shared_mlp(fixture("qwen2_moe-shared")).find("sigmoid-gated shared MLP") == 0);
  CHECK(describe_shared_mlp(fixture("mixtral-bf16")).empty());
}

TEST_CASE("families: MLA allows an odd q/k head width; only its RoPE part must be even (fuzz regression)") {
  // tests/fuzz/regressions/config/mla-odd-qk-head-dim.json: qk_nope_head_dim 1 + qk_rope_head_dim 4.
  const ModelConfig c =
      ModelConfig::from_file(moescope::test::source_dir() + "/tests/fuzz/regressions/config/mla-odd-qk-head-dim.json");
  CHECK(c.mla.enabled);
  CHECK(c.head_dim == 5);
  CHECK(c.mla.qk_rope_head_dim == 4);
  json j = json::parse(std::ifstream(moescope::test::source_dir() + "/tests/fuzz/regressions/config/mla-odd-qk-head-dim.json"));
  j["qk_rope_head_dim"] = 3;
  CHECK(moescope::test::error_of([&] { ModelConfig::from_json(j, "c.json"); }).find("field 'qk_rope_head_dim': RoPE needs an even dimension") !=
        std::string::npos);
}

TEST_CASE("families: every family-specific bad field is refused with the file, the field and what was expected") {
  auto fixture_json = [](const std::string& name) {
    return json::parse(std::ifstream(moescope::test::fixtures_dir() + "/models/" + name + "/config.json"));
  };
  auto error = [](const json& j) { return moescope::test::error_of([&] { ModelConfig::from_json(j, "c.json"); }); };
  const std::vector<std::pair<std::function<void(json&)>, std::string>> qwen2 = {
      {[](json& j) { j["use_sliding_window"] = true; j["sliding_window"] = 4; j["layer_types"] = {"full_attention"}; },
       "c.json: field 'layer_types': wrong shape (expected 2 strings (num_hidden_layers)"},
      {[](json& j) { j["use_sliding_window"] = true; j["sliding_window"] = 4; j["layer_types"] = {"full_attention", "local"}; },
       "c.json: field 'layer_types': unknown layer type (expected \"sliding_attention\" or \"full_attention\", found \"local\")"},
      {[](json& j) { j["use_sliding_window"] = true; j["sliding_window"] = 0; j["layer_types"] = {"sliding_attention", "full_attention"}; },
       "c.json: field 'sliding_window': layer_types has sliding layers but no sliding_window is set"},
  };
  for (const auto& [edit, message] : qwen2) {
    json j = fixture_json("qwen2_moe-shared");
    edit(j);
    CHECK(error(j).find(message) == 0);
  }
  const std::vector<std::pair<std::function<void(json&)>, std::string>> deepseek = {
      {[](json& j) { j["topk_method"] = "noaux_tc"; }, "c.json: field 'topk_method': unsupported routing (expected \"greedy\" or \"group_limited_greedy\", found \"noaux_tc\")"},
      {[](json& j) { j["n_group"] = 3; }, "c.json: field 'n_group': must divide the routed experts (expected a divisor of 8, found 3)"},
      {[](json& j) { j["topk_group"] = 5; }, "c.json: field 'topk_group': more groups kept than there are (expected <= 4, found 5)"},
      {[](json& j) { j["topk_group"] = 1; }, "c.json: field 'topk_group': the kept groups cannot hold top-k experts"},
  };
  for (const auto& [edit, message] : deepseek) {
    json j = fixture_json("deepseek_v2-group");
    edit(j);
    CHECK(error(j).find(message) == 0);
  }
  json v3 = fixture_json("deepseek_v3-noaux");
  v3["n_group"] = 8;
  v3["topk_group"] = 3;
  CHECK(error(v3).find("c.json: field 'n_group': DeepSeek-V3 scores a group by its two best experts (expected at least 2 experts per group, found 1)") == 0);
  const std::vector<std::pair<std::function<void(json&)>, std::string>> llama4 = {
      {[](json& j) { j["no_rope_layers"] = {1, 0}; }, "c.json: field 'no_rope_layers': wrong length (expected 4 entries (num_hidden_layers), found 2)"},
      {[](json& j) { j["moe_layers"] = {1, 9}; }, "c.json: field 'moe_layers': layer index out of range (expected < 4 (num_hidden_layers), found 9)"},
      {[](json& j) { j["layer_types"] = {"chunked_attention", "full_attention", "full_attention", "sliding_attention"}; },
       "c.json: field 'layer_types': unknown layer type (expected \"chunked_attention\" or \"full_attention\", found \"sliding_attention\")"},
  };
  for (const auto& [edit, message] : llama4) {
    json j = fixture_json("llama4-chunked");
    edit(j);
    CHECK(error(j).find(message) == 0);
  }
  json flex = fixture_json("flex_olmo-postnorm");
  flex["clip_qkv"] = 8.0;
  CHECK(error(flex).find("c.json: field 'clip_qkv': FlexOlmo has no q/k/v clipping") == 0);
  json mistral = fixture_json("mistral-dense");
  mistral["num_local_experts"] = 8;
  CHECK(error(mistral) == "c.json: field 'num_local_experts': a Mistral (dense) config has no experts: use model_type 'mixtral'");
}

TEST_CASE("families: a weight index without its shards is counted from the config; a bad index names its field") {
  moescope::test::TempDir tmp("weight-index");
  auto write_index = [&](const json& index) { std::ofstream(tmp / "model.safetensors.index.json") << index.dump(); };
  write_index({{"metadata", {{"total_size", 96}}}, {"weight_map", {{"a.weight", "s-1.safetensors"}, {"b.weight", "s-2.safetensors"}}}});
  WeightFiles w = find_weight_files(tmp.str());
  CHECK(w.has_index);
  CHECK_FALSE(w.complete);
  CHECK(w.index_tensors == 2);
  CHECK(w.index_shards == 2);
  CHECK(w.index_total_size == 96);
  write_index({{"metadata", {{"total_size", "big"}}}, {"weight_map", {{"a.weight", "s-1.safetensors"}}}});
  CHECK(moescope::test::error_of([&] { find_weight_files(tmp.str()); })
            .find("model.safetensors.index.json: field 'metadata.total_size': wrong type (expected a byte count, found \"big\")") !=
        std::string::npos);
  write_index({{"weight_map", {{"a.weight", "../s-1.safetensors"}}}});
  CHECK(moescope::test::error_of([&] { find_weight_files(tmp.str()); })
            .find("weight_map.a.weight: bad shard name (expected a file name inside the folder, found ../s-1.safetensors)") !=
        std::string::npos);
}
