// bpe_merges.h — the merge table of a BPE model: (left id, right id) → (rank, merged id).
// An open-addressing table with linear probing; it is probed for every adjacent pair of every
// new word, so it avoids the node chasing of std::unordered_map.
#pragma once

#include <cstdint>
#include <vector>

namespace moescope::detail {

struct BpeMerge {
  int32_t rank;
  int32_t new_id;
};

class BpeMergeTable {
 public:
  void reserve(size_t n) {
    size_t cap = 16;
    while (cap < 2 * n) cap <<= 1;
    keys_.assign(cap, kEmpty);
    values_.assign(cap, BpeMerge{});
    mask_ = cap - 1;
    size_ = 0;
  }

  // Inserts or overwrites (a later duplicate of a pair wins, as in HF).
  void set(int32_t left, int32_t right, BpeMerge m) {
    if (keys_.empty() || 2 * (size_ + 1) > keys_.size()) grow();
    const uint64_t key = make_key(left, right);
    size_t i = slot(key);
    while (keys_[i] != kEmpty && keys_[i] != key) i = (i + 1) & mask_;
    if (keys_[i] == kEmpty) ++size_;
    keys_[i] = key;
    values_[i] = m;
  }

  const BpeMerge* find(int32_t left, int32_t right) const {
    if (keys_.empty()) return nullptr;
    const uint64_t key = make_key(left, right);
    for (size_t i = slot(key);; i = (i + 1) & mask_) {
      if (keys_[i] == key) return &values_[i];
      if (keys_[i] == kEmpty) return nullptr;
    }
  }

 private:
  static constexpr uint64_t kEmpty = ~uint64_t{0};  // ids are non-negative, so never a real key

  static uint64_t make_key(int32_t a, int32_t b) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
  }
  size_t slot(uint64_t key) const { return static_cast<size_t>((key * 0x9E3779B97F4A7C15ULL) >> 20) & mask_; }

  void grow() {
    std::vector<uint64_t> old_keys = std::move(keys_);
    std::vector<BpeMerge> old_values = std::move(values_);
    reserve(old_keys.empty() ? 8 : old_keys.size());
    for (size_t i = 0; i < old_keys.size(); ++i) {
      if (old_keys[i] != kEmpty) {
        set(static_cast<int32_t>(old_keys[i] >> 32), static_cast<int32_t>(old_keys[i] & 0xFFFFFFFFu),
            old_values[i]);
      }
    }
  }

  std::vector<uint64_t> keys_;
  std::vector<BpeMerge> values_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

}  // namespace moescope::detail
