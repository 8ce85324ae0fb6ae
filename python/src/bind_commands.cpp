// bind_commands.cpp — moescope._moescope.run_command: a moescope-cli command run in this process
// (the same function moescope-cli's main calls) with its standard output captured; the Python
// package asks for --json and parses it, so analyze, subset select/ablate/export, export-emo and
// info give the numbers and the error messages the CLI gives. One command at a time (std::cout
// is process-wide); the GIL is released while it runs.
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <iostream>
#include <map>
#include <mutex>
#include <sstream>

#include "app/cli/commands.h"
#include "python/src/bindings.h"

namespace moescope::python {

namespace {

using Command = int (*)(const std::vector<std::string>&);

const std::map<std::string, Command>& commands() {
  static const std::map<std::string, Command> table = {
      {"info", cli::cmd_info},       {"analyze", cli::cmd_analyze},       {"subset", cli::cmd_subset},
      {"export-emo", cli::cmd_export_emo}, {"score", cli::cmd_score},     {"render", cli::cmd_render},
      {"tokenize", cli::cmd_tokenize}, {"workspace", cli::cmd_workspace}};
  return table;
}

// std::cout into a string for the life of this object.
class CaptureStdout {
 public:
  CaptureStdout() : old_(std::cout.rdbuf(buffer_.rdbuf())) {}
  ~CaptureStdout() { std::cout.rdbuf(old_); }
  std::string text() const { return buffer_.str(); }

 private:
  std::ostringstream buffer_;
  std::streambuf* old_;
};

std::pair<int, std::string> run_command(const std::string& name, const std::vector<std::string>& argv) {
  const auto it = commands().find(name);
  if (it == commands().end()) fail("run_command", "not a command the package runs: '" + name + "'");
  static std::mutex one_at_a_time;
  nb::gil_scoped_release unlocked;
  std::lock_guard<std::mutex> lock(one_at_a_time);
  CaptureStdout capture;
  const int rc = it->second(argv);
  std::cout.flush();
  return {rc, capture.text()};
}

}  // namespace

void bind_commands(nb::module_& m) {
  m.def("run_command", &run_command, nb::arg("name"), nb::arg("argv"),
        "Runs a moescope-cli command in process; returns (exit code, standard output).");
}

}  // namespace moescope::python
