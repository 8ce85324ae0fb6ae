// test_gui_smoke.cpp — the desktop app opens, routes its sample text and renders under a virtual
// display (Xvfb). Skipped with a message where the app was not built or xvfb-run is missing.
#include <doctest/doctest.h>
#include <stb/stb_image.h>

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "tests/test_paths.h"

TEST_CASE("gui: a screenshot under Xvfb shows the routed text") {
#ifndef MOESCOPE_GUI_PATH
  MESSAGE("skipped: the desktop app was not built (MOESCOPE_GUI off or Dear ImGui/GLFW missing)");
#else
  // A bad option is refused before any window is opened (exit code 2).
  const int bad = std::system((std::string("'") + MOESCOPE_GUI_PATH + "' --bogus >/dev/null 2>&1").c_str());
  CHECK(WEXITSTATUS(bad) == 2);
  if (std::system("command -v xvfb-run >/dev/null 2>&1") != 0) {
    MESSAGE("skipped: xvfb-run not installed (tools/install-deps.sh installs it)");
    return;
  }
  moescope::test::TempDir tmp("gui");
  const std::string png = tmp / "shot.png";
  const std::string cmd = std::string("HOME=") + tmp.str() + " xvfb-run -a -s '-screen 0 1600x1000x24' '" + MOESCOPE_GUI_PATH +
                          "' --model '" + moescope::test::fixtures_dir() + "/models/emo-shared' --text 'hello world' " +
                          "--screenshot '" + png + "' --frames 30 >/dev/null 2>&1";
  REQUIRE(std::system(cmd.c_str()) == 0);
  int w = 0, h = 0, ch = 0;
  unsigned char* img = stbi_load(png.c_str(), &w, &h, &ch, 3);
  REQUIRE(img);
  CHECK(w == 1500);
  CHECK(h == 940);
  // Not a blank frame: many distinct colours (windows, text, heatmap cells, token boxes).
  int changes = 0;
  for (int i = 1; i < w * h; ++i) changes += img[3 * i] != img[3 * (i - 1)];
  stbi_image_free(img);
  CHECK(changes > 5000);
  // The app never writes imgui.ini during screenshots (the default layout is what is checked).
  CHECK_FALSE(std::filesystem::exists(tmp / ".config/moescope/imgui.ini"));
#endif
}
