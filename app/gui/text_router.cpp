// text_router.cpp — background routing with debounce.
#include "app/gui/text_router.h"

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
        const int64_t ctx = model_->config().max_position_embeddings;
        if (int64_t(out->enc.ids.size()) > ctx) {  // route the first context's worth, say so
          out->enc.ids.resize(size_t(ctx));
          out->enc.offsets.resize(size_t(ctx));
          out->enc.tokens.resize(size_t(ctx));
          out->error = "text is longer than the model's context: only the first " + std::to_string(ctx) + " tokens are routed";
        }
        const auto t0 = std::chrono::steady_clock::now();
        if (!out->enc.ids.empty()) out->result = model_->forward({out->enc.ids}, ForwardOptions{});
        out->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      }
    } catch (const Error& e) {
      out->error = e.what();
      out->enc = {};
      out->result = {};
    }
    busy_ = false;
    lock.lock();
    latest_ = out;
    done_version_ = version;
  }
}

}  // namespace moescope::gui
