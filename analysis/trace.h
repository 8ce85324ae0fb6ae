// trace.h — routing a labelled corpus through a model into a workspace, batch by batch, resumable.
#pragma once

#include <atomic>
#include <functional>

#include "analysis/corpus.h"
#include "analysis/workspace.h"
#include "engine/model.h"

namespace moescope {

struct TraceProgress {
  size_t documents_done = 0, documents_total = 0;  // over the whole corpus (earlier runs included)
  size_t tokens_this_run = 0;
  double seconds_this_run = 0;
};

struct TraceOptions {
  int64_t max_tokens_per_doc = 0;      // 0 = the model's context; longer documents are truncated
  bool probs = false;                  // also keep per-token routing probabilities (float16)
  int64_t batch_tokens = 16384;        // documents packed into forwards of about this many tokens
  const std::atomic<bool>* stop = nullptr;        // checked between batches
  std::function<void(const TraceProgress&)> progress;
};

struct TraceSummary {
  size_t traced_now = 0, already = 0, total = 0, truncated = 0;
  size_t tokens = 0;
  bool stopped = false;  // by the stop flag, before the corpus was done
};

// Per-document records of one document of a forward result (span i of r).
DocumentRecord record_of(const ForwardResult& r, size_t i, bool probs);

TraceSummary trace_corpus(const Model& model, const std::vector<CorpusDocument>& docs, Workspace& ws,
                          const TraceOptions& opt);

}  // namespace moescope
