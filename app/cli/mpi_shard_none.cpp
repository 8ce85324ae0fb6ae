// mpi_shard_none.cpp — RankGroup of a build without MPI: one process, and a clear refusal under
// mpirun (each rank would trace the whole corpus into the same workspace).
#include <string>

#include "app/cli/mpi_shard.h"
#include "engine/error.h"

namespace moescope::cli {

RankGroup::RankGroup() {
  const int n = launched_ranks();
  if (n > 1) {
    std::string found = "launched by mpirun with ";
    found += std::to_string(n);
    found += " processes";
    fail_expected("mpirun", "this moescope-cli was built without MPI, so its processes cannot share the work",
                  "one process, or a build with MPI (tools/install-deps.sh installs OpenMPI; cmake -DMOESCOPE_MPI=ON)",
                  found);
  }
}

RankGroup::~RankGroup() = default;

int RankGroup::worst(int code) { return code; }
std::vector<int64_t> RankGroup::sum(const std::vector<int64_t>& values) { return values; }
void RankGroup::broadcast(std::vector<int64_t>&) {}

}  // namespace moescope::cli
