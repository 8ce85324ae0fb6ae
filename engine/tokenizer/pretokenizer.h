// pretokenizer.h — HF pre-tokenizers: cut normalized text into the words the model sees.
// Supported: Split, ByteLevel, Metaspace, Sequence (flattened). ByteLevel's byte→char mapping is not done
// here: the BPE model reads raw bytes when the chain ends in ByteLevel (byte_level()).
#pragma once

#include <memory>
#include <vector>

#include "engine/tokenizer/tokenizer_json.h"
#include "engine/tokenizer/tokenizer_text.h"

namespace moescope::detail {

class PreTokenizerStep {
 public:
  virtual ~PreTokenizerStep() = default;
  // Replaces pieces (spans of text) by their sub-pieces; may append rewritten copies to text.
  virtual void split(AlignedText& text, std::vector<Span>& pieces) const = 0;
};

class PreTokenizer {
 public:
  // node is the "pre_tokenizer" field; null means no splitting (each text is one piece).
  static PreTokenizer from_json(const JsonField& node);

  void split(AlignedText& text, std::vector<Span>& pieces) const;
  bool byte_level() const { return byte_level_; }

 private:
  void add(const JsonField& node);

  std::vector<std::unique_ptr<PreTokenizerStep>> steps_;
  bool byte_level_ = false;   // the last step is ByteLevel
};

}  // namespace moescope::detail
