// cmd_analyze.cpp — `moescope-cli analyze`: statistics and emergent structure of a traced workspace.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>

#include "analysis/coactivation.h"
#include "analysis/doc_clusters.h"
#include "analysis/domain_stats.h"
#include "analysis/expert_groups.h"
#include "analysis/expert_usage.h"
#include "app/cli/commands.h"
#include "app/cli/json_out.h"
#include "engine/error.h"

namespace moescope::cli {

namespace {

nlohmann::json matrix_json(const std::vector<std::vector<double>>& m) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& row : m) {
    nlohmann::json r = nlohmann::json::array();
    for (double v : row) r.push_back(std::isfinite(v) ? nlohmann::json(v) : nlohmann::json());
    out.push_back(r);
  }
  return out;
}

nlohmann::json coactivation_json(const Coactivation& c) {
  return {{"units", c.units}, {"count", c.count}, {"pair", matrix_json(c.pair)}, {"pmi", matrix_json(c.pmi)}};
}

// The model's tokenizer, when the traced model folder is still there (token names in groups).
std::unique_ptr<Tokenizer> tokenizer_of(const TraceData& td) {
  const std::string path = td.run["model"]["path"].get<std::string>() + "/tokenizer.json";
  if (!std::filesystem::exists(path)) return nullptr;
  try {
    return std::make_unique<Tokenizer>(Tokenizer::from_file(path));
  } catch (const Error&) {
    return nullptr;
  }
}

}  // namespace

int cmd_analyze(const std::vector<std::string>& argv) {
  Args args(argv, {"json"}, {"workspace", "pool-mass", "keep-k", "max-groups", "clusters", "cluster-features", "seed"});
  Workspace ws(args.require("workspace"), false);
  const TraceData td = load_trace(ws);
  double pool_mass = 0.9;
  if (auto v = args.get("pool-mass")) {
    try {
      pool_mass = std::stod(*v);
    } catch (...) {
      pool_mass = -1;
    }
    if (!(pool_mass > 0 && pool_mass <= 1)) usage_fail_expected("--pool-mass", "out of range", "a number in (0, 1]", *v);
  }
  GroupOptions gopt;
  gopt.max_groups = args.get_int("max-groups", 10, 2);
  gopt.seed = uint64_t(args.get_int("seed", 42, 0));
  const auto tok = tokenizer_of(td);
  const std::vector<DomainStats> stats = domain_stats(td, pool_mass);
  const std::vector<ExpertUsageLayer> usage = expert_usage(td);

  size_t tokens = 0;
  for (const auto& d : td.docs) tokens += d.tokens();
  nlohmann::json out{{"workspace", ws.path()}, {"model", td.run["model"]}, {"documents", td.docs.size()},
                     {"tokens", tokens},       {"domains", td.domains},   {"pool_mass", pool_mass}};
  nlohmann::json layers = nlohmann::json::array();
  std::vector<LayerGroups> all_groups;
  for (size_t l = 0; l < td.layers.size(); ++l) {
    const int Es = td.layers[l].num_standard;
    const int keep_k = args.get_int("keep-k", std::max(1, int(std::lround(0.25 * Es))), 1);
    nlohmann::json doms = nlohmann::json::array();
    for (const DomainStats& s : stats) {
      const DomainLayerStats& ls = s.layers[l];
      doms.push_back({{"domain", s.domain}, {"documents", s.documents}, {"tokens", s.tokens},
                      {"topk_freq", ls.topk_freq}, {"mean_prob", ls.mean_prob}, {"pool", ls.pool},
                      {"pool_size", ls.pool.size()}, {"doc_entropy_bits", ls.doc_entropy_bits},
                      {"doc_above_uniform", ls.doc_above_uniform}, {"keep_set", keep_set(ls, keep_k)}});
    }
    LayerGroups g = expert_groups(td, l, gopt);
    nlohmann::json groups = nlohmann::json::array();
    for (const ExpertGroup& grp : g.groups) {
      nlohmann::json gd = nlohmann::json::array(), gt = nlohmann::json::array();
      for (const auto& d : grp.domains)
        gd.push_back({{"domain", td.domains[size_t(d.index)]}, {"share", d.share}, {"enrichment", d.enrichment}});
      for (const auto& t : grp.tokens)
        gt.push_back({{"id", t.index}, {"token", tok ? tok->decode({t.index}) : std::string()}, {"share", t.share},
                      {"enrichment", t.enrichment}, {"count", t.count}});
      nlohmann::json gf = nlohmann::json::array();
      for (const auto& t : grp.frequent_tokens)
        gf.push_back({{"id", t.index}, {"token", tok ? tok->decode({t.index}) : std::string()}, {"count", t.count},
                      {"share", t.share}});
      groups.push_back({{"experts", grp.experts}, {"share", grp.share}, {"label", group_label(grp, td.domains)},
                        {"domains", gd}, {"tokens", gt},
                        {"frequent_tokens", gf}});
    }
    const ExpertUsageLayer& u = usage[l];
    nlohmann::json by_domain = nlohmann::json::object();
    for (size_t d = 0; d < td.domains.size(); ++d) by_domain[td.domains[d]] = u.share_by_domain[d];
    layers.push_back({{"layer", td.layers[l].layer},
                      {"num_standard", Es},
                      {"expert_usage",
                       {{"share", u.share},
                        {"share_by_domain", by_domain},
                        {"min_vs_uniform", u.min_vs_uniform},
                        {"max_vs_uniform", u.max_vs_uniform},
                        {"rarely_used_below", kRarelyUsedShare},
                        {"rarely_used", u.rarely_used},
                        {"never_used", u.never_used}}},
                      {"k", td.layers[l].k},
                      {"domains", doms},
                      {"domain_similarity", matrix_json(domain_similarity(stats, l))},
                      {"keep_set_k", keep_k},
                      {"keep_set_jaccard", matrix_json(keep_set_jaccard(stats, l, keep_k))},
                      {"coactivation",
                       {{"token", coactivation_json(token_coactivation(td, l))},
                        {"document", coactivation_json(document_coactivation(td, l, pool_mass))}}},
                      {"groups",
                       {{"method", "spherical k-means of document usage profiles, k by cosine silhouette"},
                        {"silhouette", g.silhouette},
                        {"top_group_share", g.top_group_share},
                        {"shuffled_top_group_share", g.shuffled_top_group_share},
                        {"modularity", g.modularity},
                        {"unused", g.unused},
                        {"groups", groups}}}});
    all_groups.push_back(std::move(g));
  }
  out["layers"] = layers;
  DocClusterOptions copt;
  copt.k = args.get_int("clusters", 32, 1);
  copt.seed = gopt.seed;
  const std::string features = args.get("cluster-features").value_or("mean_probs");
  if (features != "mean_probs" && features != "topk_freq")
    usage_fail_expected("--cluster-features", "unknown", "mean_probs or topk_freq", features);
  copt.topk_freq = features == "topk_freq";
  const DocClusters dc = cluster_documents(td, copt);
  nlohmann::json clusters = nlohmann::json::array();
  for (int c = 0; c < dc.k; ++c) {
    size_t size = 0;
    for (int v : dc.domain_counts[size_t(c)]) size += size_t(v);
    nlohmann::json counts = nlohmann::json::object();
    for (size_t d = 0; d < td.domains.size(); ++d)
      if (dc.domain_counts[size_t(c)][d]) counts[td.domains[d]] = dc.domain_counts[size_t(c)][d];
    clusters.push_back({{"cluster", c}, {"size", size}, {"domain_counts", counts}});
  }
  out["document_clusters"] = {
      {"method", "per-layer " + std::string(copt.topk_freq ? "top-k frequencies" : "mean probabilities") +
                     " concatenated, mean-centred, PCA to 95% variance, L2, spherical k-means"},
      {"features", features},
      {"k", dc.k},
      {"pca_components", dc.components},
      {"explained_variance", dc.explained},
      {"silhouette_cosine", dc.silhouette_cosine},
      {"calinski_harabasz", dc.calinski_harabasz},
      {"davies_bouldin", dc.davies_bouldin},
      {"mean_label_entropy_bits", dc.mean_label_entropy_bits},
      {"nmi", dc.nmi},
      {"ari", dc.ari},
      {"clusters", clusters}};
  if (args.flag("json")) {
    std::cout << dump(out, 1) << "\n";
    return 0;
  }

  std::printf("%s: %zu documents, %zu tokens, %zu domains, model %s\n", ws.path().c_str(), td.docs.size(), tokens,
              td.domains.size(), td.run["model"]["path"].get<std::string>().c_str());
  for (size_t l = 0; l < td.layers.size(); ++l) {
    const LayerGroups& g = all_groups[l];
    std::printf("\nlayer %d (%d standard experts, top-%d)\n", td.layers[l].layer, td.layers[l].num_standard,
                td.layers[l].k);
    const ExpertUsageLayer& u = usage[l];
    std::printf("  expert usage: share of selections %.2fx to %.2fx of uniform; %zu rarely used (< %.2fx)%s, %zu never used\n",
                u.min_vs_uniform, u.max_vs_uniform, u.rarely_used.size(), kRarelyUsedShare,
                u.rarely_used.empty() ? "" : (": " + [&] {
                  std::string s;
                  for (int e : u.rarely_used) s += (s.empty() ? "" : " ") + std::to_string(e);
                  return s;
                }()).c_str(),
                u.never_used.size());
    std::printf("  %-22s %6s %10s %13s %15s\n", "domain", "docs", "pool(90%)", "entropy bits", "above uniform");
    for (const DomainStats& s : stats)
      std::printf("  %-22s %6zu %10zu %13.2f %15.1f\n", s.domain.c_str(), s.documents, s.layers[l].pool.size(),
                  s.layers[l].doc_entropy_bits, s.layers[l].doc_above_uniform);
    std::printf("  expert groups: %zu (silhouette %.3f), modularity %.3f (top-group share %.3f vs %.3f shuffled)\n",
                g.groups.size(), g.silhouette, g.modularity, g.top_group_share, g.shuffled_top_group_share);
    for (size_t i = 0; i < g.groups.size(); ++i) {
      const ExpertGroup& grp = g.groups[i];
      std::string doms, toks;
      for (const auto& d : grp.domains) doms += (doms.empty() ? "" : ", ") + td.domains[size_t(d.index)];
      for (size_t t = 0; t < std::min<size_t>(5, grp.tokens.size()); ++t) {
        std::string s = tok ? tok->decode({grp.tokens[t].index}) : std::to_string(grp.tokens[t].index);
        for (char& c : s)
          if (c == '\n' || c == '\t') c = ' ';
        toks += (toks.empty() ? "'" : " '") + s + "'";
      }
      if (grp.share < kMinorGroupShare) {  // too little routing to say what it is for
        std::printf("    group %zu, %s: %zu experts\n", i, group_label(grp, td.domains).c_str(), grp.experts.size());
        continue;
      }
      std::printf("    group %zu, %s: %zu experts, %4.1f%% of routing; domains: %s; enriched tokens: %s\n", i,
                  group_label(grp, td.domains).c_str(), grp.experts.size(), 100 * grp.share, doms.empty() ? "-" : doms.c_str(),
                  toks.empty() ? "-" : toks.c_str());
    }
  }
  std::printf("\ndocument clusters: k %d on %d PCA components (%.0f%% of variance); vs domains NMI %.3f, ARI %.3f, "
              "label entropy %.2f bits; silhouette %.3f, Calinski-Harabasz %.1f, Davies-Bouldin %.3f\n",
              dc.k, dc.components, 100 * dc.explained, dc.nmi, dc.ari, dc.mean_label_entropy_bits, dc.silhouette_cosine,
              dc.calinski_harabasz, dc.davies_bouldin);
  return 0;
}

}  // namespace moescope::cli
