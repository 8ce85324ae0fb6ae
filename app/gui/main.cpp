// main.cpp — `moescope`, the desktop app: GLFW window + OpenGL 3.3 + Dear ImGui.
//   moescope [--model DIR] [--text T] [--workspace WS.moescope] [--screenshot OUT.png [--frames N]]
// --screenshot renders N frames (default 60), writes the window as PNG and exits: how the app is
// checked on machines without a screen (under Xvfb). Without a display it says so and points to
// moescope-cli.
#include <GLFW/glfw3.h>
#include <imgui.h>
#include <imgui_impl_glfw.h>
#include <imgui_impl_opengl3.h>
#include <stb/stb_image_write.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "app/gui/app.h"

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

std::string ini_path() {
  const char* xdg = std::getenv("XDG_CONFIG_HOME");
  const char* home = std::getenv("HOME");
  fs::path dir = xdg && *xdg ? fs::path(xdg) : (home ? fs::path(home) / ".config" : fs::temp_directory_path());
  dir /= "moescope";
  std::error_code ec;
  fs::create_directories(dir, ec);
  return (dir / "imgui.ini").string();
}

bool save_screenshot(GLFWwindow* w, const std::string& path) {
  int width = 0, height = 0;
  glfwGetFramebufferSize(w, &width, &height);
  std::vector<unsigned char> px(size_t(width) * size_t(height) * 3);
  glPixelStorei(GL_PACK_ALIGNMENT, 1);
  glReadPixels(0, 0, width, height, GL_RGB, GL_UNSIGNED_BYTE, px.data());
  stbi_flip_vertically_on_write(1);  // OpenGL rows are bottom-up
  const std::string tmp = path + ".tmp-" + std::to_string(::getpid());
  if (!stbi_write_png(tmp.c_str(), width, height, 3, px.data(), width * 3)) return false;
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

const char* kSampleText =
    "def route(tokens, experts):\n    return [max(experts, key=lambda e: e.score(t)) for t in tokens]\n\n"
    "In the beginning God created the heaven and the earth.\n\n"
    "Die Experten eines Mischmodells teilen sich die Arbeit: jedes Token geht an wenige.";

}  // namespace

int main(int argc, char** argv) {
  std::string model, text = kSampleText, screenshot, workspace;
  int frames = 60;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](const char* name) -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "moescope: %s needs a value\n", name);
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--model") model = value("--model");
    else if (a == "--text") text = value("--text");
    else if (a == "--screenshot") screenshot = value("--screenshot");
    else if (a == "--workspace") workspace = value("--workspace");
    else if (a == "--frames") frames = std::max(1, std::atoi(value("--frames").c_str()));
    else if (a == "--help" || a == "-h") {
      std::printf("usage: moescope [--model DIR] [--text T] [--workspace WS.moescope] [--screenshot OUT.png [--frames N]]\n");
      return 0;
    } else {
      std::fprintf(stderr, "moescope: unknown option '%s' (try --help)\n", a.c_str());
      return 2;
    }
  }
  if (model.empty()) model = default_model(argv[0]);

  glfwSetErrorCallback(on_glfw_error);
  if (!glfwInit()) {
    std::fprintf(stderr,
                 "moescope: cannot open a window (%s).\n"
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
  GLFWwindow* window = glfwCreateWindow(1500, 940, "moescope", nullptr, nullptr);
  if (!window) {
    std::fprintf(stderr, "moescope: cannot create an OpenGL 3.3 window (%s)\n", glfw_error.c_str());
    glfwTerminate();
    return 1;
  }
  glfwMakeContextCurrent(window);
  glfwSwapInterval(1);

  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  ImGuiIO& io = ImGui::GetIO();
  static const std::string ini = ini_path();  // ImGui keeps the pointer
  io.IniFilename = screenshot.empty() ? ini.c_str() : nullptr;  // screenshots use the default layout
  for (const char* f : {"/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"})
    if (fs::exists(f)) io.Fonts->AddFontFromFileTTF(f, 16.f);
  ImGui::StyleColorsDark();
  ImGui_ImplGlfw_InitForOpenGL(window, true);
  ImGui_ImplOpenGL3_Init("#version 330");

  int exit_code = 0;
  {
    moescope::gui::App app(model, text, workspace);
    for (int frame = 0; !glfwWindowShouldClose(window); ++frame) {
      glfwPollEvents();
      ImGui_ImplOpenGL3_NewFrame();
      ImGui_ImplGlfw_NewFrame();
      ImGui::NewFrame();
      app.frame();
      ImGui::Render();
      int w = 0, h = 0;
      glfwGetFramebufferSize(window, &w, &h);
      glViewport(0, 0, w, h);
      glClearColor(0.10f, 0.10f, 0.12f, 1.f);
      glClear(GL_COLOR_BUFFER_BIT);
      ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
      if (!screenshot.empty() && frame + 1 >= frames) {
        if (!save_screenshot(window, screenshot)) {
          std::fprintf(stderr, "moescope: cannot write %s\n", screenshot.c_str());
          exit_code = 1;
        } else {
          std::printf("wrote %s\n", screenshot.c_str());
        }
        break;
      }
      glfwSwapBuffers(window);
      // Screenshots wait for the first routing result so the picture shows it.
      if (!screenshot.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  ImGui_ImplOpenGL3_Shutdown();
  ImGui_ImplGlfw_Shutdown();
  ImGui::DestroyContext();
  glfwDestroyWindow(window);
  glfwTerminate();
  return exit_code;
}
