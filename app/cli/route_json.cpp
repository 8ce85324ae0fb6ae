// route_json.cpp — streaming `route --json` through a spool, stream by stream at the end.
#include "app/cli/route_json.h"

#include <limits>
#include <nlohmann/json.hpp>

#include "app/cli/json_out.h"

namespace moescope::cli {

RouteJsonWriter::RouteJsonWriter(const Encoding& enc, const std::vector<DocumentSpan>& windows, const ForwardOptions& options)
    : enc_(enc), windows_(windows), options_(options),
      nll_(enc.ids.empty() ? 0 : enc.ids.size() - 1, std::numeric_limits<float>::quiet_NaN()) {}

void RouteJsonWriter::spool_rows(size_t layer_index, Field f, const std::string& rows_json) {
  // rows_json is "[[...],[...]]": keep the rows, joined to earlier batches' by a comma.
  if (rows_json.size() <= 2) return;
  const size_t s = stream(layer_index, f);
  if (!spool_->empty(s)) spool_->append(s, ",");
  spool_->append(s, std::string_view(rows_json).substr(1, rows_json.size() - 2));
}

void RouteJsonWriter::add(const WindowBatch& batch) {
  const ForwardResult& r = batch.result;
  if (!spool_) {
    for (const LayerRecord& rec : r.layers) {
      LayerRecord meta;
      meta.layer = rec.layer;
      meta.num_experts = rec.num_experts;
      meta.num_standard = rec.num_standard;
      meta.k = rec.k;
      layout_.push_back(std::move(meta));
    }
    spool_ = std::make_unique<Spool>(layout_.size() * kFields);
  }
  const size_t T = r.ids.size();
  for (size_t t = 0; t < T && batch.first_token + t < nll_.size(); ++t) nll_[batch.first_token + t] = r.nll[t];
  means_.add(r);
  for (size_t i = 0; i < r.layers.size(); ++i) {
    const LayerRecord& rec = r.layers[i];
    if (options_.probs) spool_rows(i, kProbs, dump(rows_json(rec.probs, T, size_t(rec.num_standard))));
    if (options_.router_logits) spool_rows(i, kRouterLogits, dump(rows_json(rec.router_logits, T, size_t(rec.num_experts))));
    if (original_ids_.empty()) {
      spool_rows(i, kTopkIds, dump(rows_json(rec.topk_ids, T, size_t(rec.k))));
    } else {
      std::vector<int32_t> mapped(rec.topk_ids.begin(), rec.topk_ids.begin() + ptrdiff_t(T * size_t(rec.k)));
      for (int32_t& e : mapped) e = original_ids_[i][size_t(e)];
      spool_rows(i, kTopkIds, dump(rows_json(mapped, T, size_t(rec.k))));
    }
    spool_rows(i, kTopkWeights, dump(rows_json(rec.topk_weights, T, size_t(rec.k))));
  }
}

void RouteJsonWriter::finish(std::ostream& out) {
  out << "{\"ids\":[";
  for (size_t t = 0; t < enc_.ids.size(); ++t) out << (t ? "," : "") << enc_.ids[t];
  out << "],\"layers\":[";
  for (size_t i = 0; i < layout_.size(); ++i) {
    const LayerRecord& m = layout_[i];
    out << (i ? "," : "") << "{\"doc_mean_probs\":" << dump(nlohmann::json(means_.mean_probs(i)))
        << ",\"doc_topk_freq\":" << dump(nlohmann::json(means_.topk_freq(i))) << ",\"k\":" << m.k
        << ",\"layer\":" << m.layer << ",\"num_experts\":" << m.num_experts << ",\"num_standard\":" << m.num_standard;
    auto field = [&](const char* name, Field f) {
      out << ",\"" << name << "\":[";
      spool_->copy_to(stream(i, f), out);
      out << "]";
    };
    if (!original_ids_.empty()) out << ",\"original_expert_ids\":" << dump(nlohmann::json(original_ids_[i]));
    if (options_.probs) field("probs", kProbs);
    if (options_.router_logits) field("router_logits", kRouterLogits);
    field("topk_ids", kTopkIds);
    field("topk_weights", kTopkWeights);
    out << "}";
  }
  out << "],\"nll\":" << dump(nlohmann::json(nll_)) << ",\"offsets\":[";
  for (size_t t = 0; t < enc_.offsets.size(); ++t)
    out << (t ? "," : "") << "[" << enc_.offsets[t].first << "," << enc_.offsets[t].second << "]";
  out << "],\"tokens\":[";
  for (size_t t = 0; t < enc_.tokens.size(); ++t) out << (t ? "," : "") << dump(nlohmann::json(enc_.tokens[t]));
  out << "],\"windows\":[";
  for (size_t w = 0; w < windows_.size(); ++w)
    out << (w ? "," : "") << "{\"end\":" << windows_[w].end << ",\"start\":" << windows_[w].begin << "}";
  out << "]}\n";
}

}  // namespace moescope::cli
