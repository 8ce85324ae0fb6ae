// bpe_cache.cpp — the per-thread BPE word cache (see bpe_cache.h).
// Slots are plain data, so filling and reading one is a couple of memcpy calls.
#include "engine/tokenizer/bpe_cache.h"

#include <array>
#include <cstring>
#include <functional>
#include <memory>

namespace moescope::detail {

BpeWordCache& BpeWordCache::for_thread(uint64_t model_id) {
  // A handful of models per thread (e.g. comparing two tokenizers), replaced round-robin.
  constexpr size_t kModelsPerThread = 4;
  thread_local std::array<std::unique_ptr<BpeWordCache>, kModelsPerThread> caches;
  thread_local size_t next_victim = 0;
  for (auto& c : caches) {
    if (c && c->model_id_ == model_id) return *c;
  }
  auto& slot = caches[next_victim];
  next_victim = (next_victim + 1) % kModelsPerThread;
  slot.reset(new BpeWordCache(model_id));
  return *slot;
}

uint64_t BpeWordCache::hash(std::string_view word) {
  const uint64_t h = std::hash<std::string_view>{}(word);
  return h ? h : 1;
}

bool BpeWordCache::lookup(std::string_view word, uint64_t h, std::vector<ModelToken>& out) const {
  const Slot& s = slots_[h & (kSlots - 1)];
  if (s.hash != h || s.word_len != word.size() || std::memcmp(s.word, word.data(), word.size()) != 0) {
    return false;
  }
  uint32_t pos = 0;
  for (size_t k = 0; k < s.count; ++k) {
    out.push_back({s.ids[k], pos, pos + s.token_len[k]});
    pos += s.token_len[k];
  }
  return true;
}

void BpeWordCache::store(std::string_view word, uint64_t h, const ModelToken* tokens, size_t count) {
  if (word.size() > kMaxWordBytes || count > kMaxTokens) return;
  // Offsets are rebuilt from lengths on lookup, so only gap-free results can be stored (an
  // unknown symbol dropped without unk_token leaves a gap).
  uint32_t pos = 0;
  for (size_t k = 0; k < count; ++k) {
    if (tokens[k].begin != pos) return;
    pos = tokens[k].end;
  }
  if (pos != word.size()) return;
  Slot& s = slots_[h & (kSlots - 1)];
  s.hash = h;
  s.word_len = static_cast<uint8_t>(word.size());
  s.count = static_cast<uint8_t>(count);
  for (size_t k = 0; k < count; ++k) {
    s.ids[k] = tokens[k].id;
    s.token_len[k] = static_cast<uint8_t>(tokens[k].end - tokens[k].begin);
  }
  std::memcpy(s.word, word.data(), word.size());
}

}  // namespace moescope::detail
