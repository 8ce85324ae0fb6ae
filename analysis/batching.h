// batching.h — packing token-id documents, in order, into forward-pass batches of about
// batch_tokens tokens (a document longer than that forms a batch alone).
#pragma once

#include <cstdint>
#include <vector>

namespace moescope {

// [begin, end) ranges of `docs`, one per batch.
inline std::vector<std::pair<size_t, size_t>> pack_batches(const std::vector<std::vector<int32_t>>& docs,
                                                           int64_t batch_tokens) {
  std::vector<std::pair<size_t, size_t>> out;
  for (size_t first = 0; first < docs.size();) {
    size_t last = first;
    int64_t size = 0;
    while (last < docs.size() && (last == first || size + int64_t(docs[last].size()) <= batch_tokens))
      size += int64_t(docs[last++].size());
    out.emplace_back(first, last);
    first = last;
  }
  return out;
}

inline std::vector<std::vector<int32_t>> batch_of(const std::vector<std::vector<int32_t>>& docs,
                                                  std::pair<size_t, size_t> range) {
  return {docs.begin() + std::ptrdiff_t(range.first), docs.begin() + std::ptrdiff_t(range.second)};
}

}  // namespace moescope
