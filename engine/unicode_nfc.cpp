// unicode_nfc.cpp — NFC with alignment (see unicode_nfc.h).
// Only segments that may change are handed to utf8proc, so mostly-NFC text costs a table lookup
// per character; ASCII runs are copied without decoding.
#include "engine/unicode_nfc.h"

#include <utf8proc.h>

#include <cstdint>
#include <vector>

#include "engine/unicode_utf8.h"

namespace moescope::detail {
namespace {

constexpr uint8_t kHasCanonicalDecomposition = 1;
// The code point cannot start an NFC-independent segment: it may reorder or compose with
// what precedes it.
constexpr uint8_t kNotBoundary = 2;
constexpr char32_t kMaxCodePoint = 0x10FFFF;

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
