// widget_heatmap.cpp — ImDrawList heatmap.
#include "app/gui/widget_heatmap.h"

#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "app/gui/widget_export.h"
#include "app/render/column_order.h"
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
  auto [lo, hi] = std::isfinite(d.scale_lo) && std::isfinite(d.scale_hi) ? std::pair{d.scale_lo, d.scale_hi} : heatmap_range({&d});
  if (!(hi > lo)) hi = lo + 1;
  // Column labels where they fit: one is skipped when it would overlap the last one drawn.
  float next_free = -INFINITY;
  for (int c = 0; c < d.cols; ++c) {
    const std::string s = c < int(d.col_labels.size()) ? d.col_labels[size_t(c)] : std::to_string(c);
    const float x = origin.x + label_w + c * cell_w;
    if (x < next_free) continue;
    dl->AddText(ImVec2(x, origin.y), ImGui::GetColorU32(ImGuiCol_Text), s.c_str());
    next_free = x + ImGui::CalcTextSize(s.c_str()).x + 6;
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
  figure_context_menu(d.name.empty() ? std::string(id).substr(std::string(id).find_first_not_of('#')) : d.name,
                      [&d] { return heatmap_csv(d); });
  std::pair<int, int> hovered{-1, -1};
  if (ImGui::IsItemHovered()) {
    const ImVec2 m = ImGui::GetIO().MousePos;
    const int c = int((m.x - origin.x - label_w) / cell_w), r = int((m.y - origin.y - top) / cell_h);
    if (c >= 0 && c < d.cols && r >= 0 && r < d.rows) {
      hovered = {r, c};
      const std::string rl = r < int(d.row_labels.size()) ? d.row_labels[size_t(r)] : std::to_string(r);
      const std::string cl = c < int(d.col_labels.size()) ? d.col_labels[size_t(c)] : std::to_string(c);
      ImGui::SetTooltip("%s%s%s, %s %s\n%s %.4f", d.row_name.c_str(), d.row_name.empty() ? "" : " ", rl.c_str(),
                        d.col_name.c_str(), cl.c_str(), d.value_name.c_str(), d.values[size_t(r) * size_t(d.cols) + size_t(c)]);
    }
  }
  // The colour bar under the map: the scale from lo to hi, with the value's name.
  const ImVec2 bar(origin.x + label_w, origin.y + size.y + 4);
  const float bar_w = std::min(260.f, std::max(120.f, d.cols * cell_w * 0.5f)), bar_h = 10;
  for (int i = 0; i < 64; ++i) {
    const render::Rgb col = render::palette_color(render::Palette::Sequential, (i + 0.5) / 64);
    dl->AddRectFilled(ImVec2(bar.x + bar_w * i / 64, bar.y), ImVec2(bar.x + bar_w * (i + 1) / 64 + 0.5f, bar.y + bar_h),
                      IM_COL32(col.r, col.g, col.b, 255));
  }
  char scale[160];
  std::snprintf(scale, sizeof scale, "%.3g", double(lo));
  dl->AddText(ImVec2(bar.x - ImGui::CalcTextSize(scale).x - 4 < origin.x ? origin.x : bar.x - ImGui::CalcTextSize(scale).x - 4,
                     bar.y - 3),
              ImGui::GetColorU32(ImGuiCol_Text), scale);
  std::snprintf(scale, sizeof scale, "%.3g  %s%s", double(hi), d.value_name.c_str(),
                std::isfinite(d.scale_lo) ? " (one scale for the maps side by side)" : "");
  dl->AddText(ImVec2(bar.x + bar_w + 6, bar.y - 3), ImGui::GetColorU32(ImGuiCol_Text), scale);
  ImGui::Dummy(ImVec2(size.x, bar_h + 6));
  return hovered;
}

void order_columns_by_top_row(HeatmapData& d) {
  auto at = [&](int r, int c) { return double(d.values[size_t(r) * size_t(d.cols) + size_t(c)]); };
  const std::vector<int> order = render::columns_in_blocks(d.rows, d.cols, at);
  std::vector<float> values(d.values.size());
  std::vector<std::string> labels;
  for (int c = 0; c < d.cols; ++c) {
    const int from = order[size_t(c)];
    for (int r = 0; r < d.rows; ++r) values[size_t(r) * size_t(d.cols) + size_t(c)] = float(at(r, from));
    labels.push_back(from < int(d.col_labels.size()) ? d.col_labels[size_t(from)] : std::to_string(from));
  }
  d.values = std::move(values);
  d.col_labels = std::move(labels);
}

std::string heatmap_csv(const HeatmapData& d) {
  auto label = [](const std::vector<std::string>& v, int i) { return i < int(v.size()) ? v[size_t(i)] : std::to_string(i); };
  std::string out = csv_field(d.row_name.empty() ? "row" : d.row_name);
  for (int c = 0; c < d.cols; ++c) out += "," + csv_field((d.col_name.empty() ? "" : d.col_name + " ") + label(d.col_labels, c));
  out += "\n";
  char buf[32];
  for (int r = 0; r < d.rows; ++r) {
    out += csv_field(label(d.row_labels, r));
    for (int c = 0; c < d.cols; ++c) {
      const float v = d.values[size_t(r) * size_t(d.cols) + size_t(c)];
      std::snprintf(buf, sizeof buf, ",%.9g", double(v));
      out += std::isfinite(v) ? buf : ",";
    }
    out += "\n";
  }
  return out;
}

std::pair<float, float> heatmap_range(const std::vector<const HeatmapData*>& maps) {
  float lo = INFINITY, hi = -INFINITY;
  for (const HeatmapData* m : maps)
    for (float v : m->values)
      if (std::isfinite(v)) {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
  if (!std::isfinite(lo)) lo = 0, hi = 1;
  return {lo, hi};
}

}  // namespace moescope::gui
