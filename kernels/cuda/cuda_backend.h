// cuda_backend.h — the CUDA backend (engine/backend.h): the model's weights uploaded once to one
// GPU (device_weights.h) and a pass per forward (cuda_pass.cu): FP32 activations and residual
// stream, BF16 GEMM inputs and weights with FP32 accumulation on cuBLAS, norms, RoPE, softmaxes
// and router logits in FP32. Routing stays on the host (backend.h), so records come from the CPU
// path's own routing code; only the logits can differ.
#pragma once

#include <memory>

#include "engine/backend.h"
#include "kernels/cuda/device_weights.h"
#include "kernels/cuda/gemm.h"

namespace moescope::cuda {

class CudaBackend final : public Backend {
 public:
  // Uploads to device `index`; throws Error (no device, out of memory).
  CudaBackend(const ModelConfig& config, const ModelWeights& weights, int index, ExpertGemm expert_gemm);
  Device device() const override { return {DeviceKind::Cuda, index_}; }
  std::string kernels() const override;
  std::unique_ptr<BackendPass> begin(const PackedBatch& batch) const override;

  const ModelConfig& config() const { return config_; }
  const DeviceWeights& weights() const { return *weights_; }
  int index() const { return index_; }
  ExpertGemm expert_gemm() const { return expert_gemm_; }

 private:
  const ModelConfig& config_;
  int index_ = 0;
  ExpertGemm expert_gemm_ = ExpertGemm::Loop;
  std::string name_;
  std::unique_ptr<DeviceWeights> weights_;
};

}  // namespace moescope::cuda

namespace moescope {
// The maker LoadOptions::backend takes for CUDA device `index` (kernels/backend_maker.h picks it);
// grouped: the experts' GEMMs as one grouped cuBLAS call per round (gemm.h).
std::shared_ptr<const BackendMaker> cuda_backend_maker(int index, bool grouped);
}  // namespace moescope
