// bpe_cache.h — per-thread, direct-mapped cache of word → BPE tokens.
// Each thread keeps its own slots for the few models it uses last, so lookups take no lock;
// a colliding word simply replaces the slot. Long words and long outputs are not cached.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "engine/tokenizer/bpe.h"

namespace moescope::detail {

class BpeWordCache {
 public:
  static constexpr size_t kMaxWordBytes = 64;
  static constexpr size_t kMaxTokens = 16;

  // The calling thread's cache for the model with this unique id.
  static BpeWordCache& for_thread(uint64_t model_id);

  static uint64_t hash(std::string_view word);
  // Appends the cached tokens of word and returns true, or returns false.
  bool lookup(std::string_view word, uint64_t hash, std::vector<ModelToken>& out) const;
  void store(std::string_view word, uint64_t hash, const ModelToken* tokens, size_t count);

 private:
  struct Slot {
    uint64_t hash = 0;  // 0: empty
    uint8_t word_len = 0;
    uint8_t count = 0;
    uint8_t token_len[kMaxTokens];
    int32_t ids[kMaxTokens];
    char word[kMaxWordBytes];
  };
  static constexpr size_t kSlots = 1 << 15;

  explicit BpeWordCache(uint64_t model_id) : model_id_(model_id), slots_(kSlots) {}

  uint64_t model_id_;
  std::vector<Slot> slots_;
};

}  // namespace moescope::detail
