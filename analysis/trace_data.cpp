// trace_data.cpp — loading workspace records for analysis.
#include "analysis/trace_data.h"

#include <algorithm>
#include <map>

#include "engine/closest_names.h"
#include "engine/error.h"

namespace moescope {

TraceData load_trace(Workspace& ws) {
  TraceData td;
  td.layers = ws.layers();
  td.run = ws.run_info();
  if (td.layers.empty())
    fail(ws.path(), "the model traced into this workspace has no MoE layers (a dense model such as Mistral): there are no "
                    "router decisions to analyse (per-token NLL: moescope-cli score)");
  size_t es = 0, k = 0;
  for (const LayerLayout& l : td.layers) {
    td.es_offset.push_back(es);
    td.k_offset.push_back(k);
    es += size_t(l.num_standard);
    k += size_t(l.k);
  }
  const auto listed = ws.documents();
  for (const auto& d : listed)
    if (d.tokens > 0) td.domains.push_back(d.domain);
  std::sort(td.domains.begin(), td.domains.end());
  td.domains.erase(std::unique(td.domains.begin(), td.domains.end()), td.domains.end());
  std::map<std::string, int> index;
  for (size_t i = 0; i < td.domains.size(); ++i) index[td.domains[i]] = int(i);
  for (const auto& d : listed) {
    if (d.tokens <= 0) continue;
    DocumentRecord r = ws.record(d.id);
    const size_t T = r.ids.size();
    if (T != size_t(d.tokens))
      fail_expected(ws.path(), "document " + std::to_string(d.id) + ": record's token count does not match its ids",
                    std::to_string(d.tokens) + " ids", std::to_string(T));
    if (r.topk_ids.size() != T * k || r.doc_mean_probs.size() != es || r.doc_topk_freq.size() != es)
      fail(ws.path(), "document " + std::to_string(d.id) + ": record sizes do not match the layer layout");
    TracedDocument doc;
    doc.id = d.id;
    doc.domain = index[d.domain];
    doc.ext_id = d.ext_id;
    doc.lang = d.lang;
    doc.ids = std::move(r.ids);
    doc.topk_ids = std::move(r.topk_ids);
    doc.mean_probs = std::move(r.doc_mean_probs);
    doc.topk_freq = std::move(r.doc_topk_freq);
    td.docs.push_back(std::move(doc));
  }
  if (td.docs.empty()) fail(ws.path(), "workspace has no traced documents (run `moescope-cli trace` first)");
  return td;
}

namespace {

[[noreturn]] void fail_unknown_domain(const std::vector<std::string>& domains, const std::string& domain, const std::string& where) {
  std::string expected;
  if (domains.size() <= 8) {
    expected = "one of";
    for (size_t i = 0; i < domains.size(); ++i) expected += (i ? ", " : " ") + domains[i];
  } else {
    expected = "one of its " + std::to_string(domains.size()) + " domains (moescope-cli analyze lists them)";
  }
  const std::string hint = did_you_mean(domain, domains);
  throw Error(where + ": not a domain of the workspace (expected " + expected + ", found '" + domain + "')" +
              (hint.empty() ? "" : "; " + hint));
}

}  // namespace

int domain_index(const TraceData& td, const std::string& domain, const std::string& where) {
  const auto it = std::find(td.domains.begin(), td.domains.end(), domain);
  if (it == td.domains.end()) fail_unknown_domain(td.domains, domain, where);
  return int(it - td.domains.begin());
}

}  // namespace moescope
