// figures.h — the figures moescope draws without a display (and the GUI reuses the geometry of):
// a labelled heatmap with a colour bar, and a line plot with a legend. Both write PNG files.
#pragma once

#include <limits>
#include <string>
#include <vector>

#include "app/render/canvas.h"

namespace moescope::render {

enum class Palette {
  Sequential,  // viridis-like: low dark blue, high yellow
  Diverging,   // blue - white - red around 0 (PMI, differences)
};

Rgb palette_color(Palette p, double t);  // t in [0, 1]

struct HeatmapSpec {
  std::string title, x_label, y_label, value_label;
  std::string subtitle;  // under the title, smaller: the model and workspace
  std::vector<std::string> row_labels, col_labels;    // may be empty (then indices are shown)
  std::vector<std::vector<double>> values;            // [rows][cols]; NaN = no value (grey)
  Palette palette = Palette::Sequential;
  bool symmetric = false;                             // colour range centred on 0 (Diverging)
};

struct Series {
  std::string name;
  std::vector<double> x, y;
  Rgb color;
  bool dashed = false;
  std::vector<double> band_low, band_high;  // optional, per x: a shaded range around the line (spread of seeds)
};

struct LinePlotSpec {
  std::string title, x_label, y_label;
  std::string subtitle;  // under the title, smaller: the model and workspace
  std::vector<Series> series;
  bool log2_x = false;
  double marker_x = std::numeric_limits<double>::quiet_NaN();  // a vertical line (the chosen budget), labelled
  std::string marker_label;
};

void draw_heatmap(const HeatmapSpec& spec, const std::string& png_path);
// Heatmaps side by side on one colour scale and one cell size (two models, two workspaces): the
// first panel's title, y label, palette and value label stand for all; each panel's subtitle
// names it above its grid.
void draw_heatmaps(const std::vector<HeatmapSpec>& panels, const std::string& png_path);
void draw_line_plot(const LinePlotSpec& spec, const std::string& png_path);

}  // namespace moescope::render
