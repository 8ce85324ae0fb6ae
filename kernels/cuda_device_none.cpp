// cuda_device_none.cpp — the device query of a build without the CUDA backend.
#include "kernels/cuda_device.h"

namespace moescope {

const CudaDeviceInfo& cuda_device_info() {
  static const CudaDeviceInfo info = [] {
    CudaDeviceInfo i;
    i.reason = "this build has no CUDA backend (configure with -DMOESCOPE_CUDA=ON where nvcc is installed)";
    return i;
  }();
  return info;
}

}  // namespace moescope
