// child_process.h — starting moescope-cli as a child the test can kill, limit or run as another
// user (crash-safety and disk-error suites). Header-only; POSIX.
#pragma once

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace moescope::test {

struct ChildOptions {
  long long max_file_bytes = -1;  // RLIMIT_FSIZE; writes past it fail with EFBIG (SIGXFSZ ignored)
  bool as_nobody = false;         // when run as root: drop to user nobody so file modes apply
  std::string stdout_path = "/dev/null", stderr_path = "/dev/null";
};

// The uid/gid of "nobody", or -1 when there is no such user.
inline bool nobody_ids(uid_t& uid, gid_t& gid) {
  const passwd* pw = ::getpwnam("nobody");
  if (!pw) return false;
  uid = pw->pw_uid;
  gid = pw->pw_gid;
  return true;
}

// fork + exec; returns the child's pid (the child exits 127 when exec fails).
inline pid_t start_child(const std::vector<std::string>& argv, const ChildOptions& opt = {}) {
  uid_t uid = 0;
  gid_t gid = 0;
  const bool drop = opt.as_nobody && ::geteuid() == 0 && nobody_ids(uid, gid);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  // Child: only async-signal-safe calls from here to exec.
  const int out = ::open(opt.stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0666);
  const int err = ::open(opt.stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0666);
  if (out >= 0) ::dup2(out, 1);
  if (err >= 0) ::dup2(err, 2);
  if (opt.max_file_bytes >= 0) {
    ::signal(SIGXFSZ, SIG_IGN);  // an ignored disposition survives exec: write() returns EFBIG
    rlimit lim{rlim_t(opt.max_file_bytes), rlim_t(opt.max_file_bytes)};
    ::setrlimit(RLIMIT_FSIZE, &lim);
  }
  if (drop && (::setgroups(0, nullptr) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0)) ::_exit(126);
  ::execv(args[0], args.data());
  ::_exit(127);
}

// Waits for the child; returns its exit code, or 128 + signal when a signal ended it.
inline int wait_child(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

inline int run_child(const std::vector<std::string>& argv, const ChildOptions& opt = {}) {
  return wait_child(start_child(argv, opt));
}

inline std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace moescope::test
