// cuda_backend_maker.cu — the BackendMaker of a CUDA device: the device-memory check before any
// weight is read (device_pass_plan.h), then the backend.
#include "kernels/cuda/cuda_backend.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/plan/device_pass_plan.h"

namespace moescope {

namespace {

class CudaBackendMaker final : public BackendMaker {
 public:
  CudaBackendMaker(int index, cuda::ExpertGemm expert_gemm) : index_(index), expert_gemm_(expert_gemm) {}
  Device device() const override { return {DeviceKind::Cuda, index_}; }
  void check_fits(const std::string& dir, const ModelConfig& config, const MemoryEstimate& host) const override {
    cuda::check(cudaSetDevice(index_), "cudaSetDevice");
    size_t free_bytes = 0, total_bytes = 0;
    cuda::check(cudaMemGetInfo(&free_bytes, &total_bytes), "cudaMemGetInfo");
    check_device_memory_fits(dir, device().name(), estimate_device_memory(config, host, kPlannedPassTokens), free_bytes);
  }
  std::unique_ptr<Backend> make(const ModelConfig& config, const ModelWeights& weights) const override {
    return std::make_unique<cuda::CudaBackend>(config, weights, index_, expert_gemm_);
  }

 private:
  int index_ = 0;
  cuda::ExpertGemm expert_gemm_;
};

}  // namespace

std::shared_ptr<const BackendMaker> cuda_backend_maker(int index, bool grouped) {
  return std::make_shared<CudaBackendMaker>(index, grouped ? cuda::ExpertGemm::Grouped : cuda::ExpertGemm::Loop);
}

}  // namespace moescope
