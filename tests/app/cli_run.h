// cli_run.h — running moescope-cli (or a shell command around it) from a test: exit code, stdout
// and stderr of one command.
#pragma once

#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/test_paths.h"

namespace moescope::test {

struct Run {
  int code = -1;
  std::string out, err;
};

inline std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// Runs `cmd` with /bin/sh (e.g. mpirun with moescope-cli); stdout is captured, stderr through a
// scratch file.
inline Run run_command(std::string cmd) {
  const std::string err_path = std::filesystem::temp_directory_path() / ("moescope-cli-err-" + std::to_string(::getpid()));
  cmd += " 2>" + quote(err_path);
  Run r;
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p);
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int status = ::pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream e(err_path);
  std::stringstream ss;
  ss << e.rdbuf();
  r.err = ss.str();
  std::filesystem::remove(err_path);
  return r;
}

// moescope-cli with args, quoted for the shell.
inline std::string cli_command(const std::vector<std::string>& args) {
  std::string cmd = quote(moescope::test::cli_path());
  for (const auto& a : args) cmd.append(" ").append(quote(a));
  return cmd;
}

inline Run run_cli(const std::vector<std::string>& args) { return run_command(cli_command(args)); }

}  // namespace moescope::test
