// error_of.h — the message of the moescope::Error a call throws ("" when it throws none).
#pragma once

#include <functional>
#include <string>

#include "engine/error.h"

namespace moescope::test {
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}
}  // namespace moescope::test
