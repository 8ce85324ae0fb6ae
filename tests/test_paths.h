// test_paths.h — where the suites find fixtures and the shared oracles.
#pragma once
#include <string>

namespace moescope::test {
inline std::string source_dir() { return MOESCOPE_SOURCE_DIR; }
inline std::string fixtures_dir() { return std::string(MOESCOPE_SOURCE_DIR) + "/tests/fixtures"; }
inline std::string shared_dir() { return MOESCOPE_SHARED_DIR; }
inline std::string oracles_dir() { return std::string(MOESCOPE_SHARED_DIR) + "/oracles"; }
inline std::string cli_path() { return MOESCOPE_CLI_PATH; }
}  // namespace moescope::test
