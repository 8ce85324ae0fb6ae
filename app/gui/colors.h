// colors.h — categorical colours shared by the views (expert ids, group ids): golden-angle hue
// steps, so neighbouring ids differ and any id gets a colour; -1 is grey.
#pragma once

#include <imgui.h>

#include <cmath>

namespace moescope::gui {

inline ImU32 category_color(int id, float alpha = 1.f);

// Expert groups (at most a dozen or so per layer): a qualitative palette whose colours all differ
// (Okabe-Ito's eight, then four more), golden-angle hues only past them.
inline ImU32 group_color(int g, float alpha = 1.f) {
  static const ImVec4 palette[] = {{0.90f, 0.62f, 0.00f, 1}, {0.34f, 0.71f, 0.91f, 1}, {0.00f, 0.62f, 0.45f, 1},
                                   {0.94f, 0.89f, 0.26f, 1}, {0.00f, 0.45f, 0.70f, 1}, {0.84f, 0.37f, 0.00f, 1},
                                   {0.80f, 0.47f, 0.65f, 1}, {0.75f, 0.75f, 0.75f, 1}, {0.55f, 0.35f, 0.85f, 1},
                                   {0.60f, 0.85f, 0.45f, 1}, {0.95f, 0.50f, 0.50f, 1}, {0.55f, 0.40f, 0.25f, 1}};
  constexpr int n = int(sizeof palette / sizeof palette[0]);
  if (g < 0) return ImGui::GetColorU32(ImVec4(0.5f, 0.5f, 0.5f, alpha * 0.6f));
  if (g >= n) return category_color(g, alpha);
  ImVec4 c = palette[g];
  c.w = alpha;
  return ImGui::GetColorU32(c);
}

inline ImU32 category_color(int id, float alpha) {
  if (id < 0) return ImGui::GetColorU32(ImVec4(0.5f, 0.5f, 0.5f, alpha * 0.6f));
  const float h = std::fmod(float(id) * 0.618034f + 0.05f, 1.f);
  float r, g, b;
  ImGui::ColorConvertHSVtoRGB(h, 0.6f, 0.95f, r, g, b);
  return ImGui::GetColorU32(ImVec4(r, g, b, alpha));
}

}  // namespace moescope::gui
