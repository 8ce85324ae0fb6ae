// cmd_render.cpp — `moescope-cli render`: the key figures of a workspace as PNG, without a display.
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <set>

#include "analysis/coactivation.h"
#include "analysis/domain_stats.h"
#include "app/cli/commands.h"
#include "app/cli/render_ablation.h"
#include "app/render/column_order.h"
#include "app/render/figures.h"
#include "engine/closest_names.h"
#include "engine/error.h"

namespace moescope::cli {

using render::HeatmapSpec;

namespace {

// The index in td of MoE layer `layer`, or an error naming the workspace's layers.
size_t layer_index(const TraceData& td, int layer, const std::string& workspace) {
  for (size_t l = 0; l < td.layers.size(); ++l)
    if (td.layers[l].layer == layer) return l;
  std::string have;
  for (const auto& l : td.layers) have += (have.empty() ? "" : ", ") + std::to_string(l.layer);
  fail_expected("--layer", "not a MoE layer of the model traced in " + workspace, "one of " + have, std::to_string(layer));
}

std::vector<std::string> expert_labels(int n) {
  std::vector<std::string> out;
  for (int e = 0; e < n; ++e) out.push_back(std::to_string(e));
  return out;
}

// One heatmap of a workspace: `l` indexes td's MoE layers (for the per-layer figures).
HeatmapSpec heatmap_figure(const std::string& what, const Args& args, Workspace& ws, const TraceData& td, size_t l, bool blocks) {
  HeatmapSpec h;
  if (what == "domain-heatmap" || what == "similarity" || what == "coactivation") {
    const int layer = td.layers[l].layer, Es = td.layers[l].num_standard;
    if (what == "coactivation") {
      const std::string level = args.get("level").value_or("token");
      if (level != "token" && level != "document") usage_fail_expected("--level", "unknown", "token or document", level);
      Coactivation c = level == "token" ? token_coactivation(td, l) : document_coactivation(td, l, 0.9);
      for (int e = 0; e < Es; ++e) c.pmi[size_t(e)][size_t(e)] = std::numeric_limits<double>::quiet_NaN();
      h.values = c.pmi;
      h.title = "Layer " + std::to_string(layer) + ": expert co-activation (" + level + " level, PMI)";
      h.x_label = h.y_label = "expert";
      h.row_labels = h.col_labels = expert_labels(Es);
      h.value_label = "PMI (nats)";
      h.palette = render::Palette::Diverging;
      h.symmetric = true;
    } else {
      const auto stats = domain_stats(td, 0.9);
      for (const auto& s : stats) h.row_labels.push_back(s.domain);
      if (what == "domain-heatmap") {
        for (const auto& s : stats) h.values.push_back(s.layers[l].mean_prob);
        h.title = "Layer " + std::to_string(layer) + ": mean routing probability per domain";
        h.x_label = "expert";
        h.col_labels = expert_labels(Es);
        h.value_label = "mean prob.";
      } else {
        h.values = domain_similarity(stats, l);
        h.col_labels = h.row_labels;
        h.title = "Layer " + std::to_string(layer) + ": domain similarity (cosine of mean probabilities)";
        h.x_label = "domain";
        h.value_label = "cosine";
      }
      h.y_label = "domain";
    }
  } else if (what == "entropy" || what == "above-uniform") {
    const auto stats = domain_stats(td, 0.9);
    for (const auto& s : stats) {
      h.row_labels.push_back(s.domain);
      std::vector<double> row;
      for (const auto& ls : s.layers) row.push_back(what == "entropy" ? ls.doc_entropy_bits : ls.doc_above_uniform);
      h.values.push_back(row);
    }
    for (const auto& l : td.layers) h.col_labels.push_back(std::to_string(l.layer));
    h.title = what == "entropy" ? "Per-document routing entropy (bits), mean per domain"
                                : "Experts above uniform per document, mean per domain";
    h.x_label = "layer";
    h.y_label = "domain";
    h.value_label = what == "entropy" ? "bits" : "experts";
  }
  if (blocks) {  // experts grouped by the domain they serve most, as the EMO paper draws them
    const auto& v = h.values;
    render::reorder_columns(h.values, h.col_labels,
                            render::columns_in_blocks(int(v.size()), int(v[0].size()), [&](int r, int c) { return v[size_t(r)][size_t(c)]; }));
    h.x_label = "expert (in blocks by the domain it serves most)";
  }
  h.subtitle = model_and_workspace(ws);
  return h;
}

}  // namespace

int cmd_render(const std::vector<std::string>& argv) {
  Args args(argv, {}, {"workspace", "what", "layer", "level", "domain", "out", "compare-workspace", "k", "order"});
  const std::string what = args.require("what"), out = args.require("out");
  const bool heatmap = what == "domain-heatmap" || what == "similarity" || what == "coactivation" || what == "entropy" ||
                       what == "above-uniform";
  if (!heatmap && what != "ablation")
    usage_fail_expected("--what", "unknown figure", "domain-heatmap, similarity, coactivation, entropy, above-uniform or ablation", what);
  const std::string order = args.get("order").value_or("id");
  if (order != "id" && order != "blocks") usage_fail_expected("--order", "unknown expert order", "id or blocks", order);
  if (order == "blocks" && what != "domain-heatmap")
    usage_fail_expected("--order", "blocks orders the experts of a domain heatmap", "--what domain-heatmap", what);
  const std::string workspace = args.require("workspace");
  Workspace ws(workspace, false);
  if (what == "ablation") {
    AblationFigure fig;
    fig.domain = args.get("domain").value_or("");
    fig.compare = args.get("compare-workspace").value_or("");
    fig.marker_k = args.get_int("k", 0, 1);
    render_ablation(ws, fig, out);
  } else {
    const TraceData td = load_trace(ws);
    // The per-layer figures show one MoE layer (by default the middle one), the same in both workspaces.
    const bool per_layer = what == "domain-heatmap" || what == "similarity" || what == "coactivation";
    const int layer = args.get_int("layer", td.layers[td.layers.size() / 2].layer, 0);
    auto index = [&](const TraceData& t, const std::string& name) { return per_layer ? layer_index(t, layer, name) : 0; };
    std::vector<HeatmapSpec> panels{heatmap_figure(what, args, ws, td, index(td, workspace), order == "blocks")};
    // A second workspace (another model over the same corpus): side by side on one colour scale.
    if (const auto other = args.get("compare-workspace")) {
      Workspace ws2(*other, false);
      const TraceData td2 = load_trace(ws2);
      panels.push_back(heatmap_figure(what, args, ws2, td2, index(td2, *other), order == "blocks"));
    }
    render::draw_heatmaps(panels, out);
  }
  std::printf("wrote %s\n", out.c_str());
  return 0;
}

}  // namespace moescope::cli
