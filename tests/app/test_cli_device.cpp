// `--device` on the command line: accepted by every command that runs a model, an unknown name
// is a usage error (exit 2), CUDA without a device (or without the backend) a clear error (exit 1)
// naming the reason; `info` reports the GPU memory a model and a subset would need.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "kernels/cuda_device.h"
#include "tests/app/cli_run.h"

using namespace moescope::test;

namespace {
std::string sample() { return source_dir() + "/samples/models/emo-sample"; }
}  // namespace

TEST_CASE("cli --device: cpu runs, a bad name is a usage error, cuda without a device says why") {
  Run cpu = run_cli({"route", "--model", sample(), "--text", "hello world", "--device", "cpu", "--json"});
  CHECK_MESSAGE(cpu.code == 0, cpu.err);
  Run bad = run_cli({"score", "--model", sample(), "--text", "hello", "--device", "gpu0"});
  CHECK(bad.code == 2);
  CHECK(bad.err.find("expected cpu, cuda or cuda:N, found 'gpu0'") != std::string::npos);
  const moescope::CudaDeviceInfo& cuda = moescope::cuda_device_info();
  if (cuda.available) return;  // on a GPU machine the tests in tests/gpu/ cover cuda
  for (const std::vector<std::string>& cmd :
       {std::vector<std::string>{"route", "--model", sample(), "--text", "hi", "--device", "cuda"},
        {"score", "--model", sample(), "--text", "hi", "--device", "cuda:1"},
        {"bench", "--model", sample(), "--docs", "1", "--tokens", "8", "--device", "cuda"}}) {
    CAPTURE(cmd[0]);
    Run r = run_cli(cmd);
    CHECK(r.code == 1);
    CHECK(r.err.find("--device cuda") != std::string::npos);
    CHECK(r.err.find(cuda.reason) != std::string::npos);
  }
}

TEST_CASE("cli info: the GPU memory of all experts and of a --keep subset") {
  Run all = run_cli({"info", "--model", sample(), "--json"});
  REQUIRE_MESSAGE(all.code == 0, all.err);
  const nlohmann::json g = nlohmann::json::parse(all.out)["gpu_memory"];
  const uint64_t weights = g["weights_bytes"], pass = g["pass_bytes"], reserve = g["reserve_bytes"];
  CHECK(g["all_experts_bytes"].get<uint64_t>() == weights + pass + reserve);
  CHECK(g["pass_tokens"] == 16384);
  // The sample is BF16: its weights as uploaded are its bytes on disk, vectors and routers FP32.
  CHECK(weights >= 13 * (uint64_t(1) << 20));
  TempDir tmp("cli-device");
  {
    std::ofstream keep(tmp / "keep.json");
    keep << R"({"experts_kept_per_layer": [[0, 1], [0, 1], [0, 1], [0, 1]]})";
  }
  Run sub = run_cli({"info", "--model", sample(), "--keep", tmp / "keep.json", "--json"});
  REQUIRE_MESSAGE(sub.code == 0, sub.err);
  const nlohmann::json gs = nlohmann::json::parse(sub.out)["gpu_memory"];
  CHECK(gs["subset_bytes"].get<uint64_t>() < gs["all_experts_bytes"].get<uint64_t>());
  Run text = run_cli({"info", "--model", sample(), "--keep", tmp / "keep.json"});
  CHECK(text.out.find("gpu memory") != std::string::npos);
  CHECK(text.out.find("with the --keep subset") != std::string::npos);
}
