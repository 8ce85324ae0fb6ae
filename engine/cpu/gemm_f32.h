// gemm_f32.h — the FP32 GEMM the CPU path's projections, experts and output head run on.
#pragma once

#include <cstdint>

namespace moescope {

// c [m, n] = a [m, k] · b[n, k]^T, all row-major with row strides lda, ldb, ldc; c is
// overwritten, never read. Through BLAS (beta = 0) when built with it, so the output is not
// first zeroed by one thread as an Eigen product assignment does; Eigen's own GEMM otherwise.
void gemm_nt(const float* a, int64_t lda, const float* b, int64_t ldb, float* c, int64_t ldc, int64_t m, int64_t n,
             int64_t k);

}  // namespace moescope
