// expert_plan.h — the grouped-GEMM plan of one MoE layer's routing, made on the host from the
// [T, K] expert ids (routing runs on the host: backend.h), then uploaded: slots sorted by expert
// with a counting sort (stable: within an expert, slots keep token order), each expert's range of
// rows, and the way back from a slot to its row. Pure C++; tests check it exhaustively on the CPU.
// Shape legend: T tokens, K experts per token, E experts of the layer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace moescope {

struct ExpertPlan {
  int num_experts = 0;                // E
  int k = 0;                          // K
  std::vector<int64_t> offsets;       // [E + 1]: expert e's rows are [offsets[e], offsets[e+1])
  std::vector<int32_t> slot_of_row;   // [T*K]: the slot (t*K + i) each expert-ordered row holds
  std::vector<int32_t> row_of_slot;   // [T*K]: inverse of slot_of_row
  std::vector<int32_t> busy;          // experts with at least one row, most rows first (ties: lower id)

  int64_t rows(int e) const { return offsets[size_t(e) + 1] - offsets[size_t(e)]; }
};

// ids [T, K], each in [0, E); throws Error naming the slot otherwise.
ExpertPlan plan_experts(const int32_t* ids, int64_t T, int k, int num_experts);

}  // namespace moescope
