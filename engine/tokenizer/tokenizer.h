// tokenizer.h — Hugging Face tokenizer.json: byte-level BPE (dolma2/cl100k, GPT-NeoX, Qwen) and
// SentencePiece-style BPE with byte fallback (Mistral / Mixtral, Llama).
// Usage:
//   auto tok = moescope::Tokenizer::from_file("model/tokenizer.json");
//   moescope::Encoding enc = tok.encode("Hello world");   // ids, tokens, byte offsets
//   std::string text = tok.decode(enc.ids);
// encode() adds no BOS/EOS (like HF encode(..., add_special_tokens=False)); added/special tokens
// in the text are matched before BPE. Offsets are byte ranges [begin, end) into the input text
// (exact bytes, also for a token holding part of a character; text that NFC rewrote maps back
// as a whole segment). Supported tokenizer.json parts: BPE model (byte_fallback, fuse_unk,
// ignore_merges), normalizer null/NFC/Prepend/Replace/Sequence, pre_tokenizer
// Split/ByteLevel/Metaspace/Sequence, decoder null/ByteLevel/Replace/ByteFallback/Fuse/Strip/
// Metaspace/Sequence; post_processor, truncation and padding are ignored (so no BOS is added).
// A Tokenizer may be used from several threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace moescope {

struct Encoding {
  std::vector<int32_t> ids;
  std::vector<std::string> tokens;                     // vocabulary strings (byte-level / "▁" form)
  std::vector<std::pair<size_t, size_t>> offsets;      // byte range of each token in the input
};

class Tokenizer {
 public:
  // Throws moescope::Error naming the file and the field on any problem.
  static Tokenizer from_file(const std::string& path);
  static Tokenizer from_json_text(const std::string& json_text, const std::string& source_name);

  // Invalid UTF-8 in text throws moescope::Error naming the byte offset.
  Encoding encode(std::string_view text) const;
  std::string decode(const std::vector<int32_t>& ids, bool skip_special_tokens = false) const;

  size_t vocab_size() const;                            // largest id + 1, added tokens included
  std::optional<int32_t> token_to_id(std::string_view token) const;
  std::string id_to_token(int32_t id) const;            // "" for an unknown id
  bool is_special(int32_t id) const;

  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

 private:
  struct Impl;
  explicit Tokenizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace moescope
