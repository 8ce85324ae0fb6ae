// column_order.cpp — see column_order.h.
#include "app/render/column_order.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace moescope::render {

std::vector<int> columns_in_blocks(int rows, int cols, const std::function<double(int, int)>& value) {
  std::vector<int> top(size_t(std::max(cols, 0)), -1), order(size_t(std::max(cols, 0)));
  std::vector<double> best(top.size(), -INFINITY);
  for (int c = 0; c < cols; ++c) {
    order[size_t(c)] = c;
    for (int r = 0; r < rows; ++r)
      if (const double v = value(r, c); std::isfinite(v) && (top[size_t(c)] < 0 || v > best[size_t(c)])) {
        top[size_t(c)] = r;
        best[size_t(c)] = v;
      }
  }
  // Columns with no value at all (top -1) go last.
  auto block = [&](int c) { return top[size_t(c)] < 0 ? rows : top[size_t(c)]; };
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    if (block(a) != block(b)) return block(a) < block(b);
    return best[size_t(a)] > best[size_t(b)];
  });
  return order;
}

void reorder_columns(std::vector<std::vector<double>>& values, std::vector<std::string>& labels, const std::vector<int>& order) {
  for (auto& row : values) {
    std::vector<double> moved(order.size());
    for (size_t c = 0; c < order.size(); ++c) moved[c] = row[size_t(order[c])];
    row = std::move(moved);
  }
  std::vector<std::string> moved;
  for (int from : order) moved.push_back(size_t(from) < labels.size() ? labels[size_t(from)] : std::to_string(from));
  labels = std::move(moved);
}

}  // namespace moescope::render
