// token_layout.cpp — flowing layout of token boxes.
#include "app/gui/token_layout.h"

#include <algorithm>

namespace moescope::gui {

std::string visible_token(const std::string& piece) {
  std::string out;
  for (char c : piece) {
    if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c == '\r') out += "\\r";
    else out += c;
  }
  return out;
}

void TokenLayout::update(const std::string& text, const Encoding& enc, uint64_t version, float width) {
  if (version == version_ && width == width_ && boxes_.size() == enc.ids.size()) return;
  version_ = version;
  width_ = width;
  line_h_ = ImGui::GetTextLineHeight() + 4;
  boxes_.assign(enc.ids.size(), Box{});
  line_start_.assign(1, 0);
  float x = 0;
  int line = 0;
  for (size_t t = 0; t < enc.ids.size(); ++t) {
    const auto& off = enc.offsets[t];
    const std::string piece = text.substr(off.first, off.second - off.first);
    Box& b = boxes_[t];
    b.label = visible_token(piece);
    b.w = ImGui::CalcTextSize(b.label.c_str()).x + 4;
    if (x > 0 && x + b.w > width) {
      ++line;
      x = 0;
      line_start_.push_back(t);
    }
    b.x = x;
    b.line = line;
    x += b.w + 1;
    if (piece.find('\n') != std::string::npos && t + 1 < enc.ids.size()) {  // the next token starts a line
      ++line;
      x = 0;
      line_start_.push_back(t + 1);
    }
  }
  lines_ = enc.ids.empty() ? 0 : line + 1;
}

std::pair<size_t, size_t> TokenLayout::visible(float y0, float y1) const {
  if (boxes_.empty() || line_h_ <= 0) return {0, 0};
  const int first = std::clamp(int(y0 / line_h_), 0, lines_ - 1);
  const int last = std::clamp(int(y1 / line_h_) + 1, 0, lines_);
  const size_t a = line_start_[size_t(first)];
  const size_t b = last >= lines_ ? boxes_.size() : line_start_[size_t(last)];
  return {a, b};
}

int TokenLayout::hit(float x, float y) const {
  if (y < 0 || line_h_ <= 0) return -1;
  const int line = int(y / line_h_);
  if (line >= lines_) return -1;
  const size_t end = line + 1 < lines_ ? line_start_[size_t(line) + 1] : boxes_.size();
  for (size_t t = line_start_[size_t(line)]; t < end; ++t)
    if (x >= boxes_[t].x && x < boxes_[t].x + boxes_[t].w) return int(t);
  return -1;
}

}  // namespace moescope::gui
