// text_windows.h — one text longer than the model's context, routed as consecutive windows.
// Each window is its own document of the packed forward pass (positions restart at 0, attention
// stays inside it), so its last token predicts nothing (NaN NLL). Windows run in batches of
// about batch_tokens tokens and each batch goes to a sink, so memory does not grow with the text.
#pragma once

#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include "engine/model.h"

namespace moescope {

// Tokens per forward batch of windows: trace's batch size, shared by route, score and the GUI.
constexpr int64_t kWindowBatchTokens = 16384;

// Consecutive, non-overlapping [begin, end) token ranges of at most `window` tokens covering
// [0, tokens). Throws Error when window < 1.
std::vector<DocumentSpan> split_windows(size_t tokens, int64_t window);

// [first, last) window ranges, one per forward batch of at most batch_tokens tokens (a window
// longer than that forms a batch alone).
std::vector<std::pair<size_t, size_t>> window_batches(const std::vector<DocumentSpan>& windows, int64_t batch_tokens);

// One routed batch: windows [first_window, last_window); result token t is text token first_token + t.
struct WindowBatch {
  size_t first_window = 0, last_window = 0;
  size_t first_token = 0;
  const ForwardResult& result;
};

// Routes ids window by window in batches and hands each batch to `sink` in text order. An Error
// from the forward pass is re-thrown naming the batch's token range in the text.
void route_windows(const Model& model, const std::vector<int32_t>& ids, const std::vector<DocumentSpan>& windows,
                   const ForwardOptions& options, int64_t batch_tokens, const std::function<void(const WindowBatch&)>& sink);

// The whole text's doc_mean_probs / doc_topk_freq per MoE layer: the token-weighted mean of its
// windows' rows (equal, bit for bit, to the window's own row when there is one window).
class TextRoutingMeans {
 public:
  void add(const ForwardResult& batch);
  size_t layers() const { return mean_probs_.size(); }
  std::vector<float> mean_probs(size_t layer_index) const { return finish(mean_probs_[layer_index]); }
  std::vector<float> topk_freq(size_t layer_index) const { return finish(topk_freq_[layer_index]); }

 private:
  std::vector<float> finish(const std::vector<double>& sums) const;
  std::vector<std::vector<double>> mean_probs_, topk_freq_;  // [Lm][E-S] token-weighted sums
  size_t tokens_ = 0;
};

// Appends a batch's result to `into` (docs shifted, per-token rows and per-document rows
// concatenated), so batches routed one after another read as one packed forward pass.
void append_forward(ForwardResult& into, const ForwardResult& part);

}  // namespace moescope
