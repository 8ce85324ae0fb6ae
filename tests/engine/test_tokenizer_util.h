// test_tokenizer_util.h — shared helpers for the tokenizer suites: loading (each tokenizer.json
// once per test run), reading oracle files, and printing id lists in failure messages.
#pragma once

#include <cstdint>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "engine/tokenizer/tokenizer.h"
#include "tests/test_paths.h"

namespace moescope::test {

inline std::string read_file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// name: a folder of oracles/tokenizers (dolma2, olmoe-gpt-neox-20b-pii, qwen3).
inline const Tokenizer& oracle_tokenizer(const std::string& name) {
  static std::map<std::string, std::unique_ptr<Tokenizer>> loaded;
  auto it = loaded.find(name);
  if (it == loaded.end()) {
    auto tok = std::make_unique<Tokenizer>(
        Tokenizer::from_file(oracles_dir() + "/tokenizers/" + name + "/tokenizer.json"));
    it = loaded.emplace(name, std::move(tok)).first;
  }
  return *it->second;
}

inline std::string ids_to_string(const std::vector<int32_t>& ids) {
  std::string s;
  for (int32_t id : ids) {
    s += ' ';
    s += std::to_string(id);
  }
  return s;
}

}  // namespace moescope::test
