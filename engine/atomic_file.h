// atomic_file.h — output files and folders that appear complete or not at all. Everything is
// written under a temporary name beside the destination (NAME.tmp-PID / NAME.partial-PID),
// flushed to disk, then renamed; the folder's entry is flushed too. Temporaries left by a killed
// run (their PID no longer alive on this machine) are removed by the next write of the same name.
#pragma once

#include <cstddef>
#include <functional>
#include <string>

namespace moescope {

// The temporary path for `path` in this process, after removing stale ones of dead processes.
std::string temp_path_for(const std::string& path);

// fsyncs the finished temporary file, renames it to `path` and fsyncs the folder. On failure the
// temporary is removed and Error names `path` and the operating system's reason.
void commit_temp_file(const std::string& tmp, const std::string& path);

// A file streamed under its temporary name: write() appends, commit() flushes and renames it
// into place. Destroyed without commit() (an error, an exception) it removes the temporary.
class AtomicFile {
 public:
  explicit AtomicFile(const std::string& path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, size_t n);  // Error names `path` and the reason (e.g. disk full)
  void commit();

 private:
  std::string path_, tmp_;
  int fd_ = -1;
  bool committed_ = false;
};

// Writes `content` to `path` atomically.
void write_file_atomically(const std::string& path, const std::string& content);

// Builds a whole folder atomically: `fill` writes into a temporary folder beside `dir`, which is
// renamed to `dir` when `fill` returns and removed if it throws. `dir` must not exist (Error).
void write_folder_atomically(const std::string& dir, const std::function<void(const std::string& tmp)>& fill);

}  // namespace moescope
