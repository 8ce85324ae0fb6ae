// mpi_shard.h — the processes of an `mpirun` launch as the sharded trace sees them: rank, size and
// the three collective steps it needs. The only MPI calls of moescope live in mpi_shard.cpp; a
// build without MPI compiles mpi_shard_none.cpp instead, which refuses to run under mpirun (N
// copies of one trace into one workspace would be wrong, not merely slow).
#pragma once

#include <cstdint>
#include <vector>

namespace moescope::cli {

// The number of processes mpirun started, from the launcher's environment (OpenMPI's
// OMPI_COMM_WORLD_SIZE, else PMI_SIZE of MPICH-style launchers); 1 when not under mpirun.
int launched_ranks();
// Processes of this launch on this machine (OMPI_COMM_WORLD_LOCAL_SIZE), 1 when unknown.
int launched_local_ranks();
// This process's rank among them (OMPI_COMM_WORLD_LOCAL_RANK, MPI_LOCALRANKID or SLURM_LOCALID; 0 without).
int launched_local_rank();

class RankGroup {
 public:
  // Joins the launch (MPI_Init) when launched_ranks() > 1, else a group of one. Error when launched
  // with several ranks by a build without MPI.
  RankGroup();
  ~RankGroup();  // MPI_Finalize
  RankGroup(const RankGroup&) = delete;
  RankGroup& operator=(const RankGroup&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  // Collective: the largest of every rank's code (0 = fine), so a failure anywhere stops all ranks.
  int worst(int code);
  // Collective: element-wise sums over the ranks (every rank passes as many values).
  std::vector<int64_t> sum(const std::vector<int64_t>& values);
  // Collective: every rank receives rank 0's values (sized as rank 0's).
  void broadcast(std::vector<int64_t>& values);

 private:
  int rank_ = 0, size_ = 1;
  bool joined_ = false;
};

}  // namespace moescope::cli
