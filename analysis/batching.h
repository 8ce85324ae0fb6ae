// batching.h — packing token-id documents, in order, into forward-pass batches of about
// batch_tokens tokens (a document longer than that forms a batch alone). One rule for every
// corpus pass: a document's forward results depend (by float rounding in the GEMMs over T) on
// which documents share its batch, so trace, a sharded trace (`mpirun`) and the EMO export must
// cut the corpus the same way for their records to agree bit for bit.
#pragma once

#include <cstdint>
#include <vector>

namespace moescope {

// Streams document sizes in corpus order and says which batch each one falls into. A document
// with no tokens joins the batch that is open (it needs no forward pass).
class BatchPacker {
 public:
  explicit BatchPacker(int64_t batch_tokens) : batch_tokens_(batch_tokens) {}
  // The batch index (0, 1, ...) of the next document, which has `tokens` tokens.
  size_t add(int64_t tokens) {
    if (tokens > 0) {
      if (size_ > 0 && size_ + tokens > batch_tokens_) {
        ++index_;
        size_ = 0;
      }
      size_ += tokens;
    }
    return index_;
  }

 private:
  int64_t batch_tokens_;
  int64_t size_ = 0;
  size_t index_ = 0;
};

// [begin, end) ranges of `docs`, one per batch.
inline std::vector<std::pair<size_t, size_t>> pack_batches(const std::vector<std::vector<int32_t>>& docs,
                                                           int64_t batch_tokens) {
  std::vector<std::pair<size_t, size_t>> out;
  BatchPacker packer(batch_tokens);
  for (size_t d = 0; d < docs.size(); ++d) {
    const size_t b = packer.add(int64_t(docs[d].size()));
    if (b == out.size()) out.emplace_back(d, d);
    out.back().second = d + 1;
  }
  return out;
}

inline std::vector<std::vector<int32_t>> batch_of(const std::vector<std::vector<int32_t>>& docs,
                                                  std::pair<size_t, size_t> range) {
  return {docs.begin() + std::ptrdiff_t(range.first), docs.begin() + std::ptrdiff_t(range.second)};
}

}  // namespace moescope
