// expert_groups.h — emergent expert groups of a MoE layer.
//
// Method: each standard expert is described by its document-level usage profile (its routed
// selections in every document, as a distribution over documents); experts whose profiles point
// the same way (cosine) serve the same documents. Spherical k-means groups the profiles, k from 2
// to max_groups chosen by the best cosine silhouette. Document profiles suit this better than the
// token co-activation graph: inside one token the K experts are chosen *against* each other
// (softmax competition), so token-level PMI mixes complementarity with specialisation, while
// "used by the same documents" is exactly the modularity EMO trains for.
// Each group is then named by the domains that use it most (enrichment = the group's share of
// the domain's selections / its share of all selections) and its most enriched tokens.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "analysis/trace_data.h"

namespace moescope {

struct EnrichedLabel {
  int index = 0;         // domain index or token id
  double share = 0;      // group's share of this domain's selections (domains) / of this token's (tokens)
  double enrichment = 0; // share / the group's share of all selections
  double count = 0;      // selections
};

struct ExpertGroup {
  std::vector<int> experts;             // original standard-expert ids
  double share = 0;                     // of all routed selections in the layer
  std::vector<EnrichedLabel> domains;   // most enriched first (enrichment > 1 only)
  std::vector<EnrichedLabel> tokens;    // most enriched first (at least min_token_count occurrences)
  std::vector<EnrichedLabel> frequent_tokens;  // most selections into the group first
};

struct LayerGroups {
  int layer = 0;
  std::vector<ExpertGroup> groups;
  std::vector<int> unused;              // experts never selected
  double silhouette = 0;
  // Mean over documents of the share of the document's selections inside its top group, and the
  // same with the experts' group labels shuffled (same group sizes); modularity = their difference.
  double top_group_share = 0, shuffled_top_group_share = 0, modularity = 0;
  // [Es, Es] cosine similarity of the experts' document usage profiles: the affinity the groups
  // are clustered by (0 for an expert never selected), so a layout drawn from it agrees with them.
  std::vector<std::vector<double>> affinity;
};

// Groups carrying less than this share of the selections are too small to name; one carrying at
// least kGeneralGroupShare is the layer's common pool, not any one domain's.
inline constexpr double kMinorGroupShare = 0.01, kGeneralGroupShare = 0.5;

// A group's name where one is shown: its most enriched domain ("lang_ja x2.1"), "mixed" when no
// domain is enriched, "minor (0.4% of selections)" or "general (52% of selections)".
std::string group_label(const ExpertGroup& g, const std::vector<std::string>& domains);

struct GroupOptions {
  int max_groups = 10;
  uint64_t seed = 42;
  int top_tokens = 10;
  int top_domains = 3;
  double min_token_count = 5;
};

LayerGroups expert_groups(const TraceData& td, size_t l, const GroupOptions& opt);

}  // namespace moescope
