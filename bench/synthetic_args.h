// synthetic_args.h — the synthetic checkpoint's size options, shared by make-synthetic-checkpoint
// and the benchmarks that generate one: --layers --experts --shared --top-k --hidden
// --intermediate --heads --context --dtype --seed --shard-mb --tokenizer.
#pragma once

#include <set>
#include <string>

#include "app/cli/args.h"
#include "bench/synthetic_checkpoint.h"

namespace moescope {

// The option names above (valued options), to merge into a program's own.
std::set<std::string> synthetic_spec_options();
// Defaults from SyntheticCheckpointSpec; --tokenizer defaults to the EMO sample's.
SyntheticCheckpointSpec synthetic_spec_from(const cli::Args& args);

}  // namespace moescope
