// canvas.h — an RGB raster for figures written without a display: rectangles, lines, text
// (TrueType via stb_truetype, DejaVu Sans from Debian's fonts-dejavu-core) and PNG output.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace moescope::render {

struct Rgb {
  uint8_t r = 0, g = 0, b = 0;
};

enum class Align { Left, Center, Right };

class Canvas {
 public:
  Canvas(int width, int height, Rgb background = {255, 255, 255});
  int width() const { return w_; }
  int height() const { return h_; }
  void rect(int x, int y, int w, int h, Rgb c);
  void line(double x0, double y0, double x1, double y1, Rgb c, double thickness = 1.0);
  // Column x from y0 to y1 (either order) tinted with c at opacity alpha (shaded bands).
  void shade_column(int x, double y0, double y1, Rgb c, double alpha);
  // Text with its baseline at y; px = pixel height. vertical: rotated 90 degrees counter-clockwise
  // (reads bottom to top), anchored at its start.
  void text(double x, double y, const std::string& utf8, double px, Rgb c, Align align = Align::Left, bool vertical = false);
  double text_width(const std::string& utf8, double px) const;
  // Writes the PNG atomically (temp file + rename). Throws Error.
  void save_png(const std::string& path) const;

 private:
  void blend(int x, int y, Rgb c, double alpha);
  int w_, h_;
  std::vector<uint8_t> px_;
};

}  // namespace moescope::render
