// subset_select.cpp — subset selection from a workspace and the subset file.
#include "analysis/subset_select.h"

#include <algorithm>
#include <filesystem>
#include <numeric>
#include <random>

#include "analysis/ablation.h"
#include "analysis/greedy_select.h"
#include "analysis/workspace.h"
#include "engine/error.h"

namespace fs = std::filesystem;

namespace moescope {

namespace {
constexpr const char* kSubsetSchema = "moescope-subset/1";
}

std::string subset_method_name(const std::string& method) {
  if (method == "global") return "global_mean_prob";
  if (method == "greedy") return "greedy_layerwise";
  if (method == "easy-ep") return "easy_ep";
  if (method == "random") return "random";
  fail_expected("--method", "unknown selection method", "global, greedy, easy-ep or random", method);
}

void check_model_unchanged(const TraceData& td) {
  const std::string path = td.run["model"]["path"].get<std::string>();
  const ModelIdentity now = identify_model(path);
  if (now.config_hash != td.run["model"]["config_hash"] || now.weights_hash != td.run["model"]["weights_hash"])
    fail(path, "changed since the workspace was traced (config or weights hash differs)");
}

std::vector<std::vector<int32_t>> calibration_ids(const TraceData& td, const std::function<bool(const TracedDocument&)>& chosen) {
  const int64_t limit = td.run["settings"]["max_tokens_per_doc"].get<int64_t>();
  std::vector<std::vector<int32_t>> calib;
  for (const TracedDocument& d : td.docs)
    if (chosen(d)) {
      calib.push_back(d.ids);
      if (int64_t(calib.back().size()) > limit) calib.back().resize(size_t(limit));
    }
  return calib;
}

ExpertSubset rerun_subset(const std::string& method, const Model& model, const std::vector<std::vector<int32_t>>& calib, int k,
                          std::vector<std::vector<double>>* scores) {
  if (method == "greedy") return greedy_layerwise_subset(model, calib, k, 16384, scores);
  if (method == "easy-ep") return easy_ep_subset(model, calib, k, 16384, scores);
  fail_expected("--method", "not a method that re-runs the model", "greedy or easy-ep", method);
}

int min_standard_experts(const TraceData& td) {
  int es = td.layers.front().num_standard;
  for (const auto& l : td.layers) es = std::min(es, l.num_standard);
  return es;
}

SubsetSelection select_subset(const TraceData& td, const SubsetRequest& req, const Model* model, const LoadOptions& load) {
  const std::string method_name = subset_method_name(req.method);
  const std::string model_path = td.run["model"]["path"].get<std::string>();
  const ModelConfig c = ModelConfig::from_file((fs::path(model_path) / "config.json").string());
  if (req.k < 1) fail_expected("--experts", "standard experts to keep per layer", "a positive integer", std::to_string(req.k));
  if (!req.domain.empty()) domain_index(td, req.domain, "--domain");
  // The documents the selection looks at: the domain's (all without a domain), optionally one language.
  auto chosen = [&](const TracedDocument& d) {
    return (req.domain.empty() || td.domains[size_t(d.domain)] == req.domain) && (req.lang.empty() || d.lang == req.lang);
  };
  SubsetSelection out;
  for (const TracedDocument& d : td.docs) out.calibration_documents += chosen(d) ? 1 : 0;
  if (out.calibration_documents == 0) fail("subset select", "no traced document matches the domain/language");
  // Calibration statistic: the mean routing probability over those documents (token-weighted).
  std::vector<std::vector<double>> score = mean_probs_over(td, chosen);
  if (req.method == "greedy" || req.method == "easy-ep") {
    // Calibration = the chosen documents as traced (same truncation), re-run through the model.
    std::unique_ptr<Model> owned;
    if (!model) {
      check_model_unchanged(td);
      owned = Model::load(model_path, load);
      model = owned.get();
    }
    rerun_subset(req.method, *model, calibration_ids(td, chosen), req.k, &score);
  }
  std::mt19937_64 rng(req.seed);
  nlohmann::json kept = nlohmann::json::array();
  size_t moe = 0;
  for (int l = 0; l < c.num_layers; ++l) {
    if (!c.layers[size_t(l)].is_moe()) {
      kept.push_back(nullptr);
      continue;
    }
    if (moe >= td.layers.size() || td.layers[moe].layer != l)
      fail(model_path + "/config.json", "its layers no longer match the traced model's");
    const int Es = td.layers[moe].num_standard;
    if (req.k > Es) fail_expected("--experts", "more than the layer has", "<= " + std::to_string(Es), std::to_string(req.k));
    std::vector<int> ids(static_cast<size_t>(Es));
    std::iota(ids.begin(), ids.end(), 0);
    if (req.method != "random") {
      const auto& m = score[moe];
      std::stable_sort(ids.begin(), ids.end(), [&](int a, int b) { return m[size_t(a)] > m[size_t(b)]; });
    } else {
      std::shuffle(ids.begin(), ids.end(), rng);
    }
    out.ranking += nlohmann::json{{std::to_string(l), ids}}.dump();
    out.ranking += '\n';
    ids.resize(size_t(req.k));
    std::sort(ids.begin(), ids.end());
    kept.push_back(ids);
    ++moe;
  }
  // The experts per token every layer routes with under this subset (ExpertSubset::top_k): what
  // `--keep`, the app and the pruned checkpoint's num_experts_per_tok all use.
  ExpertSubset as_subset;
  for (const auto& layer : kept)
    as_subset.kept_per_layer.push_back(layer.is_null() ? std::nullopt : std::optional<std::vector<int>>(layer.get<std::vector<int>>()));
  out.top_k = as_subset.top_k(c);
  out.model_top_k = c.top_k;
  const bool random = req.method == "random";
  auto or_null = [](const std::string& s) { return s.empty() ? nlohmann::json() : nlohmann::json(s); };
  out.file = {{"schema", kSubsetSchema},
              {"model", td.run["model"]},
              {"method", method_name},
              {"domain", or_null(req.domain)},
              {"lang", or_null(req.lang)},
              {"calibration_documents", random ? nlohmann::json() : nlohmann::json(out.calibration_documents)},
              {"seed", random ? nlohmann::json(req.seed) : nlohmann::json()},
              {"standard_experts_per_layer", req.k},
              {"num_experts_per_tok", out.top_k},
              {"shared_experts", "always kept, not listed"},
              {"experts_kept_per_layer", kept}};
  return out;
}

}  // namespace moescope
