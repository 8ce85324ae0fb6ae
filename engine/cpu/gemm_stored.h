// gemm_stored.h — FP32 GEMMs over weights kept as the checkpoint stores them (BF16 or F16, 2 bytes
// per weight), for machines without AMX. No FP32 copy of a weight matrix is ever held: each
// thread widens one panel of weight rows at a time (sized for its L2 cache) into a scratch buffer
// and multiplies it there with the FP32 GEMM. BF16 and F16 widen exactly, so the result is the
// FP32 GEMM of the same values (only the panel split differs from one whole-matrix call).
// GEMM operand names (this header only, not the project legend of docs/ARCHITECTURE.md): M rows
// (tokens), K inputs, N outputs.
#pragma once

#include <cstdint>

#include "engine/checkpoint/dtype.h"

namespace moescope {

// Rows of w [N, K] widened per panel (a multiple of 16, at least 16, at most N rounded up).
int64_t stored_panel_rows(int64_t N, int64_t K);

// y [M, N] (row stride ldy) = x [M, K] (row stride ldx) · w^T, w [N, K] row-major in `dtype`
// (BF16 or F16). y is overwritten, never read. Panels run on all threads when called outside a
// parallel region; inside one, on the calling thread alone.
void gemm_stored(const float* x, int64_t M, int64_t ldx, const uint16_t* w, DType dtype, int64_t N, int64_t K, float* y,
                 int64_t ldy);

// Widens n BF16 or F16 values to FP32 (BF16: a 16-bit shift, vectorised by the compiler).
void widen_stored(const uint16_t* w, DType dtype, int64_t n, float* out);

}  // namespace moescope
