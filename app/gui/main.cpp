// main.cpp — `moescope`, the desktop app: GLFW window + OpenGL 3.3 + Dear ImGui.
//   moescope [--model DIR] [--text T | --text-file F] [--workspace WS] [--compare-workspace WS]
//            [--view NAME] [--script FILE] [--screenshot OUT.png] [--frame-stats]
// --screenshot waits until the view's background work has finished, writes the window as PNG
// and exits: how the app is checked on machines without a screen (under Xvfb). --script runs
// app commands (app_script.cpp) one after another. Without a display it says so and points to
// moescope-cli.
#include <GLFW/glfw3.h>
#include <imgui.h>
#include <imgui_impl_glfw.h>
#include <imgui_impl_opengl3.h>
#include <stb/stb_image_write.h>
#include <unistd.h>
#if defined(__SANITIZE_ADDRESS__)
#include <dlfcn.h>
#include <link.h>
#endif

#include <cfloat>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "app/gui/app.h"
#include "app/gui/widget_export.h"
#include "engine/atomic_file.h"
#include "engine/cpu/blas_core.h"
#include "engine/error.h"
#include "engine/json_file.h"
#include "engine/checkpoint/safetensors_writer.h"

namespace fs = std::filesystem;

namespace {

std::string glfw_error;
void on_glfw_error(int, const char* msg) { glfw_error = msg ? msg : "unknown"; }

// The built-in sample, found next to the binary (build/ in a checkout) or in the working folder.
std::string default_model(const char* argv0) {
  std::error_code ec;
  const fs::path exe = fs::canonical("/proc/self/exe", ec);
  for (const fs::path& base : {exe.parent_path().parent_path(), fs::current_path(), fs::path(argv0).parent_path().parent_path()}) {
    const fs::path p = base / "samples" / "models" / "emo-sample";
    if (fs::exists(p / "config.json")) return p.string();
  }
  return "samples/models/emo-sample";
}

// The user's config folder for moescope ($XDG_CONFIG_HOME/moescope or ~/.config/moescope).
std::string config_dir() {
  const char* xdg = std::getenv("XDG_CONFIG_HOME");
  const char* home = std::getenv("HOME");
  fs::path dir = xdg && *xdg ? fs::path(xdg) : (home ? fs::path(home) / ".config" : fs::temp_directory_path());
  dir /= "moescope";
  std::error_code ec;
  fs::create_directories(dir, ec);
  return dir.string();
}

// The window's size and place, the open view, model and workspace, remembered between runs
// (session.json beside imgui.ini; unreadable or missing = defaults).
nlohmann::json read_session() {
  try {
    const std::string p = config_dir() + "/session.json";
    if (fs::exists(p)) return moescope::read_json_file(p, "session");
  } catch (const moescope::Error&) {
  }
  return nlohmann::json::object();
}

void write_session(const nlohmann::json& s) {
  try {
    moescope::write_file_atomically(config_dir() + "/session.json", s.dump(2) + "\n");
  } catch (const moescope::Error& e) {
    std::fprintf(stderr, "moescope: could not remember the session: %s\n", e.what());
  }
}

#if defined(__SANITIZE_ADDRESS__)
// Sanitizer builds (tools/sanitize.sh): the GL driver (Mesa's *_dri.so) is unloaded when the
// window closes, before LeakSanitizer runs, so its allocations would be reported from an unknown
// module and could not be told apart by the suppressions file. Keep the loaded drivers mapped.
void keep_gl_driver_loaded() {
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void*) {
        const std::string name = info->dlpi_name ? info->dlpi_name : "";
        if (name.find("_dri.so") != std::string::npos) dlopen(name.c_str(), RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
        return 0;
      },
      nullptr);
}
#else
void keep_gl_driver_loaded() {}
#endif

bool save_screenshot(GLFWwindow* w, const std::string& path) {
  int width = 0, height = 0;
  glfwGetFramebufferSize(w, &width, &height);
  std::vector<unsigned char> px(size_t(width) * size_t(height) * 3);
  glPixelStorei(GL_PACK_ALIGNMENT, 1);
  glReadPixels(0, 0, width, height, GL_RGB, GL_UNSIGNED_BYTE, px.data());
  stbi_flip_vertically_on_write(1);  // OpenGL rows are bottom-up
  const std::string tmp = moescope::temp_path_for(path);
  if (!stbi_write_png(tmp.c_str(), width, height, 3, px.data(), width * 3)) {
    std::remove(tmp.c_str());
    return false;
  }
  try {
    moescope::commit_temp_file(tmp, path);
  } catch (const moescope::Error&) {
    return false;
  }
  return true;
}

const char* kSampleText =
    "def route(tokens, experts):\n    return [max(experts, key=lambda e: e.score(t)) for t in tokens]\n\n"
    "In the beginning God created the heaven and the earth.\n\n"
    "Die Experten eines Mischmodells teilen sich die Arbeit: jedes Token geht an wenige.";

struct Options {
  moescope::gui::AppOptions app;
  std::string screenshot, script;
  moescope::gui::View view = moescope::gui::View::Text;
  int min_frames = 0;  // --frames: frames rendered with the work done before the final screenshot
  float ui_scale = 0;  // --ui-scale: 0 = remembered, else the monitor's content scale
  bool frame_stats = false, view_given = false;
};

// Exits with 2 and a message for bad options, before any window opens.
Options parse_options(int argc, char** argv) {
  Options o;
  o.app.text = kSampleText;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](const char* name) -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "moescope: %s needs a value\n", name);
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--model") o.app.model_dir = value("--model");
    else if (a == "--text") o.app.text = value("--text");
    else if (a == "--text-file") {
      const std::string f = value("--text-file");
      try {
        o.app.text = moescope::read_utf8_text_file(f, "text file");
      } catch (const moescope::Error& e) {
        std::fprintf(stderr, "moescope: %s\n", e.what());
        std::exit(2);
      }
    } else if (a == "--workspace") o.app.workspace = value("--workspace");
    else if (a == "--compare-workspace") o.app.compare_workspace = value("--compare-workspace");
    else if (a == "--screenshot") o.screenshot = value("--screenshot");
    else if (a == "--script") o.script = value("--script");
    else if (a == "--frame-stats") o.frame_stats = true;
    else if (a == "--ui-scale") {
      const std::string v = value("--ui-scale");
      char* end = nullptr;
      const double s = std::strtod(v.c_str(), &end);
      if (*end || !(s >= 0.5 && s <= 4)) {
        std::fprintf(stderr, "moescope: --ui-scale expects a factor from 0.5 to 4, got '%s'\n", v.c_str());
        std::exit(2);
      }
      o.ui_scale = float(s);
    }
    else if (a == "--frames") {
      const std::string v = value("--frames");
      char* end = nullptr;
      const long n = std::strtol(v.c_str(), &end, 10);
      if (*end || n < 1 || n > 100000) {
        std::fprintf(stderr, "moescope: --frames expects a count from 1 to 100000, got '%s'\n", v.c_str());
        std::exit(2);
      }
      o.min_frames = int(n);
    }
    else if (a == "--view") {
      const std::string v = value("--view");
      o.view_given = true;
      if (!moescope::gui::parse_view(v, &o.view)) {
        std::fprintf(stderr, "moescope: unknown view '%s' (model, text, corpus, groups, subsets, compare, explore)\n", v.c_str());
        std::exit(2);
      }
    } else if (a == "--help" || a == "-h") {
      std::printf(
          "usage: moescope [--model DIR] [--text T | --text-file F] [--workspace WS.moescope] [--compare-workspace WS]\n"
          "                [--view model|text|corpus|groups|subsets|compare|explore] [--script FILE] [--screenshot OUT.png]\n"
          "                [--frames N] [--frame-stats] [--ui-scale F]\n"
          "keys: Ctrl+1..7 the views (model, text, corpus, groups, subsets, compare, explore); Ctrl+= / Ctrl+- / Ctrl+0\n"
          "      UI scale larger / smaller / as at start (remembered for the next start)\n");
      std::exit(0);
    } else {
      std::fprintf(stderr, "moescope: unknown option '%s' (try --help)\n", a.c_str());
      std::exit(2);
    }
  }
  return o;
}

// Ctrl+1..7: the views in tab order; Ctrl+= / Ctrl+- / Ctrl+0: UI scale up / down / as started.
void handle_shortcuts(moescope::gui::App& app, ImGuiIO& io) {
  if (!io.KeyCtrl) return;
  using moescope::gui::View;
  const View views[] = {View::Model, View::Text, View::Corpus, View::Groups, View::Subsets, View::Compare, View::Explore};
  for (int i = 0; i < 7; ++i)
    if (ImGui::IsKeyPressed(GLFW_KEY_1 + i, false)) app.select_view(views[i]);
  if (ImGui::IsKeyPressed(GLFW_KEY_EQUAL, false) || ImGui::IsKeyPressed(GLFW_KEY_KP_ADD, false))
    io.FontGlobalScale = std::min(io.FontGlobalScale * 1.1f, 3.f);
  if (ImGui::IsKeyPressed(GLFW_KEY_MINUS, false) || ImGui::IsKeyPressed(GLFW_KEY_KP_SUBTRACT, false))
    io.FontGlobalScale = std::max(io.FontGlobalScale / 1.1f, 0.4f);
  if (ImGui::IsKeyPressed(GLFW_KEY_0, false)) io.FontGlobalScale = 1.f;
}

std::vector<std::string> read_script(const std::string& path) {
  std::vector<std::string> lines;
  if (path.empty()) return lines;
  std::ifstream in(path);
  if (!in) {
    std::fprintf(stderr, "moescope: cannot read the script %s\n", path.c_str());
    std::exit(2);
  }
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace

int main(int argc, char** argv) {
  moescope::match_blas_kernels_to_cpu(argv);
  Options opt = parse_options(argc, argv);
  std::vector<std::string> script = read_script(opt.script);
  const std::string emo = default_model(argv[0]);
  opt.app.emo_sample = emo;
  opt.app.std_sample = (fs::path(emo).parent_path() / "std-sample").string();
  // The sample corpus beside the sample models, so the Corpus view's default works from any folder.
  opt.app.sample_corpus = (fs::path(emo).parent_path().parent_path() / "corpus" / "heldout.jsonl").string();
  if (opt.app.model_dir.empty()) opt.app.model_dir = emo;
  const std::string model = opt.app.model_dir;
  const bool headless_run = !opt.screenshot.empty() || !opt.script.empty();
  nlohmann::json session = headless_run ? nlohmann::json::object() : read_session();
  const int win_w = std::clamp(session.value("width", 1500), 640, 8192), win_h = std::clamp(session.value("height", 940), 480, 8192);
  if (!opt.view_given && session.contains("view") && session["view"].is_string())
    moescope::gui::parse_view(session["view"].get<std::string>(), &opt.view);
  glfwSetErrorCallback(on_glfw_error);
  if (!glfwInit()) {
    std::fprintf(stderr,
                 "moescope: cannot open a window (%s): no display here.\n"
                 "No display? Everything is available headless through moescope-cli, for example:\n"
                 "  moescope-cli info --model %s\n"
                 "  moescope-cli route --model %s --text 'Some text'\n"
                 "  moescope-cli trace --model %s --corpus samples/corpus/heldout.jsonl --workspace ws.moescope\n"
                 "  moescope-cli analyze --workspace ws.moescope\n",
                 glfw_error.c_str(), model.c_str(), model.c_str(), model.c_str());
    return 1;
  }
  glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
  glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 3);
  glfwWindowHint(GLFW_OPENGL_PROFILE, GLFW_OPENGL_CORE_PROFILE);
  GLFWwindow* window = glfwCreateWindow(win_w, win_h, "moescope", nullptr, nullptr);
  if (!window) {
    std::fprintf(stderr, "moescope: cannot create an OpenGL 3.3 window (%s)\n", glfw_error.c_str());
    glfwTerminate();
    return 1;
  }
  glfwMakeContextCurrent(window);
  glfwSwapInterval(1);
  // UI scale: --ui-scale, else the one remembered, else the monitor's (HiDPI: 2 on a 200% screen).
  // Fonts are rasterised at that size, so text stays sharp; Ctrl+= / Ctrl+- adjust it while running.
  float base_scale = opt.ui_scale;
  if (base_scale <= 0 && session.contains("ui_scale") && session["ui_scale"].is_number())
    base_scale = std::clamp(session["ui_scale"].get<float>(), 0.5f, 4.f);
  if (base_scale <= 0 && !headless_run) {
    float sx = 1, sy = 1;
    glfwGetWindowContentScale(window, &sx, &sy);
    base_scale = std::clamp(sx, 1.f, 4.f);
  }
  if (base_scale <= 0) base_scale = 1;

  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  ImGuiIO& io = ImGui::GetIO();
  static const std::string ini = config_dir() + "/imgui.ini";  // ImGui keeps the pointer
  io.IniFilename = headless_run ? nullptr : ini.c_str();  // scripted runs and screenshots use the default layout
  // Glyphs beyond Latin-1 that DejaVu Sans has (corpora hold German, Spanish, Polish, Russian,
  // Greek text; ImGui rasterises only the ranges asked for, and shows '?' for the rest).
  static ImVector<ImWchar> glyphs;  // ImGui keeps the pointer until the atlas is built
  {
    ImFontGlyphRangesBuilder ranges;
    ranges.AddRanges(io.Fonts->GetGlyphRangesDefault());
    ranges.AddRanges(io.Fonts->GetGlyphRangesCyrillic());
    static const ImWchar more[] = {0x0100, 0x024F, 0x0370, 0x03FF, 0x2000, 0x206F, 0x20A0, 0x20CF, 0x2190, 0x22FF, 0};
    ranges.AddRanges(more);
    ranges.BuildRanges(&glyphs);
  }
  for (const char* f : {"/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"})
    if (fs::exists(f)) io.Fonts->AddFontFromFileTTF(f, 16.f * base_scale, nullptr, glyphs.Data);
  ImGui::StyleColorsDark();
  ImGui::GetStyle().ScaleAllSizes(base_scale);
  ImGui_ImplGlfw_InitForOpenGL(window, true);
  ImGui_ImplOpenGL3_Init("#version 330");
  keep_gl_driver_loaded();

  int exit_code = 0;
  {
    moescope::gui::App app(opt.app);
    app.select_view(opt.view);
    size_t next_command = 0;
    std::string png_next;  // interactive: a window PNG to write after the next frame
    int idle_frames = 0;
    std::vector<double> frame_ms;
    const auto started = std::chrono::steady_clock::now();
    for (int frame = 0; !glfwWindowShouldClose(window); ++frame) {
      // Idle (no job running, layouts settled), a window on screen sleeps until input arrives or
      // two seconds pass, instead of redrawing at the display's rate.
      if (!headless_run && idle_frames >= 3) {
        // Woken before the timeout means input: draw a few frames (ImGui shows a new popup or
        // tooltip from its second frame on).
        const auto slept = std::chrono::steady_clock::now();
        glfwWaitEventsTimeout(2.0);
        if (std::chrono::steady_clock::now() - slept < std::chrono::milliseconds(1900)) idle_frames = 0;
      } else {
        glfwPollEvents();
      }
      const auto t0 = std::chrono::steady_clock::now();
      ImGui_ImplOpenGL3_NewFrame();
      ImGui_ImplGlfw_NewFrame();
      if (headless_run) io.MousePos = ImVec2(-FLT_MAX, -FLT_MAX);  // no stray tooltips where Xvfb parks the cursor
      ImGui::NewFrame();
      handle_shortcuts(app, io);
      app.frame();
      ImGui::Render();
      // Frame statistics count frames showing finished results (not those waiting on a job).
      if (!app.busy()) frame_ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      int w = 0, h = 0;
      glfwGetFramebufferSize(window, &w, &h);
      glViewport(0, 0, w, h);
      glClearColor(0.10f, 0.10f, 0.12f, 1.f);
      glClear(GL_COLOR_BUFFER_BIT);
      ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
      idle_frames = app.busy() ? 0 : idle_frames + 1;
      // A figure's "Save the window as PNG": written one frame later, once its menu has closed.
      if (!headless_run) {
        if (!png_next.empty()) {
          auto& ex = moescope::gui::figure_exports();
          ex.last_message = save_screenshot(window, png_next) ? "wrote " + fs::absolute(png_next).lexically_normal().string()
                                                               : "cannot write " + png_next;
          png_next.clear();
        }
        png_next = app.screenshot_request();
        if (!png_next.empty()) idle_frames = 0;  // draw the next frame now
      }
      // Scripted runs and screenshots act once the app has been idle for a few frames (layouts settle).
      if (headless_run && idle_frames >= 3) {
        auto save = [&](const std::string& path) {
          if (save_screenshot(window, path)) {
            std::printf("wrote %s\n", path.c_str());
          } else {
            std::fprintf(stderr, "moescope: cannot write %s\n", path.c_str());
            exit_code = 1;
          }
        };
        if (const std::string script_shot = app.screenshot_request(); !script_shot.empty()) {
          save(script_shot);
        } else if (next_command < script.size()) {
          const std::string err = app.run_command(script[next_command]);
          if (!err.empty()) {
            std::fprintf(stderr, "moescope: script line %zu: %s\n", next_command + 1, err.c_str());
            exit_code = 1;
          }
          ++next_command;
          idle_frames = 0;
        } else if (opt.screenshot.empty()) {
          break;  // the script is done
        } else if (idle_frames >= opt.min_frames) {
          save(opt.screenshot);
          break;
        }
        if (app.quit_requested()) break;
      }
      if (headless_run && std::chrono::steady_clock::now() - started > std::chrono::minutes(5)) {
        std::fprintf(stderr, "moescope: gave up waiting for the background work (5 minutes)\n");
        exit_code = 1;
        break;
      }
      glfwSwapBuffers(window);
      if (headless_run) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (!headless_run) {
      int w = 0, h = 0;
      glfwGetWindowSize(window, &w, &h);
      std::string v = moescope::gui::view_name(app.current_view());
      for (char& c : v) c = char(std::tolower(static_cast<unsigned char>(c)));
      write_session({{"width", w}, {"height", h}, {"view", v}, {"ui_scale", std::clamp(base_scale * io.FontGlobalScale, 0.5f, 4.f)}});
    }
    if (opt.frame_stats && !frame_ms.empty()) {
      std::vector<double> v = frame_ms;
      std::sort(v.begin(), v.end());
      std::printf("frames %zu: UI time per frame median %.2f ms, p95 %.2f ms, max %.2f ms\n", v.size(), v[v.size() / 2],
                  v[std::min(v.size() - 1, v.size() * 95 / 100)], v.back());
    }
  }
  ImGui_ImplOpenGL3_Shutdown();
  ImGui_ImplGlfw_Shutdown();
  ImGui::DestroyContext();
  glfwDestroyWindow(window);
  glfwTerminate();
  return exit_code;
}
