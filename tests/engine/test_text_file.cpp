// Text files given to be routed must be UTF-8: the error names the file, the byte, its line and
// column, and the encoding expected (the CLI's --file and the desktop app's "Open text file...").
#include <doctest/doctest.h>

#include <fstream>

#include "engine/error.h"
#include "engine/json_file.h"
#include "tests/test_paths.h"

namespace {

std::string error_of(const std::string& path) {
  try {
    moescope::read_utf8_text_file(path, "text file");
  } catch (const moescope::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("read_utf8_text_file: valid UTF-8 is returned as is; anything else names where and what is expected") {
  moescope::test::TempDir tmp("text-file");
  const std::string good = tmp / "good.txt";
  std::ofstream(good, std::ios::binary) << "na\xc3\xafve \xe2\x82\xac \xf0\x9f\x98\x80\n";  // ï, €, an emoji
  CHECK(moescope::read_utf8_text_file(good, "text file") == "na\xc3\xafve \xe2\x82\xac \xf0\x9f\x98\x80\n");

  const std::string latin1 = tmp / "latin1.txt";
  std::ofstream(latin1, std::ios::binary) << "abc\n\xe2\x82\xac caf\xe9\n";  // € in UTF-8, then é in Latin-1
  // byte 4 + 3 (€) + 4 (" caf") = 11; line 2, column 6 (€, space, c, a, f before it)
  CHECK(error_of(latin1) == latin1 + ": not UTF-8 text: byte 11 (0xE9) at line 2, column 6 is not valid UTF-8 (moescope "
                                     "reads text files as UTF-8; convert it first, e.g. iconv -f WINDOWS-1252 -t UTF-8 for "
                                     "Western European text)");

  const std::string truncated = tmp / "truncated.txt";
  std::ofstream(truncated, std::ios::binary) << "ok \xe2\x82";  // a 3-byte sequence cut short at the end
  CHECK(error_of(truncated).find("byte 3 (0xE2) at line 1, column 4") != std::string::npos);

  const std::string surrogate = tmp / "surrogate.txt";
  std::ofstream(surrogate, std::ios::binary) << "\xed\xa0\x80";  // U+D800 encoded: not UTF-8
  CHECK(error_of(surrogate).find("byte 0 (0xED) at line 1, column 1") != std::string::npos);

  const std::string utf16 = tmp / "utf16.txt";
  std::ofstream(utf16, std::ios::binary) << std::string("\xff\xfeh\0i\0", 6);
  CHECK(error_of(utf16) == utf16 + ": not UTF-8 text: it starts with a UTF-16 byte-order mark (moescope reads text files as UTF-8; "
                                   "convert it first, e.g. iconv -f UTF-16 -t UTF-8)");

  CHECK(error_of(tmp / "missing.txt").find("cannot open text file") != std::string::npos);
}
