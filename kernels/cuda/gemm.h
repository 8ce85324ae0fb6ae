// gemm.h — the weight GEMMs on cuBLAS: row-major y [M, N] (FP32, row stride ldy) = x [M, K]
// (BF16, row stride ldx) · w^T for a BF16 weight w [N, K], FP32 accumulation; and the FP32 router
// GEMM (pedantic FP32: no TF32, so routing sees FP32 logits as on the CPU).
#pragma once

#include <cublas_v2.h>

#include "kernels/cuda/device_weights.h"

namespace moescope::cuda {

void gemm_bf16(cublasHandle_t handle, const bf16* x, int64_t M, int64_t ldx, const DeviceMatrix& w, float* y, int64_t ldy);

// y [M, N] = x [M, K] (FP32) · w^T for an FP32 w [N, K].
void gemm_f32(cublasHandle_t handle, const float* x, int64_t M, int64_t ldx, const float* w, int64_t N, int64_t K, float* y,
              int64_t ldy);

}  // namespace moescope::cuda
