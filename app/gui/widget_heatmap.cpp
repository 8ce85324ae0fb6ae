// widget_heatmap.cpp — ImDrawList heatmap.
#include "app/gui/widget_heatmap.h"

#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "app/render/figures.h"

namespace moescope::gui {

std::pair<int, int> draw_heatmap(const char* id, const HeatmapData& d, float cell_h) {
  if (d.rows <= 0 || d.cols <= 0) return {-1, -1};
  float label_w = 0;
  for (const auto& s : d.row_labels) label_w = std::max(label_w, ImGui::CalcTextSize(s.c_str()).x);
  label_w += 8;
  const float avail = ImGui::GetContentRegionAvail().x - label_w - 4;
  const float cell_w = std::max(3.f, avail / float(d.cols));
  const ImVec2 origin = ImGui::GetCursorScreenPos();
  const float top = ImGui::GetTextLineHeight() + 4;
  ImDrawList* dl = ImGui::GetWindowDrawList();
  float lo = INFINITY, hi = -INFINITY;
  for (float v : d.values)
    if (std::isfinite(v)) {
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  if (!(hi > lo)) hi = lo + 1;
  // Column labels every few columns so they never overlap.
  const float label_step = ImGui::CalcTextSize("000").x + 4;
  const int every = std::max(1, int(std::ceil(label_step / cell_w)));
  for (int c = 0; c < d.cols; c += every) {
    const std::string& s = c < int(d.col_labels.size()) ? d.col_labels[size_t(c)] : std::to_string(c);
    dl->AddText(ImVec2(origin.x + label_w + c * cell_w, origin.y), ImGui::GetColorU32(ImGuiCol_Text), s.c_str());
  }
  for (int r = 0; r < d.rows; ++r) {
    const float y = origin.y + top + r * cell_h;
    if (r < int(d.row_labels.size()))
      dl->AddText(ImVec2(origin.x, y + (cell_h - ImGui::GetTextLineHeight()) / 2), ImGui::GetColorU32(ImGuiCol_Text),
                  d.row_labels[size_t(r)].c_str());
    for (int c = 0; c < d.cols; ++c) {
      const float v = d.values[size_t(r) * size_t(d.cols) + size_t(c)];
      const render::Rgb col = render::palette_color(render::Palette::Sequential, (v - lo) / (hi - lo));
      const ImVec2 a(origin.x + label_w + c * cell_w, y), b(a.x + cell_w - (cell_w > 5 ? 1 : 0), y + cell_h - 1);
      dl->AddRectFilled(a, b, std::isfinite(v) ? IM_COL32(col.r, col.g, col.b, 255) : IM_COL32(128, 128, 128, 255));
    }
  }
  const ImVec2 size(label_w + d.cols * cell_w, top + d.rows * cell_h);
  ImGui::InvisibleButton(id, size);
  std::pair<int, int> hovered{-1, -1};
  if (ImGui::IsItemHovered()) {
    const ImVec2 m = ImGui::GetIO().MousePos;
    const int c = int((m.x - origin.x - label_w) / cell_w), r = int((m.y - origin.y - top) / cell_h);
    if (c >= 0 && c < d.cols && r >= 0 && r < d.rows) {
      hovered = {r, c};
      const std::string rl = r < int(d.row_labels.size()) ? d.row_labels[size_t(r)] : std::to_string(r);
      const std::string cl = c < int(d.col_labels.size()) ? d.col_labels[size_t(c)] : std::to_string(c);
      ImGui::SetTooltip("%s, expert %s\n%s %.4f", rl.c_str(), cl.c_str(), d.value_name.c_str(),
                        d.values[size_t(r) * size_t(d.cols) + size_t(c)]);
    }
  }
  return hovered;
}

}  // namespace moescope::gui
