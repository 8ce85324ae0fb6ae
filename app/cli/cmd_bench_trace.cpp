// cmd_bench_trace.cpp — `moescope-cli bench-trace`: what recording a corpus into a workspace costs
// on top of the bare forward pass (same documents, same batches, interleaved rounds, medians),
// and how long `analyze` takes on the records, scaled to 1M tokens.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "analysis/coactivation.h"
#include "analysis/doc_clusters.h"
#include "analysis/document_tokens.h"
#include "analysis/domain_stats.h"
#include "analysis/expert_groups.h"
#include "analysis/trace.h"
#include "app/cli/commands.h"
#include "engine/cpu/cpu_ops.h"
#include "engine/error.h"

namespace fs = std::filesystem;

namespace moescope::cli {

namespace {

double now_s() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

std::string round_file(const fs::path& dir, int r) {
  std::string name = "r";
  name += std::to_string(r);
  name += ".moescope";
  return (dir / name).string();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

}  // namespace

int cmd_bench_trace(const std::vector<std::string>& argv) {
  Args args(argv, {"json", "no-memory-check"}, {"model", "corpus", "repeat", "max-tokens-per-doc", "threads", "precision", "device"});
  set_cpu_options(args);
  const auto model = Model::load(args.require("model"), load_options(args));
  const std::vector<CorpusDocument> docs = read_corpus(args.require("corpus"));
  const int repeat = args.get_int("repeat", 3, 1);
  const int64_t limit = token_limit(*model, args.get_int("max-tokens-per-doc", 0, 1));
  constexpr int64_t kBatchTokens = 16384;  // trace_corpus's default

  // The bare pass: tokenize, truncate, pack into the same batches as trace, forward, keep nothing.
  auto bare = [&]() {
    size_t tokens = 0;
    std::vector<std::vector<int32_t>> batch;
    int64_t size = 0;
    for (const auto& d : docs) {
      Encoding enc = encode_document(*model, d, limit).enc;
      if (enc.ids.empty()) continue;
      if (size + int64_t(enc.ids.size()) > kBatchTokens && !batch.empty()) {
        model->forward(batch, ForwardOptions{});
        batch.clear();
        size = 0;
      }
      size += int64_t(enc.ids.size());
      tokens += enc.ids.size();
      batch.push_back(std::move(enc.ids));
    }
    if (!batch.empty()) model->forward(batch, ForwardOptions{});
    return tokens;
  };
  std::string scratch_name = "moescope-bench-trace-";
  scratch_name += std::to_string(::getpid());
  const fs::path scratch = fs::temp_directory_path() / scratch_name;
  fs::create_directories(scratch);
  std::vector<double> t_bare, t_trace;
  size_t tokens = 0;
  bare();  // warm-up
  for (int r = 0; r < repeat; ++r) {
    double t0 = now_s();
    tokens = bare();
    t_bare.push_back(now_s() - t0);
    const std::string ws_path = round_file(scratch, r);
    t0 = now_s();
    {
      Workspace ws(ws_path, true);
      TraceOptions opt;
      opt.max_tokens_per_doc = limit;
      trace_corpus(*model, docs, ws, opt);
    }
    t_trace.push_back(now_s() - t0);
  }
  // analyze on the last workspace
  double t0 = now_s();
  Workspace ws(round_file(scratch, repeat - 1), false);
  const TraceData td = load_trace(ws);
  const double t_load = now_s() - t0;
  t0 = now_s();
  const auto stats = domain_stats(td, 0.9);
  for (size_t l = 0; l < td.layers.size(); ++l) {
    token_coactivation(td, l);
    document_coactivation(td, l, 0.9);
    expert_groups(td, l, GroupOptions{});
  }
  cluster_documents(td, DocClusterOptions{});
  const double t_analyze = now_s() - t0;
  std::error_code ec;
  fs::remove_all(scratch, ec);

  const double mb = median(t_bare), mt = median(t_trace);
  const double per_m = 1e6 / double(std::max<size_t>(1, tokens));
  const nlohmann::json j{{"documents", docs.size()},
                         {"tokens", tokens},
                         {"rounds", repeat},
                         {"bare_forward_seconds_median", mb},
                         {"trace_seconds_median", mt},
                         {"bare_tokens_per_second", tokens / mb},
                         {"trace_tokens_per_second", tokens / mt},
                         {"recording_overhead", mt / mb - 1},
                         {"analyze_load_seconds", t_load},
                         {"analyze_seconds", t_analyze},
                         {"analyze_seconds_per_million_tokens", (t_load + t_analyze) * per_m}};
  if (args.flag("json")) {
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::printf("%zu documents, %zu tokens, %d interleaved rounds (medians)\n", docs.size(), tokens, repeat);
  std::printf("bare forward      %8.0f tokens/s\ntrace (recorded)  %8.0f tokens/s\nrecording overhead %+7.1f%% (target < 10%%)\n",
              tokens / mb, tokens / mt, 100 * (mt / mb - 1));
  std::printf("analyze: load %.2f s + statistics/groups/clusters %.2f s = %.1f s per 1M tokens (linear scaling of load;\n"
              "         document clustering grows with documents, not tokens)\n",
              t_load, t_analyze, (t_load + t_analyze) * per_m);
  return 0;
}

}  // namespace moescope::cli
