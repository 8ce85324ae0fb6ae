// subset_memory.cpp — bench-subset-memory: resident memory of a model loaded with all its
// experts vs a subset (default 16 of 128 per layer), on an EMO-shaped synthetic checkpoint it
// generates (or reuses). Each run is a fresh process (fork + exec of this program) whose
// /proc/self/status is read after loading and after a short forward pass; the checkpoint's page
// cache is dropped before each so no run inherits another's reads. Prints resident memory
// against the bytes of the tensors the load needs as stored (shared weights + kept experts,
// counted from the headers) and checks the criterion: subset peak RSS <= 1.1 x that.
// --baseline BIN measures another build's bench-subset-memory (its --child mode) interleaved
// with this one, for an A/B of memory and load time.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>

#include "bench/expected_memory.h"
#include "bench/subset_memory.h"
#include "bench/synthetic_args.h"
#include "engine/error.h"
#include "engine/cpu/gemm_amx.h"
#include "engine/cpu/gemm_bf16.h"
#include "engine/checkpoint/safetensors_writer.h"

namespace fs = std::filesystem;
using namespace moescope;

namespace {

constexpr double kCriterion = 1.1;

const char* kUsage = R"(usage: bench-subset-memory [--checkpoint DIR] [--keep 16] [--precision f32|bf16|both]
         [--tokens 64] [--repeat 3] [--threads N] [--subset-seed 0] [--runs both|subset]
         [--baseline OTHER-bench-subset-memory] [--json]
         [synthetic checkpoint options: --layers 16 --experts 128 --hidden 640 --intermediate 320 ...]
Resident memory after loading DIR with all experts vs --keep K experts per MoE layer (a seeded
random subset; K counts the shared experts, as EMO's keep-k does), each run in a fresh process.
DIR defaults to $TMPDIR/moescope-synthetic-emo; when it does not exist an EMO-shaped checkpoint
is generated there (make-synthetic-checkpoint's options apply; about 2.5 GB by default).
--runs subset skips the all-experts load (a model larger than this machine's memory).
--baseline runs another build's binary the same way, interleaved, and prints its rows beside.
Criterion: subset peak RSS (after the forward pass) <= 1.1 x the needed tensors' bytes as stored.
)";

double mib(uint64_t b) { return double(b) / (1024.0 * 1024.0); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

// Evicts the checkpoint's clean pages from the page cache, so every run reads from disk alike.
void drop_page_cache(const std::string& dir) {
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() != ".safetensors") continue;
    const int fd = ::open(e.path().c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    ::close(fd);
  }
}

// Runs this program again as a measured child and returns its report.
bench::RunReport measure(const std::vector<std::string>& child_args, const std::string& exe = "/proc/self/exe") {
  int out[2];
  if (::pipe(out) != 0) fail("bench-subset-memory", "cannot create a pipe");
  const pid_t pid = ::fork();
  if (pid < 0) fail("bench-subset-memory", "cannot fork");
  if (pid == 0) {
    ::dup2(out[1], 1);
    ::close(out[0]);
    ::close(out[1]);
    std::vector<char*> argv;
    static std::string self = "bench-subset-memory";
    argv.push_back(self.data());
    for (const std::string& a : child_args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(exe.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(out[1]);
  std::string text;
  char buf[4096];
  for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    text.append(buf, size_t(n));
  }
  ::close(out[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    fail("bench-subset-memory", "a measured process failed (its error is printed above)");
  return bench::report_from_json(text);
}

// K experts per MoE layer, seeded: K - S random standard experts (sorted), then the S shared ones.
std::string write_subset(const std::string& path, const ModelConfig& c, int keep, uint64_t seed) {
  std::mt19937_64 rng(seed);
  nlohmann::json layers = nlohmann::json::array();
  for (const LayerSpec& spec : c.layers) {
    if (!spec.is_moe()) {
      layers.push_back(nullptr);
      continue;
    }
    const int S = spec.num_shared, standard = spec.num_experts - S;
    if (keep <= S || keep > spec.num_experts)
      fail_expected("--keep", "out of range for this model", std::to_string(S + 1) + ".." + std::to_string(spec.num_experts),
                    std::to_string(keep));
    std::vector<int> ids(static_cast<size_t>(standard));
    for (int e = 0; e < standard; ++e) ids[size_t(e)] = e;
    std::shuffle(ids.begin(), ids.end(), rng);
    ids.resize(size_t(keep - S));
    std::sort(ids.begin(), ids.end());
    for (int s = 0; s < S; ++s) ids.push_back(standard + s);
    layers.push_back(ids);
  }
  write_file_atomically(path, nlohmann::json{{"experts_kept_per_layer", layers}}.dump() + "\n");
  return path;
}

struct Summary {
  std::string name;
  uint64_t needed = 0;    // the tensors' bytes as stored (the criterion's unit)
  uint64_t expected = 0;  // what the engine should hold (expected_memory.h)
  std::vector<bench::RunReport> runs;
  double med(double (*f)(const bench::RunReport&)) const {
    std::vector<double> v;
    for (const auto& r : runs) v.push_back(f(r));
    return median(v);
  }
  double rss_load() const { return med([](const bench::RunReport& r) { return double(r.loaded.rss); }); }
  double hwm_load() const { return med([](const bench::RunReport& r) { return double(r.loaded.hwm); }); }
  double hwm_forward() const { return med([](const bench::RunReport& r) { return double(r.forwarded.hwm); }); }
  double before() const { return med([](const bench::RunReport& r) { return double(r.before.rss); }); }
  double file_load() const { return med([](const bench::RunReport& r) { return double(r.loaded.rss_file); }); }
  double load_s() const { return med([](const bench::RunReport& r) { return r.load_seconds; }); }
  double engine() const { return med([](const bench::RunReport& r) { return double(r.resident_bytes); }); }
};

nlohmann::json summary_json(const Summary& s) {
  return {{"run", s.name}, {"needed_bytes", s.needed}, {"expected_bytes", s.expected}, {"engine_resident_bytes", s.engine()},
          {"rss_before_load", s.before()}, {"rss_after_load", s.rss_load()}, {"rss_file_after_load", s.file_load()},
          {"hwm_after_load", s.hwm_load()}, {"hwm_after_forward", s.hwm_forward()},
          {"ratio_after_load", s.rss_load() / double(s.needed)}, {"ratio_peak_forward", s.hwm_forward() / double(s.needed)},
          {"load_seconds", s.load_s()}, {"mean_nll", s.runs.front().mean_nll}};
}

void print_summary(const Summary& s) {
  std::printf("  %-30s %9.1f %9.1f %9.1f %9.1f %9.1f %6.3f %7.1f %7.2f\n", s.name.c_str(), mib(s.needed),
              mib(s.expected), s.runs.front().resident_bytes ? mib(uint64_t(s.engine())) : 0.0, mib(uint64_t(s.rss_load())),
              mib(uint64_t(s.hwm_forward())), s.hwm_forward() / double(s.needed), mib(uint64_t(s.file_load())), s.load_s());
}

int run(const cli::Args& args) {
  const char* tmp = std::getenv("TMPDIR");
  const std::string dir = args.get("checkpoint").value_or((fs::path(tmp && *tmp ? tmp : "/tmp") / "moescope-synthetic-emo").string());
  const int keep = args.get_int("keep", 16, 1), tokens = args.get_int("tokens", 64, 2), repeat = args.get_int("repeat", 3, 1);
  const int threads = args.get_int("threads", 0, 1);
  const std::string precision_arg = args.get("precision").value_or("both");
  std::vector<std::string> precisions;
  if (precision_arg == "both") precisions = {"f32", "bf16"};
  else precisions = {precision_name(parse_precision(precision_arg, "--precision"))};
  const bool json = args.flag("json");

  std::string origin = "reused";
  if (!fs::exists(dir)) {
    std::fprintf(stderr, "generating %s ...\n", dir.c_str());
    write_synthetic_checkpoint(dir, synthetic_spec_from(args));
    origin = "generated";
  }
  const ModelConfig config = ModelConfig::from_file((fs::path(dir) / "config.json").string());
  const std::string keep_path =
      write_subset((fs::temp_directory_path() / ("moescope-subset-memory-keep-" + std::to_string(keep) + ".json")).string(),
                   config, keep, uint64_t(args.get_int("subset-seed", 0, 0)));
  const ExpertSubset subset = ExpertSubset::from_file(keep_path, config);
  const std::string runs = args.get("runs").value_or("both");
  if (runs != "both" && runs != "subset") fail_expected("--runs", "unknown value", "both or subset", runs);
  const std::string baseline = args.get("baseline").value_or("");
  if (!baseline.empty() && ::access(baseline.c_str(), X_OK) != 0) fail(baseline, "not an executable (--baseline)");
  uint64_t stored = 0;
  std::string dtype;
  {
    const Checkpoint ckpt(dir);  // headers only
    for (const std::string& n : ckpt.names()) stored += ckpt.get(n).nbytes, dtype = dtype_name(ckpt.get(n).dtype);
  }
  const LayerSpec& l0 = config.layers.front();
  if (!json) {
    std::printf("checkpoint %s (%s): %d layers x %d experts (%d shared, top-%d), hidden %lld, expert width %lld, %s, %.2f GB\n",
                dir.c_str(), origin.c_str(), config.num_layers, l0.num_experts, l0.num_shared, config.top_k,
                (long long)config.hidden_size, (long long)config.expert_width, dtype.c_str(), double(stored) / 1e9);
    std::printf("subset %s: %d of %d experts per MoE layer\n", keep_path.c_str(), keep, l0.num_experts);
    std::printf("each run a fresh process, page cache dropped before it; forward over %d tokens; medians of %d runs; MiB\n",
                tokens, repeat);
    if (!baseline.empty()) std::printf("baseline: %s (rows marked 'baseline', interleaved with this build's)\n", baseline.c_str());
    std::fflush(stdout);
  }

  bool pass = true;
  nlohmann::json out = {{"checkpoint", dir}, {"subset", keep_path}, {"keep", keep}, {"stored_bytes", stored},
                        {"criterion", kCriterion}, {"precisions", nlohmann::json::array()}};
  for (const std::string& p : precisions) {
    const bool bf16 = p == "bf16", amx = !bf16 && amx_f32_available();  // the children run on this machine
    const ExpectedMode mode = bf16 ? ExpectedMode::Bf16 : amx ? ExpectedMode::F32Amx : ExpectedMode::F32;
    ExpectedMemory all_mem, sub_mem;
    {
      const Checkpoint ckpt(dir);
      all_mem = expected_memory(ckpt, config, ExpertSubset::all(config), mode);
      sub_mem = expected_memory(ckpt, config, subset, mode);
    }
    const std::string all_name = "all " + std::to_string(l0.num_experts) + " experts";
    const std::string sub_name = std::to_string(keep) + " of " + std::to_string(l0.num_experts);
    Summary all{all_name, all_mem.needed, all_mem.resident, {}}, sub{sub_name, sub_mem.needed, sub_mem.resident, {}};
    Summary base_all{all_name + " (baseline)", all_mem.needed, 0, {}}, base_sub{sub_name + " (baseline)", sub_mem.needed, 0, {}};
    std::vector<std::pair<Summary*, bool>> order;  // (summary, is baseline)
    if (runs == "both") order.push_back({&all, false});
    order.push_back({&sub, false});
    if (!baseline.empty()) {
      if (runs == "both") order.push_back({&base_all, true});
      order.push_back({&base_sub, true});
    }
    for (int r = 0; r < repeat; ++r) {
      for (const auto& [s, is_baseline] : order) {  // interleaved, so machine noise hits every run alike
        std::vector<std::string> a = {"--child", "--model", dir, "--precision", p, "--tokens", std::to_string(tokens)};
        if (threads > 0) a.insert(a.end(), {"--threads", std::to_string(threads)});
        if (s == &sub || s == &base_sub) a.insert(a.end(), {"--keep", keep_path});
        drop_page_cache(dir);
        s->runs.push_back(is_baseline ? measure(a, baseline) : measure(a));
      }
    }
    const double ratio = sub.hwm_forward() / double(sub.needed);
    pass = pass && ratio <= kCriterion;
    nlohmann::json entry = {{"precision", p}, {"subset", summary_json(sub)}, {"pass", ratio <= kCriterion}};
    if (runs == "both") {
      entry["all"] = summary_json(all);
      entry["all_over_subset_rss"] = all.rss_load() / sub.rss_load();
      entry["all_over_subset_needed"] = double(all.needed) / double(sub.needed);
    }
    if (!baseline.empty()) {
      entry["baseline_subset"] = summary_json(base_sub);
      if (runs == "both") entry["baseline_all"] = summary_json(base_all);
      entry["subset_peak_vs_baseline"] = sub.hwm_forward() / base_sub.hwm_forward();
      entry["subset_load_seconds_vs_baseline"] = sub.load_s() / base_sub.load_s();
    }
    out["precisions"].push_back(entry);
    if (json) continue;
    std::printf("\nprecision %s (needed = the tensors' bytes as stored; expected = what the engine should hold)\n", p.c_str());
    std::printf("  %-30s %9s %9s %9s %9s %9s %6s %7s %7s\n", "run", "needed", "expected", "engine", "RSS load", "peak",
                "ratio", "file", "load s");
    for (const auto& [s, is_baseline] : order) print_summary(*s);
    if (runs == "both")
      std::printf("  process before loading: %.1f MiB; all / subset RSS after load %.2fx (needed %.2fx)\n", mib(uint64_t(sub.before())),
                  all.rss_load() / sub.rss_load(), double(all.needed) / double(sub.needed));
    if (!baseline.empty())
      std::printf("  this build / baseline, subset: peak RSS %.3fx, load time %.3fx\n", sub.hwm_forward() / base_sub.hwm_forward(),
                  sub.load_s() / base_sub.load_s());
    std::printf("  criterion: subset peak RSS <= %.1f x needed: %.3f  %s\n", kCriterion, ratio, ratio <= kCriterion ? "PASS" : "FAIL");
    std::fflush(stdout);
  }
  out["pass"] = pass;
  if (json) std::cout << out.dump(2) << "\n";
  return pass ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> argv_list(argv + 1, argv + argc);
  if (!argv_list.empty() && (argv_list[0] == "--help" || argv_list[0] == "-h")) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  try {
    std::set<std::string> valued = synthetic_spec_options();
    valued.insert({"checkpoint", "keep", "precision", "tokens", "repeat", "threads", "subset-seed", "model", "runs", "baseline"});
    const cli::Args args(argv_list, {"json", "child"}, valued);
    if (args.flag("child")) return bench::run_measured_child(args);
    return run(args);
  } catch (const Error& e) {
    std::cerr << "bench-subset-memory: error: " << e.what() << "\n";
    return 1;
  } catch (const fs::filesystem_error& e) {
    std::cerr << "bench-subset-memory: error: " << e.path1().string() << ": " << e.code().message() << "\n";
    return 1;
  }
}
