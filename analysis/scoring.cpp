// scoring.cpp — NLL aggregation for `score` and ablations.
#include "analysis/scoring.h"

#include <cmath>

#include "engine/error.h"

namespace moescope {

void add_nll(ScoreSummary& s, const ForwardResult& r, size_t first_token) {
  s.tokens += r.ids.size();
  for (const DocumentSpan& d : r.docs)
    for (size_t t = d.begin; t + 1 < d.end; ++t) {  // each document's last token predicts nothing
      const float v = r.nll[t];
      if (!std::isfinite(v))
        fail("token " + std::to_string(first_token + t), "NLL is not finite (NaN or Inf): the model's outputs overflowed");
      s.total_nll += double(v);
      ++s.predicted;
    }
}

ScoreSummary summarize_nll(const ForwardResult& r, size_t predicted_bytes) {
  ScoreSummary s;
  add_nll(s, r);
  finish_summary(s, predicted_bytes);
  return s;
}

void finish_summary(ScoreSummary& s, size_t predicted_bytes) {
  if (s.predicted > 0) {
    s.mean_nll = s.total_nll / double(s.predicted);
    s.perplexity = std::exp(s.mean_nll);
  }
  s.bytes = double(predicted_bytes);
  if (predicted_bytes > 0) s.bits_per_byte = s.total_nll / (double(predicted_bytes) * std::log(2.0));
}

}  // namespace moescope
