// pretokenizer.cpp — Split and ByteLevel pre-tokenizers with HF's split-behaviour semantics
// (Metaspace: pretokenizer_metaspace.cpp).
// Pieces that end up empty are dropped, as HF's PreTokenizedString::split does.
#include "engine/tokenizer/pretokenizer.h"

#include <utility>

#include "engine/tokenizer/pretokenizer_metaspace.h"
#include "engine/tokenizer/pretokenizer_regex.h"

namespace moescope::detail {
namespace {

enum class Behavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

// GPT-2's pattern, used by ByteLevel when use_regex is true.
constexpr const char* kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

struct Segment {
  size_t begin, end;
  bool match;
};

// Whole-piece cover of [0, n) by matches and the gaps between them.
void matches_to_segments(const std::vector<std::pair<size_t, size_t>>& matches, size_t n,
                         std::vector<Segment>& out) {
  out.clear();
  size_t prev = 0;
  for (const auto& [b, e] : matches) {
    if (prev != b) out.push_back({prev, b, false});
    out.push_back({b, e, true});
    prev = e;
  }
  if (prev != n) out.push_back({prev, n, false});
}

// HF NormalizedString::split: turns (segment, is_match) into the kept pieces (offset by base).
void apply_behavior(Behavior behavior, const std::vector<Segment>& segs, size_t base, std::vector<Span>& out) {
  const auto emit = [&](size_t b, size_t e) {
    if (b != e) out.push_back({base + b, base + e});
  };
  switch (behavior) {
    case Behavior::Removed:
      for (const Segment& s : segs) if (!s.match) emit(s.begin, s.end);
      return;
    case Behavior::Isolated:
      for (const Segment& s : segs) emit(s.begin, s.end);
      return;
    case Behavior::Contiguous:
    case Behavior::MergedWithPrevious: {
      std::vector<Segment> acc;
      bool previous_match = false;
      for (const Segment& s : segs) {
        const bool merge = behavior == Behavior::Contiguous ? s.match == previous_match
                                                            : s.match && !previous_match;
        if (merge && !acc.empty()) acc.back().end = s.end;
        else acc.push_back(s);
        previous_match = s.match;
      }
      for (const Segment& s : acc) emit(s.begin, s.end);
      return;
    }
    case Behavior::MergedWithNext: {
      std::vector<Segment> acc;  // built back to front
      bool previous_match = false;
      for (auto it = segs.rbegin(); it != segs.rend(); ++it) {
        if (it->match && !previous_match && !acc.empty()) acc.back().begin = it->begin;
        else acc.push_back(*it);
        previous_match = it->match;
      }
      for (auto it = acc.rbegin(); it != acc.rend(); ++it) emit(it->begin, it->end);
      return;
    }
  }
}

class SplitStep : public PreTokenizerStep {
 public:
  SplitStep(std::unique_ptr<Regex> regex, Behavior behavior, bool invert)
      : regex_(std::move(regex)), behavior_(behavior), invert_(invert) {}

  void split(AlignedText& text, std::vector<Span>& pieces) const override {
    std::vector<Span> out;
    out.reserve(pieces.size() * 2);
    std::vector<std::pair<size_t, size_t>> matches;
    std::vector<Segment> segs;
    for (const Span& piece : pieces) {
      matches.clear();
      if (regex_) regex_->find_all(text.view(piece), matches);
      matches_to_segments(matches, piece.size(), segs);
      if (invert_) for (Segment& s : segs) s.match = !s.match;
      apply_behavior(behavior_, segs, piece.begin, out);
    }
    pieces = std::move(out);
  }

 private:
  std::unique_ptr<Regex> regex_;  // null: an empty String pattern, which matches nothing
  Behavior behavior_;
  bool invert_;
};

class ByteLevelStep : public PreTokenizerStep {
 public:
  ByteLevelStep(bool add_prefix_space, bool use_regex, const std::string& where)
      : add_prefix_space_(add_prefix_space),
        regex_(use_regex ? std::make_unique<Regex>(translate_regex(kGpt2Pattern), where) : nullptr) {}

  void split(AlignedText& text, std::vector<Span>& pieces) const override {
    if (add_prefix_space_) {
      for (Span& piece : pieces) {
        if (text.view(piece).front() != ' ') piece = text.append_prefixed_copy(" ", piece);
      }
    }
    if (!regex_) return;
    std::vector<Span> out;
    out.reserve(pieces.size() * 2);
    std::vector<std::pair<size_t, size_t>> matches;
    std::vector<Segment> segs;
    for (const Span& piece : pieces) {
      matches.clear();
      regex_->find_all(text.view(piece), matches);
      matches_to_segments(matches, piece.size(), segs);
      apply_behavior(Behavior::Isolated, segs, piece.begin, out);
    }
    pieces = std::move(out);
  }

 private:
  bool add_prefix_space_;
  std::unique_ptr<Regex> regex_;
};

Behavior parse_behavior(const JsonField& f) {
  const std::string b = f.as_string();
  if (b == "Removed") return Behavior::Removed;
  if (b == "Isolated") return Behavior::Isolated;
  if (b == "MergedWithPrevious") return Behavior::MergedWithPrevious;
  if (b == "MergedWithNext") return Behavior::MergedWithNext;
  if (b == "Contiguous") return Behavior::Contiguous;
  f.unsupported(b);
}

std::unique_ptr<Regex> parse_split_pattern(const JsonField& pattern) {
  const std::string where = pattern.file() + ": " + pattern.path();
  if (pattern.has("Regex")) {
    return std::make_unique<Regex>(translate_regex(pattern.at("Regex").as_string()), where + ".Regex");
  }
  if (pattern.has("String")) {
    const std::string literal = pattern.at("String").as_string();
    if (literal.empty()) return nullptr;
    return std::make_unique<Regex>(escape_regex_literal(literal), where + ".String");
  }
  pattern.fail("expected {\"Regex\": ...} or {\"String\": ...}");
}

}  // namespace

PreTokenizer PreTokenizer::from_json(const JsonField& node) {
  PreTokenizer p;
  if (!node.is_null()) p.add(node);
  return p;
}

void PreTokenizer::add(const JsonField& node) {
  if (byte_level_) node.fail("ByteLevel must be the last pre-tokenizer (its output is bytes, not text)");
  const JsonField type_field = node.at("type");
  const std::string type = type_field.as_string();
  if (type == "Sequence") {
    const JsonField list = node.at("pretokenizers");
    for (size_t i = 0; i < list.array_size(); ++i) add(list.at(i));
  } else if (type == "Split") {
    steps_.push_back(std::make_unique<SplitStep>(parse_split_pattern(node.at("pattern")),
                                                 parse_behavior(node.at("behavior")), node.bool_or("invert", false)));
  } else if (type == "ByteLevel") {
    steps_.push_back(std::make_unique<ByteLevelStep>(node.bool_or("add_prefix_space", true),
                                                     node.bool_or("use_regex", true),
                                                     node.file() + ": " + node.path()));
    byte_level_ = true;
  } else if (type == "Metaspace") {
    steps_.push_back(make_metaspace_step(node));
  } else {
    type_field.unsupported(type);
  }
}

void PreTokenizer::split(AlignedText& text, std::vector<Span>& pieces) const {
  for (const auto& step : steps_) step->split(text, pieces);
}

}  // namespace moescope::detail

