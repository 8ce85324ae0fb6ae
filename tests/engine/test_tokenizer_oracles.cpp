// test_tokenizer_oracles.cpp — the tokenizer against published vectors: llama.cpp's
// ggml-vocab-*.gguf.{inp,out} (made with HF AutoTokenizer), tiktoken's cl100k tests and the
// transformers OLMoE tests. Each case must give exactly the published ids.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "tests/engine/test_tokenizer_util.h"

namespace {

using moescope::test::ids_to_string;
using moescope::test::oracle_tokenizer;
using moescope::test::oracles_dir;
using moescope::test::read_file_bytes;

struct VectorCase {
  std::string text;
  std::vector<int32_t> ids;
};

// .inp: texts each followed by "\n__ggml_vocab_test__\n"; .out: one line of " id id ..." per text.
std::vector<VectorCase> load_llama_cpp_vectors(const std::string& stem) {
  const std::string dir = oracles_dir() + "/tokenizer-test-vectors/llama.cpp/";
  const std::string inp = read_file_bytes(dir + stem + ".gguf.inp");
  const std::string out = read_file_bytes(dir + stem + ".gguf.out");
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<VectorCase> cases;
  size_t pos = 0;
  while (true) {
    const size_t next = inp.find(sep, pos);
    if (next == std::string::npos) break;
    cases.push_back({inp.substr(pos, next - pos), {}});
    pos = next + sep.size();
  }
  REQUIRE(pos == inp.size());  // the last piece (after the final separator) is empty
  std::istringstream lines(out);
  std::string line;
  size_t k = 0;
  while (std::getline(lines, line)) {
    REQUIRE(k < cases.size());
    std::istringstream ids(line);
    int32_t id;
    while (ids >> id) cases[k].ids.push_back(id);
    ++k;
  }
  REQUIRE(k == cases.size());
  return cases;
}

int run_llama_cpp_vectors(const std::string& tokenizer, const std::string& stem) {
  const auto& tok = oracle_tokenizer(tokenizer);
  const auto cases = load_llama_cpp_vectors(stem);
  int passed = 0;
  for (const VectorCase& c : cases) {
    CAPTURE(c.text);
    const auto got = tok.encode(c.text).ids;
    CHECK_MESSAGE(got == c.ids, "expected" << ids_to_string(c.ids) << " got" << ids_to_string(got));
    if (got == c.ids) ++passed;
  }
  MESSAGE(stem << ": " << passed << "/" << cases.size() << " cases pass");
  return static_cast<int>(cases.size());
}

}  // namespace

TEST_CASE("tokenizer: llama.cpp vectors, dbrx (cl100k) on dolma2") {
  CHECK(run_llama_cpp_vectors("dolma2", "ggml-vocab-dbrx") == 43);
}

TEST_CASE("tokenizer: llama.cpp vectors, mpt (GPT-NeoX-20B) on olmoe-gpt-neox-20b-pii") {
  CHECK(run_llama_cpp_vectors("olmoe-gpt-neox-20b-pii", "ggml-vocab-mpt") == 46);
}

TEST_CASE("tokenizer: llama.cpp vectors, qwen2 on qwen3") {
  CHECK(run_llama_cpp_vectors("qwen3", "ggml-vocab-qwen2") == 46);
}

TEST_CASE("tokenizer: llama.cpp vectors, deepseek-r1-qwen on qwen3") {
  CHECK(run_llama_cpp_vectors("qwen3", "ggml-vocab-deepseek-r1-qwen") == 46);
}

TEST_CASE("tokenizer: tiktoken cl100k tests on dolma2") {
  const auto& tok = oracle_tokenizer("dolma2");
  const auto j = nlohmann::json::parse(
      read_file_bytes(oracles_dir() + "/tokenizer-test-vectors/published/cl100k_tiktoken-tests.json"));
  int n = 0;
  for (const auto& c : j.at("encode_cases")) {
    const std::string text = c.at("text").get<std::string>();
    CAPTURE(text);
    CHECK(tok.encode(text).ids == c.at("ids").get<std::vector<int32_t>>());
    ++n;
  }
  for (const auto& c : j.at("decode_cases")) {
    CHECK(tok.decode(c.at("ids").get<std::vector<int32_t>>()) == c.at("text").get<std::string>());
    ++n;
  }
  CHECK(n == 10);
}

TEST_CASE("tokenizer: transformers OLMoE tests on olmoe-gpt-neox-20b-pii") {
  const auto& tok = oracle_tokenizer("olmoe-gpt-neox-20b-pii");
  const auto j = nlohmann::json::parse(
      read_file_bytes(oracles_dir() + "/tokenizer-test-vectors/published/olmoe-1b-7b-0924_transformers-tests.json"));
  constexpr int32_t kEos = 50279;  // |||IP_ADDRESS|||, OLMoE's EOS
  CHECK(tok.id_to_token(kEos) == "|||IP_ADDRESS|||");
  int n = 0;
  for (const auto& c : j.at("encode_cases")) {
    const std::string text = c.at("text").get<std::string>();
    CAPTURE(text);
    auto ids = tok.encode(text).ids;
    if (c.value("add_eos_token", false)) ids.push_back(kEos);  // what add_eos_token=True appends
    CHECK(ids == c.at("ids").get<std::vector<int32_t>>());
    ++n;
  }
  for (const auto& c : j.at("decode_cases")) {
    const auto ids = c.at("ids").get<std::vector<int32_t>>();
    CHECK(tok.decode(ids, c.at("skip_special_tokens").get<bool>()) == c.at("text").get<std::string>());
    ++n;
  }
  CHECK(n == 14);
}
