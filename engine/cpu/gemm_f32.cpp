// gemm_f32.cpp — gemm_nt through BLAS (EIGEN_USE_BLAS: Eigen/Core declares sgemm_) or Eigen.
#include "engine/cpu/gemm_f32.h"

#include <Eigen/Core>
#include <limits>

#include "engine/error.h"

namespace moescope {

void gemm_nt(const float* a, int64_t lda, const float* b, int64_t ldb, float* c, int64_t ldc, int64_t m, int64_t n,
             int64_t k) {
  if (m == 0 || n == 0) return;
#ifdef EIGEN_USE_BLAS
  constexpr int64_t kMax = std::numeric_limits<int>::max();
  if (m > kMax || n > kMax || k > kMax || lda > kMax || ldb > kMax || ldc > kMax)
    fail("gemm_nt", "a dimension exceeds the 32-bit BLAS interface");
  // Row-major c = a · b^T is column-major c^T [n, m] = b [n, k] · a^T [k, m]: op(b) = b^T of the
  // column-major [k, n] view of b, op(a) = the column-major [k, m] view of a.
  const int M = int(n), N = int(m), K = int(k), LDA = int(ldb), LDB = int(lda), LDC = int(ldc);
  const float one = 1.f, zero = 0.f;
  const char transb = 'T', transa = 'N';
  sgemm_(&transb, &transa, &M, &N, &K, &one, b, &LDA, a, &LDB, &zero, c, &LDC);
#else
  using Strided = Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>, 0,
                             Eigen::OuterStride<>>;
  using StridedOut = Eigen::Map<Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>, 0,
                                Eigen::OuterStride<>>;
  StridedOut C(c, m, n, Eigen::OuterStride<>(ldc));
  C.noalias() = Strided(a, m, k, Eigen::OuterStride<>(lda)) * Strided(b, n, k, Eigen::OuterStride<>(ldb)).transpose();
#endif
}

}  // namespace moescope
