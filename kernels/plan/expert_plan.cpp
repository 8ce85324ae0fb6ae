// expert_plan.cpp — counting sort of a layer's (token, slot) pairs by expert.
#include "kernels/plan/expert_plan.h"

#include <algorithm>
#include <limits>
#include <string>

#include "engine/error.h"

namespace moescope {

ExpertPlan plan_experts(const int32_t* ids, int64_t T, int k, int num_experts) {
  ExpertPlan p;
  p.num_experts = num_experts;
  p.k = k;
  const int64_t S = T * k;
  if (S > std::numeric_limits<int32_t>::max()) fail("expert plan", "more than 2^31 - 1 (token, expert) slots in one batch");
  p.offsets.assign(size_t(num_experts) + 1, 0);
  for (int64_t s = 0; s < S; ++s) {
    const int32_t e = ids[s];
    if (e < 0 || e >= num_experts)
      fail_expected("expert plan, token " + std::to_string(s / k) + " slot " + std::to_string(s % k), "expert id out of range",
                    "0.." + std::to_string(num_experts - 1), std::to_string(e));
    ++p.offsets[size_t(e) + 1];
  }
  for (int e = 0; e < num_experts; ++e) p.offsets[size_t(e) + 1] += p.offsets[size_t(e)];
  p.slot_of_row.resize(size_t(S));
  p.row_of_slot.resize(size_t(S));
  std::vector<int64_t> next(p.offsets.begin(), p.offsets.end() - 1);
  for (int64_t s = 0; s < S; ++s) {
    const int64_t row = next[size_t(ids[s])]++;
    p.slot_of_row[size_t(row)] = int32_t(s);
    p.row_of_slot[size_t(s)] = int32_t(row);
  }
  for (int e = 0; e < num_experts; ++e)
    if (p.rows(e) > 0) p.busy.push_back(e);
  std::stable_sort(p.busy.begin(), p.busy.end(), [&](int a, int b) { return p.rows(a) > p.rows(b); });
  return p;
}

}  // namespace moescope
