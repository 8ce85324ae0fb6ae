// token_layout.h — tokens of a routed text laid out like flowing text (boxes wrapped at the view's
// width, a new line after a newline), computed once per text and width, so a frame only draws the
// rows that are on screen: 10k-token texts stay cheap to show and to hover.
#pragma once

#include <imgui.h>

#include <cstdint>
#include <string>
#include <vector>

#include "engine/tokenizer/tokenizer.h"

namespace moescope::gui {

class TokenLayout {
 public:
  struct Box {
    float x = 0, w = 0;     // within the line
    int line = 0;
    std::string label;      // the token's text with \n and \t made visible
  };
  // Recomputes when the text version or the width changed.
  void update(const std::string& text, const Encoding& enc, uint64_t version, float width);
  const std::vector<Box>& boxes() const { return boxes_; }
  int lines() const { return lines_; }
  float line_height() const { return line_h_; }
  // Tokens whose lines intersect [y0, y1) (content coordinates): [first, last).
  std::pair<size_t, size_t> visible(float y0, float y1) const;
  // Token under a content-space point, or -1.
  int hit(float x, float y) const;

 private:
  std::vector<Box> boxes_;
  std::vector<size_t> line_start_;  // first token of each line
  int lines_ = 0;
  float line_h_ = 0, width_ = -1;
  uint64_t version_ = ~uint64_t(0);
};

// The token's text made printable on one line.
std::string visible_token(const std::string& piece);

}  // namespace moescope::gui
