// cmd_render.cpp — `moescope-cli render`: the key figures of a workspace as PNG, without a display.
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <set>

#include "analysis/coactivation.h"
#include "analysis/domain_stats.h"
#include "app/cli/commands.h"
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
  Args args(argv, {}, {"workspace", "what", "layer", "level", "domain", "out"});
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
    render::draw_heatmap(h, out);
  } else if (what == "ablation") {
    const std::string domain = args.get("domain").value_or("");
    SqliteStmt st(ws.db(), "SELECT domain, method, k, bits_per_byte FROM ablations");
    // method -> k -> (sum, count), averaged over seeds and (without --domain) domains
    std::map<std::string, std::map<int, std::pair<double, int>>> acc;
    std::map<std::string, int> domains;
    std::set<std::string> ablated;  // every domain with results (suggestions for a mistyped --domain)
    while (st.step()) {
      ablated.insert(st.column_text(0));
      if (!domain.empty() && st.column_text(0) != domain) continue;
      auto& cell = acc[st.column_text(1)][int(st.column_int(2))];
      cell.first += st.column_double(3);
      cell.second += 1;
      domains[st.column_text(0)] = 1;
    }
    if (acc.empty()) {
      const std::string hint = domain.empty() ? "" : did_you_mean(domain, {ablated.begin(), ablated.end()});
      fail(ws.path(), "no ablation results" + (domain.empty() ? "" : " for '" + domain + "'") +
                          (hint.empty() ? " (run `moescope-cli subset ablate` first)" : "; " + hint));
    }
    render::LinePlotSpec p;
    p.title = "Held-out bits per byte vs experts kept per layer" +
              (domain.empty() ? " (mean over " + std::to_string(domains.size()) + (domains.size() == 1 ? " domain)" : " domains)")
                             : " — " + domain);
    p.x_label = "standard experts kept per layer (k)";
    p.y_label = "bits per byte";
    p.log2_x = true;
    const std::map<std::string, std::pair<std::string, render::Rgb>> styles = {
        {"global_mean_prob", {"domain subset (global)", {31, 119, 180}}},
        {"greedy_layerwise", {"domain subset (greedy)", {44, 160, 44}}},
        {"easy_ep", {"domain subset (EASY-EP)", {148, 103, 189}}},
        {"random", {"random subsets", {214, 39, 40}}}};
    double full = std::numeric_limits<double>::quiet_NaN();
    int max_k = 0;
    if (acc.count("full")) {
      const auto& f = acc["full"].begin()->second;
      full = f.first / f.second;
      max_k = acc["full"].begin()->first;
    }
    for (const auto& [method, by_k] : acc) {
      if (method == "full") continue;
      render::Series s;
      s.name = styles.count(method) ? styles.at(method).first : method;
      s.color = styles.count(method) ? styles.at(method).second : render::Rgb{100, 100, 100};
      for (const auto& [k, v] : by_k) {
        s.x.push_back(k);
        s.y.push_back(v.first / v.second);
        max_k = std::max(max_k, k);
      }
      if (std::isfinite(full)) {  // the full model closes every curve at k = all
        s.x.push_back(max_k);
        s.y.push_back(full);
      }
      p.series.push_back(s);
    }
    if (std::isfinite(full)) {
      render::Series f{"full model", {1, double(max_k)}, {full, full}, {90, 90, 90}, true};
      double min_k = max_k;
      for (const auto& s : p.series)
        for (double x : s.x) min_k = std::min(min_k, x);
      f.x[0] = min_k;
      p.series.push_back(f);
    }
    render::draw_line_plot(p, out);
  } else {
    usage_fail_expected("--what", "unknown figure", "domain-heatmap, similarity, coactivation, entropy, above-uniform or ablation", what);
  }
  std::printf("wrote %s\n", out.c_str());
  return 0;
}

}  // namespace moescope::cli
