// view_text.cpp — the Text view: type or paste text; it is routed as you type. Tokens are shown
// over the text, coloured by the expert each token leans on most in the selected layer; hovering
// a token shows its top-k experts and weights in every layer, a click pins it.
#include <imgui.h>
#include <imgui_stdlib.h>

#include <algorithm>
#include <cmath>

#include "app/gui/app.h"

namespace moescope::gui {

namespace {

// A distinct, readable background per expert id (golden-angle hue steps).
ImU32 expert_color(int e, float alpha = 0.55f) {
  const float h = std::fmod(float(e) * 0.618034f, 1.f);
  float r, g, b;
  ImGui::ColorConvertHSVtoRGB(h, 0.55f, 0.95f, r, g, b);
  return ImGui::GetColorU32(ImVec4(r, g, b, alpha));
}

std::string visible(const std::string& piece) {
  std::string out;
  for (char c : piece) out += c == '\n' ? std::string("\\n") : (c == '\t' ? std::string("\\t") : std::string(1, c));
  return out;
}

}  // namespace

void App::token_tooltip(const RoutedText& r, size_t t) {
  ImGui::BeginTooltip();
  const auto& off = r.enc.offsets[t];
  ImGui::Text("token %zu: '%s' (id %d)", t, visible(r.text.substr(off.first, off.second - off.first)).c_str(), r.enc.ids[t]);
  if (t + 1 < r.result.nll.size() && std::isfinite(r.result.nll[t]))
    ImGui::Text("NLL of the next token: %.3f nats", r.result.nll[t]);
  ImGui::Separator();
  for (const LayerRecord& l : r.result.layers) {
    char head[32];
    std::snprintf(head, sizeof head, "layer %d:", l.layer);
    std::string line = head;
    for (int j = 0; j < l.k; ++j) {
      char buf[48];
      const int e = l.topk_ids[t * size_t(l.k) + size_t(j)];
      std::snprintf(buf, sizeof buf, "  %d%s %.3f", e, e >= l.num_standard ? "(shared)" : "", l.topk_weights[t * size_t(l.k) + size_t(j)]);
      line += buf;
    }
    ImGui::TextUnformatted(line.c_str());
  }
  ImGui::EndTooltip();
}

void App::view_text() {
  ImGui::Begin("Text");
  if (ImGui::InputTextMultiline("##text", &text_, ImVec2(-1, 140)) && router_) router_->submit(text_);
  const auto routed = router_ ? router_->latest() : nullptr;
  if (!routed) {
    ImGui::TextDisabled(model_ ? "routing..." : "no model loaded");
    ImGui::End();
    return;
  }
  const RoutedText& r = *routed;
  if (!r.error.empty()) ImGui::TextColored(ImVec4(1, 0.6f, 0.3f, 1), "%s", r.error.c_str());
  const int layers = int(r.result.layers.size());
  if (layers > 0) {
    layer_ = std::clamp(layer_, 0, layers - 1);
    ImGui::SetNextItemWidth(260);
    char format[48];
    std::snprintf(format, sizeof format, "%%d (layer %d)", r.result.layers[size_t(layer_)].layer);
    ImGui::SliderInt("MoE layer", &layer_, 0, layers - 1, format);
    ImGui::SameLine();
    ImGui::TextDisabled("%zu tokens, routed in %.0f ms%s", r.enc.ids.size(), 1000 * r.seconds,
                        router_->busy() ? " (updating)" : "");
  }
  ImGui::Separator();
  ImGui::BeginChild("tokens", ImVec2(0, 0), false);
  if (layers > 0 && !r.enc.ids.empty()) {
    const LayerRecord& l = r.result.layers[size_t(layer_)];
    // Token boxes flow like text; each is coloured by its heaviest routed (non-shared) expert.
    const float max_x = ImGui::GetContentRegionAvail().x;
    float x = 0;
    ImGui::PushStyleVar(ImGuiStyleVar_ItemSpacing, ImVec2(1, 3));
    for (size_t t = 0; t < r.enc.ids.size(); ++t) {
      const auto& off = r.enc.offsets[t];
      const std::string piece = r.text.substr(off.first, off.second - off.first);
      const bool newline = piece.find('\n') != std::string::npos;
      const std::string label = visible(piece);
      int top = -1;
      float best = -1;
      for (int j = 0; j < l.k; ++j) {
        const int e = l.topk_ids[t * size_t(l.k) + size_t(j)];
        const float w = l.topk_weights[t * size_t(l.k) + size_t(j)];
        if (e < l.num_standard && w > best) {
          best = w;
          top = e;
        }
      }
      const ImVec2 sz = ImGui::CalcTextSize(label.c_str());
      if (x > 0 && x + sz.x + 4 > max_x) x = 0;
      else if (x > 0) ImGui::SameLine();
      const ImVec2 p = ImGui::GetCursorScreenPos();
      ImGui::GetWindowDrawList()->AddRectFilled(p, ImVec2(p.x + sz.x + 4, p.y + sz.y + 2), expert_color(top), 3.f);
      if (int(t) == pinned_)
        ImGui::GetWindowDrawList()->AddRect(p, ImVec2(p.x + sz.x + 4, p.y + sz.y + 2), IM_COL32(255, 255, 255, 255), 3.f, 0, 2.f);
      ImGui::SetCursorScreenPos(ImVec2(p.x + 2, p.y + 1));
      ImGui::TextUnformatted(label.c_str());
      ImGui::SetCursorScreenPos(p);
      ImGui::PushID(int(t));
      ImGui::InvisibleButton("##tok", ImVec2(sz.x + 4, sz.y + 2));
      ImGui::PopID();
      if (ImGui::IsItemHovered()) token_tooltip(r, t);
      if (ImGui::IsItemClicked()) pinned_ = pinned_ == int(t) ? -1 : int(t);
      x += sz.x + 5;
      if (newline) x = max_x;  // the next token starts a new line
    }
    ImGui::PopStyleVar();
  }
  ImGui::EndChild();
  ImGui::End();
}

}  // namespace moescope::gui
