// ops.cu — the CUDA backend's row and element kernels (ops.h); attention is in attention.cu.
#include "kernels/cuda/ops.h"

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/reduce.cuh"
#include "kernels/math/attention_window.h"
#include "kernels/math/expert_slots.h"
#include "kernels/math/online_softmax.h"
#include "kernels/math/rms_norm.h"
#include "kernels/math/rope.h"
#include "kernels/math/swiglu.h"

namespace moescope::cuda {

namespace {

constexpr int kThreads = 256;

// A grid of n blocks; more than CUDA's 2^31 - 1 is refused (a pass of billions of tokens).
unsigned grid_of(int64_t n) {
  if (n > int64_t(0x7fffffff)) fail("CUDA", "a kernel launch of more than 2^31 - 1 blocks");
  return unsigned(n);
}
unsigned blocks_for(int64_t n) { return grid_of((n + kThreads - 1) / kThreads); }

__device__ __forceinline__ float widen(bf16 v) { return __bfloat162float(v); }
__device__ __forceinline__ float widen(float v) { return v; }

template <typename Table>
__global__ void embed_kernel(const int32_t* ids, const Table* table, int64_t D, float* x) {
  const int64_t t = blockIdx.x;
  const Table* row = table + int64_t(ids[t]) * D;
  for (int64_t d = threadIdx.x; d < D; d += blockDim.x) x[t * D + d] = widen(row[d]);
}

// One block per (row, head) segment.
__global__ void rms_norm_kernel(const float* x, int64_t ldx, float* y, int64_t ldy, int heads, int64_t n, const float* w,
                                float eps) {
  const int64_t t = blockIdx.x / heads, h = blockIdx.x % heads;
  const float* xr = x + t * ldx + h * n;
  float* yr = y + t * ldy + h * n;
  float ss = 0.f;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) ss += xr[i] * xr[i];
  const float r = kmath::rms_inverse(block_sum(ss), n, eps);
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) yr[i] = kmath::rms_scale(xr[i], r, w, i);
}

__global__ void add_kernel(float* x, const float* y, int64_t n) {
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) x[i] += y[i];
}

__global__ void to_bf16_kernel(const float* x, int64_t rows, int64_t cols, int64_t ldx, bf16* out) {
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= rows * cols) return;
  const int64_t r = i / cols, c = i % cols;
  out[i] = __float2bfloat16_rn(x[r * ldx + c]);
}

__global__ void bias_kernel(float* y, int64_t rows, int64_t cols, int64_t ldy, const float* bias) {
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= rows * cols) return;
  y[(i / cols) * ldy + i % cols] += bias[i % cols];
}

__global__ void clip_kernel(float* x, int64_t n, float limit) {
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) x[i] = fminf(fmaxf(x[i], -limit), limit);
}

// One thread per (token, head, pair).
__global__ void rope_kernel(float* x, int64_t T, int64_t ld, int heads, int head_stride, int offset, int half,
                            const float* cosv, const float* sinv, const uint32_t* positions, bool interleaved) {
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= T * heads * half) return;
  const int p = int(i % half);
  const int64_t th = i / half, t = th / heads;
  const int h = int(th % heads);
  float* v = x + t * ld + int64_t(h) * head_stride + offset;
  const int64_t at = int64_t(positions[t]) * half + p;
  kmath::rope_rotate(v[kmath::rope_first(p, interleaved)], v[kmath::rope_second(p, half, interleaved)], cosv[at], sinv[at]);
}

__global__ void temperature_kernel(float* q, int64_t T, int64_t cols, const uint32_t* positions, float attn_scale,
                                   float floor_scale) {
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= T * cols) return;
  q[i] *= kmath::temperature_factor(positions[i / cols], attn_scale, floor_scale);
}

__global__ void swiglu_kernel(const float* gu, int64_t n, int64_t I, const float* gate_bias, const float* up_bias, bf16* out) {
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n * I) return;
  const int64_t r = i / I, c = i % I;
  const float g = gu[r * 2 * I + c] + (gate_bias ? gate_bias[c] : 0.f);
  const float u = gu[r * 2 * I + I + c] + (up_bias ? up_bias[c] : 0.f);
  out[i] = __float2bfloat16_rn(kmath::swiglu(g, u));
}

__global__ void gather_kernel(const float* h, int64_t D, const int32_t* slot_of_row, int k, const float* weights, bf16* out) {
  const int64_t r = blockIdx.x;
  const int64_t slot = slot_of_row[r], t = kmath::slot_token(slot, k);
  const float scale = weights ? weights[slot] : 1.f;
  for (int64_t d = threadIdx.x; d < D; d += blockDim.x) out[r * D + d] = __float2bfloat16_rn(h[t * D + d] * scale);
}

__global__ void combine_kernel(const float* out, const int32_t* row_of_slot, const float* weights, bool scales_output,
                               int k, int64_t D, float* y) {
  const int64_t t = blockIdx.x;
  for (int64_t d = threadIdx.x; d < D; d += blockDim.x)
    y[t * D + d] = kmath::combine_slots(out, D, row_of_slot, weights, scales_output, t, k, d);
}

__global__ void row_norms_kernel(const float* x, int64_t D, float* norms) {
  const int64_t r = blockIdx.x;
  float ss = 0.f;
  for (int64_t d = threadIdx.x; d < D; d += blockDim.x) ss += x[r * D + d] * x[r * D + d];
  ss = block_sum(ss);
  if (threadIdx.x == 0) norms[r] = sqrtf(ss);
}

__global__ void row_dots_kernel(const float* x, int64_t D, const float* w, float* dots) {
  const int64_t r = blockIdx.x;
  float s = 0.f;
  for (int64_t d = threadIdx.x; d < D; d += blockDim.x) s += x[r * D + d] * w[d];
  s = block_sum(s);
  if (threadIdx.x == 0) dots[r] = s;
}

__global__ void add_gated_kernel(float* y, const float* ys, const float* dots, int64_t T, int64_t D) {
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= T * D) return;
  y[i] += dots ? ys[i] * kmath::sigmoid(dots[i / D]) : ys[i];
}

__global__ void mla_kv_kernel(const float* kv, const float* kva, int64_t ldkva, int64_t R, int H, int Dn, int Dr, int Dv,
                              float* k, float* v) {
  const int64_t t = blockIdx.x;
  const int Dqk = Dn + Dr, Dkv = Dn + Dv;
  for (int i = threadIdx.x; i < H * Dqk; i += blockDim.x) {
    const int h = i / Dqk, c = i % Dqk;
    k[t * H * Dqk + i] = c < Dn ? kv[t * H * Dkv + int64_t(h) * Dkv + c] : kva[t * ldkva + R + (c - Dn)];
  }
  for (int i = threadIdx.x; i < H * Dv; i += blockDim.x) {
    const int h = i / Dv, c = i % Dv;
    v[t * H * Dv + i] = kv[t * H * Dkv + int64_t(h) * Dkv + Dn + c];
  }
}

// One block per row: the tile's max and sum of exp, merged into the row's running state.
__global__ void fold_kernel(const float* z, int64_t nb, int64_t v0, const int32_t* next_ids, float* run_max,
                            float* run_sum, float* target) {
  const int64_t r = blockIdx.x;
  const int32_t id = next_ids[r];
  if (id < 0) return;  // the last token of a document: no next token
  const float* zr = z + r * nb;
  float m = -INFINITY;
  for (int64_t i = threadIdx.x; i < nb; i += blockDim.x) m = fmaxf(m, zr[i]);
  m = block_max(m);
  float s = 0.f;
  for (int64_t i = threadIdx.x; i < nb; i += blockDim.x) s += expf(zr[i] - m);
  s = block_sum(s);
  if (threadIdx.x == 0) {
    kmath::RunningSoftmax run{run_max[r], run_sum[r]};
    run.merge(kmath::RunningSoftmax{m, s});
    run_max[r] = run.max;
    run_sum[r] = run.sum;
    if (id >= v0 && id < v0 + nb) target[r] = zr[id - v0];
  }
}

int row_threads(int64_t width) { return width >= 1024 ? 256 : width >= 256 ? 128 : 64; }

}  // namespace

void embed_rows(const int32_t* ids, int64_t T, const bf16* table, int64_t D, float* x, cudaStream_t s) {
  if (T == 0) return;
  embed_kernel<<<grid_of(T), row_threads(D), 0, s>>>(ids, table, D, x);
  check_launch("embed");
}

void embed_rows(const int32_t* ids, int64_t T, const float* table, int64_t D, float* x, cudaStream_t s) {
  if (T == 0) return;
  embed_kernel<<<grid_of(T), row_threads(D), 0, s>>>(ids, table, D, x);
  check_launch("embed");
}

void rms_norm(const float* x, int64_t ldx, float* y, int64_t ldy, int64_t T, int heads, int64_t n, const float* w,
              float eps, cudaStream_t s) {
  if (T == 0) return;
  rms_norm_kernel<<<grid_of(T * heads), row_threads(n), 0, s>>>(x, ldx, y, ldy, heads, n, w, eps);
  check_launch("rms_norm");
}

void add_inplace(float* x, const float* y, int64_t n, cudaStream_t s) {
  if (n == 0) return;
  add_kernel<<<blocks_for(n), kThreads, 0, s>>>(x, y, n);
  check_launch("add");
}

void to_bf16(const float* x, int64_t rows, int64_t cols, int64_t ldx, bf16* out, cudaStream_t s) {
  if (rows * cols == 0) return;
  to_bf16_kernel<<<blocks_for(rows * cols), kThreads, 0, s>>>(x, rows, cols, ldx, out);
  check_launch("to_bf16");
}

void add_bias(float* y, int64_t rows, int64_t cols, int64_t ldy, const float* bias, cudaStream_t s) {
  if (rows * cols == 0 || !bias) return;
  bias_kernel<<<blocks_for(rows * cols), kThreads, 0, s>>>(y, rows, cols, ldy, bias);
  check_launch("add_bias");
}

void clip(float* x, int64_t n, float limit, cudaStream_t s) {
  if (n == 0) return;
  clip_kernel<<<blocks_for(n), kThreads, 0, s>>>(x, n, limit);
  check_launch("clip");
}

void rope(float* x, int64_t T, int64_t ld, int heads, int head_stride, int offset, int half, const float* cos,
          const float* sin, const uint32_t* positions, bool interleaved, cudaStream_t s) {
  const int64_t n = T * heads * half;
  if (n == 0) return;
  rope_kernel<<<blocks_for(n), kThreads, 0, s>>>(x, T, ld, heads, head_stride, offset, half, cos, sin, positions, interleaved);
  check_launch("rope");
}

void temperature_tune(float* q, int64_t T, int64_t cols, const uint32_t* positions, float attn_scale, float floor_scale,
                      cudaStream_t s) {
  if (T * cols == 0) return;
  temperature_kernel<<<blocks_for(T * cols), kThreads, 0, s>>>(q, T, cols, positions, attn_scale, floor_scale);
  check_launch("temperature_tune");
}

void swiglu(const float* gu, int64_t n, int64_t I, const float* gate_bias, const float* up_bias, bf16* out, cudaStream_t s) {
  if (n * I == 0) return;
  swiglu_kernel<<<blocks_for(n * I), kThreads, 0, s>>>(gu, n, I, gate_bias, up_bias, out);
  check_launch("swiglu");
}

void gather_slots(const float* h, int64_t D, const int32_t* slot_of_row, int64_t rows, int k, const float* weights,
                  bf16* out, cudaStream_t s) {
  if (rows == 0) return;
  gather_kernel<<<grid_of(rows), row_threads(D), 0, s>>>(h, D, slot_of_row, k, weights, out);
  check_launch("gather_slots");
}

void combine_slots(const float* out, const int32_t* row_of_slot, const float* weights, bool weight_scales_output,
                   int64_t T, int k, int64_t D, float* y, cudaStream_t s) {
  if (T == 0) return;
  combine_kernel<<<grid_of(T), row_threads(D), 0, s>>>(out, row_of_slot, weights, weight_scales_output, k, D, y);
  check_launch("combine_slots");
}

void row_norms(const float* x, int64_t rows, int64_t D, float* norms, cudaStream_t s) {
  if (rows == 0) return;
  row_norms_kernel<<<grid_of(rows), row_threads(D), 0, s>>>(x, D, norms);
  check_launch("row_norms");
}

void row_dots(const float* x, int64_t T, int64_t D, const float* w, float* dots, cudaStream_t s) {
  if (T == 0) return;
  row_dots_kernel<<<grid_of(T), row_threads(D), 0, s>>>(x, D, w, dots);
  check_launch("row_dots");
}

void add_gated(float* y, const float* ys, const float* dots, int64_t T, int64_t D, cudaStream_t s) {
  if (T * D == 0) return;
  add_gated_kernel<<<blocks_for(T * D), kThreads, 0, s>>>(y, ys, dots, T, D);
  check_launch("add_gated");
}

void mla_assemble_kv(const float* kv, const float* kva, int64_t ldkva, int64_t R, int64_t T, int H, int Dn, int Dr,
                     int Dv, float* k, float* v, cudaStream_t s) {
  if (T == 0) return;
  mla_kv_kernel<<<grid_of(T), 128, 0, s>>>(kv, kva, ldkva, R, H, Dn, Dr, Dv, k, v);
  check_launch("mla_assemble_kv");
}

void fold_logits(const float* z, int64_t n, int64_t nb, int64_t v0, const int32_t* next_ids, float* run_max,
                 float* run_sum, float* target, cudaStream_t s) {
  if (n == 0) return;
  fold_kernel<<<grid_of(n), 256, 0, s>>>(z, nb, v0, next_ids, run_max, run_sum, target);
  check_launch("fold_logits");
}

}  // namespace moescope::cuda
