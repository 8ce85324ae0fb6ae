// mpi_shard.cpp — RankGroup over MPI_COMM_WORLD: the only file that calls MPI. MPI is entered only
// for launches of several processes, so a plain run never touches it.
#include "app/cli/mpi_shard.h"

// The C API only: mpi.h would otherwise pull in the removed C++ bindings.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include <algorithm>

#include "engine/error.h"

namespace moescope::cli {

namespace {

void check(int rc, const char* call) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING] = {};
  int len = 0;
  MPI_Error_string(rc, text, &len);
  fail(call, std::string(text, size_t(len)));
}

}  // namespace

RankGroup::RankGroup() {
  if (launched_ranks() <= 1) return;
  // OpenMP threads compute; only the main thread calls MPI.
  int provided = 0;
  check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
  joined_ = true;
  // Errors come back as codes (and become Error) instead of aborting the job without a message.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  check(MPI_Comm_rank(MPI_COMM_WORLD, &rank_), "MPI_Comm_rank");
  check(MPI_Comm_size(MPI_COMM_WORLD, &size_), "MPI_Comm_size");
}

RankGroup::~RankGroup() {
  if (joined_) MPI_Finalize();
}

int RankGroup::worst(int code) {
  if (!joined_) return code;
  int out = 0;
  check(MPI_Allreduce(&code, &out, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD), "MPI_Allreduce");
  return out;
}

std::vector<int64_t> RankGroup::sum(const std::vector<int64_t>& values) {
  if (!joined_) return values;
  std::vector<int64_t> out(values.size());
  check(MPI_Allreduce(values.data(), out.data(), int(values.size()), MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD),
        "MPI_Allreduce");
  return out;
}

void RankGroup::broadcast(std::vector<int64_t>& values) {
  if (!joined_) return;
  int64_t n = int64_t(values.size());
  check(MPI_Bcast(&n, 1, MPI_INT64_T, 0, MPI_COMM_WORLD), "MPI_Bcast");
  values.resize(size_t(n));
  // MPI counts are int: send in slices.
  constexpr int64_t kSlice = int64_t(1) << 28;
  for (int64_t at = 0; at < n; at += kSlice)
    check(MPI_Bcast(values.data() + at, int(std::min(kSlice, n - at)), MPI_INT64_T, 0, MPI_COMM_WORLD), "MPI_Bcast");
}

}  // namespace moescope::cli
