// cuda_device.h — is there a usable CUDA device? Answered once, without failing when there is not.
#pragma once

#include <string>

namespace moescope {

struct CudaDeviceInfo {
  bool built_with_cuda = false;  // the binary contains the CUDA backend
  bool available = false;        // a device can be used now
  std::string name;              // device name when available
  std::string reason;            // why not, when unavailable ("no CUDA device: ...")
  int count = 0;                 // devices visible (CUDA_VISIBLE_DEVICES applies)
  int compute_major = 0, compute_minor = 0;  // of device 0
  size_t memory_bytes = 0;       // of device 0
};

const CudaDeviceInfo& cuda_device_info();

}  // namespace moescope
