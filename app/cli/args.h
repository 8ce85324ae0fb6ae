// args.h — a small command-line parser: `--name value`, `--flag`, nothing positional.
// Unknown options and missing values are errors that name the option.
// Exit codes of moescope-cli: 0 done; 1 the input is wrong (a bad file, a field, a domain the
// workspace lacks); 2 the command line is (UsageError: unknown command or option, a missing or
// malformed value, options that exclude each other); 3 an internal error; 130 interrupted.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/error.h"

namespace moescope::cli {

// A command line that cannot be run as written: moescope-cli exits 2.
class UsageError : public Error {
 public:
  using Error::Error;
};
[[noreturn]] void usage_fail(const std::string& where, const std::string& what);
[[noreturn]] void usage_fail_expected(const std::string& where, const std::string& what, const std::string& expected,
                                      const std::string& found);
// "command: unknown action (expected a, b or c, found 'x'); did you mean a?"
[[noreturn]] void unknown_action(const std::string& command, const std::string& action, const std::vector<std::string>& actions);

// Runs parse() (a parser of an option's value that throws Error) and reports its Error as a
// UsageError: the option was given a value it does not take.
template <class Parse>
auto parse_option(Parse&& parse) -> decltype(parse()) {
  try {
    return parse();
  } catch (const UsageError&) {
    throw;
  } catch (const Error& e) {
    throw UsageError(e.what());
  }
}

class Args {
 public:
  // flags: options without a value; valued: options that take one. Throws UsageError on anything
  // else, naming the nearest known options for a mistyped one.
  Args(const std::vector<std::string>& argv, const std::set<std::string>& flags, const std::set<std::string>& valued);

  bool flag(const std::string& name) const { return flags_.count(name) > 0; }
  std::optional<std::string> get(const std::string& name) const;
  std::string require(const std::string& name) const;
  // An integer option >= min_value (and <= 2^30); def when absent; UsageError when malformed.
  int get_int(const std::string& name, int def, int min_value) const;

 private:
  std::set<std::string> flags_;
  std::map<std::string, std::string> values_;
};

}  // namespace moescope::cli
