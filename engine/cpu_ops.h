// cpu_ops.h — the transformer pieces of the CPU path (fp32, Eigen GEMMs, OpenMP threads).
// Activations are row-major [T, C] buffers of a packed batch; documents are token ranges.
#pragma once

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
// weight w [Dh] (Qwen3-MoE's q/k norm).
void rms_norm_heads_inplace(ActMatrix& x, const Matrix& w, int heads, int head_dim, float eps);

// y [T, out] = x [T, in] · W^T [in, out] (+ bias [out]).
void linear(const ActMatrix& x, const Matrix& w, const Matrix& bias, ActMatrix& y);

// NeoX half-split RoPE in place on x [T, heads*Dh]; positions restart at 0 in every document.
void rope_neox(ActMatrix& x, int heads, int head_dim, float theta, const std::vector<DocumentSpan>& docs);

// Causal attention inside each document (never across): out [T, H*Dh] from q [T, H*Dh],
// k, v [T, Hkv*Dh]; KV head of query head h is h / (H / Hkv). Softmax in fp32.
// window > 0: sliding window, query i sees keys j with i - window < j <= i (document positions).
void attention_packed(const ActMatrix& q, const ActMatrix& k, const ActMatrix& v, int heads, int kv_heads,
                      int head_dim, const std::vector<DocumentSpan>& docs, ActMatrix& out, int window = 0);

// y [n, D] = down · (silu(gate · x) ⊙ (up · x)) for x [n, D] (+ biases for dense layers).
void swiglu(const ActMatrix& x, const ExpertWeights& w, ActMatrix& y);

// Threads for the CPU path (0 = all cores). Applies to OpenMP and Eigen.
void set_cpu_threads(int threads);
int cpu_threads();

}  // namespace moescope
