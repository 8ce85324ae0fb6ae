// main.cpp — moescope-cli: headless access to the engine (and later every analysis).
// Prints errors as one line on stderr and exits non-zero; JSON goes to stdout.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include "app/cli/commands.h"
#include "engine/cpu/blas_core.h"
#include "engine/closest_names.h"
#include "engine/error.h"

namespace {

const char* kUsage = R"(moescope-cli — see and measure the experts of Mixture-of-Experts models

usage: moescope-cli COMMAND [options]

commands:
  info      --model DIR [--keep SUBSET.json] [--json]
            architecture, layers, experts per layer, top-k, shared experts,
            parameters (total / active per token), dtype, memory, the CUDA device
            and the GPU memory the model (and the subset) would need
  tokenize  (--tokenizer FILE | --model DIR) (--text T | --file F) [--json]
            token ids, vocabulary strings and byte offsets into the text
  route     --model DIR (--text T | --file F) [--keep SUBSET.json] [--probs] [--original-ids]
            [--router-logits] [--window N] [--max-tokens N] [--json] [--threads N]
            per token and MoE layer: top-k experts and weights; per-token NLL;
            --original-ids: a pruned checkpoint's experts by their original ids
  score     --model DIR (--text T | --file F [--window N] [--max-tokens N] |
            --corpus PATH [--max-tokens-per-doc N]) [--keep SUBSET.json] [--json] [--threads N]
            mean NLL, perplexity, bits per byte, tokens; with --corpus every
            document on its own and totals per domain
  trace     --model DIR --corpus PATH --workspace WS.moescope [--max-tokens-per-doc N]
            [--probs] [--batch-tokens N] [--threads N] [--json]
            route a labelled corpus (JSONL or domain folders) into a workspace;
            resumable: Ctrl-C or a kill loses at most the batch in flight;
            under `mpirun -np N` the ranks share the batches (partial workspaces
            WS.rank-R-of-N.moescope, merged into WS at the end; --threads per rank)
  workspace merge OUT PART... [--json]
            merge partial workspaces of one corpus, model and settings into OUT
            (every document exactly once, else nothing is written)
  analyze   --workspace WS [--pool-mass 0.9] [--keep-k K] [--max-groups G]
            [--clusters 32] [--cluster-features mean_probs|topk_freq] [--seed S] [--json]
            per domain and layer: expert usage, pools, entropy, experts above
            uniform; domain similarity and keep-set overlap; co-activation
            (token and document level, PMI); emergent expert groups and modularity;
            EMO-style document clusters with NMI/ARI against the domains
  subset select --workspace WS --experts K [--domain D] [--lang L]
            [--method global|greedy|easy-ep|random]
            [--seed S] [--out SUBSET.json] [--ranking-out LIST.jsonl] [--json]
            the K standard experts per layer the domain routes to most (mean
            probability over its traced documents; greedy: layer by layer with the
            earlier layers pruned, as EMO's main method; easy-ep: by gate weight x
            expert output norm x token change), or K random ones;
            --ranking-out: every expert per layer best first, one JSON line per
            layer ({"L": [...]}), the expert_list_file vllm-ascend loads
  subset ablate --workspace WS [--eval HELDOUT] [--domain D] [--budgets 2,4,8]
            [--method global|greedy|easy-ep] [--random-seeds 3]
            [--max-tokens-per-doc N] [--threads N] [--json]
            held-out loss per domain for a sweep of budgets: the domain's own
            subset vs random subsets vs the full model (stored in the workspace)
  subset export --model DIR --keep SUBSET.json --out DIR [--json]
            a pruned checkpoint as EMO writes it: BF16, experts renumbered,
            router rows sliced, config edited, pruning_metadata.json
  export-emo --model DIR --corpus PATH --out DIR [--max-tokens-per-doc N] [--threads N]
            the files EMO's clustering pipeline reads: float16 layer-major router
            logits, token ids, document boundaries, metadata, info.json
  render    --workspace WS --what domain-heatmap|similarity|coactivation|entropy|
            above-uniform|ablation [--layer L] [--level token|document]
            [--domain D] [--compare-workspace WS2] [--order id|blocks] [--k K] --out F.png
            the key figures as labelled PNG files (no display needed); heatmaps of
            a second workspace side by side on one colour scale; --order blocks:
            a domain heatmap's experts grouped by the domain they serve most; ablation:
            % loss increase vs k, mean over domains (or --domain), a second
            workspace's model overlaid, random subsets' spread shaded, K marked
  bench     --model DIR [--docs N --tokens T | --ids IDS.json] [--repeat R]
            [--threads N] [--seed S] [--json]
            prefill tokens/s with full recording (median of R runs), achieved
            GFLOP/s and this machine's SGEMM rate (bench/ compares with transformers)
  bench-trace --model DIR --corpus PATH [--repeat R] [--max-tokens-per-doc N] [--threads N] [--json]
            recording overhead of trace over the bare forward pass (same batches,
            interleaved rounds, medians) and analyze time per 1M tokens
  help      this text

--keep reads a JSON with "experts_kept_per_layer" (EMO's pruning_metadata.json works as is).
A subset file that names its model (as `subset select` writes it) is refused on any other
model, naming both; --force-subset applies it anyway.
--threads N sets the CPU threads (default: all cores).
--device cpu|cuda[:N] (route, score, trace, subset select/ablate, export-emo, bench,
bench-trace): where the forward passes run (default cpu). On CUDA the weight GEMMs are
BF16 with FP32 accumulation; routing and records are the CPU path's own code. Under
mpirun each rank takes the GPU of its local rank.
--window N: a text longer than N tokens (default and at most: the model's context) is
routed as consecutive windows of N tokens, each on its own; --max-tokens N (default
1048576) refuses longer texts.
)";

using Command = int (*)(const std::vector<std::string>&);
const std::vector<std::pair<std::string, Command>> kCommands = {
    {"info", moescope::cli::cmd_info},       {"tokenize", moescope::cli::cmd_tokenize},
    {"route", moescope::cli::cmd_route},     {"score", moescope::cli::cmd_score},
    {"bench", moescope::cli::cmd_bench},     {"trace", moescope::cli::cmd_trace},
    {"analyze", moescope::cli::cmd_analyze}, {"subset", moescope::cli::cmd_subset},
    {"export-emo", moescope::cli::cmd_export_emo}, {"render", moescope::cli::cmd_render},
    {"bench-trace", moescope::cli::cmd_bench_trace}, {"workspace", moescope::cli::cmd_workspace},
};

}  // namespace

int main(int argc, char** argv) {
  moescope::match_blas_kernels_to_cpu(argv);
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "help" || args[0] == "--help" || args[0] == "-h") {
    std::fputs(kUsage, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  const std::string command = args[0];
  args.erase(args.begin());
  try {
    for (const auto& [name, run] : kCommands)
      if (command == name) return run(args);
    std::vector<std::string> names = {"help"};
    for (const auto& c : kCommands) names.push_back(c.first);
    const std::string hint = moescope::did_you_mean(command, names);
    std::cerr << "moescope-cli: unknown command '" << command << "'" << (hint.empty() ? "" : "; " + hint)
              << " (try: moescope-cli help)\n";
    return 2;
  } catch (const moescope::cli::UsageError& e) {
    std::cerr << "moescope-cli " << command << ": usage error: " << e.what() << "\n";
    return 2;
  } catch (const moescope::Error& e) {
    std::cerr << "moescope-cli " << command << ": error: " << e.what() << "\n";
    return 1;
  } catch (const std::filesystem::filesystem_error& e) {
    std::cerr << "moescope-cli " << command << ": error: " << e.path1().string() << ": " << e.code().message() << "\n";
    return 1;
  } catch (const std::bad_alloc&) {
    std::cerr << "moescope-cli " << command << ": error: out of memory\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "moescope-cli " << command << ": internal error: " << e.what() << "\n";
    return 3;
  }
}
