// canvas.cpp — raster drawing, text and PNG output.
#include "app/render/canvas.h"

#include <stb/stb_image_write.h>
#include <stb/stb_truetype.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <cstring>

#include "engine/atomic_file.h"
#include "engine/error.h"
#include "engine/tokenizer/unicode_utf8.h"

namespace moescope::render {

namespace {

// The font, loaded once. Without the TTF file text is skipped with a warning on stderr (figures
// stay readable through their colour scales and titles in the file name).
struct Font {
  std::string data;
  stbtt_fontinfo info{};
  bool ok = false;
  Font() {
    for (const char* p : {"/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/TTF/DejaVuSans.ttf"}) {
      std::ifstream in(p, std::ios::binary);
      if (!in) continue;
      std::stringstream ss;
      ss << in.rdbuf();
      data = ss.str();
      ok = stbtt_InitFont(&info, reinterpret_cast<const unsigned char*>(data.data()), 0) != 0;
      if (ok) return;
    }
    std::fprintf(stderr, "moescope: DejaVuSans.ttf not found (Debian package fonts-dejavu-core): figures have no text\n");
  }
};

const Font& font() {
  static const Font f;
  return f;
}

std::vector<char32_t> codepoints(const std::string& s) {
  std::vector<char32_t> out;
  const std::string fixed = detail::utf8_lossy(s);
  for (size_t i = 0; i < fixed.size();) {
    size_t len = 1;
    out.push_back(detail::decode_utf8(fixed, i, &len));
    i += std::max<size_t>(1, len);
  }
  return out;
}

}  // namespace

Canvas::Canvas(int width, int height, Rgb bg) : w_(width), h_(height), px_(size_t(width) * size_t(height) * 3) {
  for (size_t i = 0; i < px_.size(); i += 3) {
    px_[i] = bg.r;
    px_[i + 1] = bg.g;
    px_[i + 2] = bg.b;
  }
}

void Canvas::blend(int x, int y, Rgb c, double a) {
  if (x < 0 || y < 0 || x >= w_ || y >= h_ || a <= 0) return;
  a = std::min(1.0, a);
  uint8_t* p = px_.data() + (size_t(y) * size_t(w_) + size_t(x)) * 3;
  p[0] = uint8_t(std::lround(p[0] * (1 - a) + c.r * a));
  p[1] = uint8_t(std::lround(p[1] * (1 - a) + c.g * a));
  p[2] = uint8_t(std::lround(p[2] * (1 - a) + c.b * a));
}

void Canvas::shade_column(int x, double y0, double y1, Rgb c, double alpha) {
  if (y0 > y1) std::swap(y0, y1);
  for (int y = std::max(0, int(std::lround(y0))); y <= std::min(h_ - 1, int(std::lround(y1))); ++y) blend(x, y, c, alpha);
}

void Canvas::rect(int x, int y, int w, int h, Rgb c) {
  for (int j = std::max(0, y); j < std::min(h_, y + h); ++j)
    for (int i = std::max(0, x); i < std::min(w_, x + w); ++i) blend(i, j, c, 1.0);
}

void Canvas::line(double x0, double y0, double x1, double y1, Rgb c, double thickness) {
  // Distance-to-segment coverage: anti-aliased, any thickness.
  const double minx = std::min(x0, x1) - thickness, maxx = std::max(x0, x1) + thickness;
  const double miny = std::min(y0, y1) - thickness, maxy = std::max(y0, y1) + thickness;
  const double dx = x1 - x0, dy = y1 - y0, len2 = dx * dx + dy * dy;
  for (int y = int(std::floor(miny)); y <= int(std::ceil(maxy)); ++y)
    for (int x = int(std::floor(minx)); x <= int(std::ceil(maxx)); ++x) {
      const double px = x + 0.5, py = y + 0.5;
      double t = len2 > 0 ? ((px - x0) * dx + (py - y0) * dy) / len2 : 0;
      t = std::clamp(t, 0.0, 1.0);
      const double d = std::hypot(px - (x0 + t * dx), py - (y0 + t * dy));
      blend(x, y, c, thickness / 2 + 0.5 - d);
    }
}

double Canvas::text_width(const std::string& s, double px) const {
  const Font& f = font();
  if (!f.ok) return 0;
  const float scale = stbtt_ScaleForPixelHeight(&f.info, float(px));
  double w = 0;
  const auto cps = codepoints(s);
  for (size_t i = 0; i < cps.size(); ++i) {
    int adv = 0, lsb = 0;
    stbtt_GetCodepointHMetrics(&f.info, int(cps[i]), &adv, &lsb);
    w += adv * scale;
    if (i + 1 < cps.size()) w += scale * stbtt_GetCodepointKernAdvance(&f.info, int(cps[i]), int(cps[i + 1]));
  }
  return w;
}

void Canvas::text(double x, double y, const std::string& s, double px, Rgb c, Align align, bool vertical) {
  const Font& f = font();
  if (!f.ok || s.empty()) return;
  const float scale = stbtt_ScaleForPixelHeight(&f.info, float(px));
  const double width = text_width(s, px);
  const double shift = align == Align::Left ? 0 : (align == Align::Center ? width / 2 : width);
  double pen = -shift;  // along the baseline, relative to (x, y)
  const auto cps = codepoints(s);
  for (size_t i = 0; i < cps.size(); ++i) {
    int gw = 0, gh = 0, xoff = 0, yoff = 0;
    const float sub = float(pen - std::floor(pen));
    unsigned char* bmp = stbtt_GetCodepointBitmapSubpixel(&f.info, scale, scale, sub, 0.f, int(cps[i]), &gw, &gh, &xoff, &yoff);
    for (int j = 0; j < gh; ++j)
      for (int k = 0; k < gw; ++k) {
        const double a = bmp[j * gw + k] / 255.0;
        if (a <= 0) continue;
        const double u = std::floor(pen) + xoff + k, v = yoff + j;  // glyph space: u along, v down
        if (vertical) blend(int(std::lround(x + v)), int(std::lround(y - u)), c, a);
        else blend(int(std::lround(x + u)), int(std::lround(y + v)), c, a);
      }
    stbtt_FreeBitmap(bmp, nullptr);
    int adv = 0, lsb = 0;
    stbtt_GetCodepointHMetrics(&f.info, int(cps[i]), &adv, &lsb);
    pen += adv * scale;
    if (i + 1 < cps.size()) pen += scale * stbtt_GetCodepointKernAdvance(&f.info, int(cps[i]), int(cps[i + 1]));
  }
}

void Canvas::save_png(const std::string& path) const {
  const std::string tmp = temp_path_for(path);
  errno = 0;
  if (!stbi_write_png(tmp.c_str(), w_, h_, 3, px_.data(), w_ * 3)) {
    const std::string why = errno ? std::strerror(errno) : "unknown reason";
    std::remove(tmp.c_str());
    fail(path, "cannot write the PNG: " + why);
  }
  commit_temp_file(tmp, path);
}

}  // namespace moescope::render
