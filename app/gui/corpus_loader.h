// corpus_loader.h — loads a traced workspace and its statistics on a worker thread, so opening a
// large workspace never freezes the window.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "analysis/domain_stats.h"

namespace moescope::gui {

struct CorpusView {
  std::string path;
  TraceData trace;
  std::vector<DomainStats> stats;
  size_t tokens = 0;
};

class CorpusLoader {
 public:
  ~CorpusLoader();
  void open(const std::string& workspace_path);  // replaces any load in progress
  std::shared_ptr<const CorpusView> view() const;
  std::string error() const;
  bool loading() const;

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const CorpusView> view_;
  std::string error_;
  bool loading_ = false;
  std::thread worker_;
};

}  // namespace moescope::gui
