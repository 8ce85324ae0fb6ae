// gemm_amx.h — FP32 GEMMs on AMX-BF16 tiles at FP32 accuracy ("BF16x3").
//
// Each FP32 operand is split exactly into three BF16 parts, x = x1 + x2 + x3 (8 significant bits
// each, 24 together = all of FP32's), and the tiles sum in FP32 the six products x_i·w_j with
// i + j <= 4. The three left out (x2·w3, x3·w2, x3·w3) are at most 2^-24 of the product, FP32's
// own rounding unit, so the result agrees with an FP32 GEMM to within that GEMM's own error
// (tests/engine/test_gemm_amx.cpp checks it against a double-precision reference; bench-gemm-amx
// prints both errors). Weights exact in BF16 (every BF16 checkpoint) have w2 = w3 = 0 and take
// three products. Used where the CPU has AMX-BF16 (Intel Xeon from Sapphire Rapids on) and the
// kernel grants the tile state; the callers keep gemm_nt everywhere else.
// GEMM operand names (this header only, not the project legend of docs/ARCHITECTURE.md): M rows
// (tokens), K inputs, N outputs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "engine/checkpoint/dtype.h"  // the BF16 rounding

namespace moescope {

// True when this build and CPU can run these kernels (AMX-BF16 and the kernel grants the tile
// state); *why says which, or why not. Whether a model uses them is chosen at load (LoadOptions).
bool amx_f32_available(std::string* why = nullptr);

// x = hi + mid + lo exactly, each rounded to nearest even in turn (finite x of normal size).
// Inline: it runs per element of every activation split, where a call costs more than the work.
inline void split_bf16x3(float x, uint16_t& hi, uint16_t& mid, uint16_t& lo) {
  if (!(__builtin_fabsf(x) <= 3.0e38f)) {  // inf, NaN, or a value whose rounding up would overflow
    uint32_t u;
    __builtin_memcpy(&u, &x, 4);
    hi = uint16_t(u >> 16);  // truncated: keeps inf and NaN as they are
    mid = lo = 0;
    return;
  }
  hi = f32_to_bf16(x);
  const float r1 = x - bf16_to_f32(hi);  // exact: the low 16 of x's 24 significant bits
  mid = f32_to_bf16(r1);
  lo = f32_to_bf16(r1 - bf16_to_f32(mid));  // the remaining 8 bits: exact in BF16
}

// 64-byte aligned BF16 storage (tile rows are 64 bytes).
struct AmxBuffer {
  std::unique_ptr<uint16_t[], void (*)(void*)> data{nullptr, nullptr};
  size_t count = 0;
  void resize(size_t n);  // contents undefined afterwards
};

// Weights w [N, K] (PyTorch Linear layout), split and laid out as the tiles read them:
// [N/32][parts][K/32][2 column halves][16 k-pairs][16 columns][2], N and K zero-padded to 32.
struct AmxF32Weights {
  int64_t N = 0, K = 0, Np = 0, Kp = 0;
  int parts = 0;  // 1 when every weight is exact in BF16, else 3
  AmxBuffer packed;
  size_t bytes() const { return packed.count * sizeof(uint16_t); }
  bool empty() const { return N == 0; }
};
AmxF32Weights pack_amx_f32_weights(const float* w, int64_t N, int64_t K);
// Weights stored in BF16 (one part, exact): the layout allocated and zeroed for w [N, K], then
// filled a block of rows at a time, so no [N, K] FP32 or BF16 copy is ever held beside it.
AmxF32Weights amx_bf16_weights(int64_t N, int64_t K);
void pack_amx_bf16_rows(AmxF32Weights& w, int64_t row0, const uint16_t* rows, int64_t n);  // rows [n, K] BF16

// Activations x [M, K] (row stride ldx) split in three: [3][Mp/16][Kp/32][16 rows][32], M padded
// to 32 rows and K to 32 with zeros. Reuse one object across calls to keep its buffer.
struct AmxF32Activations {
  int64_t M = 0, K = 0, Mp = 0, Kp = 0;
  AmxBuffer packed;
};
void split_amx_f32_activations(const float* x, int64_t M, int64_t K, int64_t ldx, AmxF32Activations& out);

// y [M, n1 - n0] (row stride ldy) = x · w[n0:n1]^T, n0 a multiple of 32 (output columns n0..n1
// of x · w^T); y is overwritten, never read. Thread-safe; inside a parallel region it runs on the calling thread alone.
void gemm_amx_f32(const AmxF32Activations& x, const AmxF32Weights& w, int64_t n0, int64_t n1, float* y, int64_t ldy);

// y [M, N] (row stride ldy) = x [M, K] (row stride ldx) · w^T, in chunks of rows split into a
// per-thread buffer (at most 6 MB) that later calls reuse.
void gemm_amx_f32(const float* x, int64_t M, int64_t ldx, const AmxF32Weights& w, float* y, int64_t ldy);

}  // namespace moescope
