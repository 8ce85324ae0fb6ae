// json_out.h — the JSON pieces several commands print: an encoding (ids, tokens, byte offsets),
// row-major buffers as nested lists, and dumping that never fails on invalid UTF-8 in tokens.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/tokenizer/tokenizer.h"

namespace moescope::cli {

// Adds "ids", "tokens" and "offsets" ([[begin, end], ...] byte ranges) to j.
void add_encoding(nlohmann::json& j, const Encoding& enc);

// rows x cols row-major buffer -> [[...], ...]
template <typename T>
nlohmann::json rows_json(const std::vector<T>& v, size_t rows, size_t cols) {
  nlohmann::json out = nlohmann::json::array();
  for (size_t r = 0; r < rows; ++r) out.push_back(std::vector<T>(v.begin() + r * cols, v.begin() + (r + 1) * cols));
  return out;
}

// j.dump(indent) with invalid UTF-8 replaced (byte-level tokens may hold partial characters).
std::string dump(const nlohmann::json& j, int indent = -1);

}  // namespace moescope::cli
