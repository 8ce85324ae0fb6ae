// subset_memory_child.cpp — the measured process of bench-subset-memory: load the checkpoint
// (all experts or a subset), read /proc/self/status, run one short forward pass, read it again.
#include <chrono>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "bench/subset_memory.h"
#include "engine/error.h"
#include "engine/model.h"

namespace fs = std::filesystem;

namespace moescope::bench {

namespace {

nlohmann::json memory_json(const ProcMemory& m) {
  return {{"rss", m.rss}, {"hwm", m.hwm}, {"rss_anon", m.rss_anon}, {"rss_file", m.rss_file}};
}
ProcMemory memory_from(const nlohmann::json& j) {
  return {j.at("rss").get<uint64_t>(), j.at("hwm").get<uint64_t>(), j.at("rss_anon").get<uint64_t>(), j.at("rss_file").get<uint64_t>()};
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// A few sentences of ordinary text, repeated until there are enough tokens.
std::vector<int32_t> sample_ids(const Model& model, int tokens) {
  if (!model.tokenizer()) fail(model.dir(), "has no tokenizer.json (the forward pass needs token ids)");
  const std::string text =
      "The experts of a mixture-of-experts layer are small feed-forward networks; a router picks a few of them "
      "for every token. Keeping only the experts a domain uses makes the model smaller. ";
  std::vector<int32_t> ids;
  while (int(ids.size()) < tokens) {
    const Encoding e = model.tokenizer()->encode(text);
    if (e.ids.empty()) fail(model.dir(), "tokenizer gives no tokens for the sample text");
    ids.insert(ids.end(), e.ids.begin(), e.ids.end());
  }
  ids.resize(size_t(std::min(tokens, model.config().max_position_embeddings)));
  return ids;
}

}  // namespace

std::string report_to_json(const RunReport& r) {
  nlohmann::json j = {{"before", memory_json(r.before)},   {"loaded", memory_json(r.loaded)},
                      {"forwarded", memory_json(r.forwarded)}, {"resident_bytes", r.resident_bytes},
                      {"load_seconds", r.load_seconds},    {"forward_seconds", r.forward_seconds},
                      {"mean_nll", r.mean_nll},            {"tokens", r.tokens}};
  return j.dump();
}

RunReport report_from_json(const std::string& text) {
  RunReport r;
  try {
    const nlohmann::json j = nlohmann::json::parse(text);
    r.before = memory_from(j.at("before"));
    r.loaded = memory_from(j.at("loaded"));
    r.forwarded = memory_from(j.at("forwarded"));
    r.resident_bytes = j.at("resident_bytes").get<uint64_t>();
    r.load_seconds = j.at("load_seconds").get<double>();
    r.forward_seconds = j.at("forward_seconds").get<double>();
    r.mean_nll = j.at("mean_nll").get<double>();
    r.tokens = j.at("tokens").get<int>();
  } catch (const nlohmann::json::exception& e) {
    fail("measured process output", std::string("not a run report (") + e.what() + "): " + text.substr(0, 200));
  }
  return r;
}

int run_measured_child(const cli::Args& args) {
  RunReport r;
  r.before = read_proc_memory();
  const std::string dir = args.require("model");
  set_cpu_threads(args.get_int("threads", 0, 1));
  LoadOptions opt;
  opt.precision = parse_precision(args.get("precision").value_or("f32"), "--precision");
  opt.f32_gemm = f32_gemm_from_environment();
  if (auto path = args.get("keep")) opt.subset_file = *path;
  auto t0 = std::chrono::steady_clock::now();
  const auto model = Model::load(dir, opt);
  r.load_seconds = seconds_since(t0);
  r.loaded = read_proc_memory();
  r.resident_bytes = model->weights().resident_bytes;

  const std::vector<int32_t> ids = sample_ids(*model, args.get_int("tokens", 64, 2));
  t0 = std::chrono::steady_clock::now();
  const ForwardResult out = model->forward({ids});
  r.forward_seconds = seconds_since(t0);
  r.forwarded = read_proc_memory();
  r.tokens = int(ids.size());
  double sum = 0;
  int n = 0;
  for (float x : out.nll)
    if (!std::isnan(x)) sum += x, ++n;  // the last token has no next one (NaN)
  r.mean_nll = n ? sum / n : 0;
  if (!std::isfinite(r.mean_nll)) fail(dir, "forward pass gave a non-finite NLL");
  std::cout << report_to_json(r) << "\n";
  return 0;
}

}  // namespace moescope::bench
