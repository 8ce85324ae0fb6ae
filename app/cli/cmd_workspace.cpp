// cmd_workspace.cpp — `moescope-cli workspace merge OUT PART... [--json]`: the merge step of a
// sharded trace on its own (e.g. for partials traced by separate jobs, or copied from machines
// without a shared filesystem). The parts are left in place.
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "analysis/workspace_merge.h"
#include "app/cli/commands.h"
#include "engine/error.h"

namespace moescope::cli {

namespace {

int workspace_merge(const std::vector<std::string>& argv) {
  bool json = false;
  std::vector<std::string> paths;
  for (const std::string& a : argv) {
    if (a == "--json") json = true;
    else if (a.rfind("--", 0) == 0) usage_fail_expected(a, "unknown option for workspace merge", "--json", a);
    else paths.push_back(a);
  }
  if (paths.size() < 2)
    usage_fail_expected("workspace merge", "missing paths", "OUT PART... (the merged workspace, then the partial ones)",
                  std::to_string(paths.size()) + " paths");
  const std::string out = paths.front();
  const std::vector<std::string> parts(paths.begin() + 1, paths.end());
  const MergeSummary m = merge_workspaces(out, parts);
  if (json) {
    std::cout << nlohmann::json{{"workspace", out}, {"documents", m.documents}, {"merged", m.merged},
                                {"already", m.already}, {"parts", parts.size()}}
                     .dump(2)
              << "\n";
  } else {
    std::printf("%s: %zu records merged from %zu partial workspaces, %zu already there; %zu documents\n", out.c_str(),
                m.merged, parts.size(), m.already, m.documents);
  }
  return 0;
}

}  // namespace

int cmd_workspace(const std::vector<std::string>& argv) {
  if (argv.empty()) usage_fail("workspace", "needs an action: merge (see moescope-cli help)");
  const std::vector<std::string> rest(argv.begin() + 1, argv.end());
  if (argv[0] == "merge") return workspace_merge(rest);
  unknown_action("workspace", argv[0], {"merge"});
}

}  // namespace moescope::cli
