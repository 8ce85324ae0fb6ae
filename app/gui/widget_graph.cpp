// widget_graph.cpp — force-directed layout and drawing.
#include "app/gui/widget_graph.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace moescope::gui {

void ForceGraph::reset(int nodes, std::vector<GraphEdge> edges, uint64_t seed) {
  pos_.resize(size_t(nodes));
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> jitter(-0.02f, 0.02f);
  for (int i = 0; i < nodes; ++i) {
    const float a = 6.2831853f * float(i) / float(std::max(1, nodes));
    pos_[size_t(i)] = ImVec2(0.5f + 0.35f * std::cos(a) + jitter(rng), 0.5f + 0.35f * std::sin(a) + jitter(rng));
  }
  edges_ = std::move(edges);
  temperature_ = 0.1f;
}

bool ForceGraph::step(int steps) {
  const int n = int(pos_.size());
  if (n == 0) return true;
  const float k = 0.8f / std::sqrt(float(n));  // ideal edge length in the unit square
  float max_w = 1e-6f;
  for (const auto& e : edges_) max_w = std::max(max_w, e.weight);
  std::vector<ImVec2> disp(static_cast<size_t>(n));
  for (int s = 0; s < steps && !settled(); ++s) {
    std::fill(disp.begin(), disp.end(), ImVec2(0, 0));
    for (int i = 0; i < n; ++i)  // repulsion k^2 / d between every pair
      for (int j = i + 1; j < n; ++j) {
        float dx = pos_[size_t(i)].x - pos_[size_t(j)].x, dy = pos_[size_t(i)].y - pos_[size_t(j)].y;
        const float d2 = std::max(dx * dx + dy * dy, 1e-6f);
        const float f = k * k / d2;
        disp[size_t(i)].x += dx * f, disp[size_t(i)].y += dy * f;
        disp[size_t(j)].x -= dx * f, disp[size_t(j)].y -= dy * f;
      }
    for (const auto& e : edges_) {  // attraction d^2 / k along edges, scaled by weight
      const float dx = pos_[size_t(e.a)].x - pos_[size_t(e.b)].x, dy = pos_[size_t(e.a)].y - pos_[size_t(e.b)].y;
      const float d = std::sqrt(dx * dx + dy * dy);
      const float f = d / k * (0.5f + e.weight / max_w);
      disp[size_t(e.a)].x -= dx * f, disp[size_t(e.a)].y -= dy * f;
      disp[size_t(e.b)].x += dx * f, disp[size_t(e.b)].y += dy * f;
    }
    // Gravity to the centre, balanced against the repulsion so that the cloud fills about a
    // circle of radius 0.4 (with only repulsion, unconnected nodes would be pushed to the frame).
    const float gravity = 3.f * float(n) * k * k;
    for (int i = 0; i < n; ++i) {
      disp[size_t(i)].x += (0.5f - pos_[size_t(i)].x) * gravity;
      disp[size_t(i)].y += (0.5f - pos_[size_t(i)].y) * gravity;
      const float len = std::sqrt(disp[size_t(i)].x * disp[size_t(i)].x + disp[size_t(i)].y * disp[size_t(i)].y);
      if (len > 0) {
        const float m = std::min(len, temperature_) / len;
        pos_[size_t(i)].x = std::clamp(pos_[size_t(i)].x + disp[size_t(i)].x * m, 0.02f, 0.98f);
        pos_[size_t(i)].y = std::clamp(pos_[size_t(i)].y + disp[size_t(i)].y * m, 0.02f, 0.98f);
      }
    }
    temperature_ *= 0.97f;
  }
  return settled();
}

size_t ForceGraph::edges_above(float min_weight) const {
  size_t n = 0;
  for (const auto& e : edges_) n += e.weight > min_weight;
  return n;
}

int ForceGraph::draw(const char* id, ImVec2 size, const std::vector<ImU32>& colors, const std::vector<std::string>& labels,
                     float min_weight, int selected, int* hovered) const {
  const ImVec2 o = ImGui::GetCursorScreenPos();
  ImDrawList* dl = ImGui::GetWindowDrawList();
  dl->AddRectFilled(o, ImVec2(o.x + size.x, o.y + size.y), IM_COL32(24, 24, 30, 255));
  auto at = [&](int i) { return ImVec2(o.x + pos_[size_t(i)].x * size.x, o.y + pos_[size_t(i)].y * size.y); };
  float max_w = 1e-6f;
  for (const auto& e : edges_) max_w = std::max(max_w, e.weight);
  for (const auto& e : edges_) {
    if (e.weight <= min_weight) continue;
    const bool lit = selected >= 0 && (e.a == selected || e.b == selected);
    const int alpha = lit ? 220 : int(40 + 100 * e.weight / max_w);
    dl->AddLine(at(e.a), at(e.b), lit ? IM_COL32(255, 255, 255, alpha) : IM_COL32(160, 160, 180, alpha),
                lit ? 2.f : 0.5f + 1.5f * e.weight / max_w);
  }
  ImGui::InvisibleButton(id, size);
  const bool over = ImGui::IsItemHovered();
  const ImVec2 m = ImGui::GetIO().MousePos;
  const float r = std::clamp(size.x / 60.f, 4.f, 9.f);
  int under = -1;
  for (int i = 0; i < int(pos_.size()); ++i) {
    const ImVec2 p = at(i);
    dl->AddCircleFilled(p, r, i < int(colors.size()) ? colors[size_t(i)] : IM_COL32(200, 200, 200, 255));
    if (i == selected) dl->AddCircle(p, r + 3, IM_COL32(255, 255, 255, 255), 0, 2.f);
    if (i < int(labels.size()) && r >= 6) dl->AddText(ImVec2(p.x + r + 1, p.y - r), IM_COL32(220, 220, 220, 200), labels[size_t(i)].c_str());
    if (over && (m.x - p.x) * (m.x - p.x) + (m.y - p.y) * (m.y - p.y) <= (r + 2) * (r + 2)) under = i;
  }
  if (hovered) *hovered = under;
  return over && ImGui::IsItemClicked() ? under : -1;
}

}  // namespace moescope::gui
