// corpus_loader.cpp — background workspace loading.
#include "app/gui/corpus_loader.h"

#include "engine/error.h"

namespace moescope::gui {

CorpusLoader::~CorpusLoader() {
  if (worker_.joinable()) worker_.join();
}

void CorpusLoader::open(const std::string& path) {
  if (worker_.joinable()) worker_.join();  // one load at a time; loads are short next to typing
  {
    std::lock_guard<std::mutex> lock(mu_);
    loading_ = true;
    error_.clear();
  }
  worker_ = std::thread([this, path] {
    std::shared_ptr<CorpusView> v;
    std::string err;
    try {
      Workspace ws(path, false);
      v = std::make_shared<CorpusView>();
      v->path = path;
      v->trace = load_trace(ws);
      v->stats = domain_stats(v->trace, 0.9);
      for (const auto& d : v->trace.docs) v->tokens += d.tokens();
    } catch (const Error& e) {
      err = e.what();
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (v) view_ = v;
    error_ = err;
    loading_ = false;
  });
}

std::shared_ptr<const CorpusView> CorpusLoader::view() const {
  std::lock_guard<std::mutex> lock(mu_);
  return view_;
}
std::string CorpusLoader::error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return error_;
}
bool CorpusLoader::loading() const {
  std::lock_guard<std::mutex> lock(mu_);
  return loading_;
}

}  // namespace moescope::gui
