// render_ablation.h — `render --what ablation`: % loss increase vs experts kept, from the stored
// ablation points of one workspace or two (two models overlaid), titled with model and workspace.
#pragma once

#include <string>

#include "analysis/workspace.h"

namespace moescope::cli {

struct AblationFigure {
  std::string domain;       // "" = the mean over domains
  std::string compare;      // a second workspace to overlay ("" = none)
  int marker_k = 0;         // a budget to mark (0 = none)
};

// "emo-sample (emo.moescope)": the traced model's folder and the workspace's file name, as the
// rendered figures name them.
std::string model_and_workspace(Workspace& ws);

// Throws Error naming the workspace when it has no ablation results (for that domain).
void render_ablation(Workspace& ws, const AblationFigure& fig, const std::string& png_path);

}  // namespace moescope::cli
