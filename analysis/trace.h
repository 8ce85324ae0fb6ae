// trace.h — routing a labelled corpus through a model into a workspace, batch by batch, resumable.
#pragma once

#include <atomic>
#include <functional>

#include "analysis/corpus.h"
#include "analysis/workspace.h"
#include "engine/model.h"

namespace moescope {

struct TraceProgress {
  // Over the whole corpus: documents traced before this run plus those this run has got past
  // (traced, or in batches of other shards).
  size_t documents_done = 0, documents_total = 0;
  size_t tokens_this_run = 0;
  double seconds_this_run = 0;
};

struct TraceOptions {
  int64_t max_tokens_per_doc = 0;      // 0 = the model's context; longer documents are truncated
  bool probs = false;                  // also keep per-token routing probabilities (float16)
  int64_t batch_tokens = 16384;        // documents packed into forwards of about this many tokens
  const std::atomic<bool>* stop = nullptr;        // checked between batches
  // A trace split over processes (`mpirun`, app/cli/trace_ranks.cpp): every shard plans the same
  // batches over the whole corpus and runs batch b only when b % shard_count == shard_rank, so each
  // record is bitwise the one a single process makes. The workspace then holds every document but
  // records only for its shard.
  int shard_rank = 0, shard_count = 1;
  // Token counts by corpus position of documents traced elsewhere (the final workspace of a sharded
  // trace), -1 where not: they count as already traced. Null = none. Size = the corpus's.
  const std::vector<int64_t>* traced_elsewhere = nullptr;
  std::function<void(const TraceProgress&)> progress;
};

struct TraceSummary {
  // already: documents traced before (of a shard: those in the batches it got to, here or
  // elsewhere); truncated and tokens: of the documents traced now. Summed over the shards of a
  // finished trace they give the whole corpus's.
  size_t traced_now = 0, already = 0, total = 0, truncated = 0;
  size_t tokens = 0;
  bool stopped = false;  // by the stop flag, before the corpus was done
};

// Per-document records of one document of a forward result (span i of r).
DocumentRecord record_of(const ForwardResult& r, size_t i, bool probs);

// Stores (first trace) or checks (later ones, Error on a mismatch) the model and settings of a
// trace in ws. Returns the per-document token limit.
int64_t bind_trace_run(const Model& model, const TraceOptions& opt, Workspace& ws);

TraceSummary trace_corpus(const Model& model, const std::vector<CorpusDocument>& docs, Workspace& ws,
                          const TraceOptions& opt);

}  // namespace moescope
