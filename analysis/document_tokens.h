// document_tokens.h — a corpus document turned into the model's token ids, the one way trace,
// corpus scoring and the EMO export do it: at most `limit` tokens (longer documents truncated),
// every id checked against the model's vocabulary, errors naming the document.
#pragma once

#include <cstdint>

#include "analysis/corpus.h"
#include "engine/model.h"

namespace moescope {

struct DocumentTokens {
  Encoding enc;            // ids / tokens / offsets, truncated to the limit
  bool truncated = false;
};

// The per-document token limit: max_tokens_per_doc clamped to the context (0 = the context).
int64_t token_limit(const Model& model, int64_t max_tokens_per_doc);

// Throws Error "document 'ID': ..." for text the tokenizer refuses or ids outside the vocabulary.
DocumentTokens encode_document(const Model& model, const CorpusDocument& doc, int64_t limit);

}  // namespace moescope
