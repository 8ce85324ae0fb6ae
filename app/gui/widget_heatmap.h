// widget_heatmap.h — a rows x columns heatmap drawn with ImDrawList (no ImPlot in Debian's ImGui):
// cells coloured by value, row/column labels where they fit, a colour bar with the scale, and a
// tooltip naming the hovered row, column and value.
#pragma once

#include <cmath>
#include <string>
#include <vector>

namespace moescope::gui {

struct HeatmapData {
  std::vector<std::string> row_labels, col_labels;
  std::vector<float> values;  // [rows, cols] row-major
  int rows = 0, cols = 0;
  std::string value_name = "value";
  std::string row_name, col_name = "expert";  // in the tooltip: "<row_name> <row label>, <col_name> <col label>"
  // The colour scale; NaN = this map's own min and max. Heatmaps shown side by side share one
  // (heatmap_range over all of them), so equal colours mean equal values.
  float scale_lo = NAN, scale_hi = NAN;
  std::string name;  // names exported files (CSV, PNG); empty: the widget id
};

// The map as CSV: a header of column labels, then one line per row (empty field = no value).
std::string heatmap_csv(const HeatmapData& d);

// Columns (experts) in blocks, as the EMO paper draws them: grouped by the row they serve most
// (their largest value), each block by that value, largest first. Labels follow the columns
// (numbered from 0 where there were none).
void order_columns_by_top_row(HeatmapData& d);

// Min and max of the finite values of several heatmaps: a shared scale.
std::pair<float, float> heatmap_range(const std::vector<const HeatmapData*>& maps);

// Draws into the current window; returns the hovered (row, col) or (-1, -1).
std::pair<int, int> draw_heatmap(const char* id, const HeatmapData& data, float cell_height = 14.f);

}  // namespace moescope::gui
