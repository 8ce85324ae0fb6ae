// synthetic_args.cpp — command-line options -> SyntheticCheckpointSpec.
#include "bench/synthetic_args.h"

#include "engine/error.h"

namespace moescope {

std::set<std::string> synthetic_spec_options() {
  return {"layers", "experts", "shared", "top-k", "hidden", "intermediate", "heads", "context", "dtype", "seed", "shard-mb", "tokenizer"};
}

SyntheticCheckpointSpec synthetic_spec_from(const cli::Args& args) {
  SyntheticCheckpointSpec s;
  s.layers = args.get_int("layers", s.layers, 1);
  s.experts = args.get_int("experts", s.experts, 1);
  s.shared_experts = args.get_int("shared", s.shared_experts, 0);
  s.top_k = args.get_int("top-k", s.top_k, 1);
  s.hidden = args.get_int("hidden", s.hidden, 1);
  s.intermediate = args.get_int("intermediate", s.intermediate, 1);
  s.heads = args.get_int("heads", s.heads, 1);
  s.context = args.get_int("context", s.context, 1);
  s.seed = uint64_t(args.get_int("seed", 0, 0));
  s.shard_bytes = uint64_t(args.get_int("shard-mb", int(s.shard_bytes >> 20), 1)) << 20;
  const std::string dtype = args.get("dtype").value_or("bf16");
  if (dtype == "bf16") s.dtype = DType::BF16;
  else if (dtype == "f16") s.dtype = DType::F16;
  else if (dtype == "f32") s.dtype = DType::F32;
  else fail_expected("--dtype", "bad value", "bf16, f16 or f32", "'" + dtype + "'");
  s.tokenizer = args.get("tokenizer").value_or(std::string(MOESCOPE_SOURCE_DIR) + "/samples/models/emo-sample/tokenizer.json");
  return s;
}

}  // namespace moescope
