// cmd_bench.cpp — `moescope-cli bench`: prefill throughput of the CPU path with full recording
// (top-k, router logits, probabilities, NLL), as the median of repeated runs, with achieved
// GFLOP/s next to this machine's SGEMM rate measured in the same process. bench/ scripts run
// it side by side with Hugging Face transformers on the same weights.
#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>

#include "app/cli/commands.h"
#include "engine/error.h"
#include "engine/flops.h"
#include "engine/json_file.h"
#include "engine/memory_estimate.h"

namespace moescope::cli {

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

// Median GFLOP/s of an n x n x n fp32 GEMM with the engine's own GEMM (Eigen), all threads.
double sgemm_gflops(int n, int repeats) {
  ActMatrix a = ActMatrix::Random(n, n), b = ActMatrix::Random(n, n), c(n, n);
  c.noalias() = a * b;  // warm-up
  std::vector<double> rates;
  for (int i = 0; i < repeats; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    c.noalias() = a * b;
    rates.push_back(2.0 * n * n * double(n) / seconds_since(t0) / 1e9);
  }
  return median(rates);
}

}  // namespace

int cmd_bench(const std::vector<std::string>& argv) {
  Args args(argv, {"json", "no-memory-check", "force-subset"}, {"model", "ids", "docs", "tokens", "repeat", "threads", "precision", "seed", "keep", "device"});
  const std::string dir = args.require("model");
  set_cpu_options(args);
  LoadOptions load = load_options(args);
  if (auto keep = args.get("keep")) load.subset_file = *keep;  // only these experts loaded and routed to
  auto model = Model::load(dir, load);
  const ModelConfig& c = model->config();

  std::vector<std::vector<int32_t>> docs;
  if (auto ids_path = args.get("ids")) {
    const nlohmann::json j = read_json_file(*ids_path, "JSON list of token-id lists");
    if (!j.is_array() || j.empty()) fail_expected(*ids_path, "bad ids file", "a non-empty list of token-id lists", brief(j));
    for (size_t d = 0; d < j.size(); ++d) {
      const std::string at = *ids_path + ": document " + std::to_string(d);
      if (!j[d].is_array() || j[d].empty() || j[d].size() > size_t(c.max_position_embeddings))
        fail_expected(at, "bad document", "a list of 1.." + std::to_string(c.max_position_embeddings) + " token ids", brief(j[d]));
      std::vector<int32_t> ids;
      for (const auto& x : j[d]) {
        if (!x.is_number_integer() || x.get<int64_t>() < 0 || x.get<int64_t>() >= c.vocab_size)
          fail_expected(at, "bad token id", "an integer in [0, " + std::to_string(c.vocab_size) + ")", brief(x));
        ids.push_back(int32_t(x.get<int64_t>()));
      }
      docs.push_back(std::move(ids));
    }
  } else {
    const int n_docs = args.get_int("docs", 32, 1), n_tokens = args.get_int("tokens", 512, 1);
    if (n_tokens > c.max_position_embeddings)
      fail_expected("--tokens", "longer than the model's context", "at most " + std::to_string(c.max_position_embeddings),
                    std::to_string(n_tokens));
    if (int64_t(n_docs) * n_tokens > (int64_t(1) << 24))
      fail_expected("--docs x --tokens", "too many tokens for one batch", "at most 16777216", std::to_string(int64_t(n_docs) * n_tokens));
    std::mt19937 rng(uint32_t(args.get_int("seed", 0, 0)));
    std::uniform_int_distribution<int32_t> pick(0, c.vocab_size - 1);
    docs.assign(size_t(n_docs), std::vector<int32_t>(size_t(n_tokens)));
    for (auto& d : docs)
      for (auto& t : d) t = pick(rng);
  }
  const int repeats = args.get_int("repeat", 5, 1);
  ForwardOptions opt;
  opt.router_logits = true;
  opt.probs = true;
  size_t T = 0;
  for (const auto& d : docs) T += d.size();

  model->forward(docs, opt);  // warm-up: page in the weights, size the buffers
  std::vector<double> times;
  std::vector<StageSeconds> stages;
  ForwardResult last;
  for (int i = 0; i < repeats; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    last = model->forward(docs, opt);
    times.push_back(seconds_since(t0));
    stages.push_back(last.seconds);
  }
  // Stage split of the median run.
  std::vector<size_t> order(times.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return times[a] < times[b]; });
  const size_t mid = order[order.size() / 2];
  const StageSeconds split = stages[mid];
  const double t_med = median(times);
  const ForwardFlops f = forward_flops(c, last.docs);
  const double gflops = f.total() / t_med / 1e9;
  const double peak = sgemm_gflops(2048, 5);

  nlohmann::json j{{"model", dir},
                   {"threads", cpu_threads()},
                   {"documents", docs.size()},
                   {"tokens", T},
                   {"repeats", repeats},
                   {"seconds", times},
                   {"seconds_median", t_med},
                   {"tokens_per_second", double(T) / t_med},
                   {"gflop_per_token", f.total() / double(T) / 1e9},
                   {"gflops_achieved", gflops},
                   {"sgemm_gflops_engine_2048", peak},
                   {"gemm_kernels", model->gemm_kernels()},
                   {"device", model->device().name()},
                   {"device_weight_bytes", model->backend().device_weight_bytes()},
                   {"seconds_split", {{"attention", split.attention}, {"router", split.router},
                                      {"experts", split.experts}, {"lm_head", split.lm_head}}},
                   {"flops_split", {{"projections", f.projections}, {"attention", f.attention}, {"router", f.router},
                                    {"experts", f.experts}, {"lm_head", f.lm_head}}}};
  if (args.flag("json")) {
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::printf("moescope prefill on %s, %zu documents, %zu tokens, %d CPU threads, recording top-k + router logits + probs + NLL\n",
              model->device().name().c_str(), docs.size(), T, cpu_threads());
  if (model->backend().device_weight_bytes() > 0)
    std::printf("  weights on the device: %s\n", gib(model->backend().device_weight_bytes()).c_str());
  std::printf("  weight GEMMs: %s\n", model->gemm_kernels().c_str());
  std::printf("  median %.3f s over %d runs -> %.0f tokens/s\n", t_med, repeats, double(T) / t_med);
  std::printf("  %.3f GFLOP/token -> %.1f GFLOP/s achieved; engine SGEMM 2048^3 here: %.1f GFLOP/s (%.0f%%)\n",
              f.total() / double(T) / 1e9, gflops, peak, 100.0 * gflops / peak);
  std::printf("  stage split (s): attention %.3f (%.1f GFLOP/s), router %.3f, experts %.3f (%.1f GFLOP/s), lm_head+NLL %.3f (%.1f GFLOP/s)\n",
              split.attention, (f.projections + f.attention) / split.attention / 1e9, split.router, split.experts,
              f.experts / split.experts / 1e9, split.lm_head, f.lm_head / split.lm_head / 1e9);
  return 0;
}

}  // namespace moescope::cli
