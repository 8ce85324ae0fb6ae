// workspace_merge.h — one workspace from several that traced parts of the same corpus with the
// same model and settings: the rank-local partial workspaces of `mpirun ... moescope-cli trace`
// (app/cli/trace_ranks.cpp), or any set given to `moescope-cli workspace merge`.
#pragma once

#include <string>
#include <vector>

namespace moescope {

// Where rank `rank` of `ranks` keeps its records of a sharded trace into ws:
// "DIR/NAME.rank-R-of-N.moescope" for ws = "DIR/NAME.moescope" (any other name gets the suffix).
std::string partial_workspace_path(const std::string& ws, int rank, int ranks);

// Partial workspaces of ws left by a sharded trace with another rank count than `ranks` (an
// interrupted run that only the same count can resume), sorted.
std::vector<std::string> partials_of_other_runs(const std::string& ws, int ranks);

struct MergeSummary {
  size_t documents = 0;  // of the corpus
  size_t merged = 0;     // records copied into out now
  size_t already = 0;    // records out held before
};

// Copies the records of `parts` into `out`. Every part must hold the same corpus (documents by
// position, text hash) and the same run record (model hashes, settings, layer layout) as the first;
// out, when it exists, too. Every document must then have a record in out or a part; one found in
// several places must be byte-identical there (a part merged before is harmless). Otherwise Error,
// naming the document and files, before anything is written. A new out is built beside it
// (OUT.tmp-PID, engine/atomic_file.h) and renamed into place, so it appears complete or not at all; an existing out gets
// every new record in one transaction. Documents keep corpus order, so workspace ids and domain ids
// are those of a single-process trace. The parts are left as they are.
MergeSummary merge_workspaces(const std::string& out, const std::vector<std::string>& parts);

// Deletes a workspace file with its SQLite side files (-wal, -shm, -journal).
void remove_workspace(const std::string& path);

}  // namespace moescope
