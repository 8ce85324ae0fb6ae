// cpu_ops.cpp — RMSNorm, RoPE and SwiGLU on the CPU (attention: attention_cpu.cpp).
#include "engine/cpu/cpu_ops.h"

#include "engine/error.h"
#include "engine/cpu/gemm_amx.h"
#include "engine/cpu/gemm_bf16.h"
#include "engine/cpu/gemm_f32.h"
#include "engine/cpu/gemm_stored.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace moescope {

namespace {

// yr [D] = xr [D] * rsqrt(mean(xr^2) + eps) * w [D]; yr may be xr.
// The sum of squares runs in 16 interleaved partial sums (vectorizable; one serial chain of D
// dependent adds was the norm's whole cost) added up in a fixed order: deterministic.
float sum_of_squares(const float* x, Eigen::Index n) {
  float part[16] = {};
  Eigen::Index i = 0;
  for (; i + 16 <= n; i += 16)
    for (int l = 0; l < 16; ++l) part[l] += x[i + l] * x[i + l];
  for (; i < n; ++i) part[i % 16] += x[i] * x[i];
  for (int w = 8; w >= 1; w /= 2)
    for (int l = 0; l < w; ++l) part[l] += part[l + w];
  return part[0];
}

// yr [D] = xr [D] * rsqrt(mean(xr^2) + eps) * w [D] (no weight when wp is null); yr may be xr.
void rms_norm_row(const float* xr, const float* wp, Eigen::Index D, float eps, float* yr) {
  const float r = 1.f / std::sqrt(sum_of_squares(xr, D) / float(D) + eps);
  if (wp)
    for (Eigen::Index i = 0; i < D; ++i) yr[i] = wp[i] * (xr[i] * r);
  else
    for (Eigen::Index i = 0; i < D; ++i) yr[i] = xr[i] * r;
}

}  // namespace

void rms_norm(const ActMatrix& x, const Matrix& w, float eps, ActMatrix& y) {
  const Eigen::Index T = x.rows(), D = x.cols();
  y.resize(T, D);
#pragma omp parallel for schedule(static) if (T > 64)
  for (Eigen::Index t = 0; t < T; ++t) rms_norm_row(x.data() + t * D, w.data, D, eps, y.data() + t * D);
}

// In place: no [T, D] temporary (a fresh one costs its page faults on every call).
void rms_norm_inplace(ActMatrix& x, const Matrix& w, float eps) {
  const Eigen::Index T = x.rows(), D = x.cols();
#pragma omp parallel for schedule(static) if (T > 64)
  for (Eigen::Index t = 0; t < T; ++t) rms_norm_row(x.data() + t * D, w.data, D, eps, x.data() + t * D);
}

void rms_norm_heads_inplace(ActMatrix& x, const Matrix& w, int heads, int head_dim, float eps) {
  const Eigen::Index T = x.rows(), C = x.cols();
#pragma omp parallel for schedule(static) if (T > 64)
  for (Eigen::Index t = 0; t < T; ++t)
    for (int h = 0; h < heads; ++h) {
      float* v = x.data() + t * C + Eigen::Index(h) * head_dim;
      rms_norm_row(v, w.data, head_dim, eps, v);
    }
}

void gemm_weight(const float* x, int64_t M, int64_t ldx, const Matrix& w, float* y, int64_t ldy) {
  switch (w.form) {
    case WeightForm::F32:
      return gemm_nt(x, ldx, w.data, w.cols, y, ldy, M, w.rows, w.cols);
    case WeightForm::Stored16:
      return gemm_stored(x, M, ldx, w.half, w.half_dtype, w.rows, w.cols, y, ldy);
    case WeightForm::Amx:
      return gemm_amx_f32(x, M, ldx, w.amx, y, ldy);
    case WeightForm::Bf16:
      if (ldx != w.cols || ldy != w.rows) fail("gemm_weight", "BF16 GEMMs take contiguous rows");
      return gemm_bf16(x, M, w.bf16, y);
  }
}

void linear(const ActMatrix& x, const Matrix& w, const Matrix& bias, ActMatrix& y) {
  if (x.cols() != w.cols)
    fail("linear", "input width " + std::to_string(x.cols()) + " does not match the weight's " + std::to_string(w.cols));
  y.resize(x.rows(), w.rows);
  gemm_weight(x.data(), x.rows(), x.cols(), w, y.data(), y.cols());
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

void swiglu(const ActMatrix& x, const ExpertWeights& w, ActMatrix& y) {
  const int64_t I = w.width();
  // One GEMM for both projections: gu [n, 2I] = x [n, D] · [gate; up]^T [D, 2I]
  ActMatrix gu;
  linear(x, w.gate_up, Matrix{}, gu);
  if (!w.gate_bias.empty()) gu.leftCols(I).rowwise() += Eigen::Map<const Eigen::RowVectorXf>(w.gate_bias.data, I);
  if (!w.up_bias.empty()) gu.rightCols(I).rowwise() += Eigen::Map<const Eigen::RowVectorXf>(w.up_bias.data, I);
  auto g = gu.leftCols(I).array();
  const ActMatrix a = (g / (1.0f + (-g).exp())) * gu.rightCols(I).array();  // silu(g) * u  [n, I]
  linear(a, w.down, w.down_bias, y);   // [n, D]
}

void set_cpu_threads(int threads) {
  if (threads <= 0) threads = omp_get_num_procs();
  omp_set_num_threads(threads);
  Eigen::setNbThreads(threads);
}

int cpu_threads() { return omp_get_max_threads(); }

}  // namespace moescope
