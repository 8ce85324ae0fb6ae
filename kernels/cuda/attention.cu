// attention.cu — causal attention over packed documents with an online softmax: no [T, T] score
// matrix. One warp per (query token, head): the query (pre-scaled) sits in shared memory, each lane
// scores one key of a block of 32, the block's softmax is folded into the running max and sum
// (kmath::RunningSoftmax's merge rule), and every lane accumulates its own output dimensions.
// Which keys a query sees: kmath::first_visible_key (sliding windows, Llama 4 chunks).
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/ops.h"
#include "kernels/cuda/reduce.cuh"
#include "kernels/math/attention_window.h"
#include "kernels/math/online_softmax.h"

namespace moescope::cuda {

namespace {

constexpr int kWarps = 4;          // queries per block
constexpr int kMaxQk = 512;        // widest q/k head the shared buffer holds
constexpr int kMaxVPerLane = 8;    // v heads up to 256 wide

__global__ void attention_kernel(const float* q, const float* k, const float* v, const int32_t* doc_begin, int64_t T,
                                 AttentionArgs a, float* out) {
  __shared__ float q_shared[kWarps][kMaxQk];
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int64_t pair = int64_t(blockIdx.x) * kWarps + warp;  // (token, head)
  if (pair >= T * a.heads) return;                           // whole warps leave together
  const int64_t t = pair / a.heads;
  const int h = int(pair % a.heads), hk = h / (a.heads / a.kv_heads);
  const int Dqk = a.qk_dim, Dv = a.v_dim;
  const int64_t ldq = int64_t(a.heads) * Dqk, ldk = int64_t(a.kv_heads) * Dqk, ldv = int64_t(a.kv_heads) * Dv;
  float* qs = q_shared[warp];
  for (int d = lane; d < Dqk; d += 32) qs[d] = q[t * ldq + int64_t(h) * Dqk + d] * a.scale;
  __syncwarp();

  const int64_t begin = doc_begin[t], pos = t - begin;
  const int64_t first = begin + kmath::first_visible_key(pos, a.window, a.chunk);
  float acc[kMaxVPerLane];
  for (int r = 0; r < kMaxVPerLane; ++r) acc[r] = 0.f;
  float run_max = -INFINITY, run_sum = 0.f;
  for (int64_t j0 = first; j0 <= t; j0 += 32) {
    const int64_t j = j0 + lane;
    float score = -INFINITY;
    if (j <= t) {
      const float* kr = k + j * ldk + int64_t(hk) * Dqk;
      float s = 0.f;
      for (int d = 0; d < Dqk; ++d) s += qs[d] * kr[d];
      score = s;
    }
    const float block_max = warp_max(score);                 // finite: key j0 is always visible
    const float m = fmaxf(run_max, block_max);
    const float rescale = kmath::rescale_factor(run_max, m);
    const float p = j <= t ? expf(score - m) : 0.f;
    run_sum = run_sum * rescale + warp_sum(p);
    run_max = m;
    for (int r = 0; r < kMaxVPerLane; ++r) acc[r] *= rescale;
    const int n = int(t - j0 + 1 < 32 ? t - j0 + 1 : 32);
    for (int jj = 0; jj < n; ++jj) {
      const float pj = __shfl_sync(0xffffffffu, p, jj);
      const float* vr = v + (j0 + jj) * ldv + int64_t(hk) * Dv;
      for (int r = 0; r < kMaxVPerLane; ++r) {
        const int d = lane + 32 * r;
        if (d < Dv) acc[r] += pj * vr[d];
      }
    }
  }
  const float inv = 1.f / run_sum;
  for (int r = 0; r < kMaxVPerLane; ++r) {
    const int d = lane + 32 * r;
    if (d < Dv) out[t * int64_t(a.heads) * Dv + int64_t(h) * Dv + d] = acc[r] * inv;
  }
}

}  // namespace

void attention(const float* q, const float* k, const float* v, const int32_t* doc_begin, int64_t T,
               const AttentionArgs& a, float* out, cudaStream_t s) {
  if (a.qk_dim > kMaxQk || a.v_dim > 32 * kMaxVPerLane)
    fail("CUDA attention", "head widths up to " + std::to_string(kMaxQk) + " (q/k) and " +
                               std::to_string(32 * kMaxVPerLane) + " (v) are supported; this model has " +
                               std::to_string(a.qk_dim) + " and " + std::to_string(a.v_dim));
  if (a.kv_heads <= 0 || a.heads % a.kv_heads != 0) fail("CUDA attention", "heads must be a multiple of kv heads");
  const int64_t pairs = T * a.heads;
  if (pairs == 0) return;
  attention_kernel<<<unsigned((pairs + kWarps - 1) / kWarps), 32 * kWarps, 0, s>>>(q, k, v, doc_begin, T, a, out);
  check_launch("attention");
}

}  // namespace moescope::cuda
