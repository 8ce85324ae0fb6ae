// gemm.h — the weight GEMMs on cuBLAS: row-major y [M, N] (FP32, row stride ldy) = x [M, K]
// (BF16, row stride ldx) · w^T for a BF16 weight w [N, K], FP32 accumulation; and the FP32 router
// GEMM (pedantic FP32: no TF32, so routing sees FP32 logits as on the CPU).
#pragma once

#include <cublas_v2.h>

#include <vector>

#include "kernels/cuda/device_weights.h"

namespace moescope::cuda {

void gemm_bf16(cublasHandle_t handle, const bf16* x, int64_t M, int64_t ldx, const DeviceMatrix& w, float* y, int64_t ldy);

// One GEMM of a group: y [M, w.rows] (row stride ldy) = x [M, w.cols] (row stride ldx) · w^T.
struct GemmProblem {
  const bf16* x = nullptr;
  int64_t M = 0, ldx = 0;
  DeviceMatrix w;
  float* y = nullptr;
  int64_t ldy = 0;
};

// How the experts' GEMMs are issued: one cuBLAS call per expert, or one grouped call per layer
// round (cublasGemmGroupedBatchedEx). Which is faster depends on the GPU and the rows per expert:
// tools/gpu-check.sh measures both (MOESCOPE_CUDA_EXPERTS=loop|grouped).
enum class ExpertGemm { Loop, Grouped };

// Every problem, in one grouped call (Grouped) or one call each (Loop). `pointers` is device
// scratch for the grouped call's pointer arrays, `staging` their host copy; both must stay
// untouched until the stream has passed this call. Returns false, having run nothing, when cuBLAS
// refuses the grouped call (a type combination this version does not support): run Loop instead.
bool gemm_bf16_group(cublasHandle_t handle, ExpertGemm how, const std::vector<GemmProblem>& problems,
                     DeviceArray<const void*>& pointers, std::vector<const void*>& staging, cudaStream_t stream);

// y [M, N] = x [M, K] (FP32) · w^T for an FP32 w [N, K].
void gemm_f32(cublasHandle_t handle, const float* x, int64_t M, int64_t ldx, const float* w, int64_t N, int64_t K, float* y,
              int64_t ldy);

}  // namespace moescope::cuda
