// corpus_state.cpp — the corpus-side computations of the app (run on Job threads).
#include "app/gui/labels.h"
#include "app/gui/corpus_state.h"

#include <algorithm>
#include <filesystem>
#include <unordered_map>

#include "analysis/corpus.h"
#include "analysis/workspace.h"

namespace fs = std::filesystem;

namespace moescope::gui {

std::string CorpusState::token_text(int32_t id) const {
  if (!tokenizer) return prefixed("#", id);
  std::string s = tokenizer->decode({id});
  std::string out;
  for (char ch : s) {
    if (ch == '\n') out += "\\n";
    else if (ch == '\t') out += "\\t";
    else out += ch;
  }
  return out;
}

std::shared_ptr<const CorpusState> load_corpus_state(const std::string& path, JobControl& job) {
  job.report(0.1, "reading routing records");
  Workspace ws(path, false);
  auto c = std::make_shared<CorpusState>();
  c->path = path;
  c->trace = load_trace(ws);
  job.report(0.7, "domain statistics");
  c->stats = domain_stats(c->trace, 0.9);
  c->usage = expert_usage(c->trace);
  for (const auto& d : c->trace.docs) c->tokens += d.tokens();
  const fs::path tok = fs::path(c->trace.run["model"]["path"].get<std::string>()) / "tokenizer.json";
  try {
    if (fs::exists(tok)) c->tokenizer = std::make_shared<const Tokenizer>(Tokenizer::from_file(tok.string()));
  } catch (const Error&) {
    // Token strings are a convenience: without the tokenizer, ids are shown instead.
  }
  return c;
}

std::shared_ptr<const LayerAnalysis> analyse_layer(const CorpusState& c, size_t l, JobControl& job) {
  const TraceData& td = c.trace;
  auto a = std::make_shared<LayerAnalysis>();
  a->layer = l;
  job.report(0.1, "expert groups");
  GroupOptions go;
  a->groups = expert_groups(td, l, go);
  const int Es = td.layers[l].num_standard, K = td.layers[l].k;
  a->group_of.assign(size_t(Es), -1);
  for (size_t g = 0; g < a->groups.groups.size(); ++g)
    for (int e : a->groups.groups[g].experts) a->group_of[size_t(e)] = int(g);
  if (job.cancelled()) return nullptr;
  job.report(0.5, "co-activation");
  a->coactivation = token_coactivation(td, l);
  if (job.cancelled()) return nullptr;
  job.report(0.8, "expert usage");
  // Per expert: the documents with the largest share of tokens selecting it, the tokens selecting it most.
  a->use.resize(size_t(Es));
  std::vector<std::unordered_map<int32_t, double>> tok_count(static_cast<size_t>(Es));
  std::unordered_map<int32_t, double> occurrences;
  std::vector<std::vector<ExpertUse::Doc>> docs(static_cast<size_t>(Es));
  std::vector<double> per_doc(static_cast<size_t>(Es));
  for (size_t di = 0; di < td.docs.size(); ++di) {
    const TracedDocument& d = td.docs[di];
    std::fill(per_doc.begin(), per_doc.end(), 0.0);
    for (size_t t = 0; t < d.tokens(); ++t) {
      occurrences[d.ids[t]] += 1;
      const uint16_t* ids = td.topk(d, l, t);
      for (int j = 0; j < K; ++j)
        if (ids[j] < Es) {
          per_doc[ids[j]] += 1;
          tok_count[ids[j]][d.ids[t]] += 1;
        }
    }
    for (int e = 0; e < Es; ++e)
      if (per_doc[size_t(e)] > 0) docs[size_t(e)].push_back({di, per_doc[size_t(e)] / double(d.tokens())});
  }
  for (int e = 0; e < Es; ++e) {
    auto& dv = docs[size_t(e)];
    const size_t n = std::min<size_t>(10, dv.size());
    std::partial_sort(dv.begin(), dv.begin() + long(n), dv.end(), [](const auto& x, const auto& y) { return x.share > y.share; });
    a->use[size_t(e)].docs.assign(dv.begin(), dv.begin() + long(n));
    std::vector<ExpertUse::Tok> toks;
    for (const auto& [id, cnt] : tok_count[size_t(e)]) toks.push_back({id, cnt, cnt / occurrences[id]});
    const size_t m = std::min<size_t>(15, toks.size());
    std::partial_sort(toks.begin(), toks.begin() + long(m), toks.end(), [](const auto& x, const auto& y) {
      return x.count != y.count ? x.count > y.count : x.id < y.id;
    });
    a->use[size_t(e)].tokens.assign(toks.begin(), toks.begin() + long(m));
  }
  job.report(1, "done");
  return a;
}

std::shared_ptr<const TraceRun> trace_into_workspace(const Model& model, const std::string& corpus, const std::string& workspace,
                                                     int64_t max_tokens, JobControl& job) {
  job.report(0, "reading the corpus");
  const std::vector<CorpusDocument> docs = read_corpus(corpus);
  Workspace ws(workspace, true);
  TraceOptions opt;
  opt.max_tokens_per_doc = max_tokens;
  opt.stop = &job.stop_flag();
  opt.progress = [&](const TraceProgress& p) {
    char msg[160];
    const double rate = p.seconds_this_run > 0 ? double(p.tokens_this_run) / p.seconds_this_run : 0;
    std::snprintf(msg, sizeof msg, "%zu / %zu documents, %.0f tokens/s", p.documents_done, p.documents_total, rate);
    job.report(p.documents_total ? double(p.documents_done) / double(p.documents_total) : 0, msg);
  };
  auto run = std::make_shared<TraceRun>();
  run->workspace = workspace;
  run->summary = trace_corpus(model, docs, ws, opt);
  return run;
}

}  // namespace moescope::gui
