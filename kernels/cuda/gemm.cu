// gemm.cu — cuBLAS calls of the weight GEMMs (gemm.h). cuBLAS is column-major: a row-major
// y [M, N] = x [M, K] · w^T [K, N] is the column-major y^T [N, M] = w [N, K] · x^T [K, M], i.e.
// op(A) = T on w (column-major [K, N], ld K) and op(B) = N on x (column-major [K, M], ld ldx).
#include "kernels/cuda/gemm.h"

#include <limits>

#include "kernels/cuda/cuda_check.h"

namespace moescope::cuda {

namespace {
void check_dims(int64_t M, int64_t N, int64_t K) {
  constexpr int64_t lim = std::numeric_limits<int>::max();
  if (M > lim || N > lim || K > lim) fail("cuBLAS", "a GEMM dimension above 2^31 - 1");
}
}  // namespace

void gemm_bf16(cublasHandle_t handle, const bf16* x, int64_t M, int64_t ldx, const DeviceMatrix& w, float* y, int64_t ldy) {
  if (M == 0) return;
  check_dims(M, w.rows, w.cols);
  const float one = 1.f, zero = 0.f;
  check(cublasGemmEx(handle, CUBLAS_OP_T, CUBLAS_OP_N, int(w.rows), int(M), int(w.cols), &one, w.data, CUDA_R_16BF,
                     int(w.cols), x, CUDA_R_16BF, int(ldx), &zero, y, CUDA_R_32F, int(ldy), CUBLAS_COMPUTE_32F,
                     CUBLAS_GEMM_DEFAULT),
        "cublasGemmEx (BF16)");
}

void gemm_f32(cublasHandle_t handle, const float* x, int64_t M, int64_t ldx, const float* w, int64_t N, int64_t K, float* y,
              int64_t ldy) {
  if (M == 0) return;
  check_dims(M, N, K);
  const float one = 1.f, zero = 0.f;
  check(cublasGemmEx(handle, CUBLAS_OP_T, CUBLAS_OP_N, int(N), int(M), int(K), &one, w, CUDA_R_32F, int(K), x, CUDA_R_32F,
                     int(ldx), &zero, y, CUDA_R_32F, int(ldy), CUBLAS_COMPUTE_32F_PEDANTIC, CUBLAS_GEMM_DEFAULT),
        "cublasGemmEx (FP32 router)");
}

}  // namespace moescope::cuda
