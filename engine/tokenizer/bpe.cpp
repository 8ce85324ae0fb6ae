// bpe.cpp — BPE merges with a per-word priority queue over a linked list of symbols.
// Merges live in a flat hash table keyed by the (left id, right id) pair; finished words are
// cached per thread, so the queue only runs for words not seen recently.
#include "engine/tokenizer/bpe.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <unordered_map>

#include "engine/tokenizer/bpe_cache.h"
#include "engine/tokenizer/bpe_merges.h"
#include "engine/tokenizer/tokenizer_bytelevel.h"
#include "engine/tokenizer/unicode_utf8.h"

namespace moescope::detail {
namespace {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using StringToId = std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>>;

// Distinguishes models in the per-thread caches (an address could be reused).
std::atomic<uint64_t> next_model_id{1};

}  // namespace

struct BpeModel::Impl {
  StringToId vocab;
  BpeMergeTable merges;
  bool byte_level = false;
  std::optional<int32_t> unk_id;
  bool fuse_unk = false;
  bool ignore_merges = false;
  bool byte_fallback = false;
  std::array<int32_t, 256> fallback_id{};  // id of "<0xNN>" per byte, -1 when absent
  std::string prefix;  // continuing_subword_prefix
  std::string suffix;  // end_of_word_suffix
  std::array<int32_t, 256> byte_id{};  // byte-level, no prefix/suffix: id of each byte's character
  StringToId raw_vocab;                // byte-level + ignore_merges: raw bytes of each token → id
};

BpeModel::BpeModel() : impl_(std::make_unique<Impl>()), id_(next_model_id.fetch_add(1)) {}
BpeModel::~BpeModel() = default;

std::unique_ptr<BpeModel> BpeModel::from_json(const JsonField& model, bool byte_level) {
  std::unique_ptr<BpeModel> m(new BpeModel());
  Impl& d = *m->impl_;
  d.byte_level = byte_level;

  if (model.has("type")) {
    const JsonField type = model.at("type");
    if (type.as_string() != "BPE") type.unsupported(type.as_string());
  } else if (!model.has("merges")) {
    model.fail("no \"type\" and no \"merges\": only BPE models are supported");
  }
  if (model.has("dropout")) {  // 0 means no dropout for HF too; anything else would be random
    const JsonField dropout = model.at("dropout");
    if (!dropout.value().is_number()) dropout.fail_type("number or null");
    if (dropout.value().get<double>() != 0.0) dropout.unsupported(dropout.value().dump());
  }
  d.byte_fallback = model.bool_or("byte_fallback", false);
  d.fuse_unk = model.bool_or("fuse_unk", false);
  d.ignore_merges = model.bool_or("ignore_merges", false);
  d.prefix = model.optional_string("continuing_subword_prefix").value_or("");
  d.suffix = model.optional_string("end_of_word_suffix").value_or("");

  const JsonField vocab = model.at("vocab");
  if (!vocab.value().is_object()) vocab.fail_type("object");
  int32_t max_id = -1;
  d.vocab.reserve(vocab.value().size());
  for (const auto& [token, id_json] : vocab.value().items()) {
    if (!id_json.is_number_integer()) vocab.fail("the id of token '" + token + "' is not an integer");
    if (!token_id_in_range(id_json))
      vocab.fail("the id of token '" + token + "' is out of range (expected 0.." + std::to_string(kMaxTokenId) +
                 ", found " + id_json.dump() + ")");
    const auto id = static_cast<int32_t>(id_json.get<int64_t>());
    d.vocab.emplace(token, id);
    max_id = std::max(max_id, id);
  }
  m->id_to_token_.assign(static_cast<size_t>(max_id + 1), std::string());
  for (const auto& [token, id] : d.vocab) m->id_to_token_[static_cast<size_t>(id)] = token;

  if (d.byte_fallback) {
    static const char* hex = "0123456789ABCDEF";
    for (int byte = 0; byte < 256; ++byte) {
      const std::string name{'<', '0', 'x', hex[byte >> 4], hex[byte & 15], '>'};
      auto it = d.vocab.find(name);
      d.fallback_id[byte] = it == d.vocab.end() ? -1 : it->second;
    }
  }

  if (model.has("unk_token")) {
    const JsonField unk = model.at("unk_token");
    auto it = d.vocab.find(unk.as_string());
    if (it == d.vocab.end()) unk.fail("'" + unk.as_string() + "' is not in model.vocab");
    d.unk_id = it->second;
  }

  const JsonField merges = model.at("merges");
  const size_t n_merges = merges.array_size();
  d.merges.reserve(n_merges);
  int32_t rank = 0;
  for (size_t i = 0; i < n_merges; ++i) {
    const JsonField item = merges.at(i);
    std::string a, b;
    if (item.value().is_string()) {
      const std::string line = item.as_string();
      if (line.rfind("#version", 0) == 0) continue;  // header line of old merges.txt files
      const size_t space = line.find(' ');
      if (space == std::string::npos || line.find(' ', space + 1) != std::string::npos) {
        item.fail("expected \"left right\" with exactly one space, found '" + line + "'");
      }
      a = line.substr(0, space);
      b = line.substr(space + 1);
    } else if (item.value().is_array() && item.value().size() == 2) {
      a = item.at(size_t{0}).as_string();
      b = item.at(size_t{1}).as_string();
    } else {
      item.fail_type("\"left right\" string or [left, right] pair");
    }
    const auto lookup = [&](const std::string& s) {
      auto it = d.vocab.find(s);
      if (it == d.vocab.end()) item.fail("token '" + s + "' is not in model.vocab");
      return it->second;
    };
    const int32_t a_id = lookup(a), b_id = lookup(b);
    const std::string merged = a + b.substr(std::min(d.prefix.size(), b.size()));
    d.merges.set(a_id, b_id, BpeMerge{rank, lookup(merged)});  // a repeated pair keeps its last rank
    ++rank;
  }

  if (byte_level) {
    const auto& chars = byte_level_chars();
    for (int byte = 0; byte < 256; ++byte) {
      auto it = d.vocab.find(chars[byte]);
      d.byte_id[byte] = it == d.vocab.end() ? -1 : it->second;
    }
    if (d.ignore_merges) {
      std::string raw;
      for (const auto& [token, id] : d.vocab) {
        raw.clear();
        if (byte_level_to_bytes(token, raw)) d.raw_vocab.emplace(raw, id);
      }
    }
  }
  return m;
}

std::optional<int32_t> BpeModel::token_to_id(std::string_view token) const {
  auto it = impl_->vocab.find(token);
  if (it == impl_->vocab.end()) return std::nullopt;
  return it->second;
}

const std::string* BpeModel::id_to_token(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= id_to_token_.size()) return nullptr;
  const std::string& s = id_to_token_[static_cast<size_t>(id)];
  if (s.empty() && !impl_->vocab.count(s)) return nullptr;
  return &s;
}

// The symbols a word starts as, with HF's unknown-symbol handling: an unknown symbol becomes its
// bytes' "<0xNN>" tokens (byte_fallback, when all of them exist), else unk_token (runs fused when
// fuse_unk) or, without unk_token, is dropped.
void BpeModel::initial_symbols(std::string_view word, std::vector<ModelToken>& out) const {
  const Impl& d = *impl_;
  std::optional<ModelToken> unk;
  const auto push_known = [&](int32_t id, uint32_t b, uint32_t e) {
    if (unk) { out.push_back(*unk); unk.reset(); }
    out.push_back({id, b, e});
  };
  const auto push_unknown = [&](uint32_t b, uint32_t e) {
    if (!d.unk_id) return;
    if (unk && d.fuse_unk) { unk->end = e; return; }
    if (unk) out.push_back(*unk);
    unk = ModelToken{*d.unk_id, b, e};
  };
  // Like HF, fallback tokens do not flush a pending unk first, so that unk comes after them.
  const auto push_fallback = [&](std::string_view symbol, uint32_t b, uint32_t e) {
    if (!d.byte_fallback) return false;
    for (char c : symbol)
      if (d.fallback_id[static_cast<unsigned char>(c)] < 0) return false;
    // One token per byte of the word; a symbol with prefix/suffix or a byte-level character has
    // more bytes than the word, and each of its tokens then covers the whole symbol.
    const bool per_byte = symbol.size() == e - b;
    for (size_t k = 0; k < symbol.size(); ++k) {
      const int32_t id = d.fallback_id[static_cast<unsigned char>(symbol[k])];
      if (per_byte) out.push_back({id, static_cast<uint32_t>(b + k), static_cast<uint32_t>(b + k + 1)});
      else out.push_back({id, b, e});
    }
    return true;
  };

  const bool plain_bytes = d.byte_level && d.prefix.empty() && d.suffix.empty();
  std::string key;
  for (size_t i = 0; i < word.size();) {
    const size_t len = d.byte_level ? 1 : utf8_length_from_lead(static_cast<unsigned char>(word[i]));
    const auto b = static_cast<uint32_t>(i), e = static_cast<uint32_t>(i + len);
    const unsigned char byte = static_cast<unsigned char>(word[i]);
    i += len;
    if (plain_bytes) {
      const int32_t id = d.byte_id[byte];
      if (id >= 0) push_known(id, b, e);
      else if (!push_fallback(byte_level_chars()[byte], b, e)) push_unknown(b, e);
      continue;
    }
    key.clear();
    if (b > 0) key += d.prefix;
    if (d.byte_level) key += byte_level_chars()[byte];
    else key.append(word.substr(b, len));
    if (i == word.size()) key += d.suffix;
    auto it = d.vocab.find(key);
    if (it != d.vocab.end()) push_known(it->second, b, e);
    else if (!push_fallback(key, b, e)) push_unknown(b, e);
  }
  if (unk) out.push_back(*unk);
}

void BpeModel::merge_word(std::string_view word, std::vector<ModelToken>& out) const {
  const Impl& d = *impl_;
  struct Symbol {
    ModelToken tok;
    int32_t prev, next;
  };
  struct Candidate {
    int32_t rank, pos, left_id, right_id, new_id;
    bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  thread_local std::vector<ModelToken> initial;
  thread_local std::vector<Symbol> syms;
  thread_local std::vector<Candidate> heap_storage;
  initial.clear();
  initial_symbols(word, initial);
  syms.clear();
  for (size_t k = 0; k < initial.size(); ++k) {
    syms.push_back({initial[k], static_cast<int32_t>(k) - 1,
                    k + 1 < initial.size() ? static_cast<int32_t>(k + 1) : -1});
  }
  // A min-heap on (rank, position) kept in a reusable vector.
  std::vector<Candidate>& heap = heap_storage;
  heap.clear();
  const auto later = [](const Candidate& a, const Candidate& b) { return a > b; };
  const auto consider = [&](int32_t left) {
    if (left < 0) return;
    const int32_t right = syms[left].next;
    if (right < 0) return;
    const BpeMerge* m = d.merges.find(syms[left].tok.id, syms[right].tok.id);
    if (!m) return;
    heap.push_back({m->rank, left, syms[left].tok.id, syms[right].tok.id, m->new_id});
    std::push_heap(heap.begin(), heap.end(), later);
  };
  for (size_t k = 0; k + 1 < syms.size(); ++k) consider(static_cast<int32_t>(k));

  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), later);
    const Candidate c = heap.back();
    heap.pop_back();
    Symbol& left = syms[c.pos];
    // Stale entries: the left symbol died or either side changed since the pair was queued.
    if (left.tok.id != c.left_id || left.next < 0 || syms[left.next].tok.id != c.right_id) continue;
    Symbol& right = syms[left.next];
    left.tok.id = c.new_id;
    left.tok.end = right.tok.end;
    left.next = right.next;
    if (right.next >= 0) syms[right.next].prev = c.pos;
    right.tok.id = -1;  // dead
    consider(left.prev);
    consider(c.pos);
  }
  for (int32_t k = syms.empty() ? -1 : 0; k >= 0; k = syms[k].next) out.push_back(syms[k].tok);
}

void BpeModel::tokenize(std::string_view word, std::vector<ModelToken>& out) const {
  if (word.empty()) return;
  const Impl& d = *impl_;
  if (d.ignore_merges) {
    const StringToId& whole = d.byte_level ? d.raw_vocab : d.vocab;
    auto it = whole.find(word);
    if (it != whole.end()) {
      out.push_back({it->second, 0, static_cast<uint32_t>(word.size())});
      return;
    }
  }
  const bool cacheable = word.size() <= BpeWordCache::kMaxWordBytes;
  BpeWordCache* cache = cacheable ? &BpeWordCache::for_thread(id_) : nullptr;
  const uint64_t hash = cacheable ? BpeWordCache::hash(word) : 0;
  if (cache && cache->lookup(word, hash, out)) return;
  const size_t first = out.size();
  merge_word(word, out);
  if (cache) cache->store(word, hash, out.data() + first, out.size() - first);
}

}  // namespace moescope::detail
