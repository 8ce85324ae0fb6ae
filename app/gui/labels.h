// labels.h — short labels like "L3" or "c12" (built with += : GCC 12 warns falsely about
// "lit" + std::to_string(...) temporaries under -Wrestrict).
#pragma once

#include <string>

namespace moescope::gui {

inline std::string prefixed(const char* prefix, long long n) {
  std::string s = prefix;
  s += std::to_string(n);
  return s;
}

}  // namespace moescope::gui
