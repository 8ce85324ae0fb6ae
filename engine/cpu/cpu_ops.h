// cpu_ops.h — the transformer pieces of the CPU path (fp32 activations, OpenMP threads).
// Activations are row-major [T, C] buffers of a packed batch; documents are token ranges.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/weights.h"

namespace moescope {

struct DocumentSpan {
  size_t begin = 0, end = 0;  // token range [begin, end) in the packed batch
  size_t size() const { return end - begin; }
};

using ActMatrix = RowMatrix;  // activations [T, C], same layout as the weights

// y [T, D] = rmsnorm(x [T, D]) * w [D], in fp32: x * rsqrt(mean(x^2) + eps) * w.
void rms_norm(const ActMatrix& x, const Matrix& w, float eps, ActMatrix& y);
// In place over rows of width C (used for OLMoE's q/k norm over the full projection).
void rms_norm_inplace(ActMatrix& x, const Matrix& w, float eps);

// In place per head: each Dh-wide slice of a row of x [T, heads*Dh] is normalised with the one
// weight w [Dh] (Qwen3-MoE's q/k norm), or with no weight when w is empty (Llama 4's L2 norm).
void rms_norm_heads_inplace(ActMatrix& x, const Matrix& w, int heads, int head_dim, float eps);

// y [M, N] (row stride ldy) = x [M, K] (row stride ldx) · w^T, w [N, K], on the kernel its form
// was laid out for at load (weights.h). y is overwritten, never read.
void gemm_weight(const float* x, int64_t M, int64_t ldx, const Matrix& w, float* y, int64_t ldy);

// y [T, out] = x [T, in] · W^T [in, out] (+ bias [out]).
void linear(const ActMatrix& x, const Matrix& w, const Matrix& bias, ActMatrix& y);

// RoPE of one packed batch: cos and sin at every position of its longest document, and each
// token's position (restarting at 0 in every document). Built once per forward pass; every
// layer's q and k use it.
struct RopeTable {
  int half = 0;                    // rotated pairs per head (inv_freq.size())
  std::vector<float> cos, sin;     // [max document length, half], times the attention factor
  std::vector<uint32_t> position;  // [T]
};

// cos/sin of pos * inv_freq[i] in fp32 like the reference, multiplied by attention_factor (yarn's,
// rope_scaling.h), as transformers' rotary embeddings do.
RopeTable make_rope_table(const std::vector<float>& inv_freq, float attention_factor, const std::vector<DocumentSpan>& docs,
                          size_t T);

// RoPE in place on the dims [offset, offset + 2*rope.half) of each head of x [T, heads*head_stride].
// Pairing per RopePairing (config.h).
void rope_apply(ActMatrix& x, int heads, int head_stride, int offset, const RopeTable& rope, RopePairing pairing);

struct AttentionShape {
  int heads = 0, kv_heads = 0;  // H, Hkv
  int qk_dim = 0;               // per-head width of q and k
  int v_dim = 0;                // per-head width of v (and of the output)
  float scale = 0;              // scores = q·k * scale
  int window = 0;               // > 0: query i sees keys j with i - window < j <= i (document positions)
  int chunk = 0;                // > 0: query i sees keys j with j / chunk == i / chunk

  // First key query i (document position) sees: after the sliding window, at its chunk's start.
  int64_t first_key(int64_t i) const {
    int64_t lo = window > 0 ? std::max<int64_t>(0, i - window + 1) : 0;
    return chunk > 0 ? std::max<int64_t>(lo, i / chunk * chunk) : lo;
  }
};

// Causal attention inside each document (never across): out [T, H*v_dim] from q [T, H*qk_dim],
// k [T, Hkv*qk_dim], v [T, Hkv*v_dim]; KV head of query head h is h / (H / Hkv). Softmax in fp32.
void attention_packed(const ActMatrix& q, const ActMatrix& k, const ActMatrix& v, const AttentionShape& shape,
                      const std::vector<DocumentSpan>& docs, ActMatrix& out);

// y [n, D] = down · (silu(gate · x) ⊙ (up · x)) for x [n, D] (+ biases for dense layers).
void swiglu(const ActMatrix& x, const ExpertWeights& w, ActMatrix& y);

// Threads for the CPU path (0 = all cores). Applies to OpenMP and Eigen.
void set_cpu_threads(int threads);
int cpu_threads();

}  // namespace moescope
