// peak_rss.cpp — `moescope-peak-rss OUT CMD [ARGS...]`: runs CMD and writes its peak resident
// memory in KiB (wait4's ru_maxrss) to OUT; exits with CMD's exit code (127: not started).
// Tests measure a command through this small process, not by forking themselves: a child keeps
// the resident size it had before exec in its ru_maxrss, and a test process is large.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fputs("usage: moescope-peak-rss OUT CMD [ARGS...]\n", stderr);
    return 2;
  }
  const pid_t pid = ::fork();
  if (pid < 0) return 127;
  if (pid == 0) {
    ::execv(argv[2], argv + 2);
    ::_exit(127);
  }
  int status = 0;
  struct rusage ru {};
  if (::wait4(pid, &status, 0, &ru) != pid) return 127;
  FILE* out = std::fopen(argv[1], "w");
  if (!out) return 127;
  std::fprintf(out, "%ld\n", ru.ru_maxrss);
  if (std::fclose(out) != 0) return 127;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}
