// text_windows.cpp — windows of a long text, their batches, and the whole-text routing means.
#include "analysis/text_windows.h"

#include <algorithm>
#include <stdexcept>

#include "engine/error.h"

namespace moescope {

std::vector<DocumentSpan> split_windows(size_t tokens, int64_t window) {
  if (window < 1) fail_expected("window", "bad size", "at least 1 token", std::to_string(window));
  std::vector<DocumentSpan> out;
  for (size_t b = 0; b < tokens; b += size_t(window)) out.push_back({b, std::min(tokens, b + size_t(window))});
  return out;
}

std::vector<std::pair<size_t, size_t>> window_batches(const std::vector<DocumentSpan>& windows, int64_t batch_tokens) {
  std::vector<std::pair<size_t, size_t>> out;
  for (size_t first = 0; first < windows.size();) {
    size_t last = first;
    int64_t size = 0;
    while (last < windows.size() && (last == first || size + int64_t(windows[last].size()) <= batch_tokens))
      size += int64_t(windows[last++].size());
    out.emplace_back(first, last);
    first = last;
  }
  return out;
}

void route_windows(const Model& model, const std::vector<int32_t>& ids, const std::vector<DocumentSpan>& windows,
                   const ForwardOptions& options, int64_t batch_tokens, const std::function<void(const WindowBatch&)>& sink) {
  for (const auto& [first, last] : window_batches(windows, batch_tokens)) {
    std::vector<std::vector<int32_t>> docs;
    for (size_t w = first; w < last; ++w)
      docs.emplace_back(ids.begin() + std::ptrdiff_t(windows[w].begin), ids.begin() + std::ptrdiff_t(windows[w].end));
    ForwardResult r;
    try {
      r = model.forward(docs, options);
    } catch (const Error& e) {
      // The forward pass names tokens and documents of the batch; say where that batch is.
      std::string where = "text tokens [";
      where += std::to_string(windows[first].begin);
      where += ", ";
      where += std::to_string(windows[last - 1].end);
      where += ")";
      fail(where, e.what());
    }
    sink(WindowBatch{first, last, windows[first].begin, r});
  }
}

void TextRoutingMeans::add(const ForwardResult& batch) {
  if (mean_probs_.empty()) {
    for (const LayerRecord& l : batch.layers) {
      mean_probs_.emplace_back(size_t(l.num_standard), 0.0);
      topk_freq_.emplace_back(size_t(l.num_standard), 0.0);
    }
  }
  if (batch.layers.size() != mean_probs_.size()) throw std::logic_error("TextRoutingMeans: batches with different MoE layers");
  for (size_t i = 0; i < batch.layers.size(); ++i) {
    const LayerRecord& l = batch.layers[i];
    const size_t es = size_t(l.num_standard);
    for (size_t d = 0; d < batch.docs.size(); ++d) {
      // A float times a count below 2^29 is exact in double, so one window divides back exactly.
      const double n = double(batch.docs[d].size());
      for (size_t e = 0; e < es; ++e) {
        mean_probs_[i][e] += double(l.doc_mean_probs[d * es + e]) * n;
        topk_freq_[i][e] += double(l.doc_topk_freq[d * es + e]) * n;
      }
    }
  }
  for (const DocumentSpan& d : batch.docs) tokens_ += d.size();
}

std::vector<float> TextRoutingMeans::finish(const std::vector<double>& sums) const {
  std::vector<float> out(sums.size(), 0.f);
  if (tokens_ > 0)
    for (size_t e = 0; e < sums.size(); ++e) out[e] = float(sums[e] / double(tokens_));
  return out;
}

namespace {
template <typename T>
void append(std::vector<T>& into, const std::vector<T>& part) {
  into.insert(into.end(), part.begin(), part.end());
}
}  // namespace

void append_forward(ForwardResult& into, const ForwardResult& part) {
  if (into.ids.empty()) {
    into = part;
    return;
  }
  if (into.layers.size() != part.layers.size()) throw std::logic_error("append_forward: results with different MoE layers");
  const size_t shift = into.ids.size();
  for (DocumentSpan d : part.docs) into.docs.push_back({d.begin + shift, d.end + shift});
  append(into.ids, part.ids);
  append(into.nll, part.nll);
  append(into.logits, part.logits);
  for (size_t i = 0; i < part.layers.size(); ++i) {
    LayerRecord& a = into.layers[i];
    const LayerRecord& b = part.layers[i];
    append(a.topk_ids, b.topk_ids);
    append(a.topk_weights, b.topk_weights);
    append(a.router_logits, b.router_logits);
    append(a.probs, b.probs);
    append(a.doc_mean_probs, b.doc_mean_probs);
    append(a.doc_topk_freq, b.doc_topk_freq);
    if (a.easy_ep_scores.size() == b.easy_ep_scores.size())
      for (size_t e = 0; e < b.easy_ep_scores.size(); ++e) a.easy_ep_scores[e] += b.easy_ep_scores[e];
  }
  into.seconds.attention += part.seconds.attention;
  into.seconds.router += part.seconds.router;
  into.seconds.experts += part.seconds.experts;
  into.seconds.lm_head += part.seconds.lm_head;
}

}  // namespace moescope
