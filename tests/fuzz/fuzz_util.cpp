// fuzz_util.cpp — scratch files, paths and bug reports for the fuzz targets.
#include "tests/fuzz/fuzz_util.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

namespace moescope::fuzz {
namespace {

std::map<std::string, std::string>& scratch_files() {
  static std::map<std::string, std::string> files;
  return files;
}

void remove_scratch_files() {
  std::error_code ec;
  for (const auto& [tag, path] : scratch_files())
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) std::filesystem::remove(path + suffix, ec);
}

}  // namespace

const std::string& scratch_path(const std::string& tag) {
  auto& files = scratch_files();
  auto it = files.find(tag);
  if (it != files.end()) return it->second;
  if (files.empty()) std::atexit(remove_scratch_files);
  // temp_directory_path() is $TMPDIR or /tmp; tools/fuzz.sh points TMPDIR into build-fuzz/ so the
  // files of a crashed run (no atexit) are cleared by the next one.
  const std::string path =
      (std::filesystem::temp_directory_path() / ("moescope-fuzz-" + std::to_string(::getpid()) + "-" + tag)).string();
  return files.emplace(tag, path).first->second;
}

void write_scratch(const std::string& path, const uint8_t* data, size_t size) {
  std::error_code ec;
  // A WAL or journal left by the previous input would be replayed into this one.
  for (const char* suffix : {"-wal", "-shm", "-journal"}) std::filesystem::remove(path + suffix, ec);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), std::streamsize(size));
  out.close();
  if (!out) bug("cannot write the scratch file " + path);
}

std::string source_path(const std::string& relative) { return std::string(MOESCOPE_SOURCE_DIR) + "/" + relative; }
std::string shared_path(const std::string& relative) { return std::string(MOESCOPE_SHARED_DIR) + "/" + relative; }

void bug(const std::string& what) {
  std::fprintf(stderr, "\nmoescope fuzz: BUG: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

}  // namespace moescope::fuzz
