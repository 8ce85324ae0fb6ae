// test_synthetic_checkpoint.cpp — the generator behind the memory benchmark: the folder it
// writes is a valid EMO checkpoint (the engine loads and runs it), its weights decode from the
// raw bytes to exactly what the loader holds, it is deterministic, and bad specs are named.
// Also the benchmark's expected-memory count against a hand count and the engine's own.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "bench/expected_memory.h"
#include "bench/synthetic_checkpoint.h"
#include "engine/error.h"
#include "engine/cpu/gemm_amx.h"
#include "engine/model.h"
#include "tests/test_paths.h"

namespace fs = std::filesystem;
using namespace moescope;

namespace {

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

SyntheticCheckpointSpec small_spec() {
  SyntheticCheckpointSpec s;
  s.layers = 3;
  s.experts = 8;
  s.top_k = 3;
  s.hidden = 64;
  s.intermediate = 32;
  s.heads = 4;
  s.shard_bytes = 1 << 20;
  s.tokenizer = test::source_dir() + "/samples/models/emo-sample/tokenizer.json";
  return s;
}

std::string spec_error(SyntheticCheckpointSpec s, const std::string& dir) {
  try {
    write_synthetic_checkpoint(dir, s);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("synthetic checkpoint: an EMO folder the engine loads, with sharded, exact weights") {
  const test::TempDir tmp("synthetic");
  const SyntheticCheckpointSpec spec = small_spec();
  const std::string dir = tmp / "ckpt";
  const SyntheticCheckpointInfo info = write_synthetic_checkpoint(dir, spec);

  CHECK(file_bytes(dir + "/tokenizer.json") == file_bytes(spec.tokenizer));
  const nlohmann::json index = nlohmann::json::parse(file_bytes(dir + "/model.safetensors.index.json"));
  CHECK(index["metadata"]["total_size"].get<uint64_t>() == info.tensor_bytes);
  CHECK(info.shards > 1);
  size_t shards_on_disk = 0;
  for (const auto& e : fs::directory_iterator(dir)) shards_on_disk += e.path().extension() == ".safetensors";
  CHECK(shards_on_disk == info.shards);
  // Hand count: V x D twice (embedding, head), per layer 2 norms, 4 D x D projections, the router
  // and E experts of 3 x I x D; the final norm. BF16 = 2 bytes.
  const uint64_t V = 8192, D = 64, I = 32, E = 8, L = 3;
  CHECK(info.vocab == int(V));
  CHECK(info.expert_bytes == 2 * L * E * 3 * I * D);
  CHECK(info.tensor_bytes == 2 * (2 * V * D + L * (2 * D + 4 * D * D + E * D + E * 3 * I * D) + D));

  const auto model = Model::load(dir);
  const ModelConfig& c = model->config();
  CHECK(c.model_type == "emo");
  CHECK(c.num_layers == 3);
  CHECK(c.top_k == 3);
  CHECK(c.layers[0].num_experts == 8);
  CHECK(c.layers[0].num_shared == 1);
  CHECK(c.vocab_size == int(V));
  CHECK(model->weights().storage_dtype == "BF16");
  REQUIRE(model->tokenizer());

  // The embedding (1 M elements: several 1 MiB read chunks) decoded here from the raw file bytes
  // must equal what the loader widened.
  const TensorInfo& emb = model->checkpoint().get("model.embed_tokens.weight");
  const std::string raw = file_bytes(*emb.file);
  const std::string header_len_bytes = raw.substr(0, 8);
  uint64_t hl = 0;
  for (int i = 7; i >= 0; --i) hl = (hl << 8) | uint8_t(header_len_bytes[size_t(i)]);
  const nlohmann::json header = nlohmann::json::parse(raw.substr(8, hl));
  const uint64_t begin = 8 + hl + header["model.embed_tokens.weight"]["data_offsets"][0].get<uint64_t>();
  size_t mismatches = 0;
  float max_abs = 0;
  std::vector<float> row(D);
  for (uint64_t i = 0; i < V * D; ++i) {
    if (i % D == 0) model->weights().embed.row_f32(int64_t(i / D), row.data());
    uint16_t b;
    std::memcpy(&b, raw.data() + begin + 2 * i, 2);
    const uint32_t u = uint32_t(b) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    mismatches += f != row[i % D];
    max_abs = std::max(max_abs, std::fabs(f));
  }
  CHECK(mismatches == 0);
  // Uniform with standard deviation 0.5 / sqrt(D): bounded by sqrt(3) x that.
  CHECK(max_abs <= float(std::sqrt(3.0) * 0.5 / 8.0) * 1.01f);
  CHECK(max_abs > float(std::sqrt(3.0) * 0.5 / 8.0) * 0.9f);
  CHECK(model->weights().final_norm.data[0] == 1.0f);

  const Encoding enc = model->tokenizer()->encode("Routing a few tokens through random experts.");
  const ForwardResult r = model->forward({enc.ids});
  for (size_t t = 0; t + 1 < r.nll.size(); ++t) CHECK(std::isfinite(r.nll[t]));

  // Same seed: the same bytes; another seed: different weights.
  const std::string again = tmp / "again";
  write_synthetic_checkpoint(again, spec);
  for (const auto& e : fs::directory_iterator(dir))
    CHECK(file_bytes(e.path().string()) == file_bytes((fs::path(again) / e.path().filename()).string()));
  SyntheticCheckpointSpec other = spec;
  other.seed = 1;
  write_synthetic_checkpoint(tmp / "other", other);
  const std::string first_shard = "model-00001-of-" + std::string(5 - std::to_string(info.shards).size(), '0') +
                                  std::to_string(info.shards) + ".safetensors";
  CHECK(file_bytes(dir + "/" + first_shard).size() == file_bytes(tmp / "other" + "/" + first_shard).size());
  CHECK(file_bytes(dir + "/" + first_shard) != file_bytes(tmp / "other" + "/" + first_shard));
}

TEST_CASE("synthetic checkpoint: bad specs are named; an existing folder is never touched") {
  const test::TempDir tmp("synthetic-bad");
  SyntheticCheckpointSpec s = small_spec();
  s.heads = 5;
  CHECK(spec_error(s, tmp / "a") ==
        "synthetic checkpoint: heads: hidden / heads must be an even whole number (RoPE) (expected a divisor of 64 "
        "leaving an even head size, found 5)");
  s = small_spec();
  s.top_k = 1;
  CHECK(spec_error(s, tmp / "a") ==
        "synthetic checkpoint: top_k: out of range (expected 2..8 (shared experts plus at least one routed), found 1)");
  s = small_spec();
  s.shared_experts = 8;
  CHECK(spec_error(s, tmp / "a") == "synthetic checkpoint: shared_experts: out of range (expected 0..7, found 8)");
  s = small_spec();
  s.layers = 0;
  CHECK(spec_error(s, tmp / "a") == "synthetic checkpoint: layers: out of range (expected at least 1, found 0)");
  CHECK(!fs::exists(tmp / "a"));

  fs::create_directories(tmp / "taken");
  std::ofstream(tmp / "taken" + "/keep.txt") << "mine";
  CHECK(spec_error(small_spec(), tmp / "taken").find("already exists") != std::string::npos);
  CHECK(file_bytes(tmp / "taken" + "/keep.txt") == "mine");
}

TEST_CASE("expected memory: shared weights + kept experts, as counted by hand and by the engine") {
  const test::TempDir tmp("synthetic-expected");
  const std::string dir = tmp / "ckpt";
  write_synthetic_checkpoint(dir, small_spec());
  const ModelConfig c = ModelConfig::from_file(dir + "/config.json");
  // Layer 0 keeps 2 standard experts + the shared one, layer 1 all 8, layer 2 one + shared.
  const ExpertSubset keep =
      ExpertSubset::from_json_text(R"({"experts_kept_per_layer": [[1, 4], null, [6]]})", "keep", c);
  const Checkpoint ckpt(dir);
  const uint64_t V = 8192, D = 64, I = 32, E = 8, L = 3;
  // A BF16 checkpoint with its own head: every mode holds each GEMM weight in 2 bytes (one AMX part
  // or BF16 as stored; no padding: sizes are multiples of 32), the embedding as stored, and widens
  // the norms [D] and routers [E, D] to FP32 (2 more bytes each).
  const uint64_t needed = 2 * (2 * V * D + L * (2 * D + 4 * D * D + E * D) + D + 13 * 3 * I * D);
  const uint64_t widened = 2 * (L * (2 * D + E * D) + D);
  for (const auto& [mode, precision] : {std::pair{ExpectedMode::F32, Precision::F32}, std::pair{ExpectedMode::F32Amx, Precision::F32},
                                       std::pair{ExpectedMode::Bf16, Precision::BF16}}) {
    const ExpectedMemory m = expected_memory(ckpt, c, keep, mode);
    CHECK(m.experts_kept == 3 + 8 + 2);
    CHECK(m.experts == 2 * 13 * 3 * I * D);
    CHECK(m.needed == needed);
    CHECK(m.resident == needed + widened);
    if (mode == ExpectedMode::F32 && amx_f32_available()) continue;  // this machine's F32 mode is the AMX one
    if (mode == ExpectedMode::F32Amx && !amx_f32_available()) continue;
    LoadOptions opt;
    opt.subset = &keep;
    opt.load_tokenizer = false;
    opt.precision = precision;
    const auto model = Model::load(dir, opt);
    // oneDNN may pad its packed BF16 layout; the others hold exactly the expected bytes.
    if (mode == ExpectedMode::Bf16) CHECK(model->weights().resident_bytes >= m.resident);
    else CHECK(model->weights().resident_bytes == m.resident);
  }
}
