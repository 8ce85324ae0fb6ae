// output_head.cpp — the CPU backend's output head: logits in [rows, vocabulary] blocks folded into
// a running log-sum-exp per row, so the [T, V] logits are never held unless asked for.
#include <algorithm>
#include <cmath>
#include <limits>

#include "engine/cpu/cpu_pass.h"
#include "engine/cpu/gemm_amx.h"
#include "engine/cpu/gemm_bf16.h"
#include "engine/cpu/gemm_f32.h"
#include "engine/cpu/gemm_stored.h"

namespace moescope {

namespace {
// Output logits are computed in blocks of [2048 rows, 2048 vocabulary entries] (16 MB), folded into
// a running log-sum-exp per row. Blocks this large keep the GEMM at BLAS speed and make the
// hand-offs between OpenBLAS's threads and the fold's few: with [256, 4096] blocks the head of the
// OLMoE benchmark took 3.24 s, with these 2.85 s (2-core VM, 3 interleaved rounds each). BF16 mode
// keeps [256, kHeadVocabBlock] blocks (its weights are prebuilt in those vocabulary blocks).
constexpr int64_t kHeadChunkTokensF32 = 2048, kHeadVocabBlockF32 = 2048;
constexpr int64_t kHeadChunkTokensBf16 = 256;
}  // namespace

void CpuPass::output_head(const Activations& input, const HeadRequest& opt, HeadResult& r) {
  const ActMatrix& x = input.host;  // [T, D]
  const int64_t T = x.rows(), V = c_.vocab_size, D = x.cols();
  if (opt.nll) r.nll.assign(size_t(T), std::numeric_limits<float>::quiet_NaN());
  if (opt.logits) r.logits.resize(size_t(T * V));
  if (!opt.nll && !opt.logits) return;
  std::vector<uint8_t> last(size_t(T), 0);
  for (const auto& d : batch_.docs) last[d.end - 1] = 1;
  const Matrix& head = w_.lm_head;
  const bool bf16 = head.form == WeightForm::Bf16;
  const bool amx = head.form == WeightForm::Amx;
  AmxF32Activations x_split;  // the chunk's rows split once for all vocabulary blocks
  // Row chunks x vocabulary blocks: each [n, Vb] block of logits is folded into a running
  // log-sum-exp per row, so the [T, V] logits are never held (sizes: see kHeadChunkTokensF32).
  ActMatrix block;
  std::vector<float> run_max, run_sum, target;
  const int64_t chunk = bf16 ? kHeadChunkTokensBf16 : kHeadChunkTokensF32;
  for (int64_t t0 = 0; t0 < T; t0 += chunk) {
    const int64_t n = std::min(chunk, T - t0);
    run_max.assign(size_t(n), -std::numeric_limits<float>::infinity());
    run_sum.assign(size_t(n), 0.f);
    target.assign(size_t(n), std::numeric_limits<float>::quiet_NaN());
    if (amx) split_amx_f32_activations(x.data() + t0 * D, n, D, D, x_split);
    const int64_t vb = bf16 ? kHeadVocabBlock : kHeadVocabBlockF32;
    for (int64_t v0 = 0; v0 < V; v0 += vb) {
      const int64_t nb = std::min(vb, V - v0);
      block.resize(n, nb);  // logits [n, nb] = x [n, D] · head[v0:v0+nb]^T [D, nb]
      if (bf16) gemm_bf16(x.data() + t0 * D, n, w_.lm_head_blocks[size_t(v0 / kHeadVocabBlock)], block.data());
      else if (amx) gemm_amx_f32(x_split, head.amx, v0, v0 + nb, block.data(), nb);
      else if (head.form == WeightForm::Stored16)
        gemm_stored(x.data() + t0 * D, n, D, head.half + v0 * D, head.half_dtype, nb, D, block.data(), nb);
      else gemm_nt(x.data() + t0 * D, D, head.data + v0 * D, D, block.data(), nb, n, nb, D);
      if (opt.logits)
        for (int64_t i = 0; i < n; ++i)
          std::copy(block.data() + i * nb, block.data() + (i + 1) * nb, r.logits.begin() + (t0 + i) * V + v0);
      if (!opt.nll) continue;
#pragma omp parallel for schedule(static) if (n * nb >= 65536)
      for (int64_t i = 0; i < n; ++i) {
        const int64_t t = t0 + i;
        if (last[size_t(t)]) continue;
        // Online log-sum-exp: fold this block's max and sum into the row's running ones.
        Eigen::Map<const Eigen::ArrayXf> z(block.data() + i * nb, nb);
        const float mb = z.maxCoeff();
        const float sb = (z - mb).exp().sum();
        const float m = std::max(run_max[size_t(i)], mb);
        run_sum[size_t(i)] = run_sum[size_t(i)] * std::exp(run_max[size_t(i)] - m) + sb * std::exp(mb - m);
        run_max[size_t(i)] = m;
        const int64_t id = batch_.ids[size_t(t) + 1];
        if (id >= v0 && id < v0 + nb) target[size_t(i)] = z[id - v0];
      }
    }
    if (opt.nll)
      for (int64_t i = 0; i < n; ++i)
        if (!last[size_t(t0 + i)]) r.nll[size_t(t0 + i)] = run_max[size_t(i)] + std::log(run_sum[size_t(i)]) - target[size_t(i)];
  }
}

}  // namespace moescope
