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

#include <unistd.h>

#include <filesystem>

namespace moescope::test {
// A fresh scratch folder under the system temp dir, removed with everything in it at scope end.
class TempDir {
 public:
  explicit TempDir(const std::string& tag)
      : path_(std::filesystem::temp_directory_path() / ("moescope-test-" + tag + "-" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string str() const { return path_.string(); }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};
}  // namespace moescope::test
