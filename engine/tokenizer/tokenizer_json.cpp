// tokenizer_json.cpp — JsonField: typed access to tokenizer.json with file + field-path errors.
// Every message goes through moescope::fail so the CLI prints one line naming where and what.
#include "engine/tokenizer/tokenizer_json.h"

#include "engine/error.h"

namespace moescope::detail {

const char* json_type_name(const nlohmann::json& v) {
  switch (v.type()) {
    case nlohmann::json::value_t::null: return "null";
    case nlohmann::json::value_t::object: return "object";
    case nlohmann::json::value_t::array: return "array";
    case nlohmann::json::value_t::string: return "string";
    case nlohmann::json::value_t::boolean: return "boolean";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned: return "integer";
    case nlohmann::json::value_t::number_float: return "number";
    default: return "other";
  }
}

bool JsonField::has(std::string_view key) const {
  if (!value_->is_object()) return false;
  auto it = value_->find(key);
  return it != value_->end() && !it->is_null();
}

JsonField JsonField::at(std::string_view key) const {
  if (!value_->is_object()) fail_type("object");
  auto it = value_->find(key);
  const std::string child = path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  if (it == value_->end()) moescope::fail(*file_, "missing field " + child);
  return JsonField(*it, *file_, child);
}

JsonField JsonField::at(size_t index) const {
  if (!value_->is_array()) fail_type("array");
  return JsonField((*value_)[index], *file_, path_ + "[" + std::to_string(index) + "]");
}

size_t JsonField::array_size() const {
  if (!value_->is_array()) fail_type("array");
  return value_->size();
}

std::string JsonField::as_string() const {
  if (!value_->is_string()) fail_type("string");
  return value_->get<std::string>();
}

bool JsonField::as_bool() const {
  if (!value_->is_boolean()) fail_type("boolean");
  return value_->get<bool>();
}

int64_t JsonField::as_int() const {
  if (!value_->is_number_integer()) fail_type("integer");
  return value_->get<int64_t>();
}

std::optional<std::string> JsonField::optional_string(std::string_view key) const {
  if (!has(key)) return std::nullopt;
  return at(key).as_string();
}

bool JsonField::bool_or(std::string_view key, bool fallback) const {
  if (!has(key)) return fallback;
  return at(key).as_bool();
}

void JsonField::fail(const std::string& what) const {
  moescope::fail(*file_, (path_.empty() ? std::string("(top level)") : path_) + ": " + what);
}

void JsonField::fail_type(const char* expected) const {
  moescope::fail_expected(*file_, (path_.empty() ? std::string("(top level)") : path_) + ": wrong JSON type",
                          expected, json_type_name(*value_));
}

void JsonField::unsupported(const std::string& value) const {
  moescope::fail(*file_, path_ + " '" + value + "' is not supported yet");
}

}  // namespace moescope::detail
