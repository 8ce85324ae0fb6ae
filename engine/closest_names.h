// closest_names.h — "did you mean ...?" for a mistyped name (an option, a domain, a method):
// the candidates nearest to what was typed, by edit distance without regard to case.
#pragma once

#include <string>
#include <vector>

namespace moescope {

// Edit distance with adjacent transpositions (optimal string alignment), ASCII case folded:
// "code_pyhton" is 1 from "code_python".
size_t edit_distance(const std::string& a, const std::string& b);

// Up to max_count candidates close to `typed`, nearest first (ties in candidate order): within
// an edit distance of a third of the typed length (at least 2), or containing the typed text
// (at least 3 characters) as a case-folded substring. A candidate equal to `typed` but for case
// is a suggestion too (distance 0): callers ask only when `typed` itself is not a candidate.
std::vector<std::string> closest_names(const std::string& typed, const std::vector<std::string>& candidates,
                                       size_t max_count = 3);

// "a", "a or b", "a, b or c": names for a message, each after `prefix`.
std::string join_names(const std::vector<std::string>& names, const std::string& prefix = "");

// "did you mean a?" / "did you mean a or b?" / "did you mean a, b or c?"; "" when nothing is close.
// `prefix` goes before each name (e.g. "--" for options).
std::string did_you_mean(const std::string& typed, const std::vector<std::string>& candidates, const std::string& prefix = "");

}  // namespace moescope
