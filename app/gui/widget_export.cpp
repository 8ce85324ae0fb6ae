// widget_export.cpp — figure export menu (widget_export.h).
#include "app/gui/widget_export.h"

#include <imgui.h>

#include <ctime>
#include <filesystem>

#include "engine/atomic_file.h"
#include "engine/error.h"

namespace moescope::gui {

FigureExports& figure_exports() {
  static FigureExports e;
  return e;
}

std::string export_path(const std::string& name, const char* ext) {
  char stamp[32];
  const std::time_t now = std::time(nullptr);
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::localtime(&now));
  std::string safe;
  for (char c : name) safe += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') ? c : '-';
  return (std::filesystem::path(figure_exports().folder) / (safe + "-" + stamp + "." + ext)).lexically_normal().string();
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

namespace {
void save_csv(const std::string& name, const std::function<std::string()>& csv) {
  FigureExports& e = figure_exports();
  const std::string path = export_path(name, "csv");
  try {
    std::error_code ec;  // a folder that cannot be made shows as the write's error below
    std::filesystem::create_directories(e.folder, ec);
    write_file_atomically(path, csv());
    e.last_written = std::filesystem::absolute(path).lexically_normal().string();
    e.last_message = "wrote " + e.last_written;
  } catch (const Error& err) {
    e.last_message = err.what();
  }
}
}  // namespace

void figure_context_menu(const std::string& name, const std::function<std::string()>& csv) {
  if (figure_exports().requested_csv == name) {
    figure_exports().requested_csv.clear();
    save_csv(name, csv);
  }
  const std::string popup = "export##" + name;
  if (ImGui::IsItemHovered() && ImGui::IsMouseReleased(ImGuiMouseButton_Right)) ImGui::OpenPopup(popup.c_str());
  if (!ImGui::BeginPopup(popup.c_str())) return;
  FigureExports& e = figure_exports();
  ImGui::TextDisabled("%s", name.c_str());
  if (ImGui::MenuItem("Save the data as CSV")) save_csv(name, csv);
  if (ImGui::MenuItem("Copy the data (CSV)")) {
    ImGui::SetClipboardText(csv().c_str());
    e.last_message = "copied " + name + " as CSV";
  }
  if (ImGui::MenuItem("Save the window as PNG")) {
    std::error_code ec;
    std::filesystem::create_directories(e.folder, ec);
    e.pending_png = export_path(name, "png");
    e.last_message = "writing " + std::filesystem::absolute(e.pending_png).lexically_normal().string();
  }
  ImGui::EndPopup();
}

}  // namespace moescope::gui
