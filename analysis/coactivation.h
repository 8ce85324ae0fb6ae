// coactivation.h — which experts work together, per MoE layer, over the standard experts:
//   token level: experts selected together for one token (counts, PMI);
//   document level: experts in the same documents' pools (counts, lift).
#pragma once

#include <vector>

#include "analysis/trace_data.h"

namespace moescope {

struct Coactivation {
  size_t units = 0;                          // tokens (token level) or documents (document level)
  std::vector<double> count;                 // [Es] units using expert e
  std::vector<std::vector<double>> pair;     // [Es, Es] units using both (diagonal = count)
  // PMI (token level) / log lift (document level): log(pair * units / (count_i * count_j)); NaN when pair = 0.
  std::vector<std::vector<double>> pmi;
};

Coactivation token_coactivation(const TraceData& td, size_t l);
// A document uses an expert when it is in the document's pool (pool_mass of its mean probability).
Coactivation document_coactivation(const TraceData& td, size_t l, double pool_mass);

}  // namespace moescope
