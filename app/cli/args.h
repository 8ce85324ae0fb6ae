// args.h — a small command-line parser: `--name value`, `--flag`, nothing positional.
// Unknown options and missing values are errors that name the option.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace moescope::cli {

class Args {
 public:
  // flags: options without a value; valued: options that take one. Throws Error on anything else.
  Args(const std::vector<std::string>& argv, const std::set<std::string>& flags, const std::set<std::string>& valued);

  bool flag(const std::string& name) const { return flags_.count(name) > 0; }
  std::optional<std::string> get(const std::string& name) const;
  std::string require(const std::string& name) const;
  int get_int(const std::string& name, int def, int min_value) const;

 private:
  std::set<std::string> flags_;
  std::map<std::string, std::string> values_;
};

}  // namespace moescope::cli
