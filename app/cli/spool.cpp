// spool.cpp — the scratch file of Spool: POSIX pwrite/pread at tracked offsets.
#include "app/cli/spool.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "engine/error.h"

namespace moescope::cli {

Spool::Spool(size_t streams) : segments_(streams) {
  std::error_code ec;
  const std::filesystem::path dir = std::filesystem::temp_directory_path(ec);
  std::string templ = ((ec ? std::filesystem::path("/tmp") : dir) / "moescope-spool-XXXXXX").string();
  fd_ = ::mkstemp(templ.data());
  if (fd_ < 0) fail(templ, std::string("cannot create a scratch file: ") + std::strerror(errno));
  path_ = templ;
  ::unlink(templ.c_str());
}

Spool::~Spool() {
  if (fd_ >= 0) ::close(fd_);
}

void Spool::append(size_t stream, std::string_view bytes) {
  if (bytes.empty()) return;
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::pwrite(fd_, bytes.data() + done, bytes.size() - done, off_t(size_ + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail("scratch file " + path_, std::string("write failed: ") + std::strerror(errno));
    done += size_t(n);
  }
  auto& segs = segments_[stream];
  if (!segs.empty() && segs.back().first + segs.back().second == size_) segs.back().second += bytes.size();
  else segs.emplace_back(size_, bytes.size());
  size_ += bytes.size();
}

void Spool::copy_to(size_t stream, std::ostream& out) const {
  std::vector<char> buf(size_t(1) << 16);
  for (const auto& [offset, length] : segments_[stream]) {
    for (uint64_t done = 0; done < length;) {
      const size_t want = size_t(std::min<uint64_t>(buf.size(), length - done));
      const ssize_t n = ::pread(fd_, buf.data(), want, off_t(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) fail("scratch file " + path_, std::string("read failed: ") + (n < 0 ? std::strerror(errno) : "file shrank"));
      out.write(buf.data(), n);
      done += uint64_t(n);
    }
  }
}

}  // namespace moescope::cli
