// atomic_file.cpp — temp + fsync + rename, and cleaning up after killed runs.
#include "engine/atomic_file.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "engine/error.h"

namespace fs = std::filesystem;

namespace moescope {

namespace {

const char* const kFileMark = ".tmp-";
const char* const kFolderMark = ".partial-";

// Removes NAME<mark>PID entries beside `final_path` whose process is gone. A PID on another machine
// sharing the folder cannot be checked, so give each machine's runs their own destinations.
void remove_stale(const fs::path& final_path, const std::string& mark) {
  const fs::path dir = final_path.parent_path().empty() ? fs::path(".") : final_path.parent_path();
  const std::string stem = final_path.filename().string() + mark;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() <= stem.size() || name.compare(0, stem.size(), stem) != 0) continue;
    const std::string digits = name.substr(stem.size());
    if (digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos) continue;
    const pid_t pid = pid_t(std::stol(digits));
    if (pid == ::getpid() || ::kill(pid, 0) == 0 || errno != ESRCH) continue;
    std::error_code rm;
    fs::remove_all(it->path(), rm);
  }
}

// Flushes a folder's entries (a rename is durable only once its folder is).
void sync_folder(const fs::path& dir) {
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

std::string os_reason() { return std::strerror(errno); }

}  // namespace

std::string temp_path_for(const std::string& path) {
  remove_stale(fs::path(path), kFileMark);
  return path + kFileMark + std::to_string(::getpid());
}

void commit_temp_file(const std::string& tmp, const std::string& path) {
  const int fd = ::open(tmp.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 || ::fsync(fd) != 0) {
    const std::string why = os_reason();
    if (fd >= 0) ::close(fd);
    ::unlink(tmp.c_str());
    fail(path, "cannot flush to disk: " + why);
  }
  ::close(fd);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = os_reason();
    ::unlink(tmp.c_str());
    fail(path, "cannot move the finished file into place: " + why);
  }
  sync_folder(fs::path(path).parent_path());
}

AtomicFile::AtomicFile(const std::string& path) : path_(path), tmp_(temp_path_for(path)) {
  fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) fail(path_, "cannot create the file: " + os_reason());
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(tmp_.c_str());
}

void AtomicFile::write(const void* data, size_t n) {
  const auto* p = static_cast<const char*>(data);
  size_t done = 0;
  while (done < n) {
    const ssize_t k = ::write(fd_, p + done, n - done);
    if (k < 0) {
      if (errno == EINTR) continue;
      fail(path_, "write failed: " + os_reason());
    }
    done += size_t(k);
  }
}

void AtomicFile::commit() {
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) fail(path_, "write failed: " + os_reason());
  commit_temp_file(tmp_, path_);  // fsync, rename, fsync the folder; removes the temporary on failure
  committed_ = true;
}

void write_file_atomically(const std::string& path, const std::string& content) {
  AtomicFile f(path);
  f.write(content.data(), content.size());
  f.commit();
}

void write_folder_atomically(const std::string& dir, const std::function<void(const std::string& tmp)>& fill) {
  if (fs::exists(dir)) fail(dir, "already exists (choose a new folder; nothing is overwritten)");
  const fs::path final_dir = fs::absolute(dir).lexically_normal();
  remove_stale(final_dir, kFolderMark);
  const fs::path tmp = final_dir.parent_path() / (final_dir.filename().string() + kFolderMark + std::to_string(::getpid()));
  std::error_code ec;
  fs::remove_all(tmp, ec);
  if (!fs::create_directories(tmp, ec) && ec) fail(dir, "cannot create the folder: " + ec.message());
  try {
    fill(tmp.string());
    sync_folder(tmp);
    if (fs::exists(final_dir)) fail(dir, "appeared while writing (nothing overwritten)");
    fs::rename(tmp, final_dir, ec);
    if (ec) fail(dir, "cannot move the finished folder into place: " + ec.message());
    sync_folder(final_dir.parent_path());
  } catch (const Error& e) {
    fs::remove_all(tmp, ec);
    // Name the destination the user asked for, not the temporary folder that is gone now.
    std::string message = e.what();
    const std::string tmp_name = tmp.string();
    for (size_t at = message.find(tmp_name); at != std::string::npos; at = message.find(tmp_name, at))
      message.replace(at, tmp_name.size(), final_dir.string());
    throw Error(message);
  } catch (...) {
    fs::remove_all(tmp, ec);
    throw;
  }
}

}  // namespace moescope
