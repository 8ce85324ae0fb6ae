// job.h — one background job of the app (load a model, trace a corpus, run an ablation sweep,
// export a checkpoint): runs a function on its own thread, reports progress, can be cancelled,
// and publishes its result as a shared_ptr<const R> the UI thread picks up without waiting.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/error.h"

namespace moescope::gui {

// What the job function sees: the cancel flag and a way to report progress.
class JobControl {
 public:
  const std::atomic<bool>& stop_flag() const { return stop_; }
  bool cancelled() const { return stop_.load(); }
  void report(double fraction, const std::string& message) {
    std::lock_guard<std::mutex> lock(mu_);
    fraction_ = fraction;
    message_ = message;
  }
  std::pair<double, std::string> progress() const {
    std::lock_guard<std::mutex> lock(mu_);
    return {fraction_, message_};
  }
  void cancel() { stop_ = true; }

 private:
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  double fraction_ = 0;
  std::string message_;
};

template <class R>
class Job {
 public:
  ~Job() {
    cancel();
    std::vector<Run> runs;
    {
      std::lock_guard<std::mutex> lock(mu_);
      runs.swap(runs_);
    }
    for (auto& r : runs) r.thread.join();
  }
  // Starts fn on a new thread. A run still going is cancelled and left to finish on its own (its
  // result is dropped): starting never waits, so the UI thread never blocks here.
  void start(std::function<std::shared_ptr<const R>(JobControl&)> fn) {
    auto control = std::make_shared<JobControl>();
    auto done = std::make_shared<std::atomic<bool>>(false);
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = runs_.begin(); it != runs_.end();) {  // join the runs that have ended
      if (it->done->load()) {
        it->thread.join();
        it = runs_.erase(it);
      } else {
        ++it;
      }
    }
    if (control_) control_->cancel();
    control_ = control;
    error_.clear();
    running_ = true;
    Run run;
    run.done = done;
    run.thread = std::thread([this, fn = std::move(fn), control, done] {
      std::shared_ptr<const R> out;
      std::string err;
      try {
        out = fn(*control);
      } catch (const Error& e) {
        err = e.what();
      } catch (const std::exception& e) {  // e.g. bad_alloc: reported, never a crash of the window
        err = std::string("internal error: ") + e.what();
      }
      std::lock_guard<std::mutex> lock(mu_);
      *done = true;
      if (control != control_) return;  // superseded by a newer run, or reset
      if (out) result_ = out;
      error_ = err;
      running_ = false;
    });
    runs_.push_back(std::move(run));
  }
  // Cancels the run in flight and forgets it and any result: its outcome is dropped.
  void reset() {
    std::lock_guard<std::mutex> lock(mu_);
    if (control_) control_->cancel();
    control_.reset();
    result_.reset();
    error_.clear();
    running_ = false;
  }
  void cancel() {
    std::lock_guard<std::mutex> lock(mu_);
    if (control_) control_->cancel();
  }
  bool running() const {
    std::lock_guard<std::mutex> lock(mu_);
    return running_;
  }
  std::shared_ptr<const R> result() const {
    std::lock_guard<std::mutex> lock(mu_);
    return result_;
  }
  void clear() {
    std::lock_guard<std::mutex> lock(mu_);
    result_.reset();
    error_.clear();
  }
  std::string error() const {
    std::lock_guard<std::mutex> lock(mu_);
    return error_;
  }
  std::pair<double, std::string> progress() const {
    std::lock_guard<std::mutex> lock(mu_);
    return control_ ? control_->progress() : std::pair<double, std::string>{0, ""};
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<JobControl> control_;
  std::shared_ptr<const R> result_;
  std::string error_;
  bool running_ = false;
  struct Run {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  std::vector<Run> runs_;  // runs not joined yet (joined once ended, at the next start, or when the Job goes)
};

}  // namespace moescope::gui
