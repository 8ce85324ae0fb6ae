// fuzz_workspace.cpp — opening a workspace (analysis/workspace.h, Workspace(path, false)) whose
// file holds arbitrary bytes, then load_trace (analysis/trace_data.h) when it opens.
// SQLite itself is trusted; what is fuzzed is our side: the magic check, the schema checks that
// must turn foreign or damaged files into Error, and the reading of meta 'run' and the records.
// A bug: anything but moescope::Error escaping, a sanitizer report, or a TraceData whose blobs do
// not match its layer layout (load_trace promises [T, sum K] top-k ids and [sum Es] per document).
#include "analysis/trace_data.h"
#include "analysis/workspace.h"
#include "engine/error.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using moescope::fuzz::bug;

void check_trace(const moescope::TraceData& td) {
  size_t es = 0, k = 0;
  if (td.es_offset.size() != td.layers.size() || td.k_offset.size() != td.layers.size()) bug("offset tables != layers");
  for (size_t l = 0; l < td.layers.size(); ++l) {
    if (td.es_offset[l] != es || td.k_offset[l] != k) bug("layer offsets are not prefix sums");
    if (td.layers[l].k < 1 || td.layers[l].num_standard < 0) bug("layer layout with k < 1 or Es < 0 accepted");
    es += size_t(td.layers[l].num_standard);
    k += size_t(td.layers[l].k);
  }
  if (td.docs.empty()) bug("load_trace returned no documents");
  for (const moescope::TracedDocument& d : td.docs) {
    if (d.tokens() == 0) bug("an empty document in the trace");
    if (d.topk_ids.size() != d.tokens() * k || d.mean_probs.size() != es || d.topk_freq.size() != es)
      bug("record blob sizes do not match the layer layout");
    if (d.domain < 0 || size_t(d.domain) >= td.domains.size()) bug("document domain index out of range");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = moescope::fuzz::scratch_path("ws.moescope");
  moescope::fuzz::write_scratch(path, data, size);
  try {
    moescope::Workspace ws(path, false);
    check_trace(moescope::load_trace(ws));
  } catch (const moescope::Error&) {
  }
  return 0;
}
