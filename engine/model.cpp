// model.cpp — loading a checkpoint and the CPU forward pass over a packed batch of documents.
#include "engine/model.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <numeric>

#include "engine/blas_core.h"
#include "engine/error.h"
#include "engine/gemm_amx.h"
#include "engine/gemm_f32.h"
#include "engine/gemm_stored.h"
#include "engine/memory_estimate.h"
#include "engine/rope_scaling.h"
#include "engine/router.h"

namespace fs = std::filesystem;

namespace moescope {

namespace {

// MoE work is done in token chunks so the [chunk*K, D] expert-output buffer stays near 256 MB
// while each expert still sees enough tokens for an efficient GEMM.
constexpr int64_t kMoeSlotBufferFloats = int64_t(64) << 20;
// Output logits are computed in blocks of [2048 rows, 2048 vocabulary entries] (16 MB), folded into
// a running log-sum-exp per row, so [T, V] is never held unless asked for. Blocks this large keep
// the GEMM at BLAS speed and make the hand-offs between OpenBLAS's threads and the fold's few:
// with [256, 4096] blocks the head of the OLMoE benchmark took 3.24 s, with these 2.85 s
// (2-core VM, 3 interleaved rounds each). BF16 mode keeps [256, kHeadVocabBlock] blocks (its
// weights are prebuilt in those vocabulary blocks; it was not re-measured).
constexpr int64_t kHeadChunkTokensF32 = 2048, kHeadVocabBlockF32 = 2048;
constexpr int64_t kHeadChunkTokensBf16 = 256;

// Adds the time since `t0` to `acc` and restarts `t0`.
void lap(std::chrono::steady_clock::time_point& t0, double& acc) {
  const auto now = std::chrono::steady_clock::now();
  acc += std::chrono::duration<double>(now - t0).count();
  t0 = now;
}

std::vector<uint8_t> kept_mask(const ModelConfig& c, const ExpertSubset* s, int layer) {
  const LayerSpec& spec = c.layers[size_t(layer)];
  std::vector<uint8_t> kept(size_t(spec.num_experts), 1);
  if (s)
    for (int e = 0; e < spec.num_experts; ++e) kept[size_t(e)] = s->keeps(c, layer, e) ? 1 : 0;
  return kept;
}

}  // namespace

std::unique_ptr<Model> Model::load(const std::string& dir, const LoadOptions& options) {
  std::unique_ptr<Model> m(new Model());
  m->dir_ = dir;
  if (!fs::is_directory(dir)) fail(dir, "not a directory (expected a Hugging Face checkpoint folder)");
  m->config_ = ModelConfig::from_file((fs::path(dir) / "config.json").string());
  m->checkpoint_ = std::make_unique<Checkpoint>(dir);
  m->loaded_ = options.subset ? *options.subset : ExpertSubset::all(m->config_);
  if (m->loaded_.kept_per_layer.size() != size_t(m->config_.num_layers))
    fail_expected(dir, "expert subset has the wrong number of layers", std::to_string(m->config_.num_layers),
                  std::to_string(m->loaded_.kept_per_layer.size()));
  m->precision_ = options.precision.value_or(cpu_precision());
  // The GEMM path is chosen here, once: every weight is laid out for it as it is read.
  WeightPlan plan;
  plan.precision = m->precision_;
  plan.amx = plan.precision == Precision::F32 && amx_f32_available();
  if (options.memory_check)
    if (const auto available = available_memory())
      check_memory_fits(dir, estimate_memory(*m->checkpoint_, m->config_, m->loaded_, plan), *available);
  m->weights_ = load_weights(*m->checkpoint_, m->config_, m->loaded_, plan);
  const ModelConfig& c = m->config_;
  m->rope_ = rope_frequencies(c.rope, c.mla.enabled ? c.mla.qk_rope_head_dim : c.head_dim);
  const std::string tok_path = (fs::path(dir) / "tokenizer.json").string();
  if (options.load_tokenizer && fs::exists(tok_path))
    m->tokenizer_ = std::make_unique<Tokenizer>(Tokenizer::from_file(tok_path));
  return m;
}

ForwardResult Model::forward(const std::vector<std::vector<int32_t>>& documents, const ForwardOptions& opt) const {
  const ModelConfig& c = config_;
  const int64_t D = c.hidden_size;
  ForwardResult r;
  if (documents.empty()) fail("forward", "no documents given");
  for (size_t d = 0; d < documents.size(); ++d) {
    const auto& doc = documents[d];
    if (doc.empty()) fail("document " + std::to_string(d), "is empty (no tokens)");
    if (int64_t(doc.size()) > c.max_position_embeddings)
      fail_expected("document " + std::to_string(d), "longer than the model's context", "at most " +
                    std::to_string(c.max_position_embeddings) + " tokens (max_position_embeddings)",
                    std::to_string(doc.size()) + " tokens");
    for (size_t i = 0; i < doc.size(); ++i)
      if (doc[i] < 0 || doc[i] >= c.vocab_size)
        fail_expected("document " + std::to_string(d) + ", token " + std::to_string(i), "token id out of range",
                      "0.." + std::to_string(c.vocab_size - 1), std::to_string(doc[i]));
    DocumentSpan span{r.ids.size(), r.ids.size() + doc.size()};
    r.docs.push_back(span);
    r.ids.insert(r.ids.end(), doc.begin(), doc.end());
  }
  if (opt.mask) {
    for (int l = 0; l < c.num_layers; ++l)
      for (int e = 0; e < c.layers[size_t(l)].num_experts; ++e)
        if (opt.mask->keeps(c, l, e) && !loaded_.keeps(c, l, e))
          fail("expert subset", "layer " + std::to_string(l) + " expert " + std::to_string(e) +
                                    " is kept by the mask but was not loaded (the model was loaded with a smaller subset)");
  }
  const int64_t T = int64_t(r.ids.size());

  // x [T, D] = embed[ids]
  ActMatrix x(T, D), h, o, y;
  LayerScratch scratch;
  for (int64_t t = 0; t < T; ++t) weights_.embed.row_f32(r.ids[size_t(t)], x.data() + t * D);

  auto t0 = std::chrono::steady_clock::now();
  const RopeTable rope = make_rope_table(rope_.inv_freq, rope_.attention_factor, r.docs, size_t(T));
  for (int l = 0; l < c.num_layers; ++l) {
    const LayerWeights& lw = weights_.layers[size_t(l)];
    const LayerSpec& spec = c.layers[size_t(l)];
    const bool pre_norm = c.norm_placement == NormPlacement::Pre;
    // Attention block. Pre-norm: x += o(attn(h)) on h = rmsnorm(x); post-norm: x += rmsnorm(o(attn(x))).
    if (pre_norm) rms_norm(x, lw.attn_norm, c.rms_norm_eps, h);
    attention(l, pre_norm ? h : x, r.docs, rope, scratch, o);  // o [T, D]
    if (!pre_norm) rms_norm_inplace(o, lw.attn_norm, c.rms_norm_eps);
    x += o;
    lap(t0, r.seconds.attention);

    // Feed-forward block: x += f(h) on h = rmsnorm(x) (pre-norm) or x += rmsnorm(f(x)) (post-norm),
    // f = the MoE layer or the dense MLP.
    if (pre_norm) rms_norm(x, lw.ffn_norm, c.rms_norm_eps, h);
    const ActMatrix& ffn_in = pre_norm ? h : x;
    if (spec.is_moe()) {
      r.layers.emplace_back();
      moe_layer(l, ffn_in, opt, r.docs, scratch, y, r.layers.back(), r.seconds);
      t0 = std::chrono::steady_clock::now();  // moe_layer accounted for its own time
    } else {
      swiglu(ffn_in, lw.dense, y);
    }
    if (!pre_norm) rms_norm_inplace(y, lw.ffn_norm, c.rms_norm_eps);
    x += y;
    if (!spec.is_moe()) lap(t0, r.seconds.experts);
    if (l == opt.last_layer) return r;  // early exit (greedy selection looks at one layer at a time)
  }
  rms_norm(x, weights_.final_norm, c.rms_norm_eps, h);
  output_head(h, r, opt);
  lap(t0, r.seconds.lm_head);
  return r;
}

void Model::moe_layer(int l, const ActMatrix& h, const ForwardOptions& opt, const std::vector<DocumentSpan>& docs,
                      LayerScratch& scratch, ActMatrix& y, LayerRecord& rec, StageSeconds& seconds) const {
  auto t0 = std::chrono::steady_clock::now();
  const ModelConfig& c = config_;
  const LayerSpec& spec = c.layers[size_t(l)];
  const LayerWeights& lw = weights_.layers[size_t(l)];
  const int64_t T = h.rows(), D = h.cols();
  const int E = spec.num_experts, Estd = spec.num_standard();

  // logits [T, E] = h [T, D] · router^T [D, E]
  ActMatrix logits = h * lw.router.view().transpose();
  // Non-finite logits (overflowed activations, NaN weights) would make top-k meaningless.
  if (!logits.allFinite()) {
    Eigen::Index bad = 0;
    for (; bad < T && logits.row(bad).allFinite(); ++bad) {}
    fail("layer " + std::to_string(l) + ", token " + std::to_string(bad),
         "router logits are not finite (NaN or Inf): the checkpoint's weights or activations overflowed");
  }
  const std::vector<uint8_t> kept = kept_mask(c, opt.mask ? opt.mask : &loaded_, l);
  RouterOutput ro = route_tokens(logits.data(), T, spec, c.top_k, c.norm_topk_prob, kept, true, c.router,
                                 lw.router_bias.empty() ? nullptr : lw.router_bias.data);
  const int K = ro.k;

  rec.layer = l;
  rec.num_experts = E;
  rec.num_standard = Estd;
  rec.k = K;
  if (opt.router_logits) rec.router_logits.assign(logits.data(), logits.data() + T * E);

  // Per-document statistics over the standard experts.
  const size_t N = docs.size();
  rec.doc_mean_probs.assign(N * size_t(Estd), 0.f);
  rec.doc_topk_freq.assign(N * size_t(Estd), 0.f);
  for (size_t d = 0; d < N; ++d) {
    float* mp = rec.doc_mean_probs.data() + d * size_t(Estd);
    float* tf = rec.doc_topk_freq.data() + d * size_t(Estd);
    for (size_t t = docs[d].begin; t < docs[d].end; ++t) {
      const float* p = ro.probs.data() + t * size_t(Estd);
      for (int e = 0; e < Estd; ++e) mp[e] += p[e];
      for (int i = 0; i < K; ++i) {
        const int e = ro.topk_ids[t * size_t(K) + size_t(i)];
        if (e < Estd) tf[e] += 1.f;
      }
    }
    const float inv = 1.f / float(docs[d].size());
    for (int e = 0; e < Estd; ++e) { mp[e] *= inv; tf[e] *= inv; }
  }

  lap(t0, seconds.router);

  // Expert dispatch in token chunks: group (token, slot) pairs by expert (counting sort), one
  // GEMM chain per expert over all its tokens, weighted results into slots, then sum the slots.
  y.setZero(T, D);
  const bool scales_input = c.router.scales_input;
  std::vector<int64_t> count(size_t(E) + 1);
  std::vector<int64_t> order;
  ActMatrix& slot_out = scratch.slot_out;
  std::vector<double> slot_norm;  // EASY-EP: ||expert output|| per (token, slot)
  if (opt.easy_ep) rec.easy_ep_scores.assign(size_t(E), 0.0);
  const int64_t chunk = std::max<int64_t>(64, kMoeSlotBufferFloats / std::max<int64_t>(1, K * D));
  for (int64_t c0 = 0; c0 < T; c0 += chunk) {
    const int64_t c1 = std::min(T, c0 + chunk), n = c1 - c0;
    std::fill(count.begin(), count.end(), 0);
    for (int64_t i = c0 * K; i < c1 * K; ++i) ++count[size_t(ro.topk_ids[size_t(i)]) + 1];
    for (int e = 0; e < E; ++e) count[size_t(e) + 1] += count[size_t(e)];
    order.assign(size_t(n * K), 0);
    std::vector<int64_t> fill(count.begin(), count.end() - 1);
    for (int64_t i = c0 * K; i < c1 * K; ++i) order[size_t(fill[size_t(ro.topk_ids[size_t(i)])]++)] = i - c0 * K;
    // Busiest experts first for load balance across threads.
    std::vector<int> experts;
    for (int e = 0; e < E; ++e)
      if (count[size_t(e) + 1] > count[size_t(e)]) experts.push_back(e);
    std::sort(experts.begin(), experts.end(), [&](int a, int b) {
      return count[size_t(a) + 1] - count[size_t(a)] > count[size_t(b) + 1] - count[size_t(b)];
    });
    slot_out.resize(n * K, D);
    if (opt.easy_ep) slot_norm.assign(size_t(n * K), 0.0);
    auto run_expert = [&](int e, ActMatrix& xe, ActMatrix& ye) {
      const int64_t b = count[size_t(e)], ne = count[size_t(e) + 1] - b;
      xe.resize(ne, D);
      for (int64_t r = 0; r < ne; ++r) xe.row(r) = h.row(c0 + order[size_t(b + r)] / K);  // xe [ne, D]
      if (scales_input)  // Llama 4: the router weight scales the expert's input
        for (int64_t r = 0; r < ne; ++r) xe.row(r) *= ro.topk_weights[size_t(c0 * K + order[size_t(b + r)])];
      swiglu(xe, lw.experts[size_t(e)], ye);                                               // ye [ne, D]
      for (int64_t r = 0; r < ne; ++r) {
        const int64_t slot = order[size_t(b + r)];
        slot_out.row(slot) = ye.row(r) * (scales_input ? 1.f : ro.topk_weights[size_t(c0 * K + slot)]);
        if (opt.easy_ep) slot_norm[size_t(slot)] = double(ye.row(r).norm());
      }
    };
    // An expert holding more than a thread's share of the work (a shared expert sees every
    // token) runs alone with all threads in its GEMMs; the rest run one expert per thread.
    const int threads = cpu_threads();
    size_t big = 0;
    while (big < experts.size() && threads > 1 &&
           (count[size_t(experts[big]) + 1] - count[size_t(experts[big])]) * threads > n * K)
      ++big;
    {
      ActMatrix xe, ye;
      for (size_t j = 0; j < big; ++j) run_expert(experts[j], xe, ye);
    }
#pragma omp parallel if (n * K >= 256)
    {
      ActMatrix xe, ye;
#pragma omp for schedule(dynamic)
      for (size_t j = big; j < experts.size(); ++j) run_expert(experts[j], xe, ye);
    }
    // y[t] = sum over slots in the router's order (deterministic)
#pragma omp parallel for schedule(static) if (n >= 256)
    for (int64_t t = 0; t < n; ++t)
      for (int i = 0; i < K; ++i) y.row(c0 + t) += slot_out.row(t * K + i);
    if (opt.easy_ep) {
      // s_t = max(0, 1 - cos(u_t, u_t + y_t)); score_e += g * ||E_e(u_t)|| * s_t (serial: deterministic sums)
      for (int64_t t = 0; t < n; ++t) {
        const auto u = h.row(c0 + t).cast<double>();
        const Eigen::RowVectorXd uy = u + y.row(c0 + t).cast<double>();
        const double denom = u.norm() * uy.norm();
        const double s_t = std::max(0.0, 1.0 - (denom > 0 ? u.dot(uy) / denom : 1.0));
        for (int i = 0; i < K; ++i) {
          const size_t slot = size_t(t * K + i);
          rec.easy_ep_scores[size_t(ro.topk_ids[size_t(c0 * K) + slot])] +=
              double(ro.topk_weights[size_t(c0 * K) + slot]) * slot_norm[slot] * s_t;
        }
      }
    }
  }

  // Always-on shared MLP (not routed, so not in the record): y += g_t * shared(h), g_t = 1 or sigmoid(h_t · gate).
  if (lw.shared.loaded()) {
    ActMatrix ys;
    swiglu(h, lw.shared, ys);  // ys [T, D]
    if (!lw.shared_gate.empty()) {
      const Eigen::VectorXf g = h * Eigen::Map<const Eigen::VectorXf>(lw.shared_gate.data, D);  // [T]
      for (int64_t t = 0; t < T; ++t) ys.row(t) *= 1.f / (1.f + std::exp(-g[t]));
    }
    y += ys;
  }

  lap(t0, seconds.experts);
  if (opt.probs) rec.probs = std::move(ro.probs);
  rec.topk_ids = std::move(ro.topk_ids);
  rec.topk_weights = std::move(ro.topk_weights);
}

std::string Model::gemm_kernels() const {
  std::string how;
  if (precision_ == Precision::BF16) {
    bf16_gemm_fast(&how);
    return "bf16: " + how;
  }
  const std::string stored = weights_.storage_dtype == "F32" ? "" : ", " + weights_.storage_dtype + " weights as stored";
  if (weights_.plan.amx) return "f32: AMX-BF16 tiles, BF16x3" + stored + " (MOESCOPE_F32_GEMM=blas for BLAS)";
  amx_f32_available(&how);
  const std::string widened = weights_.storage_dtype == "F32" ? "" : ", " + weights_.storage_dtype + " weights widened per panel";
#ifdef EIGEN_USE_BLAS
  return "f32: BLAS sgemm, OpenBLAS " + blas_core_name() + " kernels" + widened + " (AMX BF16x3 not used: " + how + ")";
#else
  return "f32: Eigen GEMM" + widened + " (AMX BF16x3 not used: " + how + ")";
#endif
}

void Model::output_head(const ActMatrix& x, ForwardResult& r, const ForwardOptions& opt) const {
  const int64_t T = x.rows(), V = config_.vocab_size, D = x.cols();
  if (opt.nll) r.nll.assign(size_t(T), std::numeric_limits<float>::quiet_NaN());
  if (opt.logits) r.logits.resize(size_t(T * V));
  if (!opt.nll && !opt.logits) return;
  std::vector<uint8_t> last(size_t(T), 0);
  for (const auto& d : r.docs) last[d.end - 1] = 1;
  const Matrix& head = weights_.lm_head;
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
      if (bf16) gemm_bf16(x.data() + t0 * D, n, weights_.lm_head_blocks[size_t(v0 / kHeadVocabBlock)], block.data());
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
        const int64_t id = r.ids[size_t(t) + 1];
        if (id >= v0 && id < v0 + nb) target[size_t(i)] = z[id - v0];
      }
    }
    if (opt.nll)
      for (int64_t i = 0; i < n; ++i)
        if (!last[size_t(t0 + i)]) r.nll[size_t(t0 + i)] = run_max[size_t(i)] + std::log(run_sum[size_t(i)]) - target[size_t(i)];
  }
}

}  // namespace moescope
