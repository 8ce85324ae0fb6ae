// cuda_device.cu — one-time CUDA device query; with no GPU or driver it reports why and moves on.
#include <cuda_runtime.h>

#include "kernels/cuda_device.h"

namespace moescope {

const CudaDeviceInfo& cuda_device_info() {
  static const CudaDeviceInfo info = [] {
    CudaDeviceInfo i;
    i.built_with_cuda = true;
    int count = 0;
    cudaError_t err = cudaGetDeviceCount(&count);
    if (err != cudaSuccess) {
      i.reason = std::string("no CUDA device: ") + cudaGetErrorString(err);
      return i;
    }
    if (count == 0) {
      i.reason = "no CUDA device: the driver reports none";
      return i;
    }
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, 0) != cudaSuccess) {
      i.reason = "no CUDA device: cannot read device 0 properties";
      return i;
    }
    i.available = true;
    i.count = count;
    i.name = prop.name;
    i.compute_major = prop.major;
    i.compute_minor = prop.minor;
    i.memory_bytes = prop.totalGlobalMem;
    return i;
  }();
  return info;
}

}  // namespace moescope
