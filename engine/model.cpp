// model.cpp — loading a checkpoint, and the forward pass over a packed batch of documents: the
// layer loop, routing and records on the host, the arithmetic on the model's Backend.
#include "engine/model.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>

#include "engine/cpu/cpu_backend.h"
#include "engine/cpu/gemm_amx.h"
#include "engine/error.h"
#include "engine/memory_estimate.h"
#include "engine/rope_scaling.h"
#include "engine/router.h"

namespace fs = std::filesystem;

namespace moescope {

namespace {

// Adds the time since `t0` to `acc` and restarts `t0`, once the backend's queued work is done.
void lap(BackendPass& pass, std::chrono::steady_clock::time_point& t0, double& acc) {
  pass.synchronize();
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

F32Gemm f32_gemm_from_environment() {
  const char* env = std::getenv("MOESCOPE_F32_GEMM");
  return env && std::string(env) == "blas" ? F32Gemm::Blas : F32Gemm::Auto;
}

std::unique_ptr<Model> Model::load(const std::string& dir, const LoadOptions& options) {
  std::unique_ptr<Model> m(new Model());
  m->dir_ = dir;
  if (!fs::is_directory(dir)) fail(dir, "not a directory (expected a Hugging Face checkpoint folder)");
  m->config_ = ModelConfig::from_file((fs::path(dir) / "config.json").string());
  m->checkpoint_ = std::make_unique<Checkpoint>(dir);
  if (options.subset && !options.subset_file.empty())
    fail(dir, "internal error: a load given both a subset and a subset file");
  m->loaded_ = options.subset                  ? *options.subset
               : !options.subset_file.empty() ? ExpertSubset::from_file(options.subset_file, m->config_)
                                              : ExpertSubset::all(m->config_);
  if (!options.force_subset && m->loaded_.chosen_for)
    check_subset_model(m->loaded_, options.subset_file.empty() ? "the expert subset" : options.subset_file,
                       identify_model(*m->checkpoint_));
  if (m->loaded_.kept_per_layer.size() != size_t(m->config_.num_layers))
    fail_expected(dir, "expert subset has the wrong number of layers", std::to_string(m->config_.num_layers),
                  std::to_string(m->loaded_.kept_per_layer.size()));
  // The GEMM path is chosen here, once: every weight is laid out for it as it is read.
  // A device backend uploads the weights as stored: no AMX tiles, no BF16-mode layouts.
  WeightPlan plan;
  plan.precision = options.precision;
  if (options.backend && plan.precision != Precision::F32)
    fail(dir, "--precision applies to the CPU only: on " + options.backend->device().name() +
                  " the weight GEMMs are BF16 with FP32 accumulation");
  plan.amx = !options.backend && plan.precision == Precision::F32 && options.f32_gemm == F32Gemm::Auto &&
             amx_f32_available();
  const MemoryEstimate estimate = estimate_memory(*m->checkpoint_, m->config_, m->loaded_, plan);
  if (options.backend && options.memory_check) options.backend->check_fits(dir, m->config_, estimate);
  if (options.memory_check)
    if (const auto available = available_memory()) check_memory_fits(dir, estimate, *available);
  m->weights_ = load_weights(*m->checkpoint_, m->config_, m->loaded_, plan);
  const ModelConfig& c = m->config_;
  m->rope_ = rope_frequencies(c.rope, c.mla.enabled ? c.mla.qk_rope_head_dim : c.head_dim);
  if (options.backend) {
    m->backend_ = options.backend->make(m->config_, m->weights_);
    release_host_gemm_weights(m->weights_);  // the device holds them now
  } else {
    m->backend_ = std::make_unique<CpuBackend>(m->config_, m->weights_, options.threads);
  }
  const std::string tok_path = (fs::path(dir) / "tokenizer.json").string();
  if (options.load_tokenizer && fs::exists(tok_path))
    m->tokenizer_ = std::make_unique<Tokenizer>(Tokenizer::from_file(tok_path));
  return m;
}

ForwardResult Model::forward(const std::vector<std::vector<int32_t>>& documents, const ForwardOptions& opt) const {
  const ModelConfig& c = config_;
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
  PackedBatch batch;
  batch.ids = r.ids;
  batch.docs = r.docs;
  batch.rope = make_rope_table(rope_.inv_freq, rope_.attention_factor, r.docs, r.ids.size());
  const std::unique_ptr<BackendPass> pass = backend_->begin(batch);

  // x [T, D] = embed[ids]
  Activations x = pass->activations(), h = pass->activations(), o = pass->activations(), y = pass->activations();
  pass->embed(x);
  auto t0 = std::chrono::steady_clock::now();
  const bool pre_norm = c.norm_placement == NormPlacement::Pre;
  for (int l = 0; l < c.num_layers; ++l) {
    const LayerSpec& spec = c.layers[size_t(l)];
    // Attention block. Pre-norm: x += o(attn(h)) on h = rmsnorm(x); post-norm: x += rmsnorm(o(attn(x))).
    if (pre_norm) pass->rms_norm(NormSite::Attention, l, x, h);
    pass->attention(l, pre_norm ? h : x, o);  // o [T, D]
    if (!pre_norm) pass->rms_norm_inplace(NormSite::Attention, l, o);
    pass->add(x, o);
    lap(*pass, t0, r.seconds.attention);

    // Feed-forward block: x += f(h) on h = rmsnorm(x) (pre-norm) or x += rmsnorm(f(x)) (post-norm),
    // f = the MoE layer or the dense MLP.
    if (pre_norm) pass->rms_norm(NormSite::FeedForward, l, x, h);
    const Activations& ffn_in = pre_norm ? h : x;
    if (spec.is_moe()) {
      r.layers.emplace_back();
      moe_layer(*pass, l, ffn_in, opt, r.docs, y, r.layers.back(), r.seconds);
      t0 = std::chrono::steady_clock::now();  // moe_layer accounted for its own time
    } else {
      pass->dense_mlp(l, ffn_in, y);
    }
    if (!pre_norm) pass->rms_norm_inplace(NormSite::FeedForward, l, y);
    pass->add(x, y);
    if (!spec.is_moe()) lap(*pass, t0, r.seconds.experts);
    if (l == opt.last_layer) return r;  // early exit (greedy selection looks at one layer at a time)
  }
  pass->rms_norm(NormSite::Final, 0, x, h);
  HeadRequest request;
  request.nll = opt.nll;
  request.logits = opt.logits;
  HeadResult head;
  pass->output_head(h, request, head);
  r.nll = std::move(head.nll);
  r.logits = std::move(head.logits);
  lap(*pass, t0, r.seconds.lm_head);
  return r;
}

void Model::moe_layer(BackendPass& pass, int l, const Activations& h, const ForwardOptions& opt,
                      const std::vector<DocumentSpan>& docs, Activations& y, LayerRecord& rec, StageSeconds& seconds) const {
  auto t0 = std::chrono::steady_clock::now();
  const ModelConfig& c = config_;
  const LayerSpec& spec = c.layers[size_t(l)];
  const LayerWeights& lw = weights_.layers[size_t(l)];
  const int64_t T = h.rows();
  const int E = spec.num_experts, Estd = spec.num_standard();

  std::vector<float> logits;  // [T, E], on the host
  pass.router_logits(l, h, logits);
  // Non-finite logits (overflowed activations, NaN weights) would make top-k meaningless. The
  // host's per-layer work runs on all cores: on a GPU it is what the device waits for.
  int64_t bad = T * E;
#pragma omp parallel for reduction(min : bad) schedule(static) if (T * E >= 65536)
  for (int64_t i = 0; i < T * E; ++i)
    if (!std::isfinite(logits[size_t(i)])) bad = std::min(bad, i);
  if (bad < T * E)
    fail("layer " + std::to_string(l) + ", token " + std::to_string(bad / E),
         "router logits are not finite (NaN or Inf): the checkpoint's weights or activations overflowed");
  // Under a subset every layer routes with one top-k, capped at the fewest experts a layer keeps:
  // the pruned checkpoint's num_experts_per_tok (ExpertSubset::top_k).
  const ExpertSubset& subset = opt.mask ? *opt.mask : loaded_;
  const int top_k = subset.top_k(c);
  const int fixed = spec.mode == RoutingMode::AlwaysActive ? int(spec.always_active.size())
                    : spec.mode == RoutingMode::Shared     ? spec.num_shared
                                                           : 0;
  if (top_k < fixed)
    fail("expert subset", "keeps only " + std::to_string(top_k) + " experts in some layer, so every layer routes with top-k " +
                              std::to_string(top_k) + " (as its pruned checkpoint would), fewer than layer " +
                              std::to_string(l) + "'s " + std::to_string(fixed) +
                              " experts that every token always uses: keep more experts in the smallest layer");
  const std::vector<uint8_t> kept = kept_mask(c, &subset, l);
  RouterOutput ro = route_tokens(logits.data(), T, spec, top_k, c.norm_topk_prob, kept, true, c.router,
                                 lw.router_bias.empty() ? nullptr : lw.router_bias.data);
  const int K = ro.k;

  rec.layer = l;
  rec.num_experts = E;
  rec.num_standard = Estd;
  rec.k = K;
  if (opt.router_logits) rec.router_logits = std::move(logits);  // routing is done with them

  // Per-document statistics over the standard experts (documents in parallel; each one's sums
  // in token order, so the result does not depend on the thread count).
  const size_t N = docs.size();
  rec.doc_mean_probs.assign(N * size_t(Estd), 0.f);
  rec.doc_topk_freq.assign(N * size_t(Estd), 0.f);
#pragma omp parallel for schedule(dynamic) if (T * Estd >= 65536)
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
  lap(pass, t0, seconds.router);

  const TokenRouting routing{K, ro.topk_ids.data(), ro.topk_weights.data()};
  std::vector<double> slot_norm;  // EASY-EP: ||expert output|| per (token, slot)
  pass.experts(l, h, routing, y, opt.easy_ep ? &slot_norm : nullptr);  // y [T, D], the routed experts only
  if (opt.easy_ep) {
    // s_t = max(0, 1 - cos(u_t, u_t + y_t)); score_e += g * ||E_e(u_t)|| * s_t (serial: deterministic sums)
    rec.easy_ep_scores.assign(size_t(E), 0.0);
    ActMatrix u_host, y_host;
    pass.to_host(h, u_host);
    pass.to_host(y, y_host);
    for (int64_t t = 0; t < T; ++t) {
      const auto u = u_host.row(t).cast<double>();
      const Eigen::RowVectorXd uy = u + y_host.row(t).cast<double>();
      const double denom = u.norm() * uy.norm();
      const double s_t = std::max(0.0, 1.0 - (denom > 0 ? u.dot(uy) / denom : 1.0));
      for (int i = 0; i < K; ++i) {
        const size_t slot = size_t(t * K + i);
        rec.easy_ep_scores[size_t(ro.topk_ids[slot])] += double(ro.topk_weights[slot]) * slot_norm[slot] * s_t;
      }
    }
  }
  // Always-on shared MLP (not routed, so not in the record).
  pass.shared_mlp(l, h, y);

  lap(pass, t0, seconds.experts);
  if (opt.probs) rec.probs = std::move(ro.probs);
  rec.topk_ids = std::move(ro.topk_ids);
  rec.topk_weights = std::move(ro.topk_weights);
}

}  // namespace moescope
