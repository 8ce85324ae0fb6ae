// scoring.h — language-model quality of a forward pass: mean NLL, perplexity, bits per byte.
// bits_per_byte = sum of token NLLs (nats) / (UTF-8 bytes of the scored text * ln 2), as EMO's
// evaluation defines it (emo-reference.md §6).
#pragma once

#include <cstddef>

#include "engine/model.h"

namespace moescope {

struct ScoreSummary {
  size_t tokens = 0;          // tokens in the input
  size_t predicted = 0;       // tokens with a prediction (every token but each document's first)
  double total_nll = 0.0;     // nats
  double mean_nll = 0.0;      // nats per predicted token
  double perplexity = 0.0;    // exp(mean_nll)
  double bytes = 0.0;         // UTF-8 bytes of the predicted tokens' text
  double bits_per_byte = 0.0;
};

// predicted_bytes: UTF-8 bytes covered by the predicted tokens (0 leaves bits_per_byte at 0).
// Throws Error when a predicted token's NLL is not finite.
ScoreSummary summarize_nll(const ForwardResult& r, size_t predicted_bytes);

// The same in pieces, for a text routed in several batches: add_nll adds each batch's tokens and
// predicted NLLs (first_token = where the batch starts in the text, for the error message), in
// text order; finish_summary then fills the means and bits per byte.
void add_nll(ScoreSummary& s, const ForwardResult& r, size_t first_token = 0);
void finish_summary(ScoreSummary& s, size_t predicted_bytes);

}  // namespace moescope
