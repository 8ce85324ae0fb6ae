// unicode_nfc.cpp — NFC with alignment (see unicode_nfc.h).
// Only segments that may change are handed to utf8proc, so mostly-NFC text costs a table lookup
// per character; ASCII runs are copied without decoding.
#include "engine/tokenizer/unicode_nfc.h"

#include <utf8proc.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "engine/tokenizer/unicode_utf8.h"

namespace moescope::detail {
namespace {

constexpr uint8_t kHasCanonicalDecomposition = 1;
// The code point cannot start an NFC-independent segment: it may reorder or compose with
// what precedes it.
constexpr uint8_t kNotBoundary = 2;
// Left exactly as it is and never joined with its neighbours (see kNewerThanHfNfc).
constexpr uint8_t kOpaque = 4;
constexpr char32_t kMaxCodePoint = 0x10FFFF;

// HF tokenizers' NFC (the unicode-normalization-alignments crate) carries Unicode 9.0 data, so
// characters assigned later are plain starters to it: never reordered, decomposed or composed.
// These are the code points that utf8proc gives a combining class, a canonical decomposition or
// a composition role and whose Unicode age is above 9.0 (ages from Perl's Unicode::UCD; HF's
// behaviour on each was probed with tokenizers 0.23 normalizers.NFC).
constexpr std::pair<char32_t, char32_t> kNewerThanHfNfc[] = {
    {0x07FD, 0x07FD}, {0x0898, 0x089F}, {0x08CA, 0x08D3}, {0x09FE, 0x09FE}, {0x0C3C, 0x0C3C},
    {0x0D3B, 0x0D3C}, {0x0EBA, 0x0EBA}, {0x1715, 0x1715}, {0x1ABF, 0x1ACE}, {0x1DF6, 0x1DFA},
    {0xA82C, 0xA82C}, {0x10D24, 0x10D27}, {0x10EAB, 0x10EAC}, {0x10EFD, 0x10EFF}, {0x10F46, 0x10F50},
    {0x10F82, 0x10F85}, {0x11070, 0x11070}, {0x1133B, 0x1133B}, {0x1145E, 0x1145E}, {0x11839, 0x1183A},
    {0x11930, 0x11930}, {0x11935, 0x11935}, {0x11938, 0x11938}, {0x1193D, 0x1193E}, {0x11943, 0x11943},
    {0x119E0, 0x119E0}, {0x11A34, 0x11A34}, {0x11A47, 0x11A47}, {0x11A99, 0x11A99}, {0x11D42, 0x11D42},
    {0x11D44, 0x11D45}, {0x11D97, 0x11D97}, {0x11F41, 0x11F42}, {0x16FF0, 0x16FF1}, {0x1E08F, 0x1E08F},
    {0x1E130, 0x1E136}, {0x1E2AE, 0x1E2AE}, {0x1E2EC, 0x1E2EF}, {0x1E4EC, 0x1E4EF},
};

bool has_canonical_decomposition(const utf8proc_property_t* p) {
  return p->decomp_seqindex != UINT16_MAX && p->decomp_type == 0;
}

// Flags for every code point, computed once from utf8proc's tables (~1 MiB).
const std::vector<uint8_t>& nfc_flags() {
  static const std::vector<uint8_t> flags = [] {
    std::vector<uint8_t> f(kMaxCodePoint + 1, 0);
    // Starters that can be the second half of a composition: Hangul V and T jamo, plus every
    // starter that appears after the first position of a canonical decomposition.
    for (char32_t c = 0x1161; c <= 0x1175; ++c) f[c] |= kNotBoundary;
    for (char32_t c = 0x11A8; c <= 0x11C2; ++c) f[c] |= kNotBoundary;
    utf8proc_int32_t buf[32];
    for (char32_t c = 0; c <= kMaxCodePoint; ++c) {
      const utf8proc_property_t* p = utf8proc_get_property(static_cast<utf8proc_int32_t>(c));
      if (p->combining_class != 0) f[c] |= kNotBoundary;
      if (!has_canonical_decomposition(p)) continue;
      f[c] |= kHasCanonicalDecomposition;
      int boundclass = 0;
      const auto n = utf8proc_decompose_char(static_cast<utf8proc_int32_t>(c), buf, 32,
                                             UTF8PROC_DECOMPOSE, &boundclass);
      for (utf8proc_ssize_t k = 1; k < n && k < 32; ++k) {
        if (utf8proc_get_property(buf[k])->combining_class == 0) f[static_cast<char32_t>(buf[k])] |= kNotBoundary;
      }
    }
    // A character whose decomposition begins with a non-boundary character inherits that.
    for (char32_t c = 0; c <= kMaxCodePoint; ++c) {
      if (!(f[c] & kHasCanonicalDecomposition)) continue;
      int boundclass = 0;
      const auto n = utf8proc_decompose_char(static_cast<utf8proc_int32_t>(c), buf, 32,
                                             UTF8PROC_DECOMPOSE, &boundclass);
      if (n > 0 && (f[static_cast<char32_t>(buf[0])] & kNotBoundary)) f[c] |= kNotBoundary;
    }
    for (const auto& [lo, hi] : kNewerThanHfNfc) {
      for (char32_t c = lo; c <= hi; ++c) f[c] = kOpaque;
    }
    return f;
  }();
  return flags;
}

// NFC of one segment, appended to out.
void nfc_segment(std::string_view seg, std::string& out) {
  thread_local std::vector<utf8proc_int32_t> buf(64);
  const auto options = static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_DECOMPOSE);
  auto n = utf8proc_decompose(reinterpret_cast<const utf8proc_uint8_t*>(seg.data()),
                              static_cast<utf8proc_ssize_t>(seg.size()), buf.data(),
                              static_cast<utf8proc_ssize_t>(buf.size()), options);
  if (n > static_cast<utf8proc_ssize_t>(buf.size())) {
    buf.resize(static_cast<size_t>(n));
    n = utf8proc_decompose(reinterpret_cast<const utf8proc_uint8_t*>(seg.data()),
                           static_cast<utf8proc_ssize_t>(seg.size()), buf.data(),
                           static_cast<utf8proc_ssize_t>(buf.size()), options);
  }
  if (n < 0) {  // cannot happen on validated text; keep the segment rather than lose it
    out.append(seg);
    return;
  }
  n = utf8proc_normalize_utf32(buf.data(), n, static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  for (utf8proc_ssize_t k = 0; k < n; ++k) append_utf8(out, static_cast<char32_t>(buf[k]));
}

}  // namespace

AlignedText nfc_normalize(const AlignedText& in) {
  const std::string& s = in.text();
  const size_t n = s.size();
  AlignedText out;
  const auto& flags = nfc_flags();
  size_t pending = 0;  // start of text copied unchanged but not yet appended
  std::string scratch;
  size_t i = 0;
  while (i < n) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    // A segment starts at the last starter before i (an ASCII letter can take an accent).
    size_t seg_begin = i;
    size_t len = 0;
    char32_t cp = decode_utf8(s, i, &len);
    if (flags[cp] & kOpaque) {  // a segment of its own; what follows starts afresh
      i += len;
      continue;
    }
    // Non-ASCII segments swallow their trailing marks, so a mark seen here follows ASCII.
    if ((flags[cp] & kNotBoundary) && i > pending && static_cast<unsigned char>(s[i - 1]) < 0x80) --seg_begin;
    size_t seg_end = i + len;
    bool may_change = (flags[cp] & (kHasCanonicalDecomposition | kNotBoundary)) != 0;
    while (seg_end < n) {
      char32_t next = decode_utf8(s, seg_end, &len);
      if (!(flags[next] & kNotBoundary)) break;
      may_change = true;
      seg_end += len;
    }
    if (may_change) {
      scratch.clear();
      const std::string_view seg(s.data() + seg_begin, seg_end - seg_begin);
      nfc_segment(seg, scratch);
      if (scratch != seg) {
        out.append_slice(in, pending, seg_begin);
        const auto orig = in.to_original(seg_begin, seg_end);
        out.append_replacement(scratch, orig.first, orig.second);
        pending = seg_end;
      }
    }
    i = seg_end;
  }
  out.append_slice(in, pending, n);
  return out;
}

}  // namespace moescope::detail
