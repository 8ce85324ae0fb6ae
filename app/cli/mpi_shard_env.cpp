// mpi_shard_env.cpp — what the launcher tells a process about its launch, read from the
// environment (no MPI calls: the same with and without MPI).
#include <cstdlib>
#include <string>

#include "app/cli/mpi_shard.h"
#include "engine/error.h"

namespace moescope::cli {

namespace {

int env_count(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) return 0;
  char* end = nullptr;
  const long n = std::strtol(v, &end, 10);
  if (*end != '\0' || n < 1 || n > 1000000) fail_expected(std::string("environment variable ") + name, "bad value", "a process count", v);
  return int(n);
}

}  // namespace

int launched_ranks() {
  if (int n = env_count("OMPI_COMM_WORLD_SIZE")) return n;
  if (int n = env_count("PMI_SIZE")) return n;
  return 1;
}

int launched_local_rank() {
  for (const char* name : {"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID"}) {
    const char* v = std::getenv(name);
    if (!v || !*v) continue;
    char* end = nullptr;
    const long n = std::strtol(v, &end, 10);
    if (*end != '\0' || n < 0 || n > 1000000) fail_expected(std::string("environment variable ") + name, "bad value", "a rank", v);
    return int(n);
  }
  return 0;
}

int launched_local_ranks() {
  const int n = env_count("OMPI_COMM_WORLD_LOCAL_SIZE");
  return n > 0 ? n : 1;
}

}  // namespace moescope::cli
