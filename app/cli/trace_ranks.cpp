// trace_ranks.cpp — `mpirun -np N moescope-cli trace ...`: every rank plans the same batches over
// the whole corpus, traces batches b with b % N == rank into its own partial workspace
// (WS.rank-R-of-N.moescope), and rank 0 merges the partials into WS once all ranks are done.
// Three steps, each closed by a collective that tells every rank whether all succeeded, so one
// failing rank makes every rank exit non-zero and nothing is merged:
//   1. read the corpus, load the model; rank 0 checks WS (when it exists) and shares which
//      documents it already holds (with their token counts, which place batch boundaries);
//   2. trace the shard (resuming the partial of an earlier run with the same N);
//   3. rank 0 merges (complete, or nothing) and only then deletes the partials.
// Only rank 0 prints progress and the summary; the other ranks print nothing but errors.
#include <sched.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "analysis/workspace_merge.h"
#include "app/cli/cmd_trace.h"
#include "app/cli/commands.h"
#include "app/cli/mpi_shard.h"
#include "engine/cpu/cpu_ops.h"
#include "engine/error.h"

namespace moescope::cli {

namespace {

// Runs one step of this rank; an error is printed here (naming the rank) and becomes exit code 1,
// so that the rank still joins the collective that ends the step. The line goes out in one write:
// mpirun forwards each write of each rank as it comes, so pieces of a line would interleave with
// the other ranks' output.
int run_step(const RankGroup& ranks, const std::function<int()>& step) {
  std::string line = "moescope-cli trace: error: rank ";
  line += std::to_string(ranks.rank());
  line += " of ";
  line += std::to_string(ranks.size());
  line += ": ";
  try {
    return step();
  } catch (const Error& e) {
    line += e.what();
  } catch (const std::filesystem::filesystem_error& e) {
    line += e.path1().string();
    line += ": ";
    line += e.code().message();
  } catch (const std::bad_alloc&) {
    line += "out of memory";
  } catch (const std::exception& e) {
    line += "internal error: ";
    line += e.what();
  }
  line += "\n";
  std::fputs(line.c_str(), stderr);
  std::fflush(stderr);
  return 1;
}

// Without --threads, the CPUs this rank may use: mpirun's binding when it binds the rank, else this
// machine's CPUs shared among its ranks.
int default_threads() {
  cpu_set_t set;
  CPU_ZERO(&set);
  const int all = int(std::max(1u, std::thread::hardware_concurrency()));
  const int mine = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : all;
  return mine < all ? std::max(1, mine) : std::max(1, all / launched_local_ranks());
}

// Step 1 on rank 0: checks WS (model, settings, corpus) before anyone traces, and returns the
// token count of each document it holds records for (-1 = none).
std::vector<int64_t> traced_in_final(const std::string& ws_path, const Model& model, const TraceOptions& opt,
                                     const std::vector<CorpusDocument>& docs, int ranks) {
  const std::vector<std::string> stale = partials_of_other_runs(ws_path, ranks);
  if (!stale.empty())
    fail_expected(stale.front(), "partial workspaces of an interrupted trace with another number of ranks exist",
                  std::to_string(ranks) + " ranks (rerun with the -np of that run to resume it, or delete them)",
                  std::to_string(stale.size()) + " such files");
  std::vector<int64_t> traced(docs.size(), -1);
  if (!std::filesystem::exists(ws_path)) return traced;
  Workspace ws(ws_path, false);
  bind_trace_run(model, opt, ws);
  ws.add_documents(docs);
  for (const WorkspaceDocument& d : ws.documents())
    if (d.position >= 0 && size_t(d.position) < docs.size()) traced[size_t(d.position)] = d.tokens;
  return traced;
}

}  // namespace

int trace_across_ranks(const Args& args, RankGroup& ranks) {
  const int rank = ranks.rank(), n = ranks.size();
  const std::string ws_path = args.require("workspace");

  // 1. Inputs on every rank; WS checked by rank 0.
  std::vector<CorpusDocument> docs;
  std::unique_ptr<Model> model;
  TraceOptions opt;
  std::vector<int64_t> traced_elsewhere;
  int code = run_step(ranks, [&] {
    docs = read_corpus(args.require("corpus"));
    std::unique_ptr<ExpertSubset> no_keep;
    model = load_model_for(args, no_keep);
    if (!args.get("threads")) set_cpu_threads(default_threads());
    opt = trace_options(args);
    if (rank == 0) traced_elsewhere = traced_in_final(ws_path, *model, opt, docs, n);
    return 0;
  });
  if (ranks.worst(code) != 0) return 1;
  ranks.broadcast(traced_elsewhere);

  // 2. This rank's batches into its partial workspace.
  TraceSummary s;
  code = run_step(ranks, [&] {
    if (traced_elsewhere.size() != docs.size())
      fail_expected(args.require("corpus"), "rank 0 read another corpus (is the file the same on every machine?)",
                    std::to_string(traced_elsewhere.size()) + " documents", std::to_string(docs.size()));
    opt.shard_rank = rank;
    opt.shard_count = n;
    opt.traced_elsewhere = &traced_elsewhere;
    if (rank == 0) {
      std::string label = "trace (";
      label += std::to_string(n);
      label += " ranks)";
      opt.progress = progress_printer(label);
    }
    Workspace part(partial_workspace_path(ws_path, rank, n), true);
    StopOnInterrupt guard;
    s = trace_corpus(*model, docs, part, opt);
    return s.stopped ? 130 : 0;
  });
  const int status = ranks.worst(code);
  const std::vector<int64_t> totals =
      ranks.sum({int64_t(s.traced_now), int64_t(s.already), int64_t(s.tokens), int64_t(s.truncated)});
  if (status != 0) {
    std::string parts = partial_workspace_path(ws_path, 0, n);
    parts.replace(parts.rfind(".rank-0-of-"), 11, ".rank-*-of-");
    if (rank == 0)
      std::fprintf(stderr, "trace: %s; nothing merged. The partial workspaces %s keep what was traced: run the same "
                           "command (with -np %d) again to resume\n",
                   status == 130 ? "stopped before the end" : "a rank failed (its error is above)", parts.c_str(), n);
    return status == 130 ? 130 : 1;
  }

  // 3. Rank 0 merges; the partials go only once WS holds every document.
  MergeSummary m;
  code = run_step(ranks, [&] {
    if (rank != 0) return 0;
    std::vector<std::string> parts;
    for (int r = 0; r < n; ++r) parts.push_back(partial_workspace_path(ws_path, r, n));
    m = merge_workspaces(ws_path, parts);
    for (const std::string& p : parts) remove_workspace(p);
    return 0;
  });
  if (ranks.worst(code) != 0) return 1;
  if (rank != 0) return 0;
  const size_t traced_now = size_t(totals[0]), already = size_t(totals[1]);
  if (args.flag("json")) {
    std::cout << nlohmann::json{{"workspace", ws_path},   {"documents", s.total},     {"traced_now", traced_now},
                                {"already_traced", already}, {"tokens", totals[2]},   {"truncated", totals[3]},
                                {"stopped", false},        {"ranks", n},              {"merged", m.merged}}
                     .dump(2)
              << "\n";
  } else {
    std::printf("%s: %zu documents traced now on %d ranks, %zu already there, %zu of %zu done; %lld tokens; %lld "
                "truncated; %zu records merged from %d partial workspaces\n",
                ws_path.c_str(), traced_now, n, already, traced_now + already, s.total, static_cast<long long>(totals[2]),
                static_cast<long long>(totals[3]), m.merged, n);
  }
  return 0;
}

}  // namespace moescope::cli
