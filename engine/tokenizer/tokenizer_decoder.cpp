// tokenizer_decoder.cpp — HF's decoders as steps over the list of token strings. ByteLevel turns
// each token's characters back to bytes and repairs the whole as lossy UTF-8 (a token holding a
// non-byte character, e.g. an added "  ", is taken as-is); ByteFallback joins runs of "<0xNN>"
// tokens into their UTF-8 text, or one U+FFFD per byte when the run is not valid UTF-8.
#include "engine/tokenizer/tokenizer_decoder.h"

#include "engine/tokenizer/pretokenizer_metaspace.h"
#include "engine/tokenizer/tokenizer_bytelevel.h"
#include "engine/tokenizer/unicode_utf8.h"

namespace moescope::detail {
namespace {

using Tokens = std::vector<std::string>;

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The byte of a "<0xNN>" token, parsed as HF does (Rust's u8::from_str_radix on the two characters
// after "0x", which also takes a '+' sign: "<0x+F>" is byte 15), or -1.
int fallback_byte(const std::string& t) {
  if (t.size() != 6 || t.compare(0, 3, "<0x") != 0 || t[5] != '>') return -1;
  const std::string_view digits = t[3] == '+' ? std::string_view(t).substr(4, 1) : std::string_view(t).substr(3, 2);
  int value = 0;
  for (char c : digits) {
    const int d = hex_digit(c);
    if (d < 0) return -1;
    value = value * 16 + d;
  }
  return value;
}

Tokens byte_level(const Tokens& tokens) {
  std::string bytes;
  for (const std::string& t : tokens) {
    const size_t mark = bytes.size();
    if (!byte_level_to_bytes(t, bytes)) {
      bytes.resize(mark);
      bytes.append(t);
    }
  }
  return {utf8_lossy(bytes)};
}

Tokens byte_fallback(const Tokens& tokens) {
  Tokens out;
  std::string run;  // bytes of consecutive <0xNN> tokens
  size_t run_tokens = 0;
  const auto flush = [&] {
    if (run_tokens == 0) return;
    if (find_invalid_utf8(run) == std::string::npos) {
      out.push_back(run);
    } else {
      for (size_t k = 0; k < run_tokens; ++k) out.push_back("\xEF\xBF\xBD");  // U+FFFD
    }
    run.clear();
    run_tokens = 0;
  };
  for (const std::string& t : tokens) {
    const int byte = fallback_byte(t);
    if (byte >= 0) {
      run += static_cast<char>(byte);
      ++run_tokens;
    } else {
      flush();
      out.push_back(t);
    }
  }
  flush();
  return out;
}

// HF's Strip: up to `start` leading and `stop` trailing characters equal to c, per token. HF
// panics when the two cuts cross (a short token); here the token becomes empty.
std::string strip(const std::string& t, std::string_view c, size_t start, size_t stop) {
  std::vector<size_t> bounds;  // byte offset of each character, then the end
  for (size_t i = 0; i < t.size(); i += utf8_length_from_lead(static_cast<unsigned char>(t[i]))) bounds.push_back(i);
  bounds.push_back(t.size());
  const size_t n = bounds.size() - 1;
  const auto is_c = [&](size_t k) { return std::string_view(t).substr(bounds[k], bounds[k + 1] - bounds[k]) == c; };
  size_t first = 0;
  while (first < start && first < n && is_c(first)) ++first;
  size_t last = n;
  for (size_t k = 0; k < stop && last > 0 && is_c(last - 1); ++k) --last;
  if (last <= first) return std::string();
  return t.substr(bounds[first], bounds[last] - bounds[first]);
}

std::string metaspace(const std::string& t, const std::string& replacement, bool drop) {
  std::string out;
  size_t prev = 0;
  for (size_t at = t.find(replacement); at != std::string::npos; at = t.find(replacement, prev)) {
    out.append(t, prev, at - prev);
    if (!drop) out += ' ';
    prev = at + replacement.size();
  }
  out.append(t, prev, std::string::npos);
  return out;
}

}  // namespace

Decoder Decoder::from_json(const JsonField& node) {
  Decoder d;
  if (node.is_null()) return d;
  d.none_ = false;
  d.add(node);
  return d;
}

void Decoder::add(const JsonField& node) {
  const JsonField type_field = node.at("type");
  const std::string type = type_field.as_string();
  Step s{Kind::ByteLevel, {}, {}, 0, 0, false};
  if (type == "Sequence") {
    const JsonField list = node.at("decoders");
    for (size_t i = 0; i < list.array_size(); ++i) add(list.at(i));
    return;
  } else if (type == "ByteLevel") {
    s.kind = Kind::ByteLevel;
  } else if (type == "Replace") {
    s.kind = Kind::Replace;
    s.replace = ReplaceRule::from_json(node);
  } else if (type == "ByteFallback") {
    s.kind = Kind::ByteFallback;
  } else if (type == "Fuse") {
    s.kind = Kind::Fuse;
  } else if (type == "Strip") {
    s.kind = Kind::Strip;
    const JsonField content = node.at("content");
    s.text = content.as_string();
    if (s.text.empty() || utf8_length_from_lead(static_cast<unsigned char>(s.text[0])) != s.text.size())
      content.fail("expected exactly one character, found '" + s.text + "'");
    const auto count = [&](const char* key) {
      const JsonField f = node.at(key);
      if (f.as_int() < 0) f.fail("expected a count >= 0, found " + f.value().dump());
      return static_cast<size_t>(f.as_int());
    };
    s.start = count("start");
    s.stop = count("stop");
  } else if (type == "Metaspace") {
    const MetaspaceOptions o = MetaspaceOptions::from_json(node);
    s.kind = Kind::Metaspace;
    s.text = o.replacement;
    s.drop_first = o.prepend != MetaspaceOptions::Prepend::Never;
  } else {
    type_field.unsupported(type);
  }
  steps_.push_back(std::move(s));
}

std::string Decoder::decode(const std::vector<std::string_view>& tokens) const {
  std::string out;
  if (none_) {
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (i) out += ' ';
      out.append(tokens[i]);
    }
    return out;
  }
  Tokens t(tokens.begin(), tokens.end());
  for (const Step& s : steps_) {
    switch (s.kind) {
      case Kind::ByteLevel: t = byte_level(t); break;
      case Kind::ByteFallback: t = byte_fallback(t); break;
      case Kind::Fuse: {
        std::string all;
        for (const std::string& x : t) all += x;
        t.assign(1, std::move(all));
        break;
      }
      case Kind::Replace:
        for (std::string& x : t) x = s.replace.apply(x);
        break;
      case Kind::Strip:
        for (std::string& x : t) x = strip(x, s.text, s.start, s.stop);
        break;
      case Kind::Metaspace:
        for (size_t i = 0; i < t.size(); ++i) t[i] = metaspace(t[i], s.text, i == 0 && s.drop_first);
        break;
    }
  }
  for (const std::string& x : t) out += x;
  return out;
}

}  // namespace moescope::detail
