// attention.cu — causal attention over packed documents with an online softmax: no [T, T] score
// matrix. Which keys a query sees: kmath::first_visible_key (sliding windows, Llama 4 chunks),
// inside its own document. Two kernels:
//  - tensor cores (head widths multiples of 16): a block takes 64 queries of one head; key tiles
//    of 64 go through shared memory as BF16; each warp computes its 16 rows' scores with WMMA
//    (FP32 accumulators), folds them into the rows' running max and sum (FP32), and adds P · V
//    into its FP32 output rows;
//  - FP32 (any width; the reference): one warp per (query, head), each lane scoring one key of a
//    block of 32 and accumulating its own output dimensions.
#include <mma.h>

#include <map>
#include <mutex>

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

constexpr int kTile = 64;        // queries per block and keys per tile (tensor-core kernel)
constexpr int kTileWarps = 4;    // 16 query rows each

// Shared memory of the tensor-core kernel, in bytes, and where each array starts. Strides are
// padded (BF16 by 8, FP32 by 4) against bank conflicts and to keep WMMA's alignment.
struct TileLayout {
  int ldq, ldv, lds, ldp, ldo;
  size_t q, k, v, s, p, o, max, sum, bytes;
  __host__ __device__ explicit TileLayout(int Dqk, int Dv) {
    ldq = Dqk + 8, ldv = Dv + 8, lds = kTile + 4, ldp = kTile + 8, ldo = Dv + 4;
    q = 0;
    k = q + size_t(kTile) * ldq * 2;
    v = k + size_t(kTile) * ldq * 2;
    s = v + size_t(kTile) * ldv * 2;
    p = s + size_t(kTile) * lds * 4;
    o = p + size_t(kTile) * ldp * 2;
    max = o + size_t(kTile) * ldo * 4;
    sum = max + kTile * 4;
    bytes = sum + kTile * 4;
  }
};

// First key token index a query token sees.
__device__ __forceinline__ int64_t first_key_of(int64_t t, const int32_t* doc_begin, const AttentionArgs& a) {
  const int64_t b = doc_begin[t];
  return b + kmath::first_visible_key(t - b, a.window, a.chunk);
}

__global__ void attention_tc_kernel(const float* q, const float* k, const float* v, const int32_t* doc_begin, int64_t T,
                                    AttentionArgs a, float* out) {
  namespace wmma = nvcuda::wmma;
  extern __shared__ __align__(128) unsigned char smem[];
  const int Dqk = a.qk_dim, Dv = a.v_dim;
  const TileLayout L(Dqk, Dv);
  bf16* Qs = reinterpret_cast<bf16*>(smem + L.q);
  bf16* Ks = reinterpret_cast<bf16*>(smem + L.k);
  bf16* Vs = reinterpret_cast<bf16*>(smem + L.v);
  float* Ss = reinterpret_cast<float*>(smem + L.s);
  bf16* Ps = reinterpret_cast<bf16*>(smem + L.p);
  float* Os = reinterpret_cast<float*>(smem + L.o);
  float* run_max = reinterpret_cast<float*>(smem + L.max);
  float* run_sum = reinterpret_cast<float*>(smem + L.sum);
  const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31, threads = blockDim.x;
  const int h = blockIdx.y, hk = h / (a.heads / a.kv_heads);
  const int64_t q0 = int64_t(blockIdx.x) * kTile;
  const int64_t last = (q0 + kTile - 1 < T ? q0 + kTile - 1 : T - 1);
  const int64_t ldq_g = int64_t(a.heads) * Dqk, ldk_g = int64_t(a.kv_heads) * Dqk, ldv_g = int64_t(a.kv_heads) * Dv;

  for (int i = tid; i < kTile * Dqk; i += threads) {
    const int r = i / Dqk, d = i % Dqk;
    const int64_t t = q0 + r;
    Qs[r * L.ldq + d] = __float2bfloat16_rn(t < T ? q[t * ldq_g + int64_t(h) * Dqk + d] * a.scale : 0.f);
  }
  for (int i = tid; i < kTile * L.ldo; i += threads) Os[i] = 0.f;
  for (int i = tid; i < kTile; i += threads) run_max[i] = -INFINITY, run_sum[i] = 0.f;

  // Keys from the first one the tile's first query sees (later queries see no earlier key: windows
  // and chunks only move forward, and later documents start later) to the tile's last query.
  const int64_t k_first = first_key_of(q0, doc_begin, a);
  // This lane's row of the softmax step (two lanes per row, 32 columns each).
  const int row = warp * 16 + (lane >> 1), half = lane & 1;
  const int64_t t_row = q0 + row;
  const int64_t row_first = t_row < T ? first_key_of(t_row, doc_begin, a) : 0;
  for (int64_t k0 = k_first; k0 <= last; k0 += kTile) {
    __syncthreads();  // the previous tile's K and V are no longer read
    for (int i = tid; i < kTile * Dqk; i += threads) {
      const int r = i / Dqk, d = i % Dqk;
      const int64_t j = k0 + r;
      Ks[r * L.ldq + d] = __float2bfloat16_rn(j <= last ? k[j * ldk_g + int64_t(hk) * Dqk + d] : 0.f);
    }
    for (int i = tid; i < kTile * Dv; i += threads) {
      const int r = i / Dv, d = i % Dv;
      const int64_t j = k0 + r;
      Vs[r * L.ldv + d] = __float2bfloat16_rn(j <= last ? v[j * ldv_g + int64_t(hk) * Dv + d] : 0.f);
    }
    __syncthreads();

    // S [16, 64] of this warp's rows = Q_rows · K_tile^T (K row-major is K^T column-major).
    for (int nb = 0; nb < kTile / 16; ++nb) {
      wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
      wmma::fill_fragment(acc, 0.f);
      for (int kk = 0; kk < Dqk; kk += 16) {
        wmma::fragment<wmma::matrix_a, 16, 16, 16, bf16, wmma::row_major> fa;
        wmma::fragment<wmma::matrix_b, 16, 16, 16, bf16, wmma::col_major> fb;
        wmma::load_matrix_sync(fa, Qs + warp * 16 * L.ldq + kk, L.ldq);
        wmma::load_matrix_sync(fb, Ks + nb * 16 * L.ldq + kk, L.ldq);
        wmma::mma_sync(acc, fa, fb, acc);
      }
      wmma::store_matrix_sync(Ss + warp * 16 * L.lds + nb * 16, acc, L.lds, wmma::mem_row_major);
    }
    __syncwarp();

    // Online softmax of the row over this tile's visible keys (FP32); P in BF16 for the product.
    float* srow = Ss + row * L.lds;
    bf16* prow = Ps + row * L.ldp;
    float tile_max = -INFINITY;
    for (int c = half * 32; c < half * 32 + 32; ++c) {
      const int64_t j = k0 + c;
      const bool visible = t_row < T && j >= row_first && j <= t_row;
      if (visible) tile_max = fmaxf(tile_max, srow[c]);
    }
    tile_max = fmaxf(tile_max, __shfl_xor_sync(0xffffffffu, tile_max, 1));
    const float old_max = run_max[row];
    const float m = fmaxf(old_max, tile_max);
    float sum = 0.f;
    for (int c = half * 32; c < half * 32 + 32; ++c) {
      const int64_t j = k0 + c;
      const bool visible = t_row < T && j >= row_first && j <= t_row && m != -INFINITY;
      const float p = visible ? expf(srow[c] - m) : 0.f;
      prow[c] = __float2bfloat16_rn(p);
      sum += p;
    }
    sum += __shfl_xor_sync(0xffffffffu, sum, 1);
    const float alpha = kmath::rescale_factor(old_max, m);
    for (int d = half; d < Dv; d += 2) Os[row * L.ldo + d] *= alpha;
    __syncwarp();  // both lanes of the row have read run_max before it changes
    if (half == 0) {
      run_sum[row] = run_sum[row] * alpha + sum;
      run_max[row] = m;
    }
    __syncwarp();

    // O_rows [16, Dv] += P_rows [16, 64] · V_tile [64, Dv].
    for (int db = 0; db < Dv; db += 16) {
      wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
      wmma::load_matrix_sync(acc, Os + warp * 16 * L.ldo + db, L.ldo, wmma::mem_row_major);
      for (int kk = 0; kk < kTile; kk += 16) {
        wmma::fragment<wmma::matrix_a, 16, 16, 16, bf16, wmma::row_major> fa;
        wmma::fragment<wmma::matrix_b, 16, 16, 16, bf16, wmma::row_major> fb;
        wmma::load_matrix_sync(fa, Ps + warp * 16 * L.ldp + kk, L.ldp);
        wmma::load_matrix_sync(fb, Vs + kk * L.ldv + db, L.ldv);
        wmma::mma_sync(acc, fa, fb, acc);
      }
      wmma::store_matrix_sync(Os + warp * 16 * L.ldo + db, acc, L.ldo, wmma::mem_row_major);
    }
    __syncwarp();
  }
  // Every query sees at least itself, so each row's sum is positive.
  for (int i = lane; i < 16 * Dv; i += 32) {
    const int r = warp * 16 + i / Dv, d = i % Dv;
    const int64_t t = q0 + r;
    if (t < T) out[t * int64_t(a.heads) * Dv + int64_t(h) * Dv + d] = Os[r * L.ldo + d] / run_sum[r];
  }
}

// Shared memory the tensor-core kernel may take on the current device: the device's opt-in limit,
// granted to the kernel once per device rather than at every launch.
size_t tile_shared_memory() {
  static std::mutex mutex;
  static std::map<int, size_t> granted;
  int device = 0;
  check(cudaGetDevice(&device), "cudaGetDevice");
  std::lock_guard<std::mutex> lock(mutex);
  if (const auto it = granted.find(device); it != granted.end()) return it->second;
  int limit = 0;
  check(cudaDeviceGetAttribute(&limit, cudaDevAttrMaxSharedMemoryPerBlockOptin, device), "shared memory limit");
  check(cudaFuncSetAttribute(attention_tc_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, limit),
        "attention shared memory");
  return granted[device] = size_t(limit);
}

}  // namespace

void attention(const float* q, const float* k, const float* v, const int32_t* doc_begin, int64_t T,
               const AttentionArgs& a, float* out, cudaStream_t s) {
  if (a.qk_dim > kMaxQk || a.v_dim > 32 * kMaxVPerLane)
    fail("CUDA attention", "head widths up to " + std::to_string(kMaxQk) + " (q/k) and " +
                               std::to_string(32 * kMaxVPerLane) + " (v) are supported; this model has " +
                               std::to_string(a.qk_dim) + " and " + std::to_string(a.v_dim));
  if (a.kv_heads <= 0 || a.heads % a.kv_heads != 0) fail("CUDA attention", "heads must be a multiple of kv heads");
  if (T == 0) return;
  if (!a.fp32 && a.qk_dim % 16 == 0 && a.v_dim % 16 == 0) {
    const size_t bytes = TileLayout(a.qk_dim, a.v_dim).bytes;
    if (bytes <= tile_shared_memory()) {
      const dim3 grid(unsigned((T + kTile - 1) / kTile), unsigned(a.heads));
      attention_tc_kernel<<<grid, 32 * kTileWarps, bytes, s>>>(q, k, v, doc_begin, T, a, out);
      check_launch("attention (tensor cores)");
      return;
    }
  }
  const int64_t pairs = T * a.heads;
  attention_kernel<<<unsigned((pairs + kWarps - 1) / kWarps), 32 * kWarps, 0, s>>>(q, k, v, doc_begin, T, a, out);
  check_launch("attention");
}

}  // namespace moescope::cuda
