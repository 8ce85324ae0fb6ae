// cpu_ops.cpp — RMSNorm, RoPE, packed causal attention and SwiGLU on the CPU.
#include "engine/cpu_ops.h"

#include "engine/gemm_bf16.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace moescope {

void rms_norm(const ActMatrix& x, const Matrix& w, float eps, ActMatrix& y) {
  const Eigen::Index T = x.rows(), D = x.cols();
  y.resize(T, D);
  const float* wp = w.data;
#pragma omp parallel for schedule(static) if (T > 64)
  for (Eigen::Index t = 0; t < T; ++t) {
    const float* xr = x.data() + t * D;
    float* yr = y.data() + t * D;
    float ss = 0.f;
    for (Eigen::Index i = 0; i < D; ++i) ss += xr[i] * xr[i];
    const float r = 1.f / std::sqrt(ss / float(D) + eps);
    for (Eigen::Index i = 0; i < D; ++i) yr[i] = wp[i] * (xr[i] * r);
  }
}

void rms_norm_inplace(ActMatrix& x, const Matrix& w, float eps) {
  ActMatrix tmp;
  rms_norm(x, w, eps, tmp);
  x.swap(tmp);
}

void rms_norm_heads_inplace(ActMatrix& x, const Matrix& w, int heads, int head_dim, float eps) {
  const Eigen::Index T = x.rows(), C = x.cols();
  const float* wp = w.data;
#pragma omp parallel for schedule(static) if (T > 64)
  for (Eigen::Index t = 0; t < T; ++t)
    for (int h = 0; h < heads; ++h) {
      float* v = x.data() + t * C + Eigen::Index(h) * head_dim;
      float ss = 0.f;
      for (int i = 0; i < head_dim; ++i) ss += v[i] * v[i];
      const float r = 1.f / std::sqrt(ss / float(head_dim) + eps);
      for (int i = 0; i < head_dim; ++i) v[i] = wp ? wp[i] * (v[i] * r) : v[i] * r;
    }
}

void linear(const ActMatrix& x, const Matrix& w, const Matrix& bias, ActMatrix& y) {
  if (!w.bf16.empty()) {  // BF16 compute mode
    y.resize(x.rows(), w.rows);
    gemm_bf16(x.data(), x.rows(), w.bf16, y.data());
  } else {
    y.noalias() = x * w.view().transpose();
  }
  if (!bias.empty()) y.rowwise() += Eigen::Map<const Eigen::RowVectorXf>(bias.data, bias.cols);
}

RopeTable make_rope_table(const std::vector<float>& inv_freq, float attention_factor, const std::vector<DocumentSpan>& docs,
                          size_t T) {
  RopeTable r;
  r.half = int(inv_freq.size());
  size_t max_len = 0;
  for (const DocumentSpan& d : docs) max_len = std::max(max_len, d.size());
  r.cos.resize(max_len * size_t(r.half));
  r.sin.resize(max_len * size_t(r.half));
  for (size_t p = 0; p < max_len; ++p)
    for (int i = 0; i < r.half; ++i) {
      const float a = float(p) * inv_freq[size_t(i)];
      r.cos[p * size_t(r.half) + size_t(i)] = std::cos(a) * attention_factor;
      r.sin[p * size_t(r.half) + size_t(i)] = std::sin(a) * attention_factor;
    }
  r.position.resize(T);
  for (const DocumentSpan& d : docs)
    for (size_t t = d.begin; t < d.end; ++t) r.position[t] = uint32_t(t - d.begin);
  return r;
}

void rope_apply(ActMatrix& x, int heads, int head_stride, int offset, const RopeTable& rope, RopePairing pairing) {
  const int half = rope.half;
  const Eigen::Index C = x.cols(), T = x.rows();
  // Pair i of a head: dimensions (i, i + d/2) when Half, (2i, 2i + 1) when Interleaved.
  const int stride = pairing == RopePairing::Half ? 1 : 2, partner = pairing == RopePairing::Half ? half : 1;
#pragma omp parallel for schedule(static) if (T > 64)
  for (Eigen::Index t = 0; t < T; ++t) {
    const float* cosv = rope.cos.data() + size_t(rope.position[size_t(t)]) * size_t(half);
    const float* sinv = rope.sin.data() + size_t(rope.position[size_t(t)]) * size_t(half);
    float* row = x.data() + t * C;
    for (int h = 0; h < heads; ++h) {
      float* v = row + h * head_stride + offset;
      for (int i = 0; i < half; ++i) {
        float& a = v[i * stride];
        float& b = v[i * stride + partner];
        const float a0 = a, b0 = b;
        a = a0 * cosv[i] - b0 * sinv[i];
        b = b0 * cosv[i] + a0 * sinv[i];
      }
    }
  }
}

void attention_packed(const ActMatrix& q, const ActMatrix& k, const ActMatrix& v, const AttentionShape& shape,
                      const std::vector<DocumentSpan>& docs, ActMatrix& out) {
  using Strided = Eigen::Map<const ActMatrix, 0, Eigen::OuterStride<>>;
  using StridedOut = Eigen::Map<ActMatrix, 0, Eigen::OuterStride<>>;
  const int heads = shape.heads, head_dim = shape.qk_dim, v_dim = shape.v_dim, window = shape.window, chunk = shape.chunk;
  const Eigen::Index T = q.rows();
  out.resize(T, Eigen::Index(heads) * v_dim);
  const int group = heads / shape.kv_heads;
  const float scale = shape.scale;
  const Eigen::Index qs = q.cols(), ks = k.cols(), vs = v.cols();
  // First key query i sees: after the sliding window and at the start of its chunk.
  auto first_key = [&](Eigen::Index i) {
    Eigen::Index lo = window > 0 ? std::max<Eigen::Index>(0, i - window + 1) : 0;
    if (chunk > 0) lo = std::max<Eigen::Index>(lo, (i / chunk) * chunk);
    return lo;
  };
  const int jobs = int(docs.size()) * heads;
  // Threads only pay off past a few hundred thousand multiply-adds; tiny texts stay serial.
  double work = 0;
  for (const DocumentSpan& d : docs) work += double(d.size()) * double(d.size()) * heads * head_dim;
#pragma omp parallel if (work > 2e5)
  {
    ActMatrix scores;
#pragma omp for schedule(dynamic)
    for (int job = 0; job < jobs; ++job) {
      const DocumentSpan& d = docs[size_t(job / heads)];
      const int h = job % heads, hk = h / group;
      const Eigen::Index n = Eigen::Index(d.size()), t0 = Eigen::Index(d.begin);
      if (n == 0) continue;
      Strided Q(q.data() + t0 * qs + h * head_dim, n, head_dim, Eigen::OuterStride<>(qs));
      Strided K(k.data() + t0 * ks + hk * head_dim, n, head_dim, Eigen::OuterStride<>(ks));
      Strided V(v.data() + t0 * vs + hk * v_dim, n, v_dim, Eigen::OuterStride<>(vs));
      // Causal attention in query blocks of kBlock rows, so keys no row of the block sees are
      // never computed: scores [b, m] = Q[i0:i1] [b, Dh] · K[j0:i1]^T [Dh, m] * scale, m = i1 - j0,
      // where j0 is the first key the block's first query sees (0 without a window).
      constexpr Eigen::Index kBlock = 128;
      for (Eigen::Index i0 = 0; i0 < n; i0 += kBlock) {
        const Eigen::Index i1 = std::min(n, i0 + kBlock), b = i1 - i0;
        const Eigen::Index j0 = first_key(i0), m = i1 - j0;
        scores.noalias() = (Q.middleRows(i0, b) * K.middleRows(j0, m).transpose()) * scale;
        for (Eigen::Index r = 0; r < b; ++r) {
          const Eigen::Index i = i0 + r;  // keys j0 + [lo, hi) are visible
          const Eigen::Index lo = first_key(i) - j0, hi = i + 1 - j0;
          Eigen::Map<Eigen::ArrayXf> row(scores.data() + r * m, m);
          auto visible = row.segment(lo, hi - lo);
          visible = (visible - visible.maxCoeff()).exp();
          visible *= 1.f / visible.sum();
          row.head(lo).setZero();
          row.tail(m - hi).setZero();
        }
        StridedOut O(out.data() + (t0 + i0) * out.cols() + h * v_dim, b, v_dim, Eigen::OuterStride<>(out.cols()));
        O.noalias() = scores * V.middleRows(j0, m);
      }
    }
  }
}

void swiglu(const ActMatrix& x, const ExpertWeights& w, ActMatrix& y) {
  const int64_t I = w.gate.rows;
  ActMatrix a;
  if (w.up.data == w.gate.data + I * w.gate.cols && w.gate_bias.empty()) {
    // One GEMM for both projections: gu [n, 2I] = x [n, D] · [gate; up]^T [D, 2I]
    ActMatrix gu;
    if (w.gate.bf16.N == 2 * I) {  // BF16 compute mode: gate.bf16 holds [gate; up]
      gu.resize(x.rows(), 2 * I);
      gemm_bf16(x.data(), x.rows(), w.gate.bf16, gu.data());
    } else {
      gu.noalias() = x * MatrixView(w.gate.data, 2 * I, w.gate.cols).transpose();
    }
    auto g = gu.leftCols(I).array();
    a = (g / (1.0f + (-g).exp())) * gu.rightCols(I).array();  // silu(g) * u  [n, I]
  } else {
    ActMatrix g, u;
    linear(x, w.gate, w.gate_bias, g);   // [n, I]
    linear(x, w.up, w.up_bias, u);       // [n, I]
    a = (g.array() / (1.0f + (-g.array()).exp())) * u.array();
  }
  linear(a, w.down, w.down_bias, y);   // [n, D]
}

void set_cpu_threads(int threads) {
  if (threads <= 0) threads = omp_get_num_procs();
  omp_set_num_threads(threads);
  Eigen::setNbThreads(threads);
}

int cpu_threads() { return omp_get_max_threads(); }

}  // namespace moescope
