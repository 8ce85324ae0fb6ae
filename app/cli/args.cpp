// args.cpp — option parsing for moescope-cli commands.
#include "app/cli/args.h"

#include "engine/error.h"

namespace moescope::cli {

Args::Args(const std::vector<std::string>& argv, const std::set<std::string>& flags, const std::set<std::string>& valued) {
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a.rfind("--", 0) != 0) fail("argument '" + a + "'", "unexpected (options start with --)");
    std::string name = a.substr(2), value;
    bool has_inline = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_inline = true;
    }
    if (flags.count(name)) {
      if (has_inline) fail("--" + name, "takes no value");
      flags_.insert(name);
    } else if (valued.count(name)) {
      if (!has_inline) {
        if (i + 1 >= argv.size()) fail("--" + name, "needs a value");
        value = argv[++i];
      }
      if (values_.count(name)) fail("--" + name, "given twice");
      values_[name] = value;
    } else {
      fail("--" + name, "unknown option for this command (see moescope-cli help)");
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
  if (!v) fail("--" + name, "is required for this command");
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
    fail_expected("--" + name, "bad value", "an integer >= " + std::to_string(min_value), "'" + *v + "'");
  }
}

}  // namespace moescope::cli
