// cmd_route.cpp — `moescope-cli route`: the router decisions for one text, per token and MoE layer.
#include <cmath>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "app/cli/commands.h"
#include "app/cli/json_out.h"

namespace moescope::cli {

int cmd_route(const std::vector<std::string>& argv) {
  Args args(argv, {"json", "probs", "router-logits"}, {"model", "text", "file", "keep", "threads", "precision"});
  std::unique_ptr<ExpertSubset> keep;
  auto model = load_model_for(args, keep);
  TextSource src = read_text_source(args);
  Encoding enc = encode_for_model(*model, src);

  ForwardOptions opt;
  opt.probs = args.flag("probs");
  opt.router_logits = args.flag("router-logits");
  ForwardResult r = model->forward({enc.ids}, opt);
  const size_t T = enc.ids.size();
  std::vector<float> nll(r.nll.begin(), r.nll.end() - 1);  // the last token predicts nothing

  if (args.flag("json")) {
    nlohmann::json j;
    add_encoding(j, enc);
    j["nll"] = nll;
    auto& layers = j["layers"] = nlohmann::json::array();
    for (const LayerRecord& rec : r.layers) {
      nlohmann::json lj;
      lj["layer"] = rec.layer;
      lj["num_experts"] = rec.num_experts;
      lj["num_standard"] = rec.num_standard;
      lj["k"] = rec.k;
      lj["topk_ids"] = rows_json(rec.topk_ids, T, size_t(rec.k));
      lj["topk_weights"] = rows_json(rec.topk_weights, T, size_t(rec.k));
      if (opt.probs) lj["probs"] = rows_json(rec.probs, T, size_t(rec.num_standard));
      if (opt.router_logits) lj["router_logits"] = rows_json(rec.router_logits, T, size_t(rec.num_experts));
      lj["doc_mean_probs"] = rec.doc_mean_probs;
      lj["doc_topk_freq"] = rec.doc_topk_freq;
      layers.push_back(std::move(lj));
    }
    std::cout << dump(j) << "\n";
    return 0;
  }

  // Readable table: one line per token, the experts of every MoE layer as id:weight.
  std::cout << T << " tokens, " << r.layers.size() << " MoE layers; nll = -log p(next token)\n";
  for (size_t t = 0; t < T; ++t) {
    const auto [b, e] = enc.offsets[t];
    std::string shown = dump(nlohmann::json(src.text.substr(b, e - b)));
    char head[96];
    if (t + 1 < T) std::snprintf(head, sizeof head, "%5zu %-16s nll %6.3f", t, shown.c_str(), nll[t]);
    else std::snprintf(head, sizeof head, "%5zu %-16s           ", t, shown.c_str());
    std::cout << head;
    for (const LayerRecord& rec : r.layers) {
      std::cout << " | L" << rec.layer << ":";
      for (int i = 0; i < rec.k; ++i) {
        char cell[32];
        std::snprintf(cell, sizeof cell, " %d:%.2f", rec.topk_ids[t * size_t(rec.k) + size_t(i)],
                      rec.topk_weights[t * size_t(rec.k) + size_t(i)]);
        std::cout << cell;
      }
    }
    std::cout << "\n";
  }
  return 0;
}

}  // namespace moescope::cli
