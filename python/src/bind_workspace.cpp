// bind_workspace.cpp — moescope._moescope.Workspace (reading a traced workspace: documents, the
// stored records of one document, per-domain expert usage) and trace() (a corpus into a
// workspace, in process, resumable). trace() reports progress to a Python callable between
// batches and checks for Ctrl-C there: KeyboardInterrupt (or any exception the callable raises)
// stops the trace after the batch in flight, as the CLI's Ctrl-C does, and is raised once the
// records of the finished batches are stored; the next trace of the same workspace resumes.
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>

#include <atomic>
#include <optional>

#include "analysis/corpus.h"
#include "analysis/domain_stats.h"
#include "analysis/trace.h"
#include "analysis/trace_data.h"
#include "analysis/workspace.h"
#include "engine/checkpoint/dtype.h"
#include "engine/error.h"
#include "engine/model.h"
#include "python/src/bindings.h"

namespace moescope::python {

namespace {

struct PyWorkspace {
  std::unique_ptr<Workspace> ws;
  std::optional<TraceData> trace;  // loaded on first use (analysis views)

  const TraceData& trace_data() {
    if (!trace) trace = load_trace(*ws);
    return *trace;
  }
};

PyWorkspace* open_workspace(const std::string& path) {
  auto out = std::make_unique<PyWorkspace>();
  out->ws = std::make_unique<Workspace>(path, false);
  return out.release();
}

// Columns of the documents table: position, id, domain, lang, tokens (-1: not traced), doc_id.
nb::dict documents(PyWorkspace& w) {
  const std::vector<WorkspaceDocument> docs = w.ws->documents();
  std::vector<int64_t> position, tokens, doc_id;
  nb::list id, domain, lang;
  for (const WorkspaceDocument& d : docs) {
    position.push_back(d.position);
    tokens.push_back(d.tokens);
    doc_id.push_back(d.id);
    id.append(utf8_str(d.ext_id));
    domain.append(utf8_str(d.domain));
    lang.append(utf8_str(d.lang));
  }
  const size_t N = docs.size();
  nb::dict out;
  out["position"] = numpy_array(std::move(position), {N});
  out["id"] = id;
  out["domain"] = domain;
  out["lang"] = lang;
  out["tokens"] = numpy_array(std::move(tokens), {N});
  out["doc_id"] = numpy_array(std::move(doc_id), {N});
  return out;
}

nb::list layers(PyWorkspace& w) {
  nb::list out;
  for (const LayerLayout& l : w.ws->layers()) {
    nb::dict d;
    d["layer"] = l.layer;
    d["k"] = l.k;
    d["num_standard"] = l.num_standard;
    out.append(d);
  }
  return out;
}

// The stored records of one document, per MoE layer: topk_ids / topk_weights [T, K],
// doc_mean_probs / doc_topk_freq [Es], probs [T, Es] when traced with probs; nll [T].
nb::dict record(PyWorkspace& w, int64_t doc_id) {
  DocumentRecord r;
  std::string text;
  {
    nb::gil_scoped_release unlocked;
    r = w.ws->record(doc_id);
    text = w.ws->document_text(doc_id);
  }
  const std::vector<LayerLayout> layout = w.ws->layers();
  const size_t T = r.ids.size();
  const bool has_probs = !r.probs_f16.empty();
  nb::list layer_index, topk_ids, topk_weights, mean_probs, topk_freq, probs;
  size_t k_at = 0, es_at = 0, p_at = 0;
  for (const LayerLayout& l : layout) {
    const size_t K = size_t(l.k), Es = size_t(l.num_standard);
    layer_index.append(l.layer);
    std::vector<int32_t> ids(r.topk_ids.begin() + std::ptrdiff_t(k_at), r.topk_ids.begin() + std::ptrdiff_t(k_at + T * K));
    std::vector<float> weights(r.topk_weights.begin() + std::ptrdiff_t(k_at), r.topk_weights.begin() + std::ptrdiff_t(k_at + T * K));
    topk_ids.append(numpy_array(std::move(ids), {T, K}));
    topk_weights.append(numpy_array(std::move(weights), {T, K}));
    mean_probs.append(numpy_array(std::vector<float>(r.doc_mean_probs.begin() + std::ptrdiff_t(es_at),
                                                     r.doc_mean_probs.begin() + std::ptrdiff_t(es_at + Es)),
                                  {Es}));
    topk_freq.append(numpy_array(std::vector<float>(r.doc_topk_freq.begin() + std::ptrdiff_t(es_at),
                                                    r.doc_topk_freq.begin() + std::ptrdiff_t(es_at + Es)),
                                 {Es}));
    if (has_probs) {
      std::vector<float> p(T * Es);
      for (size_t i = 0; i < T * Es; ++i) p[i] = f16_to_f32(r.probs_f16[p_at + i]);
      probs.append(numpy_array(std::move(p), {T, Es}));
      p_at += T * Es;
    }
    k_at += T * K;
    es_at += Es;
  }
  std::vector<int64_t> offsets(r.offsets.begin(), r.offsets.end());
  nb::dict out;
  out["ids"] = numpy_array(std::move(r.ids), {T});
  out["offsets"] = numpy_array(std::move(offsets), {T, 2});
  out["nll"] = numpy_array(std::move(r.nll), {T});
  out["text"] = utf8_str(text);
  out["layers"] = layer_index;
  out["topk_ids"] = topk_ids;
  out["topk_weights"] = topk_weights;
  out["probs"] = has_probs ? nb::object(probs) : nb::none();
  out["doc_mean_probs"] = mean_probs;
  out["doc_topk_freq"] = topk_freq;
  out["truncated"] = r.truncated;
  return out;
}

// Per domain, one MoE layer's expert usage as `analyze` computes it: the mean routing probability
// ("mean_probs") or the selections per token ("topk_freq"), token-weighted over the domain.
nb::dict domain_usage(PyWorkspace& w, int layer, const std::string& stat) {
  if (stat != "mean_probs" && stat != "topk_freq")
    fail_expected("stat", "unknown statistic", "mean_probs or topk_freq", "'" + stat + "'");
  const TraceData& td = w.trace_data();
  size_t l = td.layers.size();
  std::string have;
  for (size_t i = 0; i < td.layers.size(); ++i) {
    if (td.layers[i].layer == layer) l = i;
    have += (have.empty() ? "" : ", ") + std::to_string(td.layers[i].layer);
  }
  if (l == td.layers.size()) fail_expected("layer", "not a MoE layer of the traced model", "one of " + have, std::to_string(layer));
  const std::vector<DomainStats> stats = domain_stats(td, 0.9);
  const size_t D = stats.size(), Es = size_t(td.layers[l].num_standard);
  std::vector<double> values;
  nb::list names;
  for (const DomainStats& s : stats) {
    names.append(utf8_str(s.domain));
    const auto& v = stat == "mean_probs" ? s.layers[l].mean_prob : s.layers[l].topk_freq;
    values.insert(values.end(), v.begin(), v.end());
  }
  nb::dict out;
  out["domains"] = names;
  out["values"] = numpy_array(std::move(values), {D, Es});
  return out;
}

CorpusDocument corpus_document(nb::handle item, size_t i) {
  const std::string where = "corpus[" + std::to_string(i) + "]";
  if (!nb::isinstance<nb::dict>(item)) fail(where, "expected a dict with 'text' (and 'domain', 'lang', 'id')");
  nb::dict d = nb::borrow<nb::dict>(item);
  auto field = [&](const char* name, bool required) -> std::string {
    if (!d.contains(name)) {
      if (required) fail(where, std::string("has no '") + name + "'");
      return "";
    }
    nb::handle v = d[name];
    if (!nb::isinstance<nb::str>(v)) fail(where + "." + name, "expected a str");
    return nb::cast<std::string>(v);
  };
  CorpusDocument doc;
  doc.text = field("text", true);
  doc.domain = field("domain", false);
  doc.lang = field("lang", false);
  doc.id = field("id", false);
  if (doc.id.empty()) doc.id = "item " + std::to_string(i);
  return doc;
}

nb::object trace(nb::handle py_model, nb::handle corpus, const std::string& workspace, int64_t max_tokens_per_doc,
                 int64_t batch_tokens, bool probs, nb::object progress) {
  if (!model_keep_of(py_model).empty())
    fail("trace", "the model was loaded with keep=" + model_keep_of(py_model) +
                      ": a workspace records the full model (load it without keep; moescope-cli trace has no --keep)");
  std::vector<CorpusDocument> docs;
  if (nb::isinstance<nb::str>(corpus)) {
    const std::string path = nb::cast<std::string>(corpus);
    nb::gil_scoped_release unlocked;
    docs = read_corpus(path);
  } else {
    size_t i = 0;
    for (nb::handle item : corpus) docs.push_back(corpus_document(item, i++));
    if (docs.empty()) fail("corpus", "no documents");
  }
  const Model& model = model_of(py_model);
  std::atomic<bool> stop{false};
  std::optional<nb::python_error> raised;  // KeyboardInterrupt, or what `progress` raised
  TraceOptions opt;
  opt.max_tokens_per_doc = max_tokens_per_doc;
  opt.batch_tokens = batch_tokens;
  opt.probs = probs;
  opt.stop = &stop;
  opt.progress = [&](const TraceProgress& p) {
    nb::gil_scoped_acquire locked;
    if (raised) return;
    try {
      if (PyErr_CheckSignals() != 0) throw nb::python_error();
      if (!progress.is_none())
        progress(p.documents_done, p.documents_total, p.tokens_this_run, p.seconds_this_run);
    } catch (nb::python_error& e) {
      raised.emplace(std::move(e));
      stop = true;
    }
  };
  TraceSummary s;
  {
    nb::gil_scoped_release unlocked;
    Workspace ws(workspace, true);
    s = trace_corpus(model, docs, ws, opt);
  }
  if (raised) throw std::move(*raised);
  return to_python(nlohmann::json{{"workspace", workspace},  {"documents", s.total}, {"traced_now", s.traced_now},
                                  {"already_traced", s.already}, {"tokens", s.tokens}, {"truncated", s.truncated},
                                  {"stopped", s.stopped}});
}

}  // namespace

void bind_workspace(nb::module_& m) {
  nb::class_<PyWorkspace>(m, "Workspace")
      .def_static("open", &open_workspace, nb::arg("path"), nb::rv_policy::take_ownership)
      .def_prop_ro("path", [](const PyWorkspace& w) { return w.ws->path(); })
      .def("documents", &documents)
      .def("layers", &layers)
      .def("run_info", [](PyWorkspace& w) { return to_python(w.ws->run_info()); })
      .def("domains", [](PyWorkspace& w) {
        nb::list out;
        for (const std::string& d : w.trace_data().domains) out.append(utf8_str(d));
        return out;
      })
      .def("record", &record, nb::arg("doc_id"))
      .def("domain_usage", &domain_usage, nb::arg("layer"), nb::arg("stat"));
  m.def("trace", &trace, nb::arg("model"), nb::arg("corpus"), nb::arg("workspace"), nb::arg("max_tokens_per_doc") = 0,
        nb::arg("batch_tokens") = 16384, nb::arg("probs") = false, nb::arg("progress").none() = nb::none());
}

}  // namespace moescope::python
