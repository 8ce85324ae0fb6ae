// tokenizer.cpp — Tokenizer: loads tokenizer.json and runs HF's encode pipeline:
// added tokens (raw) → normalizer → added tokens (normalized) → pre-tokenizers → BPE,
// carrying every token's byte range in the original text through each step.
#include "engine/tokenizer/tokenizer.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "engine/tokenizer/bpe.h"
#include "engine/error.h"
#include "engine/json_file.h"
#include "engine/tokenizer/pretokenizer.h"
#include "engine/tokenizer/tokenizer_added.h"
#include "engine/tokenizer/tokenizer_decoder.h"
#include "engine/tokenizer/tokenizer_json.h"
#include "engine/tokenizer/tokenizer_normalizer.h"
#include "engine/tokenizer/unicode_utf8.h"

namespace moescope {

using detail::AlignedText;
using detail::JsonField;
using detail::Span;
using detail::TextSplit;

struct Tokenizer::Impl {
  std::string source;
  detail::Normalizer normalizer;
  detail::PreTokenizer pre_tokenizer;
  std::unique_ptr<detail::BpeModel> model;
  detail::Decoder decoder;
  std::vector<detail::AddedToken> added;
  std::unordered_map<std::string, size_t> added_by_content;  // index into added
  std::unordered_map<int32_t, size_t> added_by_id;
  detail::AddedTokenMatcher raw_matcher;         // normalized == false
  detail::AddedTokenMatcher normalized_matcher;  // normalized == true, matched on normalized text
  int32_t max_id = -1;
  std::vector<const std::string*> id_to_string;  // added tokens over the model's; null: no token

  void load_added_tokens(const JsonField& list);
  const std::string* token_string(int32_t id) const;
  void emit(Encoding& enc, int32_t id, size_t begin, size_t end) const;
  void encode_plain(AlignedText& text, Span span, Encoding& enc) const;
};

void Tokenizer::Impl::load_added_tokens(const JsonField& list) {
  for (size_t i = 0; i < list.array_size(); ++i) {
    const JsonField item = list.at(i);
    detail::AddedToken t;
    const JsonField id_field = item.at("id");
    const int64_t id = id_field.as_int();
    if (!detail::token_id_in_range(id_field.value()))
      id_field.fail("out of range (expected 0.." + std::to_string(detail::kMaxTokenId) + ", found " +
                    id_field.value().dump() + ")");
    t.id = static_cast<int32_t>(id);
    t.content = item.at("content").as_string();
    detail::require_valid_utf8(t.content, source + ": " + item.path() + ".content");
    t.special = item.bool_or("special", false);
    t.single_word = item.bool_or("single_word", false);
    t.lstrip = item.bool_or("lstrip", false);
    t.rstrip = item.bool_or("rstrip", false);
    t.normalized = item.bool_or("normalized", !t.special);
    t.vocab_string = t.normalized ? normalizer.normalize(t.content) : t.content;
    added.push_back(std::move(t));
  }
  for (size_t i = 0; i < added.size(); ++i) {
    const detail::AddedToken& t = added[i];
    added_by_content.emplace(t.content, i);
    added_by_id[t.id] = i;
    max_id = std::max(max_id, t.id);
    if (t.normalized) normalized_matcher.add(t.vocab_string, static_cast<int32_t>(i));
    else raw_matcher.add(t.content, static_cast<int32_t>(i));
  }
}

const std::string* Tokenizer::Impl::token_string(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= id_to_string.size()) return nullptr;
  return id_to_string[static_cast<size_t>(id)];
}

void Tokenizer::Impl::emit(Encoding& enc, int32_t id, size_t begin, size_t end) const {
  enc.ids.push_back(id);
  const std::string* s = token_string(id);
  enc.tokens.push_back(s ? *s : std::string());
  enc.offsets.emplace_back(begin, end);
}

// Pre-tokenizes and runs the model on text[span], which holds no added token.
void Tokenizer::Impl::encode_plain(AlignedText& text, Span span, Encoding& enc) const {
  if (span.begin == span.end) return;
  std::vector<Span> pieces{span};
  pre_tokenizer.split(text, pieces);
  std::vector<detail::ModelToken> tokens;
  for (const Span& piece : pieces) {
    tokens.clear();
    model->tokenize(text.view(piece), tokens);
    for (const detail::ModelToken& t : tokens) {
      const auto [b, e] = text.to_original(piece.begin + t.begin, piece.begin + t.end);
      emit(enc, t.id, b, e);
    }
  }
}

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

Tokenizer Tokenizer::from_file(const std::string& path) {
  return from_json_text(read_text_file(path, "tokenizer file"), path);
}

Tokenizer Tokenizer::from_json_text(const std::string& json_text, const std::string& source_name) {
  const nlohmann::json root = parse_json(json_text, source_name);
  auto impl = std::make_unique<Impl>();
  impl->source = source_name;
  const JsonField top(root, impl->source, "");
  if (!root.is_object()) top.fail_type("object");

  // Fields that HF applies only when asked (truncation, padding, post-processing with
  // add_special_tokens) are ignored: encode() never asks.
  const auto field_or_null = [&](const char* key) {
    static const nlohmann::json null_json;
    return top.has(key) ? top.at(key) : JsonField(null_json, impl->source, key);
  };
  impl->normalizer = detail::Normalizer::from_json(field_or_null("normalizer"));
  impl->pre_tokenizer = detail::PreTokenizer::from_json(field_or_null("pre_tokenizer"));
  impl->model = detail::BpeModel::from_json(top.at("model"), impl->pre_tokenizer.byte_level());
  impl->decoder = detail::Decoder::from_json(field_or_null("decoder"));
  if (top.has("added_tokens")) impl->load_added_tokens(top.at("added_tokens"));
  impl->max_id = std::max(impl->max_id, impl->model->max_id());
  impl->id_to_string.assign(static_cast<size_t>(impl->max_id + 1), nullptr);
  for (int32_t id = 0; id <= impl->model->max_id(); ++id) impl->id_to_string[id] = impl->model->id_to_token(id);
  for (const detail::AddedToken& t : impl->added) impl->id_to_string[t.id] = &t.vocab_string;
  return Tokenizer(std::move(impl));
}

Encoding Tokenizer::encode(std::string_view text) const {
  const Impl& d = *impl_;
  detail::require_valid_utf8(text, "input text");
  Encoding enc;
  if (text.empty()) return enc;
  enc.ids.reserve(text.size() / 3 + 4);
  enc.tokens.reserve(text.size() / 3 + 4);
  enc.offsets.reserve(text.size() / 3 + 4);

  std::vector<TextSplit> raw_splits;
  d.raw_matcher.split(text, d.added, raw_splits);
  std::vector<TextSplit> normalized_splits;
  for (const TextSplit& s : raw_splits) {
    if (s.id >= 0) {
      d.emit(enc, s.id, s.begin, s.end);
      continue;
    }
    AlignedText normalized = AlignedText::identity(text.substr(s.begin, s.end - s.begin), s.begin);
    if (!d.normalizer.identity()) normalized = d.normalizer.normalize(std::move(normalized));
    normalized_splits.clear();
    d.normalized_matcher.split(normalized.text(), d.added, normalized_splits);
    for (const TextSplit& t : normalized_splits) {
      if (t.id >= 0) {
        const auto [b, e] = normalized.to_original(t.begin, t.end);
        d.emit(enc, t.id, b, e);
      } else {
        d.encode_plain(normalized, Span{t.begin, t.end}, enc);
      }
    }
  }
  return enc;
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const {
  std::vector<std::string_view> tokens;
  tokens.reserve(ids.size());
  for (int32_t id : ids) {
    const std::string* s = impl_->token_string(id);
    if (!s) continue;  // HF drops ids it does not know
    if (skip_special_tokens && is_special(id)) continue;
    tokens.push_back(*s);
  }
  return impl_->decoder.decode(tokens);
}

size_t Tokenizer::vocab_size() const { return static_cast<size_t>(impl_->max_id + 1); }

std::optional<int32_t> Tokenizer::token_to_id(std::string_view token) const {
  auto it = impl_->added_by_content.find(std::string(token));
  if (it != impl_->added_by_content.end()) return impl_->added[it->second].id;
  return impl_->model->token_to_id(token);
}

std::string Tokenizer::id_to_token(int32_t id) const {
  const std::string* s = impl_->token_string(id);
  return s ? *s : std::string();
}

bool Tokenizer::is_special(int32_t id) const {
  auto it = impl_->added_by_id.find(id);
  return it != impl_->added_by_id.end() && impl_->added[it->second].special;
}

}  // namespace moescope
