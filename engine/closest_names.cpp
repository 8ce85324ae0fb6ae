// closest_names.cpp — suggestions for mistyped names (see closest_names.h).
#include "engine/closest_names.h"

#include <algorithm>
#include <cctype>

namespace moescope {

namespace {

std::string fold(const std::string& s) {
  std::string out = s;
  for (char& c : out) c = char(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

size_t osa_distance(const std::string& a, const std::string& b) {
  const size_t n = a.size(), m = b.size();
  // Three rows of the dynamic programme: i-2, i-1, i.
  std::vector<size_t> prev2(m + 1), prev(m + 1), cur(m + 1);
  for (size_t j = 0; j <= m; ++j) prev[j] = j;
  for (size_t i = 1; i <= n; ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= m; ++j) {
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) cur[j] = std::min(cur[j], prev2[j - 2] + 1);
    }
    std::swap(prev2, prev);
    std::swap(prev, cur);
  }
  return prev[m];
}

}  // namespace

size_t edit_distance(const std::string& a, const std::string& b) { return osa_distance(fold(a), fold(b)); }

std::vector<std::string> closest_names(const std::string& typed, const std::vector<std::string>& candidates, size_t max_count) {
  const std::string t = fold(typed);
  const size_t limit = std::max<size_t>(2, t.size() / 3);
  struct Hit {
    size_t distance, order;
  };
  std::vector<Hit> hits;
  for (size_t i = 0; i < candidates.size(); ++i) {
    const std::string c = fold(candidates[i]);
    const size_t d = osa_distance(t, c);
    const bool contains = t.size() >= 3 && c.find(t) != std::string::npos;
    if (d <= limit || contains) hits.push_back({d, i});
  }
  std::stable_sort(hits.begin(), hits.end(), [](const Hit& x, const Hit& y) { return x.distance < y.distance; });
  std::vector<std::string> out;
  for (size_t i = 0; i < hits.size() && out.size() < max_count; ++i) out.push_back(candidates[hits[i].order]);
  return out;
}

std::string join_names(const std::vector<std::string>& names, const std::string& prefix) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " or " : ", ";
    out += prefix + names[i];
  }
  return out;
}

std::string did_you_mean(const std::string& typed, const std::vector<std::string>& candidates, const std::string& prefix) {
  const std::vector<std::string> near = closest_names(typed, candidates);
  return near.empty() ? "" : "did you mean " + join_names(near, prefix) + "?";
}

}  // namespace moescope
