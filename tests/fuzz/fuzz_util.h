// fuzz_util.h — what the libFuzzer targets share: a per-process scratch file for parsers that
// read from disk, the fixture paths, and `bug()`, which aborts so libFuzzer saves the input.
// A target catches moescope::Error (the documented way to reject input) and nothing else: any
// other exception escapes to libFuzzer, which reports it as a crash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace moescope::fuzz {

// $TMPDIR (default /tmp)/moescope-fuzz-<pid>-<tag>: the same path for every input of a process,
// removed at a normal exit.
const std::string& scratch_path(const std::string& tag);
// Replaces the file's contents with the bytes (and removes `path`-wal / -shm left by SQLite).
void write_scratch(const std::string& path, const uint8_t* data, size_t size);

std::string source_path(const std::string& relative);  // inside the repository
std::string shared_path(const std::string& relative);  // inside ../shared beside it

// An invariant of the parser was broken: print it and abort (libFuzzer keeps the crashing input).
[[noreturn]] void bug(const std::string& what);

inline std::string_view as_text(const uint8_t* data, size_t size) {
  return std::string_view(reinterpret_cast<const char*>(data), size);
}

}  // namespace moescope::fuzz
