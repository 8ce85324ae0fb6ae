// app.cpp — model loading and the Model view; window placement on first use.
#include "app/gui/app.h"

#include <imgui.h>

#include <cstring>

#include "engine/error.h"

namespace moescope::gui {

App::App(const std::string& model_dir, const std::string& initial_text, const std::string& workspace) : text_(initial_text) {
  std::snprintf(path_buf_, sizeof path_buf_, "%s", model_dir.c_str());
  std::snprintf(ws_buf_, sizeof ws_buf_, "%s", workspace.c_str());
  load(model_dir);
  if (!workspace.empty()) corpus_.open(workspace);
}

void App::load(const std::string& dir) {
  try {
    auto m = std::shared_ptr<const Model>(Model::load(dir).release());
    if (!m->tokenizer()) fail(dir, "has no tokenizer.json (needed to route text)");
    router_.reset();  // the old worker finishes before its model goes
    model_ = std::move(m);
    model_dir_ = dir;
    load_error_.clear();
    router_ = std::make_unique<TextRouter>(model_);
    router_->submit(text_, std::chrono::milliseconds(0));
    layer_ = 0;
    pinned_ = -1;
  } catch (const Error& e) {
    load_error_ = e.what();
  }
}

void App::frame() {
  if (first_frame_) {  // a sensible first layout; afterwards imgui.ini remembers the user's
    ImGui::SetNextWindowPos(ImVec2(10, 10), ImGuiCond_FirstUseEver);
    ImGui::SetNextWindowSize(ImVec2(430, 330), ImGuiCond_FirstUseEver);
  }
  view_model();
  if (first_frame_) {
    ImGui::SetNextWindowPos(ImVec2(450, 10), ImGuiCond_FirstUseEver);
    ImGui::SetNextWindowSize(ImVec2(1040, 560), ImGuiCond_FirstUseEver);
  }
  view_text();
  if (first_frame_) {
    ImGui::SetNextWindowPos(ImVec2(10, 350), ImGuiCond_FirstUseEver);
    ImGui::SetNextWindowSize(ImVec2(430, 580), ImGuiCond_FirstUseEver);
  }
  view_heatmap();
  if (first_frame_) {
    ImGui::SetNextWindowPos(ImVec2(450, 580), ImGuiCond_FirstUseEver);
    ImGui::SetNextWindowSize(ImVec2(1040, 350), ImGuiCond_FirstUseEver);
  }
  view_corpus();
  first_frame_ = false;
}

void App::view_model() {
  ImGui::Begin("Model");
  ImGui::InputText("folder", path_buf_, sizeof path_buf_);
  ImGui::SameLine();
  if (ImGui::Button("Load")) load(path_buf_);
  if (!load_error_.empty()) ImGui::TextColored(ImVec4(1, 0.4f, 0.4f, 1), "%s", load_error_.c_str());
  if (model_) {
    const ModelConfig& c = model_->config();
    ImGui::Separator();
    ImGui::Text("%s", model_dir_.c_str());
    ImGui::Text("architecture  %s", c.model_type.c_str());
    int moe = 0;
    for (const auto& l : c.layers) moe += l.is_moe();
    ImGui::Text("layers        %d (%d MoE)", c.num_layers, moe);
    ImGui::Text("hidden        %d, %d heads", c.hidden_size, c.num_heads);
    ImGui::Text("vocabulary    %d, context %d", c.vocab_size, c.max_position_embeddings);
    ImGui::Text("top-k         %d", c.top_k);
    if (!c.layers.empty())
      ImGui::Text("experts       %d per layer (%d shared)", c.layers.back().num_experts, c.layers.back().num_shared);
  }
  ImGui::End();
}

}  // namespace moescope::gui
