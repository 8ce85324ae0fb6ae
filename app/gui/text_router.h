// text_router.h — routes the text being edited in the background: the UI thread submits text,
// a worker thread tokenizes and runs the forward pass after a short pause in typing (debounce),
// and the latest finished result is picked up by the UI without ever blocking a frame.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "engine/model.h"

namespace moescope::gui {

struct RoutedText {
  std::string text;
  Encoding enc;
  ForwardResult result;   // all windows appended; doc_mean_probs/doc_topk_freq: one row, the whole text
  std::vector<DocumentSpan> windows;  // consecutive token ranges of at most the context, each routed on its own
  std::string error;      // tokenizer/model error message, shown instead of results
  double seconds = 0;     // forward time
  uint64_t version = 0;   // of the submitted text
};

class TextRouter {
 public:
  explicit TextRouter(std::shared_ptr<const Model> model);
  ~TextRouter();
  // Called on every edit; routing starts once `debounce` passed without another edit.
  void submit(const std::string& text, std::chrono::milliseconds debounce = std::chrono::milliseconds(250));
  // The newest finished result, or null if none yet. Cheap: shares the result.
  std::shared_ptr<const RoutedText> latest() const;
  bool busy() const { return busy_.load(); }
  // True when the latest result is of the latest submitted text.
  bool idle() const {
    std::lock_guard<std::mutex> lock(mu_);
    return done_version_ == pending_version_;
  }

 private:
  void run();
  std::shared_ptr<const Model> model_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::string pending_;
  uint64_t pending_version_ = 0, done_version_ = 0;
  std::chrono::steady_clock::time_point due_;
  bool stop_ = false;
  std::atomic<bool> busy_{false};
  std::shared_ptr<const RoutedText> latest_;
  std::thread worker_;
};

}  // namespace moescope::gui
