// widget_curves.cpp — line plot.
#include "app/gui/widget_curves.h"

#include "app/gui/widget_export.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace moescope::gui {

namespace {

// About five round tick values covering [lo, hi].
std::vector<double> nice_ticks(double lo, double hi) {
  const double span = hi - lo;
  const double raw = span / 5, mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double step = raw / mag >= 5 ? 5 * mag : raw / mag >= 2 ? 2 * mag : mag;
  std::vector<double> t;
  for (double v = std::ceil(lo / step) * step; v <= hi + 1e-9 * span; v += step) t.push_back(v);
  return t;
}

}  // namespace

void draw_curves(const char* id, ImVec2 size, const std::vector<CurveSeries>& series, const CurveAxes& axes) {
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  auto fx = [&](double x) { return axes.log2_x ? std::log2(std::max(x, 1e-9)) : x; };
  for (const auto& s : series)
    for (size_t i = 0; i < s.x.size(); ++i)
      if (std::isfinite(s.y[i])) {
        x0 = std::min(x0, fx(s.x[i])), x1 = std::max(x1, fx(s.x[i]));
        y0 = std::min(y0, s.y[i]), y1 = std::max(y1, s.y[i]);
        if (i < s.band_low.size() && i < s.band_high.size())
          y0 = std::min(y0, s.band_low[i]), y1 = std::max(y1, s.band_high[i]);
      }
  const ImVec2 o = ImGui::GetCursorScreenPos();
  ImDrawList* dl = ImGui::GetWindowDrawList();
  ImGui::InvisibleButton(id, size);
  figure_context_menu(axes.name.empty() ? std::string(id).substr(std::string(id).find_first_not_of('#')) : axes.name, [&] {
    std::string csv = "series," + csv_field(axes.x_label) + "," + csv_field(axes.y_label) + ",band_low,band_high\n";
    char buf[96];
    for (const auto& s : series)
      for (size_t i = 0; i < s.x.size(); ++i) {
        const bool band = i < s.band_low.size() && i < s.band_high.size();
        std::snprintf(buf, sizeof buf, ",%.9g,%.9g", s.x[i], s.y[i]);
        csv += csv_field(s.name) + buf;
        if (band) std::snprintf(buf, sizeof buf, ",%.9g,%.9g\n", s.band_low[i], s.band_high[i]);
        csv += band ? buf : ",,\n";
      }
    return csv;
  });
  if (!(x1 >= x0) || !(y1 >= y0)) {
    dl->AddText(ImVec2(o.x + 8, o.y + 8), ImGui::GetColorU32(ImGuiCol_TextDisabled), "no points yet");
    return;
  }
  if (x1 == x0) x0 -= 1, x1 += 1;
  const double pad = std::max((y1 - y0) * 0.08, 1e-3);
  y0 -= pad, y1 += pad;
  const float left = 56, bottom = 36, right = 12, top = 8;
  const ImVec2 a(o.x + left, o.y + top), b(o.x + size.x - right, o.y + size.y - bottom);
  auto px = [&](double x) { return a.x + float((fx(x) - x0) / (x1 - x0)) * (b.x - a.x); };
  auto py = [&](double y) { return b.y - float((y - y0) / (y1 - y0)) * (b.y - a.y); };
  const ImU32 grid = IM_COL32(70, 70, 80, 255), text = ImGui::GetColorU32(ImGuiCol_Text);
  dl->AddRect(a, b, grid);
  char buf[32];
  for (double v : nice_ticks(y0, y1)) {
    if (std::fabs(v) < 1e-9 * (y1 - y0)) v = 0;  // no "-0" label
    dl->AddLine(ImVec2(a.x, py(v)), ImVec2(b.x, py(v)), grid);
    std::snprintf(buf, sizeof buf, "%.3g", v);
    dl->AddText(ImVec2(o.x + 4, py(v) - 7), text, buf);
  }
  std::vector<double> xt;
  if (axes.log2_x) {
    // Every x a series has (budgets 2, 4, 8, ... and Es, which is rarely a power of two).
    for (const auto& s : series) xt.insert(xt.end(), s.x.begin(), s.x.end());
    std::sort(xt.begin(), xt.end());
    xt.erase(std::unique(xt.begin(), xt.end()), xt.end());
  } else {
    xt = nice_ticks(x0, x1);
  }
  for (double v : xt) {
    dl->AddLine(ImVec2(px(v), a.y), ImVec2(px(v), b.y), grid);
    std::snprintf(buf, sizeof buf, "%g", v);
    dl->AddText(ImVec2(px(v) - 6, b.y + 3), text, buf);
  }
  dl->AddText(ImVec2(a.x + (b.x - a.x) / 2 - 40, b.y + 18), text, axes.x_label.c_str());
  dl->AddText(ImVec2(a.x + 6, a.y + 2), ImGui::GetColorU32(ImGuiCol_TextDisabled), axes.y_label.c_str());
  // Bands under everything: one quad per segment, the series' colour at low opacity.
  for (const auto& s : series) {
    if (s.band_low.size() != s.x.size() || s.band_high.size() != s.x.size()) continue;
    const ImU32 fill = (s.color & 0x00FFFFFFu) | (IM_COL32_A_MASK & IM_COL32(0, 0, 0, 60));
    for (size_t i = 0; i + 1 < s.x.size(); ++i)
      dl->AddQuadFilled(ImVec2(px(s.x[i]), py(s.band_low[i])), ImVec2(px(s.x[i + 1]), py(s.band_low[i + 1])),
                        ImVec2(px(s.x[i + 1]), py(s.band_high[i + 1])), ImVec2(px(s.x[i]), py(s.band_high[i])), fill);
  }
  if (std::isfinite(axes.marker_x) && fx(axes.marker_x) >= x0 && fx(axes.marker_x) <= x1) {
    const float mx = px(axes.marker_x);
    for (float y = a.y; y < b.y; y += 8) dl->AddLine(ImVec2(mx, y), ImVec2(mx, std::min(y + 4, b.y)), text, 1.5f);
    dl->AddText(ImVec2(mx + 4, a.y + 2), text, axes.marker_label.c_str());
  }
  // Series, then the legend in the top-right corner.
  float ly = a.y + 4;
  for (const auto& s : series) {
    std::vector<std::pair<double, double>> pts;
    for (size_t i = 0; i < s.x.size(); ++i)
      if (std::isfinite(s.y[i])) pts.emplace_back(s.x[i], s.y[i]);
    std::sort(pts.begin(), pts.end());
    for (size_t i = 0; i + 1 < pts.size(); ++i) {
      const ImVec2 p(px(pts[i].first), py(pts[i].second)), q(px(pts[i + 1].first), py(pts[i + 1].second));
      if (!s.dashed) {
        dl->AddLine(p, q, s.color, 2.f);
      } else {
        for (float f = 0; f < 1; f += 0.1f)
          dl->AddLine(ImVec2(p.x + (q.x - p.x) * f, p.y + (q.y - p.y) * f),
                      ImVec2(p.x + (q.x - p.x) * (f + 0.05f), p.y + (q.y - p.y) * (f + 0.05f)), s.color, 1.5f);
      }
    }
    for (const auto& pt : pts) dl->AddCircleFilled(ImVec2(px(pt.first), py(pt.second)), 3.f, s.color);
    const float tw = ImGui::CalcTextSize(s.name.c_str()).x;
    dl->AddLine(ImVec2(b.x - tw - 34, ly + 8), ImVec2(b.x - tw - 12, ly + 8), s.color, 2.f);
    dl->AddText(ImVec2(b.x - tw - 6, ly), text, s.name.c_str());
    ly += ImGui::GetTextLineHeight() + 2;
  }
  if (ImGui::IsItemHovered()) {  // nearest point's value
    const ImVec2 m = ImGui::GetIO().MousePos;
    float best = 1e9f;
    std::string tip;
    for (const auto& s : series)
      for (size_t i = 0; i < s.x.size(); ++i) {
        const float d = std::hypot(px(s.x[i]) - m.x, py(s.y[i]) - m.y);
        if (d < best && d < 12) {
          best = d;
          std::snprintf(buf, sizeof buf, "%g: %.4g", s.x[i], s.y[i]);
          tip = s.name + "\n" + axes.x_label + " " + buf;
        }
      }
    if (!tip.empty()) ImGui::SetTooltip("%s", tip.c_str());
  }
}

}  // namespace moescope::gui
