// make_synthetic_checkpoint.cpp — `make-synthetic-checkpoint --out DIR [size options]`: writes an
// EMO-shaped checkpoint with deterministic random weights (bench/synthetic_checkpoint.h) and
// prints what it wrote as JSON. Defaults: 16 layers x 128 experts (1 shared, top-8), hidden 640,
// expert width 320, BF16: about 2.5 GB, experts 99% of it.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "bench/synthetic_args.h"
#include "engine/error.h"

namespace {

const char* kUsage = R"(usage: make-synthetic-checkpoint --out DIR [--layers 16] [--experts 128] [--shared 1]
         [--top-k 8] [--hidden 640] [--intermediate 320] [--heads 10] [--context 4096]
         [--dtype bf16|f16|f32] [--seed 0] [--shard-mb 512] [--tokenizer tokenizer.json]
An EMO-shaped checkpoint folder with deterministic random weights (DIR must not exist):
config.json, safetensors shards + model.safetensors.index.json, tokenizer.json (default: the EMO
sample's; its vocabulary sizes the embedding). Experts count the shared ones; top-k too.
)";

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> argv_list(argv + 1, argv + argc);
  if (argv_list.empty() || argv_list[0] == "--help" || argv_list[0] == "-h") {
    std::fputs(kUsage, argv_list.empty() ? stderr : stdout);
    return argv_list.empty() ? 2 : 0;
  }
  try {
    std::set<std::string> valued = moescope::synthetic_spec_options();
    valued.insert("out");
    const moescope::cli::Args args(argv_list, {}, valued);
    const std::string out = args.require("out");
    const moescope::SyntheticCheckpointSpec spec = moescope::synthetic_spec_from(args);
    const moescope::SyntheticCheckpointInfo info = moescope::write_synthetic_checkpoint(out, spec);
    nlohmann::ordered_json j;
    j["out"] = out;
    j["layers"] = spec.layers;
    j["experts"] = spec.experts;
    j["shared_experts"] = spec.shared_experts;
    j["top_k"] = spec.top_k;
    j["hidden"] = spec.hidden;
    j["intermediate"] = spec.intermediate;
    j["vocab"] = info.vocab;
    j["dtype"] = moescope::dtype_name(spec.dtype);
    j["shards"] = info.shards;
    j["tensor_bytes"] = info.tensor_bytes;
    j["expert_bytes"] = info.expert_bytes;
    std::cout << j.dump(2) << "\n";
    return 0;
  } catch (const moescope::Error& e) {
    std::cerr << "make-synthetic-checkpoint: error: " << e.what() << "\n";
    return 1;
  } catch (const std::filesystem::filesystem_error& e) {
    std::cerr << "make-synthetic-checkpoint: error: " << e.path1().string() << ": " << e.code().message() << "\n";
    return 1;
  }
}
