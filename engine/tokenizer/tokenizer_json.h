// tokenizer_json.h — reading tokenizer.json fields with errors that name the file and the field
// path (e.g. "tokenizer.json: pre_tokenizer.pretokenizers[1].type 'Metaspace' is not supported yet").
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace moescope::detail {

// The largest token id a tokenizer.json may use. Tables indexed by id are allocated up to the
// largest id, so one absurd id in a small file must not size them (real vocabularies stay below
// ~300k ids; this leaves a wide margin and caps the tables at ~170 MB).
constexpr int64_t kMaxTokenId = (int64_t{1} << 22) - 1;
// An integer JSON value in [0, kMaxTokenId] (JSON integers may be signed or unsigned 64-bit).
inline bool token_id_in_range(const nlohmann::json& v) {
  if (v.is_number_unsigned()) return v.get<uint64_t>() <= uint64_t(kMaxTokenId);
  return v.is_number_integer() && v.get<int64_t>() >= 0 && v.get<int64_t>() <= kMaxTokenId;
}

class JsonField {
 public:
  JsonField(const nlohmann::json& value, const std::string& file, std::string path)
      : value_(&value), file_(&file), path_(std::move(path)) {}

  const nlohmann::json& value() const { return *value_; }
  const std::string& file() const { return *file_; }
  const std::string& path() const { return path_; }
  bool is_null() const { return value_->is_null(); }

  // Present and not null.
  bool has(std::string_view key) const;
  JsonField at(std::string_view key) const;       // missing → error
  JsonField at(size_t index) const;               // array element
  size_t array_size() const;                      // error unless an array

  std::string as_string() const;
  bool as_bool() const;
  int64_t as_int() const;

  // Absent or null give the default / nullopt.
  std::optional<std::string> optional_string(std::string_view key) const;
  bool bool_or(std::string_view key, bool fallback) const;

  [[noreturn]] void fail(const std::string& what) const;
  [[noreturn]] void fail_type(const char* expected) const;
  [[noreturn]] void unsupported(const std::string& value) const;  // "'<value>' is not supported yet"

 private:
  const nlohmann::json* value_;
  const std::string* file_;
  std::string path_;
};

// The name of the JSON type of v, for messages.
const char* json_type_name(const nlohmann::json& v);

}  // namespace moescope::detail
