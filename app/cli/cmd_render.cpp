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
#include "app/render/figures.h"
#include "engine/closest_names.h"
#include "engine/error.h"

namespace moescope::cli {

using render::HeatmapSpec;

namespace {

size_t pick_layer(const Args& args, const TraceData& td) {
  const int want = args.get_int("layer", td.layers[td.layers.size() / 2].layer, 0);
  for (size_t l = 0; l < td.layers.size(); ++l)
    if (td.layers[l].layer == want) return l;
  std::string have;
  for (const auto& l : td.layers) have += (have.empty() ? "" : ", ") + std::to_string(l.layer);
  fail_expected("--layer", "not a MoE layer of the traced model", "one of " + have, std::to_string(want));
}

std::vector<std::string> expert_labels(int n) {
  std::vector<std::string> out;
  for (int e = 0; e < n; ++e) out.push_back(std::to_string(e));
  return out;
}

}  // namespace

int cmd_render(const std::vector<std::string>& argv) {
  Args args(argv, {}, {"workspace", "what", "layer", "level", "domain", "out", "compare-workspace", "k"});
  const std::string what = args.require("what"), out = args.require("out");
  Workspace ws(args.require("workspace"), false);
  const TraceData td = load_trace(ws);
  const std::string layer_word = "layer ";
  if (what == "domain-heatmap" || what == "similarity" || what == "coactivation") {
    const size_t l = pick_layer(args, td);
    const int layer = td.layers[l].layer, Es = td.layers[l].num_standard;
    HeatmapSpec h;
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
    h.subtitle = model_and_workspace(ws);
    render::draw_heatmap(h, out);
  } else if (what == "entropy" || what == "above-uniform") {
    const auto stats = domain_stats(td, 0.9);
    HeatmapSpec h;
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
    h.subtitle = model_and_workspace(ws);
    render::draw_heatmap(h, out);
  } else if (what == "ablation") {
    AblationFigure fig;
    fig.domain = args.get("domain").value_or("");
    fig.compare = args.get("compare-workspace").value_or("");
    fig.marker_k = args.get_int("k", 0, 1);
    render_ablation(ws, fig, out);
  } else {
    usage_fail_expected("--what", "unknown figure", "domain-heatmap, similarity, coactivation, entropy, above-uniform or ablation", what);
  }
  std::printf("wrote %s\n", out.c_str());
  return 0;
}

}  // namespace moescope::cli
