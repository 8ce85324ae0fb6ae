// bind_model.cpp — moescope._moescope.Model: a checkpoint loaded as moescope-cli loads it (same
// options, same checks and messages), its tokenizer, and route / score of one text with the
// numbers `route --json` and `score --json` print. The GIL is released during loads and forward
// passes; Model::forward is const, so several Python threads may route with one model at once.
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <cmath>
#include <limits>

#include "analysis/text_windows.h"
#include "app/cli/commands.h"
#include "python/src/bindings.h"

namespace moescope::python {

namespace {

struct PyModel {
  std::unique_ptr<Model> model;
  std::string path, keep;
};

// The same loading as the CLI's --model/--keep/--precision/--threads/--device options.
PyModel* load(const std::string& path, const std::optional<std::string>& keep, const std::string& precision,
              std::optional<int> threads, const std::string& device, bool memory_check, bool force_subset) {
  std::vector<std::string> argv{"--model", path, "--precision", precision};
  if (keep) argv.insert(argv.end(), {"--keep", *keep});
  if (threads) argv.insert(argv.end(), {"--threads", std::to_string(*threads)});
  if (device != "cpu") argv.insert(argv.end(), {"--device", device});
  if (!memory_check) argv.push_back("--no-memory-check");
  if (force_subset) argv.push_back("--force-subset");
  const cli::Args args(argv, {"no-memory-check", "force-subset"}, {"model", "keep", "precision", "threads", "device"});
  auto out = std::make_unique<PyModel>();
  out->path = path;
  out->keep = keep.value_or("");
  std::unique_ptr<ExpertSubset> kept;
  {
    nb::gil_scoped_release unlocked;
    out->model = cli::load_model_for(args, kept);
  }
  return out.release();
}

nb::dict tokenize(const PyModel& m, const std::string& text) {
  Encoding enc;
  {
    nb::gil_scoped_release unlocked;
    enc = m.model->tokenizer()->encode(text);
  }
  const size_t T = enc.ids.size();
  std::vector<int64_t> offsets;
  offsets.reserve(2 * T);
  for (const auto& [b, e] : enc.offsets) offsets.insert(offsets.end(), {int64_t(b), int64_t(e)});
  nb::list tokens;
  for (const std::string& t : enc.tokens) tokens.append(utf8_str(t));
  nb::dict out;
  out["ids"] = numpy_array(std::move(enc.ids), {T});
  out["tokens"] = tokens;
  out["offsets"] = numpy_array(std::move(offsets), {T, 2});
  return out;
}

// route: per MoE layer [T, K] ids and weights, [T, Es] probs, [T, E] router logits (when asked),
// [Es] whole-text means; nll [T], NaN where no next token is predicted (each window's last).
nb::dict route(const PyModel& m, const std::string& text, bool probs, bool router_logits) {
  const Model& model = *m.model;
  ForwardOptions opt;
  opt.probs = probs;
  opt.router_logits = router_logits;
  cli::ModelText mt;
  std::vector<LayerRecord> layers;  // the whole text's records, layer by layer
  std::vector<float> nll;
  TextRoutingMeans means;
  {
    nb::gil_scoped_release unlocked;
    mt = cli::text_for_model(model, text, "text");
    nll.assign(mt.enc.ids.size(), std::numeric_limits<float>::quiet_NaN());
    route_windows(model, mt.enc.ids, mt.windows, opt, kWindowBatchTokens, [&](const WindowBatch& b) {
      const ForwardResult& r = b.result;
      if (layers.empty())
        for (const LayerRecord& l : r.layers) {
          LayerRecord shape;
          shape.layer = l.layer;
          shape.num_experts = l.num_experts;
          shape.num_standard = l.num_standard;
          shape.k = l.k;
          layers.push_back(std::move(shape));
        }
      for (size_t i = 0; i < r.layers.size(); ++i) {
        const LayerRecord& l = r.layers[i];
        LayerRecord& to = layers[i];
        to.topk_ids.insert(to.topk_ids.end(), l.topk_ids.begin(), l.topk_ids.end());
        to.topk_weights.insert(to.topk_weights.end(), l.topk_weights.begin(), l.topk_weights.end());
        to.probs.insert(to.probs.end(), l.probs.begin(), l.probs.end());
        to.router_logits.insert(to.router_logits.end(), l.router_logits.begin(), l.router_logits.end());
      }
      for (size_t t = 0; t < r.nll.size(); ++t) nll[b.first_token + t] = r.nll[t];
      means.add(r);
    });
  }
  const size_t T = mt.enc.ids.size();
  nb::list layer_index, topk_ids, topk_weights, probs_out, logits_out, mean_probs, topk_freq;
  for (size_t i = 0; i < layers.size(); ++i) {
    LayerRecord& l = layers[i];
    const size_t K = size_t(l.k), E = size_t(l.num_experts), Es = size_t(l.num_standard);
    layer_index.append(l.layer);
    topk_ids.append(numpy_array(std::move(l.topk_ids), {T, K}));
    topk_weights.append(numpy_array(std::move(l.topk_weights), {T, K}));
    if (probs) probs_out.append(numpy_array(std::move(l.probs), {T, Es}));
    if (router_logits) logits_out.append(numpy_array(std::move(l.router_logits), {T, E}));
    mean_probs.append(numpy_array(means.mean_probs(i), {Es}));
    topk_freq.append(numpy_array(means.topk_freq(i), {Es}));
  }
  std::vector<int64_t> offsets, windows;
  for (const auto& [b, e] : mt.enc.offsets) offsets.insert(offsets.end(), {int64_t(b), int64_t(e)});
  for (const DocumentSpan& w : mt.windows) windows.insert(windows.end(), {int64_t(w.begin), int64_t(w.end)});
  nb::list tokens;
  for (const std::string& t : mt.enc.tokens) tokens.append(utf8_str(t));
  nb::dict out;
  const size_t W = mt.windows.size();
  out["ids"] = numpy_array(std::move(mt.enc.ids), {T});
  out["tokens"] = tokens;
  out["offsets"] = numpy_array(std::move(offsets), {T, 2});
  out["nll"] = numpy_array(std::move(nll), {T});
  out["windows"] = numpy_array(std::move(windows), {W, 2});
  out["layers"] = layer_index;
  out["topk_ids"] = topk_ids;
  out["topk_weights"] = topk_weights;
  out["probs"] = probs ? nb::object(probs_out) : nb::none();
  out["router_logits"] = router_logits ? nb::object(logits_out) : nb::none();
  out["doc_mean_probs"] = mean_probs;
  out["doc_topk_freq"] = topk_freq;
  return out;
}

nb::object score(const PyModel& m, const std::string& text) {
  nlohmann::json j;
  {
    nb::gil_scoped_release unlocked;
    const cli::ModelText mt = cli::text_for_model(*m.model, text, "text");
    j = cli::score_text_json(cli::score_text(*m.model, mt), mt, !m.keep.empty());
  }
  return to_python(j);
}

}  // namespace

Model& model_of(nb::handle py_model) { return *nb::cast<PyModel&>(py_model).model; }
std::string model_keep_of(nb::handle py_model) { return nb::cast<PyModel&>(py_model).keep; }

void bind_model(nb::module_& m) {
  nb::class_<PyModel>(m, "Model")
      .def_static("load", &load, nb::arg("path"), nb::arg("keep").none() = nb::none(), nb::arg("precision") = "f32",
                  nb::arg("threads").none() = nb::none(), nb::arg("device") = "cpu", nb::arg("memory_check") = true,
                  nb::arg("force_subset") = false, nb::rv_policy::take_ownership)
      .def_ro("path", &PyModel::path)
      .def_ro("keep", &PyModel::keep)
      .def("tokenize", &tokenize, nb::arg("text"))
      .def("route", &route, nb::arg("text"), nb::arg("probs") = false, nb::arg("router_logits") = false)
      .def("score", &score, nb::arg("text"))
      .def_prop_ro("config_json", [](const PyModel& p) {
        return to_python(nlohmann::json{{"num_layers", p.model->config().num_layers},
                                        {"max_position_embeddings", p.model->config().max_position_embeddings},
                                        {"vocab_size", p.model->config().vocab_size}});
      });
}

}  // namespace moescope::python
