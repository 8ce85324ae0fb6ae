// attention_cpu.cpp — packed causal attention on the CPU (attention_packed, cpu_ops.h).
//
// Per (document, query head) job, per tile of R = kTileRows queries: scores against the keys the
// tile sees, a softmax per row, then the weighted sum of values. The scores never leave a small
// per-thread buffer and only the keys some row of the tile sees are computed (causal, sliding
// window and chunk limits alike). The two products use a register-tiled kernel on GCC/Clang
// vector types instead of BLAS calls: the products here are too small ([R, m] x [m, Dh], R = 8 queries) for a
// BLAS call's packing and dispatch to pay off (measured: bench/attention_kernel.cpp).
#include "engine/cpu/cpu_ops.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace moescope {

namespace {

// One Vec is one native vector register: 512, 256 or 128 bits (SSE, NEON).
#if defined(__AVX512F__)
constexpr int kLanes = 16;
#elif defined(__AVX__)
constexpr int kLanes = 8;
#else
constexpr int kLanes = 4;
#endif
using Vec = float __attribute__((vector_size(kLanes * sizeof(float))));

inline Vec load(const float* p) { Vec v; std::memcpy(&v, p, sizeof v); return v; }
inline void store(float* p, Vec v) { std::memcpy(p, &v, sizeof v); }

// Queries per tile (accumulator rows): 8 x 2 vectors fill half of AVX-512's 32 registers (8 was
// faster than 4 or 12 on the benchmark shape); AVX2 and SSE have 16, so 4 rows there.
constexpr int kTileRows = kLanes == 16 ? 8 : 4;
constexpr int kTileCols = 2 * kLanes;  // columns per accumulator tile (keys, or value dims)

inline Eigen::Index round_up(Eigen::Index x, Eigen::Index m) { return (x + m - 1) / m * m; }

// acc [R, C] = a [R, depth] · b [depth, C], R = kTileRows, C = kTileCols: a row-major with stride lda, b rows of stride ldb.
// Used for scores (a = q rows, b = packed k^T) and for outputs (a = probabilities, b = v rows).
inline void tile_product(const float* a, Eigen::Index lda, const float* b, Eigen::Index ldb, Eigen::Index depth,
                         float* out, Eigen::Index ldo) {
  Vec acc[kTileRows][2] = {};
  for (Eigen::Index d = 0; d < depth; ++d) {
    const Vec b0 = load(b + d * ldb), b1 = load(b + d * ldb + kLanes);
    for (int r = 0; r < kTileRows; ++r) {
      const float s = a[r * lda + d];
      acc[r][0] += s * b0;
      acc[r][1] += s * b1;
    }
  }
  for (int r = 0; r < kTileRows; ++r) {
    store(out + r * ldo, acc[r][0]);
    store(out + r * ldo + kLanes, acc[r][1]);
  }
}

// Per-thread buffers, reused across jobs. Aligned: Eigen's vectorized sums (the softmax's) group
// terms by the address's alignment, so a buffer at a varying alignment would round differently
// from run to run.
using Buffer = std::vector<float, Eigen::aligned_allocator<float>>;
struct Scratch {
  Buffer kt;      // [Dqk, n_pad]: the job's keys, transposed, zero-padded columns
  Buffer vp;      // [n, Dv_pad]: its values, zero-padded columns
  Buffer qt;      // [R, Dqk]: the tile's queries (zero rows past the document)
  Buffer scores;  // [R, n_pad]: the tile's scores, then probabilities
  Buffer out;     // [R, Dv_pad]
};

}  // namespace

void attention_packed(const ActMatrix& q, const ActMatrix& k, const ActMatrix& v, const AttentionShape& shape,
                      const std::vector<DocumentSpan>& docs, ActMatrix& out) {
  const int heads = shape.heads, Dqk = shape.qk_dim, Dv = shape.v_dim;
  const Eigen::Index T = q.rows();
  out.resize(T, Eigen::Index(heads) * Dv);
  const int group = heads / shape.kv_heads;
  const float scale = shape.scale;
  const Eigen::Index qs = q.cols(), ks = k.cols(), vs = v.cols(), os = out.cols();
  const Eigen::Index Dv_pad = round_up(Dv, kTileCols);
  auto first_key = [&](Eigen::Index i) { return Eigen::Index(shape.first_key(i)); };
  const int jobs = int(docs.size()) * heads;
  // Threads only pay off past a few hundred thousand multiply-adds; tiny texts stay serial.
  double work = 0;
  for (const DocumentSpan& d : docs) work += double(d.size()) * double(d.size()) * heads * Dqk;
#pragma omp parallel if (work > 2e5)
  {
    Scratch s;
#pragma omp for schedule(dynamic)
    for (int job = 0; job < jobs; ++job) {
      const DocumentSpan& doc = docs[size_t(job / heads)];
      const int h = job % heads, hk = h / group;
      const Eigen::Index n = Eigen::Index(doc.size()), t0 = Eigen::Index(doc.begin);
      if (n == 0) continue;
      const Eigen::Index n_pad = round_up(n, kTileCols);
      // kt [Dqk, n_pad] = k[doc, head hk]^T; vp [n, Dv_pad] = v[doc, head hk]
      s.kt.assign(size_t(Dqk * n_pad), 0.f);
      s.vp.assign(size_t(n * Dv_pad), 0.f);
      // The transpose goes 16 keys at a time so its stores run along rows of kt (a plain column
      // walk stores to Dqk different cache lines per key: measured 15% of the kernel).
      const float* kh = k.data() + t0 * ks + Eigen::Index(hk) * Dqk;
      for (Eigen::Index jb = 0; jb < n; jb += 16) {
        const Eigen::Index je = std::min(n, jb + 16);
        for (int d = 0; d < Dqk; ++d)
          for (Eigen::Index j = jb; j < je; ++j) s.kt[size_t(d * n_pad + j)] = kh[j * ks + d];
      }
      for (Eigen::Index j = 0; j < n; ++j)
        std::memcpy(s.vp.data() + j * Dv_pad, v.data() + (t0 + j) * vs + Eigen::Index(hk) * Dv, size_t(Dv) * sizeof(float));
      s.qt.resize(size_t(kTileRows * Dqk));
      s.scores.resize(size_t(kTileRows * n_pad));
      s.out.resize(size_t(kTileRows * Dv_pad));
      for (Eigen::Index i0 = 0; i0 < n; i0 += kTileRows) {
        const int rows = int(std::min<Eigen::Index>(kTileRows, n - i0));
        std::fill(s.qt.begin(), s.qt.end(), 0.f);
        for (int r = 0; r < rows; ++r)
          std::memcpy(s.qt.data() + r * Dqk, q.data() + (t0 + i0 + r) * qs + Eigen::Index(h) * Dqk, size_t(Dqk) * sizeof(float));
        // Keys [j0, j1) cover every row of the tile, in whole column tiles from j0 down-aligned.
        const Eigen::Index j1 = i0 + rows, j0 = first_key(i0) / kTileCols * kTileCols;
        // scores [R, j1 - j0] = q_tile [R, Dqk] · kt[:, j0:j1] [Dqk, j1 - j0]
        for (Eigen::Index j = j0; j < j1; j += kTileCols)
          tile_product(s.qt.data(), Dqk, s.kt.data() + j, n_pad, Dqk, s.scores.data() + j, n_pad);
        // Softmax of each row over its visible keys [lo, i + 1); zero elsewhere in [j0, j1).
        for (int r = 0; r < kTileRows; ++r) {
          Eigen::Map<Eigen::ArrayXf> row(s.scores.data() + r * n_pad + j0, j1 - j0);
          if (r >= rows) { row.setZero(); continue; }
          const Eigen::Index i = i0 + r, lo = first_key(i) - j0, hi = i + 1 - j0;
          auto visible = row.segment(lo, hi - lo);
          visible *= scale;
          visible = (visible - visible.maxCoeff()).exp();
          visible *= 1.f / visible.sum();
          row.head(lo).setZero();
          row.tail(j1 - j0 - hi).setZero();
        }
        // out_tile [R, Dv] = p [R, j1 - j0] · vp[j0:j1] [j1 - j0, Dv]
        for (Eigen::Index c = 0; c < Dv_pad; c += kTileCols)
          tile_product(s.scores.data() + j0, n_pad, s.vp.data() + j0 * Dv_pad + c, Dv_pad, j1 - j0, s.out.data() + c, Dv_pad);
        for (int r = 0; r < rows; ++r)
          std::memcpy(out.data() + (t0 + i0 + r) * os + Eigen::Index(h) * Dv, s.out.data() + r * Dv_pad, size_t(Dv) * sizeof(float));
      }
    }
  }
}

}  // namespace moescope
