// widget_export.h — every figure's right-click menu: its data as CSV (a file, or the clipboard)
// and the window as PNG, written into the export folder (the working folder unless changed) with
// a name that says which figure and when. Files appear whole (temp file, then rename).
#pragma once

#include <functional>
#include <string>

namespace moescope::gui {

struct FigureExports {
  std::string folder = ".";       // where files go
  std::string pending_png;        // a window PNG the main loop writes after this frame
  std::string last_message;       // "wrote ..." or the error, shown in the app's header
  std::string requested_csv;      // a script's `export-csv NAME`: that figure's CSV when next drawn
  std::string last_written;       // the path of the last file written
};
FigureExports& figure_exports();

// Opens the menu on a right click over the last item (the figure): `name` names the files,
// `csv` makes the data when asked.
void figure_context_menu(const std::string& name, const std::function<std::string()>& csv);

// "name-20261206-171500.ext" in the export folder.
std::string export_path(const std::string& name, const char* ext);

// A CSV field, quoted when it holds a comma, quote or newline.
std::string csv_field(const std::string& s);

}  // namespace moescope::gui
