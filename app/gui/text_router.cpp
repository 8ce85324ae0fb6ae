// text_router.cpp — background routing with debounce.
#include "app/gui/text_router.h"

#include "analysis/text_windows.h"
#include "engine/error.h"

namespace moescope::gui {

TextRouter::TextRouter(std::shared_ptr<const Model> model) : model_(std::move(model)), worker_([this] { run(); }) {}

TextRouter::~TextRouter() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  worker_.join();
}

void TextRouter::submit(const std::string& text, std::chrono::milliseconds debounce) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending_ = text;
    ++pending_version_;
    due_ = std::chrono::steady_clock::now() + debounce;
  }
  cv_.notify_all();
}

std::shared_ptr<const RoutedText> TextRouter::latest() const {
  std::lock_guard<std::mutex> lock(mu_);
  return latest_;
}

void TextRouter::run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stop_ || pending_version_ != done_version_; });
    if (stop_) return;
    // Wait out the debounce; a newer edit moves the deadline.
    while (!stop_ && std::chrono::steady_clock::now() < due_) cv_.wait_until(lock, due_);
    if (stop_) return;
    const std::string text = pending_;
    const uint64_t version = pending_version_;
    lock.unlock();
    busy_ = true;
    auto out = std::make_shared<RoutedText>();
    out->text = text;
    out->version = version;
    try {
      if (!text.empty()) {
        out->enc = model_->tokenizer()->encode(text);
        // Longer than the context: consecutive windows, each routed on its own, in batches.
        out->windows = split_windows(out->enc.ids.size(), model_->config().max_position_embeddings);
        const auto t0 = std::chrono::steady_clock::now();
        TextRoutingMeans means;
        route_windows(*model_, out->enc.ids, out->windows, ForwardOptions{}, kWindowBatchTokens, [&](const WindowBatch& b) {
          means.add(b.result);
          append_forward(out->result, b.result);
        });
        // The heatmaps show the whole text: one row of means per layer, over all windows.
        for (size_t i = 0; i < out->result.layers.size(); ++i) {
          out->result.layers[i].doc_mean_probs = means.mean_probs(i);
          out->result.layers[i].doc_topk_freq = means.topk_freq(i);
        }
        out->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      }
    } catch (const Error& e) {
      out->error = e.what();
      out->enc = {};
      out->result = {};
      out->windows.clear();
    }
    busy_ = false;
    lock.lock();
    latest_ = out;
    done_version_ = version;
  }
}

}  // namespace moescope::gui
