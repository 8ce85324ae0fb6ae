// ops.h — the CUDA backend's kernels, as host functions that launch on a stream. Activations are
// FP32 row-major [rows, ld]; GEMM inputs are converted to BF16 first. Each kernel's per-element
// math is in kernels/math/ (shared with the CPU tests). Shape legend: see backend.h.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace moescope::cuda {

using bf16 = __nv_bfloat16;

// x [T, D] = widen(table [V, D] rows ids [T]).
void embed_rows(const int32_t* ids, int64_t T, const bf16* table, int64_t D, float* x, cudaStream_t s);
void embed_rows(const int32_t* ids, int64_t T, const float* table, int64_t D, float* x, cudaStream_t s);

// y = RMSNorm of each Dh-wide segment (heads of them per row) of x rows, with weight w [Dh] (or
// none when null). x [T, ldx], y [T, ldy]; y may be x. heads = 1: over the whole row.
void rms_norm(const float* x, int64_t ldx, float* y, int64_t ldy, int64_t T, int heads, int64_t head_dim,
              const float* w, float eps, cudaStream_t s);

void add_inplace(float* x, const float* y, int64_t n, cudaStream_t s);               // x += y
void to_bf16(const float* x, int64_t rows, int64_t cols, int64_t ldx, bf16* out, cudaStream_t s);  // out [rows, cols]
void add_bias(float* y, int64_t rows, int64_t cols, int64_t ldy, const float* bias, cudaStream_t s);  // y += bias [cols]
void clip(float* x, int64_t n, float limit, cudaStream_t s);                         // x = clamp(x, -l, l)

// RoPE in place on dims [offset, offset + 2*half) of each head of x [T, ld]; cos/sin [L, half]
// by document position, positions [T].
void rope(float* x, int64_t T, int64_t ld, int heads, int head_stride, int offset, int half, const float* cos,
          const float* sin, const uint32_t* positions, bool interleaved, cudaStream_t s);

// Llama 4 NoPE layers: q [T, cols] rows scaled by their temperature factor.
void temperature_tune(float* q, int64_t T, int64_t cols, const uint32_t* positions, float attn_scale, float floor_scale,
                      cudaStream_t s);

// Causal attention inside documents: out [T, H*Dv] from q [T, H*Dqk], k [T, Hkv*Dqk], v [T, Hkv*Dv];
// doc_begin [T]: index of the first token of each token's document. Dv <= 256.
// Head widths that are multiples of 16 run on the tensor cores (q, k, v and the probabilities as
// BF16, scores and output accumulated in FP32; online softmax in FP32); others, or fp32 = true,
// on the FP32 kernel (one warp per query and head).
struct AttentionArgs {
  int heads = 0, kv_heads = 0, qk_dim = 0, v_dim = 0;
  float scale = 0;
  int window = 0, chunk = 0;
  bool fp32 = false;
};
void attention(const float* q, const float* k, const float* v, const int32_t* doc_begin, int64_t T,
               const AttentionArgs& a, float* out, cudaStream_t s);

// out [n, I] (BF16) = silu(gu[:, :I] + gate_bias) * (gu[:, I:] + up_bias); gu [n, 2I] FP32.
void swiglu(const float* gu, int64_t n, int64_t I, const float* gate_bias, const float* up_bias, bf16* out, cudaStream_t s);

// out [rows, D] (BF16) = h [T, D] rows of the tokens of slot_of_row (token = slot / K), scaled by
// the slot's routing weight when weights is not null (Llama 4).
void gather_slots(const float* h, int64_t D, const int32_t* slot_of_row, int64_t rows, int k, const float* weights,
                  bf16* out, cudaStream_t s);

// y [T, D] = sum over each token's K slots in order of (weight *) out[row_of_slot[slot]]; out [rows, D].
void combine_slots(const float* out, const int32_t* row_of_slot, const float* weights, bool weight_scales_output,
                   int64_t T, int k, int64_t D, float* y, cudaStream_t s);

// norms [rows] = ||x row|| (x [rows, D]).
void row_norms(const float* x, int64_t rows, int64_t D, float* norms, cudaStream_t s);

// dots [T] = x [T, D] · w [D] (FP32).
void row_dots(const float* x, int64_t T, int64_t D, const float* w, float* dots, cudaStream_t s);

// y [T, D] += sigmoid(dots[t]) * ys [T, D] (Qwen2-MoE's shared expert gate); dots null: y += ys.
void add_gated(float* y, const float* ys, const float* dots, int64_t T, int64_t D, cudaStream_t s);

// Multi-head latent attention: k [T, H*(Dn+Dr)] and v [T, H*Dv] from kv [T, H*(Dn+Dv)] and the one
// rope key k_rope (columns [R, R+Dr) of kva [T, ldkva]).
void mla_assemble_kv(const float* kv, const float* kva, int64_t ldkva, int64_t R, int64_t T, int H, int Dn, int Dr,
                     int Dv, float* k, float* v, cudaStream_t s);

// The output head's fold of one logits tile z [n, nb] (vocabulary v0..v0+nb) into the running
// max/sum per row and the target logit (next ids [n], -1 for rows without a target).
void fold_logits(const float* z, int64_t n, int64_t nb, int64_t v0, const int32_t* next_ids, float* run_max,
                 float* run_sum, float* target, cudaStream_t s);

}  // namespace moescope::cuda
