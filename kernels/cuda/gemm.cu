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

bool gemm_bf16_group(cublasHandle_t handle, ExpertGemm how, const std::vector<GemmProblem>& problems,
                     DeviceArray<const void*>& pointers, std::vector<const void*>& staging, cudaStream_t stream) {
  if (how == ExpertGemm::Loop || problems.size() == 1) {
    for (const GemmProblem& p : problems) gemm_bf16(handle, p.x, p.M, p.ldx, p.w, p.y, p.ldy);
    return true;
  }
  // Group i is problem i (group sizes 1: every expert has its own row count). As in gemm_bf16,
  // cuBLAS's A is the weight (transposed) and B the input, so C is y^T column-major.
  const size_t G = problems.size();
  std::vector<cublasOperation_t> ta(G, CUBLAS_OP_T), tb(G, CUBLAS_OP_N);
  std::vector<int> m(G), n(G), k(G), lda(G), ldb(G), ldc(G), size(G, 1);
  std::vector<float> alpha(G, 1.f), beta(G, 0.f);
  staging.resize(3 * G);
  for (size_t i = 0; i < G; ++i) {
    const GemmProblem& p = problems[i];
    check_dims(p.M, p.w.rows, p.w.cols);
    m[i] = int(p.w.rows), n[i] = int(p.M), k[i] = int(p.w.cols);
    lda[i] = int(p.w.cols), ldb[i] = int(p.ldx), ldc[i] = int(p.ldy);
    staging[i] = p.w.data;
    staging[G + i] = p.x;
    staging[2 * G + i] = p.y;
  }
  const void** dev = pointers.reserve(3 * G);
  check(cudaMemcpyAsync(dev, staging.data(), 3 * G * sizeof(void*), cudaMemcpyHostToDevice, stream), "GEMM pointers to the device");
  const cublasStatus_t status = cublasGemmGroupedBatchedEx(
      handle, ta.data(), tb.data(), m.data(), n.data(), k.data(), alpha.data(), dev, CUDA_R_16BF, lda.data(), dev + G,
      CUDA_R_16BF, ldb.data(), beta.data(), reinterpret_cast<void* const*>(const_cast<void**>(dev + 2 * G)), CUDA_R_32F,
      ldc.data(), int(G), size.data(), CUBLAS_COMPUTE_32F);
  if (status == CUBLAS_STATUS_NOT_SUPPORTED || status == CUBLAS_STATUS_INVALID_VALUE) return false;
  check(status, "cublasGemmGroupedBatchedEx (BF16 experts)");
  return true;
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
