// bpe.h — the BPE model of a Hugging Face tokenizer.json (vocab + ranked merges): a word starts
// as bytes (byte-level vocabularies) or characters, and the lowest-ranked adjacent pair is merged
// until none is left, leftmost first on ties, as HF does. Safe to use from several threads.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/tokenizer/tokenizer_json.h"

namespace moescope::detail {

// One output token; [begin, end) are byte offsets inside the word given to tokenize().
struct ModelToken {
  int32_t id;
  uint32_t begin, end;
};

class BpeModel {
 public:
  // model is the "model" field. byte_level: words arrive as raw bytes and each byte is the
  // vocabulary's GPT-2 byte character (the chain of pre-tokenizers ends in ByteLevel).
  static std::unique_ptr<BpeModel> from_json(const JsonField& model, bool byte_level);
  ~BpeModel();

  // Appends the tokens of one word (non-empty, valid UTF-8 unless byte_level).
  void tokenize(std::string_view word, std::vector<ModelToken>& out) const;

  std::optional<int32_t> token_to_id(std::string_view token) const;
  // Vocabulary string of id, or nullptr when the vocab has no such id.
  const std::string* id_to_token(int32_t id) const;
  int32_t max_id() const { return static_cast<int32_t>(id_to_token_.size()) - 1; }

 private:
  struct Impl;
  BpeModel();

  void merge_word(std::string_view word, std::vector<ModelToken>& out) const;
  void initial_symbols(std::string_view word, std::vector<ModelToken>& out) const;

  std::unique_ptr<Impl> impl_;
  uint64_t id_;  // key of this model's per-thread word caches
  std::vector<std::string> id_to_token_;
};

}  // namespace moescope::detail
