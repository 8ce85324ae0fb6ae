// json_out.cpp — shared JSON output helpers of moescope-cli.
#include "app/cli/json_out.h"

namespace moescope::cli {

void add_encoding(nlohmann::json& j, const Encoding& enc) {
  j["ids"] = enc.ids;
  j["tokens"] = enc.tokens;
  auto& off = j["offsets"] = nlohmann::json::array();
  for (const auto& [b, e] : enc.offsets) off.push_back({b, e});
}

std::string dump(const nlohmann::json& j, int indent) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace moescope::cli
