// widget_layer_slider.h — the MoE-layer slider every view shows: picks an index into the MoE
// layers (clamped to the range) and names the model layer it is (dense layers are skipped).
#pragma once

#include <imgui.h>

#include <algorithm>
#include <cstdio>

namespace moescope::gui {

// layers: anything indexable whose elements have `.layer` (LayerRecord, LayerLayout).
template <class Layers>
void layer_slider(const char* label, int* index, const Layers& layers) {
  const int n = int(layers.size());
  if (n == 0) return;
  *index = std::clamp(*index, 0, n - 1);
  char format[48];
  std::snprintf(format, sizeof format, "%%d (layer %d)", layers[size_t(*index)].layer);
  ImGui::SetNextItemWidth(220);
  ImGui::SliderInt(label, index, 0, n - 1, format);
}

}  // namespace moescope::gui
