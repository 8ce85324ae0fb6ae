// cmd_subset.cpp — `moescope-cli subset select|export`: pick expert subsets from a traced
// workspace and write them as subset JSON or as a pruned checkpoint.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <numeric>
#include <optional>
#include <random>

#include "analysis/ablation.h"
#include "analysis/domain_stats.h"
#include "analysis/greedy_select.h"
#include "analysis/pruned_checkpoint.h"
#include "app/cli/commands.h"
#include "engine/config.h"
#include "engine/cpu_ops.h"
#include "engine/error.h"
#include "engine/json_file.h"
#include "engine/safetensors_writer.h"

namespace fs = std::filesystem;

namespace moescope::cli {

namespace {

constexpr const char* kSubsetSchema = "moescope-subset/1";

int subset_select(const std::vector<std::string>& argv) {
  Args args(argv, {"json"}, {"workspace", "domain", "lang", "experts", "method", "seed", "out", "ranking-out"});
  Workspace ws(args.require("workspace"), false);
  const TraceData td = load_trace(ws);
  const std::string method = args.get("method").value_or("global");
  if (method != "global" && method != "random" && method != "greedy" && method != "easy-ep")
    fail_expected("--method", "unknown selection method", "global, greedy, easy-ep or random", method);
  const std::string model_path = td.run["model"]["path"].get<std::string>();
  const ModelConfig c = ModelConfig::from_file((fs::path(model_path) / "config.json").string());
  const int k = args.get_int("experts", 0, 1);
  if (k == 0) fail("--experts", "missing (required): standard experts to keep per layer");
  const std::string domain = args.get("domain").value_or(""), lang = args.get("lang").value_or("");
  if (!domain.empty() && std::find(td.domains.begin(), td.domains.end(), domain) == td.domains.end())
    fail_expected("--domain", "not in the workspace", "one of its domains", domain);
  // The documents the selection looks at: the domain's (all without --domain), optionally one language.
  auto chosen = [&](const TracedDocument& d) {
    return (domain.empty() || td.domains[size_t(d.domain)] == domain) && (lang.empty() || d.lang == lang);
  };
  size_t calib_docs = 0;
  for (const TracedDocument& d : td.docs) calib_docs += chosen(d) ? 1 : 0;
  if (calib_docs == 0) fail("subset select", "no traced document matches --domain/--lang");
  // Calibration statistic: the mean routing probability over those documents (token-weighted).
  std::vector<std::vector<double>> mean = mean_probs_over(td, chosen);
  std::mt19937_64 rng(uint64_t(args.get_int("seed", 0, 0)));
  std::optional<ExpertSubset> greedy;
  if (method == "greedy" || method == "easy-ep") {
    // Calibration = the domain's traced documents, as traced (same truncation), re-run layer by layer.
    const ModelIdentity now = identify_model(model_path);
    if (now.config_hash != td.run["model"]["config_hash"] || now.weights_hash != td.run["model"]["weights_hash"])
      fail(model_path, "changed since the workspace was traced (config or weights hash differs)");
    const auto model = Model::load(model_path);
    const int64_t limit = td.run["settings"]["max_tokens_per_doc"].get<int64_t>();
    std::vector<std::vector<int32_t>> calib;
    for (const TracedDocument& d : td.docs)
      if (chosen(d)) {
        std::vector<int32_t> ids = d.ids;
        if (int64_t(ids.size()) > limit) ids.resize(size_t(limit));
        calib.push_back(std::move(ids));
      }
    std::vector<std::vector<double>> scores;
    greedy = method == "greedy" ? greedy_layerwise_subset(*model, calib, k, 16384, &scores)
                                : easy_ep_subset(*model, calib, k, 16384, &scores);
    mean = scores;
  }
  nlohmann::json kept = nlohmann::json::array();
  std::string ranking;  // vllm-ascend expert_list_file: one line per MoE layer, every expert best first
  size_t moe = 0;
  for (int l = 0; l < c.num_layers; ++l) {
    if (!c.layers[size_t(l)].is_moe()) {
      kept.push_back(nullptr);
      continue;
    }
    if (moe >= td.layers.size() || td.layers[moe].layer != l)
      fail(ws.path(), "the traced model's layers no longer match " + model_path + "/config.json");
    const int Es = td.layers[moe].num_standard;
    if (k > Es) fail_expected("--experts", "more than the layer has", "<= " + std::to_string(Es), std::to_string(k));
    std::vector<int> ids(static_cast<size_t>(Es));
    std::iota(ids.begin(), ids.end(), 0);
    if (method != "random") {
      const auto& m = mean[moe];
      std::stable_sort(ids.begin(), ids.end(), [&](int a, int b) { return m[size_t(a)] > m[size_t(b)]; });
    } else {
      std::shuffle(ids.begin(), ids.end(), rng);
    }
    ranking += nlohmann::json{{std::to_string(l), ids}}.dump() + "\n";
    ids.resize(size_t(k));
    std::sort(ids.begin(), ids.end());
    kept.push_back(ids);
    ++moe;
  }
  const nlohmann::json out{{"schema", kSubsetSchema},
                           {"model", td.run["model"]},
                           {"method", method == "global" ? "global_mean_prob" : (method == "greedy" ? "greedy_layerwise" : (method == "easy-ep" ? "easy_ep" : "random"))},
                           {"domain", domain.empty() ? nlohmann::json() : nlohmann::json(domain)},
                           {"lang", lang.empty() ? nlohmann::json() : nlohmann::json(lang)},
                           {"calibration_documents", method != "random" ? nlohmann::json(calib_docs) : nlohmann::json()},
                           {"seed", method == "random" ? nlohmann::json(args.get_int("seed", 0, 0)) : nlohmann::json()},
                           {"standard_experts_per_layer", k},
                           {"shared_experts", "always kept, not listed"},
                           {"experts_kept_per_layer", kept}};
  if (auto path = args.get("ranking-out")) write_file_atomically(*path, ranking);
  if (auto path = args.get("out")) {
    write_file_atomically(*path, out.dump(2) + "\n");
    if (!args.flag("json")) std::printf("wrote %s (%d standard experts per MoE layer, %s)\n", path->c_str(), k, method.c_str());
  }
  if (args.flag("json") || !args.get("out")) std::cout << out.dump(2) << "\n";
  return 0;
}

int subset_export(const std::vector<std::string>& argv) {
  Args args(argv, {"json"}, {"model", "keep", "out"});
  const std::string model = args.require("model"), out = args.require("out");
  const ModelConfig c = ModelConfig::from_file((fs::path(model) / "config.json").string());
  const std::string keep_path = args.require("keep");
  const ExpertSubset subset = ExpertSubset::from_file(keep_path, c);
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

// Held-out split of a workspace's own documents when no --eval corpus is given: every document
// whose id hashes to 0 mod 4 is evaluated on, the others calibrate the selection.
bool is_heldout(int64_t doc_id) { return (uint64_t(doc_id) * 0x9E3779B97F4A7C15ull >> 62) == 0; }

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
      fail_expected("--budgets", "bad value", "comma-separated positive integers (e.g. 2,4,8)", text);
    }
    pos = comma + 1;
  }
  return out;
}

int subset_ablate(const std::vector<std::string>& argv) {
  Args args(argv, {"json"}, {"workspace", "eval", "domain", "budgets", "random-seeds", "max-tokens-per-doc", "method", "threads"});
  Workspace ws(args.require("workspace"), false);
  const TraceData td = load_trace(ws);
  const std::string model_path = td.run["model"]["path"].get<std::string>();
  const ModelIdentity now = identify_model(model_path);
  if (now.config_hash != td.run["model"]["config_hash"] || now.weights_hash != td.run["model"]["weights_hash"])
    fail(model_path, "changed since the workspace was traced (config or weights hash differs)");
  set_cpu_threads(args.get_int("threads", 0, 1));
  const auto model = Model::load(model_path);
  std::vector<CorpusDocument> eval;
  std::function<bool(const TracedDocument&)> calibration = [](const TracedDocument&) { return true; };
  std::string eval_source;
  if (auto e = args.get("eval")) {
    eval = read_corpus(*e);
    eval_source = fs::absolute(*e).lexically_normal().string();
  } else {
    for (auto& d : ws.corpus())
      if (is_heldout(std::stoll(d.id))) eval.push_back(std::move(d));
    calibration = [](const TracedDocument& d) { return !is_heldout(d.id); };
    eval_source = "workspace split (1 in 4 documents held out)";
  }
  AblationOptions opt;
  if (auto b = args.get("budgets")) opt.budgets = parse_budgets(*b);
  opt.random_seeds = args.get_int("random-seeds", 3, 0);
  opt.max_tokens_per_doc = args.get_int("max-tokens-per-doc", 0, 2);
  const bool json_out = args.flag("json");
  opt.progress = [&](const AblationPoint& p) {
    if (!json_out)
      std::fprintf(stderr, "  %s %s k=%d%s: %.4f bits/byte\n", p.domain.c_str(), p.method.c_str(), p.k,
                   p.seed >= 0 ? (" seed " + std::to_string(p.seed)).c_str() : "", p.bits_per_byte);
  };
  const std::string method = args.get("method").value_or("global");
  if (method != "global" && method != "greedy" && method != "easy-ep")
    fail_expected("--method", "unknown selection method", "global, greedy or easy-ep", method);
  std::vector<std::string> domains = td.domains;
  if (auto d = args.get("domain")) domains = {*d};
  nlohmann::json all = nlohmann::json::array();
  for (const std::string& dom : domains) {
    if (method != "global") {
      // Calibration token ids of this domain, as traced.
      std::vector<std::vector<int32_t>> calib;
      const int64_t limit = td.run["settings"]["max_tokens_per_doc"].get<int64_t>();
      for (const TracedDocument& d : td.docs)
        if (td.domains[size_t(d.domain)] == dom && calibration(d)) {
          calib.push_back(d.ids);
          if (int64_t(calib.back().size()) > limit) calib.back().resize(size_t(limit));
        }
      opt.method = method == "greedy" ? "greedy_layerwise" : "easy_ep";
      opt.select = [&, calib](int k) {
        return method == "greedy" ? greedy_layerwise_subset(*model, calib, k) : easy_ep_subset(*model, calib, k);
      };
    }
    const auto points = ablate_domain(*model, td, dom, calibration, eval, opt);
    store_ablations(ws, points, eval_source);
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
  if (json_out) std::cout << nlohmann::json{{"eval", eval_source}, {"points", all}}.dump(2) << "\n";
  return 0;
}

}  // namespace

int cmd_subset(const std::vector<std::string>& argv) {
  if (argv.empty()) fail("subset", "needs an action: select or export (see moescope-cli help)");
  const std::vector<std::string> rest(argv.begin() + 1, argv.end());
  if (argv[0] == "select") return subset_select(rest);
  if (argv[0] == "export") return subset_export(rest);
  if (argv[0] == "ablate") return subset_ablate(rest);
  fail_expected("subset", "unknown action", "select, export or ablate", argv[0]);
}

}  // namespace moescope::cli
