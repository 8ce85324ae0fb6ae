// cuda_backend.h — the CUDA backend (engine/backend.h): the model's weights uploaded once to one
// GPU (device_weights.h) and a pass per forward (cuda_pass.cu): FP32 activations and residual
// stream, BF16 GEMM inputs and weights with FP32 accumulation on cuBLAS, norms, RoPE, softmaxes
// and router logits in FP32. Routing stays on the host (backend.h), so records come from the CPU
// path's own routing code; only the logits can differ.
#pragma once

#include <atomic>
#include <memory>

#include "engine/backend.h"
#include "kernels/cuda/device_weights.h"
#include "kernels/cuda/gemm.h"

namespace moescope::cuda {

// Kernel choices a program may make at its edge (backend_maker.cpp reads them from the environment).
struct CudaOptions {
  ExpertGemm experts = ExpertGemm::Loop;  // MOESCOPE_CUDA_EXPERTS=loop|grouped
  bool fp32_attention = false;            // MOESCOPE_CUDA_ATTENTION=fp32: FP32 scores on CUDA cores
};

class CudaBackend final : public Backend {
 public:
  // Uploads to device `index`; throws Error (no device, out of memory).
  CudaBackend(const ModelConfig& config, const ModelWeights& weights, int index, const CudaOptions& options);
  Device device() const override { return {DeviceKind::Cuda, index_}; }
  std::string kernels() const override;
  uint64_t device_weight_bytes() const override { return weights_->bytes(); }
  std::unique_ptr<BackendPass> begin(const PackedBatch& batch) const override;

  const ModelConfig& config() const { return config_; }
  const DeviceWeights& weights() const { return *weights_; }
  int index() const { return index_; }
  const CudaOptions& options() const { return options_; }
  // A grouped expert GEMM cuBLAS refused (type combination not supported here): later rounds
  // issue one call per expert, and kernels() says so.
  void grouped_unsupported() const { grouped_refused_ = true; }
  bool grouped_refused() const { return grouped_refused_; }

 private:
  const ModelConfig& config_;
  int index_ = 0;
  CudaOptions options_;
  mutable std::atomic<bool> grouped_refused_{false};
  std::string name_;
  std::unique_ptr<DeviceWeights> weights_;
};

}  // namespace moescope::cuda

namespace moescope {
// The maker LoadOptions::backend takes for CUDA device `index` (kernels/backend_maker.h picks it).
std::shared_ptr<const BackendMaker> cuda_backend_maker(int index, const cuda::CudaOptions& options);
}  // namespace moescope
