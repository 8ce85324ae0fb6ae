// widget_graph.h — a node-link graph laid out by force (Fruchterman-Reingold), drawn with
// ImDrawList: nodes repel, edges pull, a few layout steps per frame until it settles, so the UI
// stays responsive and the picture animates into place. Used for expert co-activation.
#pragma once

#include <imgui.h>

#include <cstdint>
#include <string>
#include <vector>

namespace moescope::gui {

struct GraphEdge {
  int a = 0, b = 0;
  float weight = 1;  // > 0; heavier edges pull harder and are drawn thicker
};

class ForceGraph {
 public:
  // New nodes/edges: positions restart from a seeded circle (deterministic pictures).
  void reset(int nodes, std::vector<GraphEdge> edges, uint64_t seed = 7);
  // Runs `steps` layout iterations (cheap: nodes^2 per step); returns true once settled.
  bool step(int steps);
  bool settled() const { return temperature_ < 1e-3f; }
  // Draws into a canvas of `size` at the cursor: edges heavier than min_weight, nodes coloured;
  // returns the clicked node or -1; *hovered gets the node under the mouse or -1.
  int draw(const char* id, ImVec2 size, const std::vector<ImU32>& colors, const std::vector<std::string>& labels,
           float min_weight, int selected, int* hovered) const;
  // Edges heavier than min_weight.
  size_t edges_above(float min_weight) const;
  int nodes() const { return int(pos_.size()); }
  const std::vector<GraphEdge>& edges() const { return edges_; }

 private:
  std::vector<ImVec2> pos_;  // in the unit square
  std::vector<GraphEdge> edges_;
  float temperature_ = 0;
};

}  // namespace moescope::gui
