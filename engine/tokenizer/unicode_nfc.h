// unicode_nfc.h — NFC normalization (utf8proc) that keeps the map back to the original bytes.
// Text is cut into segments that NFC cannot join across; a segment that NFC rewrites maps back
// to its original bytes as one unit, untouched text stays byte-exact.
#pragma once

#include "engine/tokenizer/tokenizer_text.h"

namespace moescope::detail {

AlignedText nfc_normalize(const AlignedText& in);

}  // namespace moescope::detail
