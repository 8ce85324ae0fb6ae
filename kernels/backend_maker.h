// backend_maker.h — `--device cpu|cuda[:N]` at a program's edge: the device named, and the maker
// of its backend for LoadOptions::backend (engine/backend.h). Builds without the CUDA backend
// refuse `cuda` with the reason; so does a machine without that device.
#pragma once

#include <memory>
#include <string>

#include "engine/backend.h"

namespace moescope {

// "cpu", "cuda" (= cuda:0) or "cuda:N"; throws Error naming `what` (the option) otherwise.
Device parse_device(const std::string& text, const std::string& what = "--device");

// Null for the CPU (Model::load's own backend); for CUDA the device's maker, or an Error saying
// why there is none ("no CUDA device: ...", "this build has no CUDA backend ...", "only 2 devices").
// Kernel choices come from the environment, read here: MOESCOPE_CUDA_EXPERTS=loop|grouped (one
// cuBLAS call per expert, or one grouped call per round) and MOESCOPE_CUDA_ATTENTION=tensor-cores|fp32.
std::shared_ptr<const BackendMaker> backend_maker(const Device& device);

// Under mpirun: the CUDA device of this process's local rank (local rank modulo the devices), so
// each rank of a node drives its own GPU; `device` itself elsewhere or on the CPU.
Device device_for_local_rank(const Device& device, int local_rank, int device_count);

}  // namespace moescope
