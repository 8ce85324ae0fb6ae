// error.h — the one error type of moescope.
// Every failure a user can cause (bad file, bad field, bad text) is thrown as moescope::Error,
// built from context pieces so the message names where (file, tensor, field, byte offset),
// what went wrong, and expected vs found. The CLI and GUI print what() as one line.
#pragma once

#include <stdexcept>
#include <string>

namespace moescope {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// "where: what" — where is a file path, a tensor name, a JSON field path, or several joined by ": ".
[[noreturn]] inline void fail(const std::string& where, const std::string& what) {
  throw Error(where.empty() ? what : where + ": " + what);
}

// "where: what (expected E, found F)"
[[noreturn]] inline void fail_expected(const std::string& where, const std::string& what,
                                       const std::string& expected, const std::string& found) {
  fail(where, what + " (expected " + expected + ", found " + found + ")");
}

}  // namespace moescope
