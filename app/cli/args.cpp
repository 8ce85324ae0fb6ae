// args.cpp — option parsing for moescope-cli commands.
#include "app/cli/args.h"

#include "engine/closest_names.h"

namespace moescope::cli {

void usage_fail(const std::string& where, const std::string& what) { throw UsageError(where.empty() ? what : where + ": " + what); }

void usage_fail_expected(const std::string& where, const std::string& what, const std::string& expected, const std::string& found) {
  usage_fail(where, what + " (expected " + expected + ", found " + found + ")");
}

void unknown_action(const std::string& command, const std::string& action, const std::vector<std::string>& actions) {
  const std::string hint = did_you_mean(action, actions);
  throw UsageError(command + ": unknown action (expected " + join_names(actions) + ", found '" + action + "')" +
                   (hint.empty() ? "" : "; " + hint));
}

Args::Args(const std::vector<std::string>& argv, const std::set<std::string>& flags, const std::set<std::string>& valued) {
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a.rfind("--", 0) != 0) usage_fail("argument '" + a + "'", "unexpected (options start with --)");
    std::string name = a.substr(2), value;
    bool has_inline = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_inline = true;
    }
    if (flags.count(name)) {
      if (has_inline) usage_fail("--" + name, "takes no value");
      flags_.insert(name);
    } else if (valued.count(name)) {
      if (!has_inline) {
        if (i + 1 >= argv.size()) usage_fail("--" + name, "needs a value");
        value = argv[++i];
      }
      if (values_.count(name)) usage_fail("--" + name, "given twice");
      values_[name] = value;
    } else {
      std::vector<std::string> known(flags.begin(), flags.end());
      known.insert(known.end(), valued.begin(), valued.end());
      const std::string hint = did_you_mean(name, known, "--");
      usage_fail("--" + name, "unknown option for this command" + (hint.empty() ? "" : "; " + hint) + " (see moescope-cli help)");
    }
  }
}

std::optional<std::string> Args::get(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::string Args::require(const std::string& name) const {
  auto v = get(name);
  if (!v) usage_fail("--" + name, "is required for this command");
  return *v;
}

int Args::get_int(const std::string& name, int def, int min_value) const {
  auto v = get(name);
  if (!v) return def;
  try {
    size_t used = 0;
    long x = std::stol(*v, &used);
    if (used != v->size() || x < min_value || x > (1L << 30)) throw std::invalid_argument("range");
    return int(x);
  } catch (const std::exception&) {
    usage_fail_expected("--" + name, "bad value", "an integer >= " + std::to_string(min_value), "'" + *v + "'");
  }
}

}  // namespace moescope::cli
