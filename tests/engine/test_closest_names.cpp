// "did you mean ...?" suggestions: edit distances worked out by hand, and the suggestions a
// mistyped option, domain or command gets.
#include <doctest/doctest.h>

#include "engine/closest_names.h"

using moescope::closest_names;
using moescope::did_you_mean;
using moescope::edit_distance;
using moescope::join_names;

TEST_CASE("edit_distance: insertions, deletions, substitutions and adjacent transpositions, case folded") {
  CHECK(edit_distance("", "") == 0);
  CHECK(edit_distance("abc", "") == 3);
  CHECK(edit_distance("", "abc") == 3);
  CHECK(edit_distance("kitten", "sitting") == 3);    // k->s, e->i, +g
  CHECK(edit_distance("flaw", "lawn") == 2);         // -f, +n
  CHECK(edit_distance("ab", "ba") == 1);             // one transposition
  CHECK(edit_distance("code_pyhton", "code_python") == 1);
  CHECK(edit_distance("ca", "abc") == 3);            // optimal string alignment: no edit of a transposed pair
  CHECK(edit_distance("Code", "code") == 0);
  CHECK(edit_distance("--TEXT", "--text") == 0);
}

TEST_CASE("closest_names: near names first, substrings too, far ones never") {
  const std::vector<std::string> domains = {"code_c", "code_python", "code_rust", "lang_de", "lang_en", "math", "prose_en"};
  CHECK(closest_names("code_pyhton", domains) == std::vector<std::string>{"code_python"});
  CHECK(closest_names("python", domains) == std::vector<std::string>{"code_python"});  // contained
  CHECK(closest_names("lang_dx", domains) == std::vector<std::string>{"lang_de", "lang_en"});
  CHECK(closest_names("Math", domains) == std::vector<std::string>{"math"});
  CHECK(closest_names("biology", domains).empty());
  // Nearest first (code_c 2 edits, code_rust 5, code_python 7), at most max_count.
  CHECK(closest_names("code", domains, 2) == std::vector<std::string>{"code_c", "code_rust"});
  // Short typed names are not matched as substrings of everything.
  CHECK(closest_names("e", {"lang_en", "prose_en", "x"}) == std::vector<std::string>{"x"});
}

TEST_CASE("did_you_mean: one, two or three names, with a prefix") {
  CHECK(did_you_mean("txt", {"text", "file", "json"}, "--") == "did you mean --text?");
  CHECK(did_you_mean("lang_dx", {"lang_de", "lang_en"}) == "did you mean lang_de or lang_en?");
  CHECK(did_you_mean("ab", {"aa", "ac", "ad"}) == "did you mean aa, ac or ad?");
  CHECK(did_you_mean("zzzzzz", {"text", "file"}) == "");
}

TEST_CASE("join_names: the list of a message") {
  CHECK(join_names({}) == "");
  CHECK(join_names({"merge"}) == "merge");
  CHECK(join_names({"a", "b"}, "--") == "--a or --b");
  CHECK(join_names({"select", "export", "ablate"}) == "select, export or ablate");
}
