// ablation_summary.cpp — ablation points -> % loss increase curves (ablation_summary.h).
#include "analysis/ablation_summary.h"

#include <algorithm>
#include <set>
#include <tuple>

#include "analysis/sqlite_db.h"

namespace moescope {

AblationCurves ablation_curves(const std::vector<AblationPoint>& points, const std::string& domain) {
  // domain -> full bits per byte (and k)
  std::map<std::string, const AblationPoint*> full;
  for (const AblationPoint& p : points)
    if (p.method == "full" && p.domain != kMeanOverDomains && (domain.empty() || p.domain == domain)) full[p.domain] = &p;
  AblationCurves out;
  for (const auto& [d, p] : full) {
    out.domains.push_back(d);
    out.full_bits_per_byte += p->bits_per_byte;
    out.full_k = std::max(out.full_k, p->k);
  }
  if (out.domains.empty()) return out;
  out.full_bits_per_byte /= double(out.domains.size());
  // method -> k -> domain -> the domain's points (one, or one per seed)
  std::map<std::string, std::map<int, std::map<std::string, std::vector<double>>>> grid;
  // method -> k -> seed -> (sum over domains of the % increase, domains): the spread of seeds
  std::map<std::string, std::map<int, std::map<int64_t, std::pair<double, size_t>>>> by_seed;
  for (const AblationPoint& p : points)
    if (p.method != "full" && full.count(p.domain)) {
      grid[p.method][p.k][p.domain].push_back(p.bits_per_byte);
      auto& s = by_seed[p.method][p.k][p.seed];
      s.first += 100 * (p.bits_per_byte / full.at(p.domain)->bits_per_byte - 1);
      s.second += 1;
    }
  for (const auto& [method, by_k] : grid) {
    auto& curve = out.by_method[method];
    for (const auto& [k, by_domain] : by_k) {
      AblationCurvePoint c;
      c.k = k;
      c.min_pct = 1e300;
      c.max_pct = -1e300;
      for (const auto& [seed, s] : by_seed[method][k]) {
        if (s.second != out.domains.size()) continue;  // a seed only some domains were swept with
        c.min_pct = std::min(c.min_pct, s.first / double(s.second));
        c.max_pct = std::max(c.max_pct, s.first / double(s.second));
      }
      for (const auto& [d, values] : by_domain) {
        const double f = full.at(d)->bits_per_byte;
        double mean = 0;
        for (double v : values) mean += v;
        mean /= double(values.size());
        c.bits_per_byte += mean;
        c.increase_pct += 100 * (mean / f - 1);
      }
      // A budget some domains lack would mix different averages: only budgets every domain has.
      if (by_domain.size() != out.domains.size()) continue;
      c.bits_per_byte /= double(by_domain.size());
      c.increase_pct /= double(by_domain.size());
      if (c.min_pct > c.max_pct) c.min_pct = c.max_pct = c.increase_pct;  // no complete seed: no spread
      curve.push_back(c);
    }
  }
  return out;
}

std::vector<AblationPoint> stored_ablations(Workspace& ws) {
  // A domain swept on two evaluation sets (--eval F, the workspace's split) has two sets of rows:
  // only those of the set its latest full-model row was measured on (highest rowid) are kept.
  std::map<std::string, std::pair<int64_t, std::string>> latest;  // domain -> (rowid, eval_source)
  {
    SqliteStmt st(ws.db(), "SELECT rowid, domain, eval_source FROM ablations WHERE method = 'full'");
    while (st.step()) {
      auto& l = latest[st.column_text(1)];
      if (st.column_int(0) >= l.first) l = {st.column_int(0), st.column_text(2)};
    }
  }
  std::vector<AblationPoint> out;
  SqliteStmt st(ws.db(), "SELECT domain, method, k, seed, mean_nll, bits_per_byte, tokens, documents, eval_source FROM ablations");
  while (st.step()) {
    AblationPoint p;
    p.domain = st.column_text(0);
    if (p.domain == kMeanOverDomains) continue;
    if (const auto it = latest.find(p.domain); it != latest.end() && it->second.second != st.column_text(8)) continue;
    p.method = st.column_text(1);
    p.k = int(st.column_int(2));
    p.seed = st.column_is_null(3) ? -1 : st.column_int(3);
    p.mean_nll = st.column_double(4);
    p.bits_per_byte = st.column_double(5);
    p.tokens = size_t(st.column_int(6));
    p.documents = size_t(st.column_int(7));
    out.push_back(p);
  }
  return out;
}

std::string ablation_method_label(const std::string& method) {
  if (method == "global_mean_prob") return "domain subset (global)";
  if (method == "greedy_layerwise") return "domain subset (greedy)";
  if (method == "easy_ep") return "domain subset (EASY-EP)";
  if (method == "random") return "random subsets";
  return method;
}

std::vector<AblationPoint> mean_over_domains(const std::vector<AblationPoint>& points) {
  std::set<std::string> domains;
  for (const AblationPoint& p : points) domains.insert(p.domain);
  std::map<std::tuple<std::string, int, int64_t>, std::vector<const AblationPoint*>> groups;
  for (const AblationPoint& p : points) groups[{p.method, p.k, p.seed}].push_back(&p);
  std::vector<AblationPoint> out;
  for (const auto& [key, ps] : groups) {
    if (ps.size() != domains.size()) continue;  // a point some domain lacks (a cancelled sweep)
    AblationPoint m;
    m.domain = kMeanOverDomains;
    std::tie(m.method, m.k, m.seed) = key;
    for (const AblationPoint* p : ps) {
      m.mean_nll += p->mean_nll / double(ps.size());
      m.bits_per_byte += p->bits_per_byte / double(ps.size());
      m.tokens += p->tokens;
      m.documents += p->documents;
    }
    out.push_back(m);
  }
  return out;
}

}  // namespace moescope
