// cmd_route.cpp — `moescope-cli route`: the router decisions for one text, per token and MoE layer.
// A text longer than --window tokens (default: the context) is routed window by window, in
// batches, and printed as it goes (route_json.h for --json), so memory stays flat in its length.
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "app/cli/commands.h"
#include "app/cli/json_out.h"
#include "app/cli/route_json.h"
#include "engine/checkpoint/pruning_provenance.h"
#include "engine/error.h"

namespace moescope::cli {

namespace {

// --original-ids: per MoE layer (record order) the original id of each expert of a pruned
// checkpoint, from its pruning_metadata.json; refused on a model that was not pruned.
std::vector<std::vector<int>> original_ids_of(const Model& model) {
  const auto p = read_pruning_provenance(model.dir(), model.config());
  if (!p) fail(model.dir(), "has no pruning_metadata.json: --original-ids applies to a pruned checkpoint (subset export)");
  std::vector<std::vector<int>> ids;
  for (int l = 0; l < model.config().num_layers; ++l) {
    const LayerSpec& s = model.config().layers[size_t(l)];
    if (!s.is_moe()) continue;
    ids.emplace_back();
    for (int j = 0; j < s.num_experts; ++j) ids.back().push_back(p->original_id(l, j));
  }
  return ids;
}

// One table line per token: the experts of every MoE layer as id:weight.
void print_rows(const ModelText& text, const WindowBatch& batch, const std::vector<std::vector<int>>& original_ids) {
  const ForwardResult& r = batch.result;
  for (size_t w = batch.first_window; w < batch.last_window; ++w) {
    const DocumentSpan& win = text.windows[w];
    if (text.windows.size() > 1)
      std::cout << "-- window " << w << ": tokens " << win.begin << ".." << win.end - 1 << "\n";
    for (size_t t = win.begin; t < win.end; ++t) {
      const size_t bt = t - batch.first_token;  // index in the batch
      const auto [b, e] = text.enc.offsets[t];
      std::string shown = dump(nlohmann::json(text.src.text.substr(b, e - b)));
      char head[96];
      if (t + 1 < win.end) std::snprintf(head, sizeof head, "%5zu %-16s nll %6.3f", t, shown.c_str(), r.nll[bt]);
      else std::snprintf(head, sizeof head, "%5zu %-16s           ", t, shown.c_str());
      std::cout << head;
      for (size_t m = 0; m < r.layers.size(); ++m) {
        const LayerRecord& rec = r.layers[m];
        std::cout << " | L" << rec.layer << ":";
        for (int i = 0; i < rec.k; ++i) {
          char cell[32];
          const size_t at = bt * size_t(rec.k) + size_t(i);
          const int id = original_ids.empty() ? rec.topk_ids[at] : original_ids[m][size_t(rec.topk_ids[at])];
          std::snprintf(cell, sizeof cell, " %d:%.2f", id, rec.topk_weights[at]);
          std::cout << cell;
        }
      }
      std::cout << "\n";
    }
  }
}

}  // namespace

int cmd_route(const std::vector<std::string>& argv) {
  Args args(argv, {"json", "probs", "router-logits", "no-memory-check", "force-subset", "original-ids"},
            {"model", "text", "file", "keep", "threads", "precision", "window", "max-tokens", "device"});
  check_text_options(args);  // a malformed command line is refused before the model loads
  std::unique_ptr<ExpertSubset> keep;
  auto model = load_model_for(args, keep);
  const ModelText text = read_model_text(args, *model);
  const auto original_ids = args.flag("original-ids") ? original_ids_of(*model) : std::vector<std::vector<int>>{};

  ForwardOptions opt;
  opt.probs = args.flag("probs");
  opt.router_logits = args.flag("router-logits");
  const size_t T = text.enc.ids.size();

  if (args.flag("json")) {
    RouteJsonWriter writer(text.enc, text.windows, opt);
    writer.set_original_ids(original_ids);
    route_windows(*model, text.enc.ids, text.windows, opt, kWindowBatchTokens, [&](const WindowBatch& b) { writer.add(b); });
    writer.finish(std::cout);
  } else {
    bool header = false;
    route_windows(*model, text.enc.ids, text.windows, opt, kWindowBatchTokens, [&](const WindowBatch& b) {
      if (!header) {
        std::cout << T << " tokens, " << b.result.layers.size() << " MoE layers; nll = -log p(next token)\n"
                  << windows_note(text, model->config())
                  << (original_ids.empty() ? "" : "expert ids are the original model's (pruning_metadata.json)\n");
        header = true;
      }
      print_rows(text, b, original_ids);
    });
  }
  std::cout.flush();
  if (!std::cout) fail("standard output", "write failed");
  return 0;
}

}  // namespace moescope::cli
