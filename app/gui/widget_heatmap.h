// widget_heatmap.h — a rows x columns heatmap drawn with ImDrawList (no ImPlot in Debian's ImGui):
// cells coloured by value, row/column labels every few cells, a tooltip with the hovered value.
#pragma once

#include <string>
#include <vector>

namespace moescope::gui {

struct HeatmapData {
  std::vector<std::string> row_labels, col_labels;
  std::vector<float> values;  // [rows, cols] row-major
  int rows = 0, cols = 0;
  std::string value_name = "value";
};

// Draws into the current window; returns the hovered (row, col) or (-1, -1).
std::pair<int, int> draw_heatmap(const char* id, const HeatmapData& data, float cell_height = 14.f);

}  // namespace moescope::gui
