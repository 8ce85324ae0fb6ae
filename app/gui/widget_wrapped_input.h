// widget_wrapped_input.h — a multiline text box whose lines wrap at its width (Debian's Dear
// ImGui 1.86 has none). It edits a display copy with soft breaks (soft_wrap.h) and gives the
// caller the text without them. Undo history is cleared when an edit re-flows the lines.
#pragma once

#include <imgui.h>

#include <string>

#include "app/gui/soft_wrap.h"

namespace moescope::gui {

class WrappedTextInput {
 public:
  // Draws the box; size.x <= 0 means the rest of the row (as ImGui). Returns true when the user
  // changed `text` (a change made by the caller is picked up when the box is not being edited).
  bool draw(const char* id, std::string& text, ImVec2 size);
  int lines() const;  // the lines the box shows, soft breaks included
  // Queues characters as typed at the cursor (scripts); the box takes focus first.
  void type(const std::string& chars) { typing_ = chars; }

 private:
  static int on_frame(ImGuiInputTextCallbackData* data);
  Wrapped shown_;            // what the box shows
  std::string text_;         // the text shown_ stands for
  std::string buffer_;       // ImGui's copy of shown_.display
  float width_ = -1, wanted_width_ = -1;
  size_t cursor_ = 0;        // display offset at the end of the last frame
  bool edited_ = false;
  std::string typing_;
};

}  // namespace moescope::gui
