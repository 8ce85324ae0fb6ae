// ablation_summary.h — ablation points read back as curves of % loss increase vs k: one domain's,
// or the mean over domains (each domain against its own full model, then averaged, so a domain
// with more text does not weigh more). What `subset ablate` prints as its mean row, `render --what
// ablation` draws and the Subsets view overlays for two workspaces.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "analysis/ablation.h"
#include "analysis/workspace.h"

namespace moescope {

// Rows stored for the mean over domains use this domain name (a sweep of several domains stores
// them next to the domains' own rows).
inline constexpr const char* kMeanOverDomains = "*";

struct AblationCurvePoint {
  int k = 0;
  double bits_per_byte = 0;     // mean over domains (and seeds, for random subsets)
  double increase_pct = 0;      // mean over domains of 100 * (bits_per_byte / full - 1)
  double min_pct = 0, max_pct = 0;  // spread over seeds of the (domain-averaged) % increase
};

struct AblationCurves {
  std::vector<std::string> domains;                              // those averaged (each has a full-model point)
  double full_bits_per_byte = 0;                                 // mean over them
  int full_k = 0;                                                // experts of the full model (Es), where known
  std::map<std::string, std::vector<AblationCurvePoint>> by_method;  // method -> points by k ascending
  bool empty() const { return domains.empty(); }
};

// Curves of `domain` ("" = the mean over every domain with a full-model point) from points of any
// domains. Points of domains without a full-model point are left out; seeds are averaged first.
AblationCurves ablation_curves(const std::vector<AblationPoint>& points, const std::string& domain = "");

// A method's name on a figure: "domain subset (greedy)", "random subsets" (others as they are).
std::string ablation_method_label(const std::string& method);

// Every point stored in the workspace's `ablations` table: per domain those of the evaluation set
// its latest full-model row used (the mean rows, domain "*", left out).
std::vector<AblationPoint> stored_ablations(Workspace& ws);

// The mean over domains as points of domain "*", one per (method, k, seed): what a sweep of
// several domains stores beside their own rows (bits per byte and NLL averaged, tokens summed).
std::vector<AblationPoint> mean_over_domains(const std::vector<AblationPoint>& points);

}  // namespace moescope
