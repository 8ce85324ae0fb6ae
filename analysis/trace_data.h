// trace_data.h — the routing records of a workspace loaded into memory for analysis.
// Shape legend: Lm MoE layers, T tokens of a document, K experts per token of a layer,
// Es standard experts of a layer, N documents.
#pragma once

#include <string>
#include <vector>

#include "analysis/workspace.h"

namespace moescope {

struct TracedDocument {
  int64_t id = 0;
  int domain = 0;                    // index into TraceData::domains
  std::string ext_id, lang;
  std::vector<int32_t> ids;          // [T]
  std::vector<uint16_t> topk_ids;    // [Lm, T, K] (layers concatenated)
  std::vector<float> mean_probs;     // [sum Es]
  std::vector<float> topk_freq;      // [sum Es]
  size_t tokens() const { return ids.size(); }
};

struct TraceData {
  std::vector<LayerLayout> layers;
  std::vector<size_t> es_offset;     // per layer: offset of its Es block in mean_probs / topk_freq
  std::vector<size_t> k_offset;      // per layer: sum of K of the layers before (topk block = T * k_offset)
  std::vector<std::string> domains;  // sorted
  std::vector<TracedDocument> docs;  // traced, non-empty documents in corpus order
  nlohmann::json run;                // model and settings

  // The ids selected for token t in layer l: K values starting here.
  const uint16_t* topk(const TracedDocument& d, size_t l, size_t t) const {
    return d.topk_ids.data() + d.tokens() * k_offset[l] + t * size_t(layers[l].k);
  }
  const float* mean_probs(const TracedDocument& d, size_t l) const { return d.mean_probs.data() + es_offset[l]; }
  const float* topk_freq(const TracedDocument& d, size_t l) const { return d.topk_freq.data() + es_offset[l]; }
};

// Throws Error when the workspace has no traced documents or its model has no MoE layer.
TraceData load_trace(Workspace& ws);

// The index of `domain` in td.domains. Otherwise Error "where: not a domain of the workspace
// (expected one of ..., found 'x'); did you mean y?" with the nearest names (closest_names.h).
int domain_index(const TraceData& td, const std::string& domain, const std::string& where);

}  // namespace moescope
