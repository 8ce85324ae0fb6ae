// cpu_backend.h — the CPU backend (backend.h): the model's weights as loaded (weights.h) and the
// CPU kernels, with the precision and GEMM path of the weights' plan and a thread count fixed
// when it is made. Passes apply the thread count to the calling thread only (OpenMP's per-thread
// setting), so two models with different counts can run side by side.
#pragma once

#include "engine/backend.h"
#include "engine/config.h"
#include "engine/weights.h"

namespace moescope {

class CpuBackend final : public Backend {
 public:
  // threads = 0: the calling thread's OpenMP default. config and weights must outlive the backend.
  CpuBackend(const ModelConfig& config, const ModelWeights& weights, int threads);
  Device device() const override { return {}; }
  std::string kernels() const override;
  std::unique_ptr<BackendPass> begin(const PackedBatch& batch) const override;

  const ModelConfig& config() const { return config_; }
  const ModelWeights& weights() const { return weights_; }
  int threads() const { return threads_; }

 private:
  const ModelConfig& config_;
  const ModelWeights& weights_;
  int threads_ = 0;
};

}  // namespace moescope
