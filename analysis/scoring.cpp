// scoring.cpp — NLL aggregation for `score` and ablations.
#include "analysis/scoring.h"

#include <cmath>

namespace moescope {

ScoreSummary summarize_nll(const ForwardResult& r, size_t predicted_bytes) {
  ScoreSummary s;
  s.tokens = r.ids.size();
  for (float v : r.nll) {
    if (std::isnan(v)) continue;  // each document's last token predicts nothing
    s.total_nll += double(v);
    ++s.predicted;
  }
  if (s.predicted > 0) {
    s.mean_nll = s.total_nll / double(s.predicted);
    s.perplexity = std::exp(s.mean_nll);
  }
  s.bytes = double(predicted_bytes);
  if (predicted_bytes > 0) s.bits_per_byte = s.total_nll / (double(predicted_bytes) * std::log(2.0));
  return s;
}

}  // namespace moescope
