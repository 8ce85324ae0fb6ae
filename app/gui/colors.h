// colors.h — categorical colours shared by the views (expert ids, group ids): golden-angle hue
// steps, so neighbouring ids differ and any id gets a colour; -1 is grey.
#pragma once

#include <imgui.h>

#include <cmath>

namespace moescope::gui {

inline ImU32 category_color(int id, float alpha = 1.f) {
  if (id < 0) return ImGui::GetColorU32(ImVec4(0.5f, 0.5f, 0.5f, alpha * 0.6f));
  const float h = std::fmod(float(id) * 0.618034f + 0.05f, 1.f);
  float r, g, b;
  ImGui::ColorConvertHSVtoRGB(h, 0.6f, 0.95f, r, g, b);
  return ImGui::GetColorU32(ImVec4(r, g, b, alpha));
}

}  // namespace moescope::gui
