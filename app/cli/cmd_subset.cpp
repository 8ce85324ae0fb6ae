// cmd_subset.cpp — `moescope-cli subset select|export`: pick expert subsets from a traced
// workspace and write them as subset JSON or as a pruned checkpoint.
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "analysis/ablation.h"
#include "analysis/ablation_summary.h"
#include "analysis/pruned_checkpoint.h"
#include "analysis/subset_select.h"
#include "app/cli/commands.h"
#include "engine/config.h"
#include "engine/cpu/cpu_ops.h"
#include "engine/error.h"
#include "engine/json_file.h"
#include "engine/checkpoint/safetensors_writer.h"

namespace fs = std::filesystem;

namespace moescope::cli {

namespace {

int subset_select(const std::vector<std::string>& argv) {
  Args args(argv, {"json", "no-memory-check"}, {"workspace", "domain", "lang", "experts", "method", "seed", "out", "ranking-out", "device"});
  Workspace ws(args.require("workspace"), false);
  const TraceData td = load_trace(ws);
  SubsetRequest req;
  req.method = args.get("method").value_or("global");
  parse_option([&] { return subset_method_name(req.method); });  // an unknown method is refused before anything runs
  req.k = args.get_int("experts", 0, 1);
  if (req.k == 0) usage_fail("--experts", "missing (required): standard experts to keep per layer");
  req.domain = args.get("domain").value_or("");
  req.lang = args.get("lang").value_or("");
  req.seed = uint64_t(args.get_int("seed", 0, 0));
  const SubsetSelection sel = select_subset(td, req, nullptr, load_options(args));
  if (auto path = args.get("ranking-out")) write_file_atomically(*path, sel.ranking);
  if (auto path = args.get("out")) {
    write_file_atomically(*path, sel.file.dump(2) + "\n");
    if (!args.flag("json"))
      std::printf("wrote %s (%d standard experts per MoE layer, %s; tokens route to %d experts per layer%s, as its pruned "
                  "checkpoint)\n",
                  path->c_str(), req.k, req.method.c_str(), sel.top_k,
                  sel.top_k < sel.model_top_k ? (" instead of the model's " + std::to_string(sel.model_top_k)).c_str() : "");
  }
  if (args.flag("json") || !args.get("out")) std::cout << sel.file.dump(2) << "\n";
  return 0;
}

int subset_export(const std::vector<std::string>& argv) {
  Args args(argv, {"json", "force-subset"}, {"model", "keep", "out"});
  const std::string model = args.require("model"), out = args.require("out");
  const ModelConfig c = ModelConfig::from_file((fs::path(model) / "config.json").string());
  const std::string keep_path = args.require("keep");
  const ExpertSubset subset = ExpertSubset::from_file(keep_path, c);
  if (!args.flag("force-subset")) check_subset_model(subset, keep_path, identify_model(model));
  nlohmann::json meta = read_json_file(keep_path, "subset file");
  meta.erase("experts_kept_per_layer");
  meta["pruning_method"] = meta.value("method", "moescope subset");
  meta["subset_file"] = fs::absolute(keep_path).lexically_normal().string();
  const PrunedCheckpointInfo info = write_pruned_checkpoint(model, subset, out, meta);
  if (args.flag("json")) {
    std::cout << nlohmann::json{{"out", out}, {"tensors", info.tensors}, {"bytes", info.bytes},
                                {"experts_kept_per_layer", info.kept_per_layer}}
                     .dump(2)
              << "\n";
  } else {
    std::printf("wrote %s: %zu tensors, %.2f MB (BF16), pruning_metadata.json with the original expert ids\n",
                out.c_str(), info.tensors, double(info.bytes) / 1e6);
  }
  return 0;
}

std::vector<int> parse_budgets(const std::string& text) {
  std::vector<int> out;
  size_t pos = 0;
  while (pos <= text.size()) {
    const size_t comma = std::min(text.find(',', pos), text.size());
    const std::string item = text.substr(pos, comma - pos);
    try {
      size_t used = 0;
      const int v = std::stoi(item, &used);
      if (used != item.size() || v < 1) throw std::invalid_argument(item);
      out.push_back(v);
    } catch (const std::exception&) {
      usage_fail_expected("--budgets", "bad value", "comma-separated positive integers (e.g. 2,4,8)", text);
    }
    pos = comma + 1;
  }
  return out;
}

int subset_ablate(const std::vector<std::string>& argv) {
  Args args(argv, {"json", "no-memory-check"}, {"workspace", "eval", "domain", "budgets", "random-seeds", "max-tokens-per-doc", "method", "threads", "precision", "device"});
  // Everything the command line asks is checked against the workspace and the evaluation corpus
  // before the model loads: a sweep of a large model can take hours, its load minutes.
  set_cpu_options(args);
  AblationOptions opt;
  if (auto b = args.get("budgets")) opt.budgets = parse_budgets(*b);
  opt.random_seeds = args.get_int("random-seeds", 3, 0);
  opt.max_tokens_per_doc = args.get_int("max-tokens-per-doc", 0, 2);
  const std::string method = args.get("method").value_or("global");
  if (method != "global" && method != "greedy" && method != "easy-ep")
    usage_fail_expected("--method", "unknown selection method", "global, greedy or easy-ep", method);
  Workspace ws(args.require("workspace"), false);
  const TraceData td = load_trace(ws);
  std::vector<std::string> domains = td.domains;
  if (auto d = args.get("domain")) {
    domain_index(td, *d, "--domain");
    domains = {*d};
  }
  if (!opt.budgets.empty()) check_budgets(opt.budgets, min_standard_experts(td), "--budgets");
  std::vector<CorpusDocument> eval;
  std::function<bool(const TracedDocument&)> calibration = [](const TracedDocument&) { return true; };
  std::string eval_source;
  if (auto e = args.get("eval")) {
    eval = read_corpus(*e);
    eval_source = fs::absolute(*e).lexically_normal().string();
  } else {
    for (auto& d : ws.corpus())
      if (is_workspace_heldout(std::stoll(d.id))) eval.push_back(std::move(d));
    calibration = [](const TracedDocument& d) { return !is_workspace_heldout(d.id); };
    eval_source = "workspace split (1 in 4 documents held out)";
  }
  for (const std::string& dom : domains) heldout_documents(eval, dom);
  const std::string model_path = td.run["model"]["path"].get<std::string>();
  check_model_unchanged(td);
  const auto model = Model::load(model_path, load_options(args));
  const bool json_out = args.flag("json");
  opt.progress = [&](const AblationPoint& p) {
    if (!json_out)
      std::fprintf(stderr, "  %s %s k=%d%s: %.4f bits/byte\n", p.domain.c_str(), p.method.c_str(), p.k,
                   p.seed >= 0 ? (" seed " + std::to_string(p.seed)).c_str() : "", p.bits_per_byte);
  };
  nlohmann::json all = nlohmann::json::array();
  std::vector<AblationPoint> swept;
  for (const std::string& dom : domains) {
    if (method != "global") {
      // Calibration token ids of this domain, as traced.
      const auto calib = calibration_ids(td, [&](const TracedDocument& d) { return td.domains[size_t(d.domain)] == dom && calibration(d); });
      opt.method = subset_method_name(method);
      opt.select = [&, calib](int k) { return rerun_subset(method, *model, calib, k); };
    }
    const auto points = ablate_domain(*model, td, dom, calibration, eval, opt);
    store_ablations(ws, points, eval_source);
    swept.insert(swept.end(), points.begin(), points.end());
    for (const AblationPoint& p : points)
      all.push_back({{"domain", p.domain}, {"method", p.method}, {"k", p.k}, {"seed", p.seed < 0 ? nlohmann::json() : nlohmann::json(p.seed)},
                     {"mean_nll", p.mean_nll}, {"bits_per_byte", p.bits_per_byte}, {"tokens", p.tokens}, {"documents", p.documents}});
    if (!json_out) {
      double full = 0;
      for (const auto& p : points)
        if (p.method == "full") full = p.bits_per_byte;
      std::printf("%s (full model %.4f bits/byte)\n  %4s %12s %12s %10s %10s\n", dom.c_str(), full, "k", "selected", "random",
                  "sel. +%", "rand. +%");
      for (const auto& p : points) {
        if (p.method == "full" || p.method == "random") continue;
        double rnd = 0;
        int n = 0;
        for (const auto& q : points)
          if (q.method == "random" && q.k == p.k) {
            rnd += q.bits_per_byte;
            ++n;
          }
        rnd = n ? rnd / n : 0;
        std::printf("  %4d %12.4f %12.4f %9.1f%% %9.1f%%\n", p.k, p.bits_per_byte, rnd, 100 * (p.bits_per_byte / full - 1),
                    n ? 100 * (rnd / full - 1) : 0.0);
      }
    }
  }
  // The mean over the swept domains, each against its own full model: stored as domain "*".
  const AblationCurves mean = ablation_curves(swept);
  nlohmann::json mean_json = nlohmann::json::array();
  if (domains.size() > 1) store_ablations(ws, mean_over_domains(swept), eval_source);
  for (const auto& [m, curve] : mean.by_method)
    for (const AblationCurvePoint& p : curve)
      mean_json.push_back({{"method", m}, {"k", p.k}, {"bits_per_byte", p.bits_per_byte}, {"increase_pct", p.increase_pct},
                           {"min_increase_pct", p.min_pct}, {"max_increase_pct", p.max_pct}});
  if (json_out) {
    std::cout << nlohmann::json{{"eval", eval_source},
                                {"points", all},
                                {"mean", {{"domains", mean.domains}, {"full_bits_per_byte", mean.full_bits_per_byte}, {"points", mean_json}}}}
                     .dump(2)
              << "\n";
  } else if (domains.size() > 1) {
    std::printf("mean over %zu domains (full model %.4f bits/byte; %% = mean of each domain's increase over its full model)\n"
                "  %4s %12s %12s %10s %10s\n",
                mean.domains.size(), mean.full_bits_per_byte, "k", "selected", "random", "sel. +%", "rand. +%");
    for (const auto& [m, curve] : mean.by_method) {
      if (m == "random") continue;
      for (const AblationCurvePoint& p : curve) {
        const AblationCurvePoint* r = nullptr;
        if (mean.by_method.count("random"))
          for (const auto& q : mean.by_method.at("random"))
            if (q.k == p.k) r = &q;
        if (r)
          std::printf("  %4d %12.4f %12.4f %9.1f%% %9.1f%%\n", p.k, p.bits_per_byte, r->bits_per_byte, p.increase_pct, r->increase_pct);
        else
          std::printf("  %4d %12.4f %12s %9.1f%% %10s\n", p.k, p.bits_per_byte, "-", p.increase_pct, "-");
      }
    }
  }
  return 0;
}

}  // namespace

int cmd_subset(const std::vector<std::string>& argv) {
  if (argv.empty()) usage_fail("subset", "needs an action: select, export or ablate (see moescope-cli help)");
  const std::vector<std::string> rest(argv.begin() + 1, argv.end());
  if (argv[0] == "select") return subset_select(rest);
  if (argv[0] == "export") return subset_export(rest);
  if (argv[0] == "ablate") return subset_ablate(rest);
  unknown_action("subset", argv[0], {"select", "export", "ablate"});
}

}  // namespace moescope::cli
