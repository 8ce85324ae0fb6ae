// widget_curves.h — a small line plot drawn with ImDrawList: several named series of (x, y)
// points, axes with tick labels (x optionally log2, for budgets 2, 4, 8, ...), a legend, and a
// tooltip with the nearest point.
#pragma once

#include <imgui.h>

#include <cmath>
#include <string>
#include <vector>

namespace moescope::gui {

struct CurveSeries {
  std::string name;
  ImU32 color = IM_COL32(255, 255, 255, 255);
  std::vector<double> x, y;
  bool dashed = false;  // drawn as a dashed line (reference levels)
  std::vector<double> band_low, band_high;  // optional, per x: a shaded range (random seeds' spread)
};

struct CurveAxes {
  std::string x_label, y_label;
  bool log2_x = false;
  double marker_x = NAN;  // a vertical line, labelled marker_label (the chosen budget)
  std::string marker_label;
  std::string name;  // names exported files (CSV, PNG); empty: the widget id
};

void draw_curves(const char* id, ImVec2 size, const std::vector<CurveSeries>& series, const CurveAxes& axes);

}  // namespace moescope::gui
