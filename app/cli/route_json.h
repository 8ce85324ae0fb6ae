// route_json.h — the JSON of `route --json`, written while the text is routed. The object is
// layer-major ("layers": [{"topk_ids": [all tokens]}, ...]) but batches arrive token-major, so
// each batch's rows go to a Spool (one stream per layer and field) and are copied out at the end:
// memory holds one batch of records, never the whole text's. The text is the one nlohmann::json
// would print for the same object (keys sorted, floats shortest round-trip, NaN as null).
#pragma once

#include <memory>
#include <ostream>
#include <vector>

#include "analysis/text_windows.h"
#include "app/cli/spool.h"
#include "engine/model.h"

namespace moescope::cli {

class RouteJsonWriter {
 public:
  RouteJsonWriter(const Encoding& enc, const std::vector<DocumentSpan>& windows, const ForwardOptions& options);
  // A pruned checkpoint's records shown with the original expert ids: per MoE layer (in record
  // order) the original id of each pruned expert; topk_ids are mapped and each layer gains
  // "original_expert_ids" (column j of probs/doc_mean_probs is original expert ids[j]).
  void set_original_ids(std::vector<std::vector<int>> ids) { original_ids_ = std::move(ids); }
  void add(const WindowBatch& batch);  // batches in text order
  // {"ids", "layers", "nll", "offsets", "tokens", "windows"} and a newline.
  void finish(std::ostream& out);

 private:
  enum Field { kProbs, kRouterLogits, kTopkIds, kTopkWeights, kFields };
  size_t stream(size_t layer_index, Field f) const { return layer_index * kFields + f; }
  void spool_rows(size_t layer_index, Field f, const std::string& rows_json);

  const Encoding& enc_;
  const std::vector<DocumentSpan>& windows_;
  ForwardOptions options_;
  std::vector<LayerRecord> layout_;  // layer, E, E-S, k of each MoE layer (no records)
  std::vector<float> nll_;           // [T-1]: NaN (printed null) at each window's last token
  TextRoutingMeans means_;
  std::unique_ptr<Spool> spool_;
  std::vector<std::vector<int>> original_ids_;  // empty: the model's own ids
};

}  // namespace moescope::cli
