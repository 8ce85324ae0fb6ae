// swap_cascades.h — which tokens already swapped an expert between two runs of one forward pass.
// Two precisions or backends may pick different top-k sets for a token on a near-tie; after that
// the token's residual stream differs by two experts' outputs, not by rounding, so a swap there in
// a later layer is a cascade, not a near-tie (docs/ARCHITECTURE.md, "Comparing two precisions").
#pragma once
#include <cstddef>
#include <vector>

namespace moescope::test {
class SwapCascades {
 public:
  explicit SwapCascades(size_t tokens) : swapped_(tokens, 0) {}
  // For a token whose sets differ in the current layer (layers visited in order): true when an
  // earlier layer already swapped there; otherwise the swap is recorded and false returned.
  bool is_cascade(size_t t) {
    if (swapped_[t]) return true;
    swapped_[t] = 1;
    return false;
  }
  bool swapped(size_t t) const { return swapped_[t] != 0; }

 private:
  std::vector<char> swapped_;  // [T]
};
}  // namespace moescope::test
