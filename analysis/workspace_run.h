// workspace_run.h — validation of a workspace's meta 'run' record (model identity, trace settings,
// layer layout), the JSON every reader of a workspace indexes into. The file may come from anywhere,
// so it is checked once where it is read (Workspace::run_info) rather than at every use.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace moescope {

// Throws Error "<where>: field '<path>': ..." unless run is
//   {"model": {"path", "config_hash", "weights_hash": strings},
//    "settings": {"max_tokens_per_doc": integer >= 0, "probs": bool, "precision"?: string},
//    "layers": [{"layer": 0..65535, "k": 1..65536, "num_standard": 0..65536}, ...]}.
void check_run_record(const nlohmann::json& run, const std::string& where);

}  // namespace moescope
