// app.h — the moescope desktop app: state shared by the views, and one frame of UI.
// Views today: Model (what is loaded), Text (type and watch the experts fire), Routing heatmap,
// Corpus (a traced workspace: domain x expert, domain similarity).
#pragma once

#include <memory>
#include <string>

#include "app/gui/corpus_loader.h"
#include "app/gui/text_router.h"
#include "engine/model.h"

namespace moescope::gui {

class App {
 public:
  App(const std::string& model_dir, const std::string& initial_text, const std::string& workspace);
  void frame();  // draws every window; never blocks on the model

 private:
  void load(const std::string& dir);
  void view_model();
  void view_text();
  void view_heatmap();
  void view_corpus();
  void token_tooltip(const RoutedText& r, size_t t);

  std::string model_dir_, load_error_;
  std::shared_ptr<const Model> model_;
  std::unique_ptr<TextRouter> router_;
  std::string text_;
  char path_buf_[1024] = {};
  int layer_ = 0;          // index into the routed layers (MoE layers)
  int pinned_ = -1;        // pinned token, -1 = none
  bool first_frame_ = true;
  CorpusLoader corpus_;
  char ws_buf_[1024] = {};
  int corpus_layer_ = 0;
};

}  // namespace moescope::gui
