// figures.cpp — heatmap and line-plot layout.
#include "app/render/figures.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "engine/error.h"

namespace moescope::render {

namespace {

const Rgb kInk{30, 30, 30}, kGrid{225, 225, 225}, kMissing{200, 200, 200};

std::string fmt(double v) {
  char buf[32];
  const double a = std::fabs(v);
  if (a != 0 && (a < 0.01 || a >= 1e4)) std::snprintf(buf, sizeof buf, "%.2g", v);
  else std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

// Tick labels with enough decimals to tell neighbouring ticks apart.
std::string tick(double v, double step) {
  const int decimals = std::clamp(int(std::ceil(-std::log10(std::max(step, 1e-12)))) + 1, 0, 8);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

}  // namespace

Rgb palette_color(Palette p, double t) {
  t = std::clamp(std::isfinite(t) ? t : 0.0, 0.0, 1.0);
  struct Stop {
    double t;
    Rgb c;
  };
  // Sequential: viridis at five points; diverging: blue, white, red.
  static const Stop seq[] = {{0, {68, 1, 84}}, {0.25, {59, 82, 139}}, {0.5, {33, 145, 140}}, {0.75, {94, 201, 98}},
                             {1, {253, 231, 37}}};
  static const Stop div[] = {{0, {33, 102, 172}}, {0.5, {247, 247, 247}}, {1, {178, 24, 43}}};
  const Stop* s = p == Palette::Sequential ? seq : div;
  const int n = p == Palette::Sequential ? 5 : 3;
  for (int i = 0; i + 1 < n; ++i)
    if (t <= s[i + 1].t) {
      const double u = (t - s[i].t) / (s[i + 1].t - s[i].t);
      return {uint8_t(std::lround(s[i].c.r + u * (s[i + 1].c.r - s[i].c.r))),
              uint8_t(std::lround(s[i].c.g + u * (s[i + 1].c.g - s[i].c.g))),
              uint8_t(std::lround(s[i].c.b + u * (s[i + 1].c.b - s[i].c.b)))};
    }
  return s[n - 1].c;
}

void draw_heatmap(const HeatmapSpec& spec, const std::string& png_path) { draw_heatmaps({spec}, png_path); }

void draw_heatmaps(const std::vector<HeatmapSpec>& panels, const std::string& png_path) {
  if (panels.empty()) fail(png_path, "nothing to draw (no heatmap)");
  for (const HeatmapSpec& p : panels)
    if (p.values.empty() || p.values[0].empty()) fail(png_path, "nothing to draw (empty matrix)");
  const HeatmapSpec& first = panels[0];
  const bool several = panels.size() > 1;
  const double font = 13;
  Canvas probe(1, 1);
  // One cell size and one colour scale for every panel: equal colours mean equal values.
  size_t most = 0;
  double lo = std::numeric_limits<double>::infinity(), hi = -lo, bottom = 0;
  for (const HeatmapSpec& p : panels) {
    most = std::max({most, p.values.size(), p.values[0].size()});
    for (const auto& row : p.values)
      for (double v : row)
        if (std::isfinite(v)) {
          lo = std::min(lo, v);
          hi = std::max(hi, v);
        }
    for (size_t c = 0; c < p.values[0].size(); ++c)
      bottom = std::max(bottom, probe.text_width(c < p.col_labels.size() ? p.col_labels[c] : std::to_string(c), font));
  }
  if (!std::isfinite(lo)) lo = hi = 0;
  if (first.symmetric) {
    const double m = std::max(std::fabs(lo), std::fabs(hi));
    lo = -m;
    hi = m;
  }
  if (hi <= lo) hi = lo + 1;
  const int cell = int(std::clamp(900.0 / double(most), 8.0, 40.0));
  // Each panel: its row labels, its grid, a gap. Several panels carry their own subtitle above them.
  struct Placed {
    int x = 0, rows = 0, cols = 0;
  };
  std::vector<Placed> placed;
  int x = 0, max_rows = 0;
  for (const HeatmapSpec& p : panels) {
    double left = 0;
    for (size_t r = 0; r < p.values.size(); ++r)
      left = std::max(left, probe.text_width(r < p.row_labels.size() ? p.row_labels[r] : std::to_string(r), font));
    Placed pl{x + int(left) + 50, int(p.values.size()), int(p.values[0].size())};
    placed.push_back(pl);
    max_rows = std::max(max_rows, pl.rows);
    x = pl.x + pl.cols * cell + (several ? 30 : 0);
  }
  const int margin_t = several ? 78 : 60, margin_b = int(bottom) + 50, bar = 150;
  double heading = std::max(probe.text_width(first.title, 18), several ? 0.0 : probe.text_width(first.subtitle, 12));
  const int W = std::max(x + bar, int(heading) + 40), H = margin_t + max_rows * cell + margin_b;
  Canvas cv(W, H);
  for (size_t i = 0; i < panels.size(); ++i) {
    const HeatmapSpec& p = panels[i];
    const Placed& pl = placed[i];
    for (int r = 0; r < pl.rows; ++r)
      for (int c = 0; c < pl.cols; ++c) {
        const double v = c < int(p.values[size_t(r)].size()) ? p.values[size_t(r)][size_t(c)] : std::nan("");
        cv.rect(pl.x + c * cell, margin_t + r * cell, cell, cell,
                std::isfinite(v) ? palette_color(p.palette, (v - lo) / (hi - lo)) : kMissing);
      }
    // Labels: every row/column when they fit, else every n-th.
    const int step = std::max(1, int(std::ceil(font / cell)));
    for (int r = 0; r < pl.rows; r += step)
      cv.text(pl.x - 6, margin_t + (r + 0.5) * cell + font * 0.35,
              size_t(r) < p.row_labels.size() ? p.row_labels[size_t(r)] : std::to_string(r), font, kInk, Align::Right);
    for (int c = 0; c < pl.cols; c += step)
      cv.text(pl.x + (c + 0.5) * cell + font * 0.35, margin_t + pl.rows * cell + 6,
              size_t(c) < p.col_labels.size() ? p.col_labels[size_t(c)] : std::to_string(c), font, kInk, Align::Right, true);
    cv.text(pl.x + pl.cols * cell / 2.0, H - 12, p.x_label, 14, kInk, Align::Center);
    if (several) cv.text(pl.x + pl.cols * cell / 2.0, margin_t - 10, p.subtitle, 12, kInk, Align::Center);
  }
  cv.text(W / 2.0, 28, first.title, 18, kInk, Align::Center);
  if (!several) cv.text(W / 2.0, 46, first.subtitle, 12, kInk, Align::Center);
  cv.text(18, margin_t + max_rows * cell / 2.0, first.y_label, 14, kInk, Align::Center, true);
  // Colour bar with min / mid / max.
  const int bx = x + 30 - (several ? 30 : 0), bh = std::max(100, max_rows * cell);
  for (int i = 0; i < bh; ++i) cv.rect(bx, margin_t + i, 18, 1, palette_color(first.palette, 1.0 - double(i) / (bh - 1)));
  cv.text(bx + 24, margin_t + 10, fmt(hi), 12, kInk);
  cv.text(bx + 24, margin_t + bh / 2.0 + 4, fmt((lo + hi) / 2), 12, kInk);
  cv.text(bx + 24, margin_t + bh, fmt(lo), 12, kInk);
  cv.text(bx + 9, margin_t + bh + 40, first.value_label, 12, kInk, Align::Left);
  cv.save_png(png_path);
}

void draw_line_plot(const LinePlotSpec& spec, const std::string& png_path) {
  double xl = std::numeric_limits<double>::infinity(), xh = -xl, yl = xl, yh = -xl;
  auto tx = [&](double x) { return spec.log2_x ? std::log2(x) : x; };
  for (const Series& s : spec.series)
    for (size_t i = 0; i < s.x.size(); ++i)
      if (std::isfinite(s.y[i])) {
        xl = std::min(xl, tx(s.x[i]));
        xh = std::max(xh, tx(s.x[i]));
        yl = std::min(yl, s.y[i]);
        yh = std::max(yh, s.y[i]);
        if (i < s.band_low.size() && i < s.band_high.size()) {
          yl = std::min(yl, s.band_low[i]);
          yh = std::max(yh, s.band_high[i]);
        }
      }
  if (!std::isfinite(xl)) fail(png_path, "nothing to draw (no points)");
  if (xh <= xl) xh = xl + 1;
  const double pad = (yh - yl) * 0.08 + 1e-9;
  yl -= pad;
  yh += pad;
  // The legend's width decides the right margin (two models' series have long names).
  Canvas probe(1, 1);
  double legend = 0;
  for (const Series& s : spec.series) legend = std::max(legend, probe.text_width(s.name, 13));
  const int R = std::max(220, int(legend) + 60), W = 680 + R, H = 600, L = 90, T = 60, B = 70;
  Canvas cv(W, H);
  auto px = [&](double x) { return L + (tx(x) - xl) / (xh - xl) * (W - L - R); };
  auto py = [&](double y) { return T + (yh - y) / (yh - yl) * (H - T - B); };
  for (int i = 0; i <= 5; ++i) {  // horizontal grid with y values
    const double y = yl + (yh - yl) * i / 5;
    cv.line(L, py(y), W - R, py(y), kGrid);
    cv.text(L - 8, py(y) + 4, tick(y, (yh - yl) / 5), 12, kInk, Align::Right);
  }
  std::vector<double> xs;
  for (const Series& s : spec.series) xs.insert(xs.end(), s.x.begin(), s.x.end());
  std::sort(xs.begin(), xs.end());
  xs.erase(std::unique(xs.begin(), xs.end()), xs.end());
  for (double x : xs) cv.text(px(x), H - B + 20, fmt(x), 12, kInk, Align::Center);
  cv.line(L, T, L, H - B, kInk);
  cv.line(L, H - B, W - R, H - B, kInk);
  // Bands first, under every line: each column between two points interpolates low and high.
  for (const Series& s : spec.series) {
    if (s.band_low.size() != s.x.size() || s.band_high.size() != s.x.size()) continue;
    for (size_t i = 0; i + 1 < s.x.size(); ++i) {
      const double x0 = px(s.x[i]), x1 = px(s.x[i + 1]);
      for (int c = int(std::ceil(x0)); c <= int(std::floor(x1)); ++c) {
        const double u = x1 > x0 ? (c - x0) / (x1 - x0) : 0;
        cv.shade_column(c, py(s.band_low[i] + u * (s.band_low[i + 1] - s.band_low[i])),
                        py(s.band_high[i] + u * (s.band_high[i + 1] - s.band_high[i])), s.color, 0.18);
      }
    }
  }
  if (std::isfinite(spec.marker_x) && tx(spec.marker_x) >= xl && tx(spec.marker_x) <= xh) {
    const double mx = px(spec.marker_x);
    for (double y = T; y < H - B; y += 8) cv.line(mx, y, mx, std::min(y + 4, double(H - B)), kInk, 1.5);
    cv.text(mx + 4, T + 14, spec.marker_label, 12, kInk);
  }
  for (size_t k = 0; k < spec.series.size(); ++k) {
    const Series& s = spec.series[k];
    for (size_t i = 0; i + 1 < s.x.size(); ++i) {
      if (!std::isfinite(s.y[i]) || !std::isfinite(s.y[i + 1])) continue;
      if (s.dashed) {
        for (double u = 0; u < 1; u += 0.2)
          cv.line(px(s.x[i]) + u * (px(s.x[i + 1]) - px(s.x[i])), py(s.y[i]) + u * (py(s.y[i + 1]) - py(s.y[i])),
                  px(s.x[i]) + (u + 0.1) * (px(s.x[i + 1]) - px(s.x[i])), py(s.y[i]) + (u + 0.1) * (py(s.y[i + 1]) - py(s.y[i])),
                  s.color, 2.0);
      } else {
        cv.line(px(s.x[i]), py(s.y[i]), px(s.x[i + 1]), py(s.y[i + 1]), s.color, 2.5);
      }
    }
    for (size_t i = 0; i < s.x.size(); ++i)
      if (std::isfinite(s.y[i])) cv.rect(int(px(s.x[i])) - 3, int(py(s.y[i])) - 3, 7, 7, s.color);
    const double ly = T + 20 + 22.0 * double(k);
    cv.line(W - R + 15, ly - 4, W - R + 40, ly - 4, s.color, 2.5);
    cv.text(W - R + 46, ly, s.name, 13, kInk);
  }
  cv.text(W / 2.0, 28, spec.title, 18, kInk, Align::Center);
  cv.text(W / 2.0, 46, spec.subtitle, 12, kInk, Align::Center);
  cv.text(L + (W - L - R) / 2.0, H - 18, spec.x_label, 14, kInk, Align::Center);
  cv.text(22, T + (H - T - B) / 2.0, spec.y_label, 14, kInk, Align::Center, true);
  cv.save_png(png_path);
}

}  // namespace moescope::render
