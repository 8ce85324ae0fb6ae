// widget_wrapped_input.cpp — see widget_wrapped_input.h.
#include "app/gui/widget_wrapped_input.h"

#include <imgui_internal.h>
#include <imgui_stdlib.h>

#include <algorithm>
#include <cfloat>

namespace moescope::gui {

namespace {

// The advance InputText lays glyphs out with (unrounded, at the current font size).
float glyph_advance(std::string_view g) {
  return ImGui::GetFont()->CalcTextSizeA(ImGui::GetFontSize(), FLT_MAX, 0.f, g.data(), g.data() + g.size()).x;
}

}  // namespace

int WrappedTextInput::lines() const {
  return 1 + int(std::count(shown_.display.begin(), shown_.display.end(), '\n'));
}

// Runs every frame the box is being edited, after ImGui applied the frame's keys: maps an edit of
// the display copy back to the text, wraps again and puts the cursor and selection back.
int WrappedTextInput::on_frame(ImGuiInputTextCallbackData* data) {
  auto& self = *static_cast<WrappedTextInput*>(data->UserData);
  const std::string_view buf(data->Buf, size_t(data->BufTextLen));
  const bool changed = buf != self.shown_.display;
  if (!changed && self.wanted_width_ == self.width_) {
    self.cursor_ = size_t(data->CursorPos);
    return 0;
  }
  size_t cursor = 0, sel_a = 0, sel_b = 0;  // in the text
  if (changed) {
    const WrappedEdit e = apply_display_edit(self.shown_, buf, self.cursor_, size_t(data->CursorPos));
    self.text_ = e.text;
    cursor = sel_a = sel_b = e.cursor;
    self.edited_ = true;
  } else {
    cursor = text_offset(self.shown_, size_t(data->CursorPos));
    sel_a = text_offset(self.shown_, size_t(data->SelectionStart));
    sel_b = text_offset(self.shown_, size_t(data->SelectionEnd));
  }
  self.width_ = self.wanted_width_;
  self.shown_ = soft_wrap(self.text_, self.width_, glyph_advance);
  if (self.shown_.display != buf) {
    data->DeleteChars(0, data->BufTextLen);
    data->InsertChars(0, self.shown_.display.data(), self.shown_.display.data() + self.shown_.display.size());
    // ImGui 1.86 keeps undo records as offsets into the old lines; after a re-flow they would undo
    // the wrong bytes, so the history starts again here.
    if (ImGuiInputTextState* st = ImGui::GetInputTextState(ImGui::GetActiveID())) {
      st->Stb.undostate.undo_point = 0;
      st->Stb.undostate.undo_char_point = 0;
      st->Stb.undostate.redo_point = STB_TEXTEDIT_UNDOSTATECOUNT;
      st->Stb.undostate.redo_char_point = STB_TEXTEDIT_UNDOCHARCOUNT;
    }
  }
  data->CursorPos = int(display_offset(self.shown_, cursor));
  data->SelectionStart = int(display_offset(self.shown_, sel_a));
  data->SelectionEnd = int(display_offset(self.shown_, sel_b));
  self.cursor_ = size_t(data->CursorPos);
  return 0;
}

bool WrappedTextInput::draw(const char* id, std::string& text, ImVec2 size) {
  const ImGuiStyle& style = ImGui::GetStyle();
  const float box_w = size.x > 0 ? size.x : ImGui::GetContentRegionAvail().x + size.x;
  // The vertical scrollbar's room is always kept, so lines do not re-flow when it appears.
  wanted_width_ = std::max(box_w - 2 * style.FramePadding.x - style.ScrollbarSize - 2.f, 8 * ImGui::GetFontSize());
  const ImGuiID box_id = ImGui::GetID(id);
  const bool editing = ImGui::GetActiveID() == box_id;
  if (!editing && (text != text_ || wanted_width_ != width_)) {
    text_ = text;
    width_ = wanted_width_;
    shown_ = soft_wrap(text_, width_, glyph_advance);
    buffer_ = shown_.display;
  }
  if (!typing_.empty()) {
    if (!editing) {
      ImGui::SetKeyboardFocusHere();
    } else {
      ImGui::GetIO().AddInputCharactersUTF8(typing_.c_str());
      typing_.clear();
    }
  }
  ImGui::InputTextMultiline(id, &buffer_, size, ImGuiInputTextFlags_CallbackAlways, &WrappedTextInput::on_frame, this);
  if (!edited_) return false;
  edited_ = false;
  text = text_;
  return true;
}

}  // namespace moescope::gui
