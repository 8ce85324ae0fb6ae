// widget_file_browser.h — a simple modal file browser: walk folders, pick a folder (checkpoints
// are marked) or a file with one of the wanted extensions.
#pragma once

#include <string>
#include <vector>

namespace moescope::gui {

class FileBrowser {
 public:
  // Opens the browser at `start` (its folder when it is a file). pick_folder: the answer is a
  // folder (e.g. a checkpoint); else a file ending in one of `extensions` (e.g. ".jsonl").
  void open(const std::string& start, bool pick_folder, std::vector<std::string> extensions, std::string title);
  // Draws the popup while open; true once the user picked (the path is in *picked).
  bool draw(std::string* picked);
  bool is_open() const { return open_; }

 private:
  void list();
  bool open_ = false, pick_folder_ = true, opening_ = false;
  std::string dir_, title_, error_;
  std::vector<std::string> exts_;
  struct Entry {
    std::string name;
    bool folder = false, checkpoint = false;
  };
  std::vector<Entry> entries_;
};

}  // namespace moescope::gui
