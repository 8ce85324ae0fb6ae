// ablation.cpp — subset ablation sweeps.
#include "analysis/ablation.h"

#include <algorithm>
#include <numeric>
#include <random>

#include "analysis/corpus_scoring.h"
#include "analysis/domain_stats.h"
#include "analysis/subset_select.h"
#include "engine/error.h"

namespace moescope {

std::vector<std::vector<double>> mean_probs_over(const TraceData& td, const std::function<bool(const TracedDocument&)>& use) {
  std::vector<std::vector<double>> out(td.layers.size());
  double tokens = 0;
  for (size_t l = 0; l < td.layers.size(); ++l) out[l].assign(size_t(td.layers[l].num_standard), 0.0);
  for (const TracedDocument& d : td.docs) {
    if (!use(d)) continue;
    tokens += double(d.tokens());
    for (size_t l = 0; l < td.layers.size(); ++l) {
      const float* mp = td.mean_probs(d, l);
      for (size_t e = 0; e < out[l].size(); ++e) out[l][e] += double(mp[e]) * double(d.tokens());
    }
  }
  if (tokens > 0)
    for (auto& layer : out)
      for (double& v : layer) v /= tokens;
  return out;
}

namespace {

ExpertSubset subset_from(const ModelConfig& c, const TraceData& td, const std::function<std::vector<int>(size_t)>& pick) {
  ExpertSubset s = ExpertSubset::all(c);
  size_t moe = 0;
  for (int l = 0; l < c.num_layers; ++l) {
    if (!c.layers[size_t(l)].is_moe()) continue;
    if (moe >= td.layers.size() || td.layers[moe].layer != l) fail("subset", "the workspace's layers do not match the model");
    std::vector<int> ids = pick(moe++);
    std::sort(ids.begin(), ids.end());
    s.kept_per_layer[size_t(l)] = ids;
  }
  return s;
}

}  // namespace

ExpertSubset top_k_subset(const ModelConfig& c, const TraceData& td, const std::vector<std::vector<double>>& score, int k) {
  return subset_from(c, td, [&](size_t m) { return top_k_ids(score[m], k); });
}

ExpertSubset random_subset(const ModelConfig& c, const TraceData& td, int k, uint64_t seed) {
  std::mt19937_64 rng(seed);
  return subset_from(c, td, [&](size_t m) {
    std::vector<int> ids(static_cast<size_t>(td.layers[m].num_standard));
    std::iota(ids.begin(), ids.end(), 0);
    std::shuffle(ids.begin(), ids.end(), rng);
    ids.resize(std::min(ids.size(), size_t(k)));
    return ids;
  });
}

std::vector<int> default_budgets(int es) {
  std::vector<int> out;
  for (int div : {16, 8, 4, 2}) {
    const int k = std::max(1, int(std::lround(double(es) / div)));
    if (out.empty() || out.back() != k) out.push_back(k);
  }
  if (out.back() != es) out.push_back(es);
  return out;
}

void check_budgets(const std::vector<int>& budgets, int es, const std::string& where) {
  for (int k : budgets) {
    if (k >= 1 && k <= es) continue;
    const std::string expected = "budgets from 1 to " + std::to_string(es) + " (" + std::to_string(es) + " = all: the full model)";
    if (k > es)
      fail_expected(where, "budget " + std::to_string(k) + " is more than the " + std::to_string(es) +
                               " standard experts of a MoE layer of this model", expected, std::to_string(k));
    fail_expected(where, "budget out of range", expected, std::to_string(k));
  }
}

std::vector<CorpusDocument> heldout_documents(const std::vector<CorpusDocument>& eval, const std::string& domain) {
  std::vector<CorpusDocument> docs;
  for (const auto& d : eval)
    if (d.domain == domain) docs.push_back(d);
  if (docs.empty()) fail("domain '" + domain + "'", "has no held-out documents to evaluate on");
  return docs;
}

std::vector<AblationPoint> ablate_domain(const Model& model, const TraceData& td, const std::string& domain,
                                         const std::function<bool(const TracedDocument&)>& calibration,
                                         const std::vector<CorpusDocument>& eval, const AblationOptions& opt) {
  const int dom = domain_index(td, domain, "domain");
  const std::vector<CorpusDocument> docs = heldout_documents(eval, domain);
  const int es = min_standard_experts(td);
  const std::vector<int> budgets = opt.budgets.empty() ? default_budgets(es) : opt.budgets;
  check_budgets(budgets, es, "budgets");  // before the full model's run, not after it
  const auto score = mean_probs_over(td, [&](const TracedDocument& d) { return d.domain == dom && calibration(d); });

  std::vector<AblationPoint> out;
  auto stopped = [&] { return opt.stop && opt.stop->load(); };
  auto run = [&](const std::string& method, int k, int64_t seed, const ExpertSubset* mask) {
    if (stopped()) return;
    CorpusScoreOptions so;
    so.max_tokens_per_doc = opt.max_tokens_per_doc;
    so.mask = mask;
    const CorpusScore s = score_corpus(model, docs, so);
    AblationPoint p{domain, method, k, seed, s.total.mean_nll(), s.total.bits_per_byte(), s.total.tokens, s.total.documents};
    out.push_back(p);
    if (opt.progress) opt.progress(p);
  };
  run("full", es, -1, nullptr);
  for (int k : budgets) {
    if (k == es) continue;  // the full model, already measured
    if (stopped()) break;
    const ExpertSubset chosen = opt.select ? opt.select(k) : top_k_subset(model.config(), td, score, k);
    run(opt.select ? opt.method : "global_mean_prob", k, -1, &chosen);
    for (int s = 0; s < opt.random_seeds; ++s) {
      const ExpertSubset rnd = random_subset(model.config(), td, k, uint64_t(s));
      run("random", k, s, &rnd);
    }
  }
  return out;
}

void store_ablations(Workspace& ws, const std::vector<AblationPoint>& points, const std::string& eval_source) {
  SqliteTransaction tx(ws.db());
  // A re-run replaces the same (domain, method, k, seed, evaluation set) row.
  SqliteStmt ins(ws.db(),
                 "INSERT OR REPLACE INTO ablations(domain, method, k, seed, mean_nll, bits_per_byte, tokens, documents, "
                 "eval_source) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)");
  for (const AblationPoint& p : points) {
    ins.bind(1, p.domain).bind(2, p.method).bind(3, int64_t(p.k)).bind(4, p.seed).bind(5, p.mean_nll);
    ins.bind(6, p.bits_per_byte).bind(7, int64_t(p.tokens)).bind(8, int64_t(p.documents)).bind(9, eval_source);
    ins.run();
  }
  tx.commit();
}

}  // namespace moescope
