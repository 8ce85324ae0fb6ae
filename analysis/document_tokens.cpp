// document_tokens.cpp — tokenizing corpus documents for a model.
#include "analysis/document_tokens.h"

#include <algorithm>

#include "engine/error.h"

namespace moescope {

int64_t token_limit(const Model& model, int64_t max_tokens_per_doc) {
  const int64_t context = model.config().max_position_embeddings;
  return max_tokens_per_doc > 0 ? std::min(max_tokens_per_doc, context) : context;
}

DocumentTokens encode_document(const Model& model, const CorpusDocument& doc, int64_t limit) {
  if (!model.tokenizer()) fail(model.dir(), "has no tokenizer.json (needed to turn text into tokens)");
  DocumentTokens out;
  try {
    out.enc = model.tokenizer()->encode(doc.text);
  } catch (const Error& e) {
    fail("document '" + doc.id + "'", e.what());
  }
  if (int64_t(out.enc.ids.size()) > limit) {
    out.enc.ids.resize(size_t(limit));
    out.enc.offsets.resize(size_t(limit));
    if (out.enc.tokens.size() > size_t(limit)) out.enc.tokens.resize(size_t(limit));
    out.truncated = true;
  }
  const int32_t vocab = model.config().vocab_size;
  for (size_t i = 0; i < out.enc.ids.size(); ++i)
    if (out.enc.ids[i] >= vocab)
      fail_expected("document '" + doc.id + "': token " + std::to_string(i), "tokenizer id outside the model's vocabulary",
                    "< " + std::to_string(vocab), std::to_string(out.enc.ids[i]));
  return out;
}

}  // namespace moescope
