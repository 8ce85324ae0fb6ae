// gemm_bf16.h — the BF16 compute mode of the CPU path (`--precision bf16`): the weight GEMMs
// (attention projections, experts, output head) take BF16 operands with FP32 accumulation, as a
// BF16 checkpoint runs in PyTorch; norms, RoPE, attention scores, the router and the softmaxes
// stay FP32. Through oneDNN where the build has it (AMX-BF16 / AVX512-BF16 kernels, several
// times the FP32 GEMM rate); elsewhere a portable path with the same rounding (slower).
// GEMM operand names (this header only, not the project legend of docs/ARCHITECTURE.md): M rows
// (tokens), K inputs, N outputs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/checkpoint/dtype.h"  // the BF16 conversions

namespace moescope {

enum class Precision { F32, BF16 };

// "f32" / "bf16"; Error naming `where` otherwise.
Precision parse_precision(const std::string& text, const std::string& where);
const char* precision_name(Precision p);


// True when BF16 GEMMs run on fast kernels here (oneDNN built in and the CPU has AMX-BF16 or
// AVX512-BF16); *how says which, or why not.
bool bf16_gemm_fast(std::string* how = nullptr);


// The weights of one GEMM, w [N, K] (PyTorch Linear layout), rounded to BF16 once at load and,
// with oneDNN, re-laid out in the blocked order its kernels read (repacking a plain matrix on
// every call would cost more than the multiplication).
struct Bf16Weights {
  int64_t N = 0, K = 0;
  std::vector<uint16_t> plain;           // [N, K] row-major; emptied once packed
  std::shared_ptr<const void> packed;    // oneDNN's layout (opaque; gemm_bf16.cpp)
  size_t bytes = 0;
  bool empty() const { return N == 0; }
};
Bf16Weights make_bf16_weights(const float* w, int64_t N, int64_t K);
// The same, rounding into `scratch` (reused across calls) before packing: a fresh buffer per
// matrix, freed after packing, left the heap holey (~1/3 of the BF16 bytes stayed resident).
Bf16Weights make_bf16_weights(const float* w, int64_t N, int64_t K, std::vector<uint16_t>& scratch);
// From weights already in BF16, plain [N, K] (a checkpoint's own values): packed for oneDNN, or
// kept as they are (moved in) where it is not used. `plain` may be a reused scratch buffer: it is
// left empty only when it was taken.
Bf16Weights bf16_weights_from_plain(std::vector<uint16_t>& plain, int64_t N, int64_t K);

// y [M, N] = bf16(x) [M, K] · w^T with FP32 accumulation and result. Thread-safe; inside a
// parallel region it runs single-threaded.
void gemm_bf16(const float* x, int64_t M, const Bf16Weights& w, float* y);

}  // namespace moescope
