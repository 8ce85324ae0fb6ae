// device_array.h — one device allocation, freed with its owner (after the device's queued work).
// Grow-only scratch (`reserve`) keeps a pass's buffers across layers: each layer needs the same
// sizes again.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>

#include "kernels/cuda/cuda_check.h"

namespace moescope::cuda {

template <typename T>
class DeviceArray {
 public:
  DeviceArray() = default;
  explicit DeviceArray(size_t n) { reserve(n); }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  DeviceArray(DeviceArray&& o) noexcept : ptr_(std::exchange(o.ptr_, nullptr)), n_(std::exchange(o.n_, 0)) {}
  DeviceArray& operator=(DeviceArray&& o) noexcept {
    if (this != &o) {
      release();
      ptr_ = std::exchange(o.ptr_, nullptr);
      n_ = std::exchange(o.n_, 0);
    }
    return *this;
  }
  ~DeviceArray() { release(); }

  // At least n elements; the old contents are lost when it grows.
  T* reserve(size_t n) {
    if (n <= n_) return ptr_;
    release();
    check(cudaMalloc(reinterpret_cast<void**>(&ptr_), (n ? n : 1) * sizeof(T)), "cudaMalloc");
    n_ = n;
    return ptr_;
  }
  void upload(const T* host, size_t n, cudaStream_t stream = nullptr) {
    reserve(n);
    check(cudaMemcpyAsync(ptr_, host, n * sizeof(T), cudaMemcpyHostToDevice, stream), "copy to the device");
    if (!stream) check(cudaStreamSynchronize(nullptr), "copy to the device");
  }
  T* get() const { return ptr_; }
  size_t size() const { return n_; }
  size_t bytes() const { return n_ * sizeof(T); }

 private:
  // Queued kernels may still read the old buffer (a pass's scratch grows between launches on its
  // stream): wait for the device before freeing. Growth happens in a pass's first layers only.
  void release() {
    if (ptr_) {
      cudaDeviceSynchronize();
      cudaFree(ptr_);
    }
    ptr_ = nullptr;
    n_ = 0;
  }
  T* ptr_ = nullptr;
  size_t n_ = 0;
};

}  // namespace moescope::cuda
