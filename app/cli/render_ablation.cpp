// render_ablation.cpp — the ablation figure (render_ablation.h).
#include "app/cli/render_ablation.h"

#include <filesystem>
#include <map>
#include <set>

#include "analysis/ablation_summary.h"
#include "app/render/figures.h"
#include "engine/closest_names.h"
#include "engine/error.h"

namespace fs = std::filesystem;

namespace moescope::cli {

std::string model_and_workspace(Workspace& ws) {
  std::string model = "model";
  try {
    model = fs::path(ws.run_info()["model"]["path"].get<std::string>()).filename().string();
  } catch (const std::exception&) {
  }
  return model + " (" + fs::path(ws.path()).filename().string() + ")";
}

namespace {

AblationCurves curves_of(Workspace& ws, const std::string& domain) {
  const std::vector<AblationPoint> points = stored_ablations(ws);
  AblationCurves c = ablation_curves(points, domain);
  if (c.empty()) {
    std::set<std::string> ablated;
    for (const AblationPoint& p : points) ablated.insert(p.domain);
    const std::string hint = domain.empty() ? "" : did_you_mean(domain, {ablated.begin(), ablated.end()});
    fail(ws.path(), "no ablation results" + (domain.empty() ? "" : " for '" + domain + "'") +
                        (hint.empty() ? " (run `moescope-cli subset ablate` first)" : "; " + hint));
  }
  return c;
}

// One colour per model and method: model A blues, model B reds; the random subsets lighter.
render::Rgb method_color(size_t source, const std::string& method) {
  static const std::map<std::string, int> index = {{"global_mean_prob", 0}, {"greedy_layerwise", 1}, {"easy_ep", 2}, {"random", 3}};
  static const render::Rgb a[] = {{31, 119, 180}, {23, 190, 207}, {148, 103, 189}, {120, 170, 215}};
  static const render::Rgb b[] = {{214, 39, 40}, {255, 127, 14}, {140, 86, 75}, {235, 140, 130}};
  const auto it = index.find(method);
  const int i = it == index.end() ? 0 : it->second;
  return source == 0 ? a[i] : b[i];
}

}  // namespace

void render_ablation(Workspace& ws, const AblationFigure& fig, const std::string& png_path) {
  struct Source {
    std::string name;
    AblationCurves curves;
  };
  std::vector<Source> sources{{model_and_workspace(ws), curves_of(ws, fig.domain)}};
  if (!fig.compare.empty()) {
    Workspace other(fig.compare, false);
    sources.push_back({model_and_workspace(other), curves_of(other, fig.domain)});
  }
  render::LinePlotSpec p;
  const AblationCurves& first = sources.front().curves;
  p.title = sources.front().name + (sources.size() > 1 ? " vs " + sources.back().name : "") + ": " +
            (fig.domain.empty() ? "mean over " + std::to_string(first.domains.size()) + (first.domains.size() == 1 ? " domain" : " domains")
                                : fig.domain);
  p.x_label = "standard experts kept per layer (k; the last is all of them)";
  p.y_label = "% loss increase over the full model (bits per byte)";
  p.log2_x = true;
  double kmin = 1e9, kmax = 0;
  for (size_t si = 0; si < sources.size(); ++si) {
    const Source& s = sources[si];
    const std::string prefix = sources.size() > 1 ? s.name.substr(0, s.name.find(' ')) + ": " : "";
    for (const auto& [method, curve] : s.curves.by_method) {
      render::Series line;
      line.name = prefix + ablation_method_label(method);
      const bool random = method == "random";
      line.color = method_color(si, method);
      line.dashed = random;
      for (const AblationCurvePoint& c : curve) {
        line.x.push_back(c.k);
        line.y.push_back(c.increase_pct);
        if (random) line.band_low.push_back(c.min_pct), line.band_high.push_back(c.max_pct);
        kmin = std::min(kmin, double(c.k));
      }
      if (s.curves.full_k > 0) {  // every curve ends at the full model: k = Es, 0%
        line.x.push_back(s.curves.full_k);
        line.y.push_back(0);
        if (random) line.band_low.push_back(0), line.band_high.push_back(0);
        kmax = std::max(kmax, double(s.curves.full_k));
      }
      p.series.push_back(line);
    }
  }
  if (kmax > 0 && kmin < kmax) p.series.push_back({"full model (0%)", {kmin, kmax}, {0, 0}, {90, 90, 90}, true, {}, {}});
  if (fig.marker_k > 0) {
    p.marker_x = fig.marker_k;
    p.marker_label = "k = " + std::to_string(fig.marker_k);
  }
  p.subtitle = "each domain against its own full model" + std::string(fig.domain.empty() ? ", then averaged" : "") +
               "; random subsets: mean of seeds, spread shaded";
  render::draw_line_plot(p, png_path);
}

}  // namespace moescope::cli
