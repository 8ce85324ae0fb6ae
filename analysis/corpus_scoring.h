// corpus_scoring.h — held-out quality of a model (or an expert subset of it) over a labelled
// corpus: every document scored on its own (packed into batches), totals per domain.
// bits_per_byte = sum of NLL (nats) / (bytes of the predicted tokens * ln 2), as scoring.h.
#pragma once

#include <cmath>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "analysis/corpus.h"
#include "engine/model.h"

namespace moescope {

struct ScoreTotals {
  size_t documents = 0;
  size_t tokens = 0;      // tokens fed (after truncation)
  size_t predicted = 0;   // tokens predicted (all but each document's first)
  double nll = 0.0;       // nats, summed
  double bytes = 0.0;     // UTF-8 bytes of the predicted tokens
  double mean_nll() const { return predicted ? nll / double(predicted) : 0.0; }
  double bits_per_byte() const { return bytes > 0 ? nll / (bytes * std::log(2.0)) : 0.0; }
  void add(const ScoreTotals& o);
};

struct DomainTotals {
  std::string domain;
  ScoreTotals totals;
};

struct CorpusScore {
  std::vector<ScoreTotals> documents;  // one per corpus document (documents = 0 when skipped)
  std::vector<DomainTotals> domains;   // sorted by name
  ScoreTotals total;
  size_t skipped = 0;    // documents with fewer than 2 tokens
  size_t truncated = 0;  // documents cut to max_tokens_per_doc
};

struct CorpusScoreOptions {
  int64_t max_tokens_per_doc = 0;        // 0 = the model's context
  int64_t batch_tokens = 16384;          // documents are packed into forwards of about this many tokens
  const ExpertSubset* mask = nullptr;    // score as if only these experts existed
  std::function<void(size_t done, size_t total)> progress;  // after each batch (documents)
};

// Throws Error naming the document (its id) when its text cannot be tokenized or its NLL is not finite.
CorpusScore score_corpus(const Model& model, const std::vector<CorpusDocument>& docs, const CorpusScoreOptions& opt);

}  // namespace moescope
