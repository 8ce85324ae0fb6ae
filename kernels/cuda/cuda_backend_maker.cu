// cuda_backend_maker.cu — the BackendMaker of a CUDA device: the device-memory check before any
// weight is read (device_pass_plan.h), then the backend.
#include "kernels/cuda/cuda_backend.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/plan/device_pass_plan.h"

namespace moescope {

namespace {

class CudaBackendMaker final : public BackendMaker {
 public:
  CudaBackendMaker(int index, const cuda::CudaOptions& options) : index_(index), options_(options) {}
  Device device() const override { return {DeviceKind::Cuda, index_}; }
  void check_fits(const std::string& dir, const ModelConfig& config, const MemoryEstimate& host) const override {
    cuda::check(cudaSetDevice(index_), "cudaSetDevice");
    size_t free_bytes = 0, total_bytes = 0;
    cuda::check(cudaMemGetInfo(&free_bytes, &total_bytes), "cudaMemGetInfo");
    check_device_memory_fits(dir, device().name(), estimate_device_memory(config, host, kPlannedPassTokens), free_bytes);
  }
  std::unique_ptr<Backend> make(const ModelConfig& config, const ModelWeights& weights) const override {
    return std::make_unique<cuda::CudaBackend>(config, weights, index_, options_);
  }

 private:
  int index_ = 0;
  cuda::CudaOptions options_;
};

}  // namespace

std::shared_ptr<const BackendMaker> cuda_backend_maker(int index, const cuda::CudaOptions& options) {
  return std::make_shared<CudaBackendMaker>(index, options);
}

}  // namespace moescope
