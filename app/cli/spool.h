// spool.h — a scratch file holding several append-only byte streams, each copied out whole later:
// for output that is computed in one order (batch by batch) and written in another (stream by
// stream). The file is unlinked as soon as it is created, so nothing is left behind on any exit.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace moescope::cli {

class Spool {
 public:
  // Creates the file in the system temp folder ($TMPDIR); throws Error naming it on failure.
  explicit Spool(size_t streams);
  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  void append(size_t stream, std::string_view bytes);
  bool empty(size_t stream) const { return segments_[stream].empty(); }
  // Writes the stream's bytes, in the order they were appended, to out.
  void copy_to(size_t stream, std::ostream& out) const;

 private:
  int fd_ = -1;
  std::string path_;  // for error messages (the name no longer exists)
  uint64_t size_ = 0;
  std::vector<std::vector<std::pair<uint64_t, uint64_t>>> segments_;  // per stream: (offset, length)
};

}  // namespace moescope::cli
