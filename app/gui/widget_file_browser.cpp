// widget_file_browser.cpp — folder listing in an ImGui modal.
#include "app/gui/widget_file_browser.h"

#include <imgui.h>

#include <algorithm>
#include <filesystem>

namespace fs = std::filesystem;

namespace moescope::gui {

void FileBrowser::open(const std::string& start, bool pick_folder, std::vector<std::string> extensions, std::string title) {
  std::error_code ec;
  fs::path p = fs::absolute(start.empty() ? fs::current_path(ec) : fs::path(start), ec);
  while (!p.empty() && !fs::is_directory(p, ec) && p != p.parent_path()) p = p.parent_path();
  dir_ = p.lexically_normal().string();
  pick_folder_ = pick_folder;
  exts_ = std::move(extensions);
  title_ = std::move(title);
  open_ = opening_ = true;
  list();
}

void FileBrowser::list() {
  entries_.clear();
  error_.clear();
  std::error_code ec;
  for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.empty() || name[0] == '.') continue;
    Entry e{name, it->is_directory(ec), false};
    if (e.folder) e.checkpoint = fs::exists(it->path() / "config.json", ec);
    const bool wanted = e.folder || std::any_of(exts_.begin(), exts_.end(), [&](const std::string& x) {
                          return name.size() >= x.size() && name.compare(name.size() - x.size(), x.size(), x) == 0;
                        });
    if (wanted) entries_.push_back(e);
  }
  if (ec) error_ = "cannot list " + dir_ + ": " + ec.message();
  std::sort(entries_.begin(), entries_.end(), [](const Entry& a, const Entry& b) {
    return a.folder != b.folder ? a.folder : a.name < b.name;
  });
}

bool FileBrowser::draw(std::string* picked) {
  if (!open_) return false;
  if (opening_) {
    ImGui::OpenPopup(title_.c_str());
    opening_ = false;
  }
  bool done = false;
  ImGui::SetNextWindowSize(ImVec2(640, 460), ImGuiCond_Appearing);
  if (ImGui::BeginPopupModal(title_.c_str(), &open_)) {
    ImGui::TextWrapped("%s", dir_.c_str());
    if (!error_.empty()) ImGui::TextColored(ImVec4(1, 0.4f, 0.4f, 1), "%s", error_.c_str());
    ImGui::BeginChild("entries", ImVec2(0, -36), true);
    if (ImGui::Selectable("..")) {
      dir_ = fs::path(dir_).parent_path().string();
      list();
    }
    for (size_t i = 0; i < entries_.size(); ++i) {
      const Entry e = entries_[i];
      const std::string label = e.folder ? e.name + "/" + (e.checkpoint ? "   [checkpoint]" : "") : e.name;
      if (ImGui::Selectable(label.c_str(), false, ImGuiSelectableFlags_AllowDoubleClick)) {
        const std::string path = (fs::path(dir_) / e.name).string();
        if (e.folder && !(pick_folder_ && e.checkpoint)) {
          dir_ = path;
          list();
          break;
        }
        *picked = path;
        done = true;
      }
    }
    ImGui::EndChild();
    if (pick_folder_ && ImGui::Button("Use this folder")) {
      *picked = dir_;
      done = true;
    }
    ImGui::SameLine();
    if (ImGui::Button("Cancel")) open_ = false;
    if (done) open_ = false;
    if (!open_) ImGui::CloseCurrentPopup();
    ImGui::EndPopup();
  }
  return done;
}

}  // namespace moescope::gui
