// cuda_pass.cu — one forward pass on the CUDA backend: each operation of backend.h as kernels
// (ops.h, attention.cu) and cuBLAS GEMMs (gemm.h) on the pass's own stream and handle.
// Experts: the host's routing is planned on the host (kernels/plan/expert_plan.h) and uploaded;
// slots are gathered in expert order, each kept expert runs two GEMMs over its rows, and tokens sum
// their slots in the router's order (kmath::combine_slots), in rounds of the pass plan's size.
#include <cmath>
#include <limits>

#include "engine/error.h"
#include "engine/rope_scaling.h"
#include "kernels/cuda/cuda_backend.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/gemm.h"
#include "kernels/cuda/ops.h"
#include "kernels/plan/device_pass_plan.h"
#include "kernels/plan/expert_plan.h"

namespace moescope::cuda {

namespace {

constexpr float kLatentEps = 1e-6f;                      // MLA's latent norms use the default eps

class CudaPass final : public BackendPass {
 public:
  CudaPass(const CudaBackend& backend, const PackedBatch& batch);
  ~CudaPass() override;

  Activations activations() override {
    Activations a;
    a.device = device_;
    return a;
  }
  void embed(Activations& x) override;
  void rms_norm(NormSite site, int layer, const Activations& x, Activations& y) override;
  void rms_norm_inplace(NormSite site, int layer, Activations& x) override;
  void add(Activations& x, const Activations& y) override;
  void attention(int layer, const Activations& x, Activations& out) override;
  void router_logits(int layer, const Activations& h, std::vector<float>& logits) override;
  void experts(int layer, const Activations& h, const TokenRouting& routing, Activations& y,
               std::vector<double>* slot_norms) override;
  void shared_mlp(int layer, const Activations& h, Activations& y) override;
  void dense_mlp(int layer, const Activations& h, Activations& y) override;
  void output_head(const Activations& x, const HeadRequest& request, HeadResult& result) override;
  void to_host(const Activations& x, ActMatrix& out) override;
  void synchronize() override { sync(); }

 private:
  float* ensure(Activations& a, int64_t rows, int64_t cols);
  const float* data(const Activations& a) const;
  const DeviceVector& norm_weight(NormSite site, int layer) const;
  // y [n, w.rows] = x [n, w.cols] (FP32, row stride ldx) · w^T + bias.
  void linear(const float* x, int64_t n, int64_t ldx, const DeviceMatrix& w, const DeviceVector& bias, float* y);
  // y [n, D] = MLP(x [n, D]) of a gated MLP, in rounds of the plan's size.
  void mlp(const float* x, int64_t n, const DeviceMlp& w, float* y);
  void sync() { check(cudaStreamSynchronize(stream_.get()), "cudaStreamSynchronize"); }
  // One round's gate_up (which = 0) or down (1) GEMMs of every busy expert, grouped when asked for
  // and cuBLAS accepts it.
  void expert_gemms(const std::vector<GemmProblem>& problems, int which) {
    const bool grouped = backend_.options().experts == ExpertGemm::Grouped && !backend_.grouped_refused();
    if (grouped && gemm_bf16_group(blas_.get(), ExpertGemm::Grouped, problems, group_pointers_[which],
                                   group_staging_[which], stream_.get()))
      return;
    if (grouped) backend_.grouped_unsupported();
    gemm_bf16_group(blas_.get(), ExpertGemm::Loop, problems, group_pointers_[which], group_staging_[which], stream_.get());
  }
  template <typename T>
  void upload(DeviceArray<T>& dst, const T* src, size_t n) {
    dst.reserve(n);
    if (n) check(cudaMemcpyAsync(dst.get(), src, n * sizeof(T), cudaMemcpyHostToDevice, stream_.get()), "copy to the device");
  }

  const CudaBackend& backend_;
  const ModelConfig& c_;
  const DeviceWeights& w_;
  const PackedBatch& batch_;
  Device device_;
  int64_t T_ = 0;
  DevicePassPlan plan_;
  // Declared first among the device state, destroyed last: the stream, then the handle on it.
  struct StreamDeleter {
    void operator()(cudaStream_t s) const {
      cudaStreamSynchronize(s);
      cudaStreamDestroy(s);
    }
  };
  struct BlasDeleter {
    void operator()(cublasHandle_t h) const { cublasDestroy(h); }
  };
  std::unique_ptr<std::remove_pointer_t<cudaStream_t>, StreamDeleter> stream_;
  std::unique_ptr<std::remove_pointer_t<cublasHandle_t>, BlasDeleter> blas_;
  // The batch on the device: ids, next ids (-1 at a document's end), document starts, positions, RoPE.
  DeviceArray<int32_t> ids_, next_ids_, doc_begin_;
  DeviceArray<uint32_t> positions_;
  DeviceArray<float> cos_, sin_;
  // Scratch kept for the whole pass (each layer needs the same sizes again).
  DeviceArray<bf16> xb_, act_;
  DeviceArray<float> q_, k_, v_, attn_, qa_, kva_, latent_, kv_, gu_, out_, logits_, ys_, dots_;
  DeviceArray<int32_t> slot_of_row_, row_of_slot_;
  DeviceArray<float> slot_weights_, norms_, run_max_, run_sum_, target_;
  DeviceArray<const void*> group_pointers_[2];     // grouped GEMMs' pointer arrays (gate_up, down)
  std::vector<const void*> group_staging_[2];
};

CudaPass::CudaPass(const CudaBackend& backend, const PackedBatch& batch)
    : backend_(backend), c_(backend.config()), w_(backend.weights()), batch_(batch), device_(backend.device()) {
  check(cudaSetDevice(backend.index()), "cudaSetDevice");
  T_ = int64_t(batch.ids.size());
  plan_ = plan_device_pass(c_, T_, kDeviceScratchBudget);
  cudaStream_t stream = nullptr;
  check(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "cudaStreamCreate");
  stream_.reset(stream);
  cublasHandle_t blas = nullptr;
  check(cublasCreate(&blas), "cublasCreate");
  blas_.reset(blas);
  check(cublasSetStream(blas, stream), "cublasSetStream");
  std::vector<int32_t> next(size_t(T_), -1), begin(size_t(T_), 0);
  for (const DocumentSpan& d : batch.docs)
    for (size_t t = d.begin; t < d.end; ++t) {
      begin[t] = int32_t(d.begin);
      if (t + 1 < d.end) next[t] = batch.ids[t + 1];
    }
  upload(ids_, batch.ids.data(), batch.ids.size());
  upload(next_ids_, next.data(), next.size());
  upload(doc_begin_, begin.data(), begin.size());
  upload(positions_, batch.rope.position.data(), batch.rope.position.size());
  upload(cos_, batch.rope.cos.data(), batch.rope.cos.size());
  upload(sin_, batch.rope.sin.data(), batch.rope.sin.size());
  sync();  // the host vectors above are freed on return
}

CudaPass::~CudaPass() = default;

// Activations live in a DeviceArray owned by the Activations (its buffer), grown when needed.
float* CudaPass::ensure(Activations& a, int64_t rows, int64_t cols) {
  if (a.device.kind != DeviceKind::Cuda || !a.buffer) a.buffer = std::make_shared<DeviceArray<float>>();
  static_cast<DeviceArray<float>*>(a.buffer.get())->reserve(size_t(std::max<int64_t>(1, rows * cols)));
  a.device = device_;
  a.rows_ = rows;
  a.cols_ = cols;
  return static_cast<DeviceArray<float>*>(a.buffer.get())->get();
}

const float* CudaPass::data(const Activations& a) const {
  if (a.device.kind != DeviceKind::Cuda || !a.buffer) fail("CUDA backend", "activations not on the device");
  return static_cast<const DeviceArray<float>*>(a.buffer.get())->get();
}

const DeviceVector& CudaPass::norm_weight(NormSite site, int layer) const {
  switch (site) {
    case NormSite::Attention: return w_.layers[size_t(layer)].attn_norm;
    case NormSite::FeedForward: return w_.layers[size_t(layer)].ffn_norm;
    case NormSite::Final: return w_.final_norm;
  }
  fail("rms_norm", "unknown norm site");
}

void CudaPass::linear(const float* x, int64_t n, int64_t ldx, const DeviceMatrix& w, const DeviceVector& bias, float* y) {
  to_bf16(x, n, w.cols, ldx, xb_.reserve(size_t(n * w.cols)), stream_.get());
  gemm_bf16(blas_.get(), xb_.get(), n, w.cols, w, y, w.rows);
  add_bias(y, n, w.rows, w.rows, bias.data, stream_.get());
}

void CudaPass::mlp(const float* x, int64_t n, const DeviceMlp& w, float* y) {
  const int64_t D = w.gate_up.cols, I = w.width(), round = std::max<int64_t>(1, plan_.expert_chunk_tokens);
  for (int64_t r0 = 0; r0 < n; r0 += round) {
    const int64_t m = std::min(round, n - r0);
    float* gu = gu_.reserve(size_t(m * 2 * I));
    linear(x + r0 * D, m, D, w.gate_up, {}, gu);  // gu [m, 2I]
    swiglu(gu, m, I, w.gate_bias.data, w.up_bias.data, act_.reserve(size_t(m * I)), stream_.get());
    gemm_bf16(blas_.get(), act_.get(), m, I, w.down, y + r0 * D, D);  // [m, D]
    add_bias(y + r0 * D, m, D, D, w.down_bias.data, stream_.get());
  }
}

void CudaPass::embed(Activations& x) {
  const int64_t D = c_.hidden_size;
  if (w_.embed_f32) embed_rows(ids_.get(), T_, w_.embed_f32, D, ensure(x, T_, D), stream_.get());
  else embed_rows(ids_.get(), T_, w_.embed.data, D, ensure(x, T_, D), stream_.get());
}

void CudaPass::rms_norm(NormSite site, int layer, const Activations& x, Activations& y) {
  const int64_t D = x.cols_;
  float* out = ensure(y, x.rows_, D);
  cuda::rms_norm(data(x), D, out, D, x.rows_, 1, D, norm_weight(site, layer).data, c_.rms_norm_eps, stream_.get());
}

void CudaPass::rms_norm_inplace(NormSite site, int layer, Activations& x) {
  float* p = const_cast<float*>(data(x));
  cuda::rms_norm(p, x.cols_, p, x.cols_, x.rows_, 1, x.cols_, norm_weight(site, layer).data, c_.rms_norm_eps, stream_.get());
}

void CudaPass::add(Activations& x, const Activations& y) {
  add_inplace(const_cast<float*>(data(x)), data(y), x.rows_ * x.cols_, stream_.get());
}

void CudaPass::attention(int l, const Activations& input, Activations& output) {
  const ModelConfig& c = c_;
  const LayerSpec& spec = c.layers[size_t(l)];
  const DeviceLayer& lw = w_.layers[size_t(l)];
  const int64_t T = T_, D = c.hidden_size;
  const int H = c.num_heads, Hkv = c.num_kv_heads, Dh = c.head_dim, half = batch_.rope.half;
  const bool interleaved = c.rope_pairing == RopePairing::Interleaved;
  const float* x = data(input);
  float* out = ensure(output, T, D);
  if (c.mla.enabled) {
    const MlaSpec& m = c.mla;
    const int Dn = m.qk_nope_head_dim, Dr = m.qk_rope_head_dim, Dv = m.v_head_dim, Dqk = Dn + Dr;
    const int64_t R = m.kv_lora_rank;
    float* q = q_.reserve(size_t(T * H * Dqk));
    if (m.q_lora_rank > 0) {
      float* qa = qa_.reserve(size_t(T * m.q_lora_rank));
      linear(x, T, D, lw.q_a, lw.q_a_bias, qa);  // [T, Rq]
      cuda::rms_norm(qa, m.q_lora_rank, qa, m.q_lora_rank, T, 1, m.q_lora_rank, lw.q_a_norm.data, kLatentEps, stream_.get());
      linear(qa, T, m.q_lora_rank, lw.q_b, {}, q);  // [T, H*Dqk]
    } else {
      linear(x, T, D, lw.q, {}, q);
    }
    float* kva = kva_.reserve(size_t(T * (R + Dr)));
    linear(x, T, D, lw.kv_a, lw.kv_a_bias, kva);  // [T, R + Dr]
    float* latent = latent_.reserve(size_t(T * R));
    cuda::rms_norm(kva, R + Dr, latent, R, T, 1, R, lw.kv_a_norm.data, kLatentEps, stream_.get());  // [T, R]
    float* kv = kv_.reserve(size_t(T * H * (Dn + Dv)));
    linear(latent, T, R, lw.kv_b, {}, kv);  // [T, H*(Dn + Dv)]
    rope(q, T, int64_t(H) * Dqk, H, Dqk, Dn, half, cos_.get(), sin_.get(), positions_.get(), interleaved, stream_.get());
    rope(kva, T, R + Dr, 1, Dr, int(R), half, cos_.get(), sin_.get(), positions_.get(), interleaved, stream_.get());
    float* k = k_.reserve(size_t(T * H * Dqk));
    float* v = v_.reserve(size_t(T * H * Dv));
    mla_assemble_kv(kv, kva, R + Dr, R, T, H, Dn, Dr, Dv, k, v, stream_.get());
    float* attn = attn_.reserve(size_t(T * H * Dv));
    cuda::attention(q, k, v, doc_begin_.get(), T, {H, H, Dqk, Dv, mla_softmax_scale(c.rope, Dqk), 0, 0, backend_.options().fp32_attention}, attn, stream_.get());
    linear(attn, T, int64_t(H) * Dv, lw.o, lw.o_bias, out);
    return;
  }
  float* q = q_.reserve(size_t(T * H * Dh));
  float* k = k_.reserve(size_t(T * Hkv * Dh));
  float* v = v_.reserve(size_t(T * Hkv * Dh));
  linear(x, T, D, lw.q, lw.q_bias, q);  // [T, H*Dh]
  linear(x, T, D, lw.k, lw.k_bias, k);  // [T, Hkv*Dh]
  linear(x, T, D, lw.v, lw.v_bias, v);  // [T, Hkv*Dh]
  const int64_t Cq = int64_t(H) * Dh, Ck = int64_t(Hkv) * Dh;
  const float eps = c.rms_norm_eps;
  if (c.qk_norm == QkNorm::Full) {
    cuda::rms_norm(q, Cq, q, Cq, T, 1, Cq, lw.q_norm.data, eps, stream_.get());
    cuda::rms_norm(k, Ck, k, Ck, T, 1, Ck, lw.k_norm.data, eps, stream_.get());
  } else if (c.qk_norm == QkNorm::PerHead) {
    cuda::rms_norm(q, Cq, q, Cq, T, H, Dh, lw.q_norm.data, eps, stream_.get());
    cuda::rms_norm(k, Ck, k, Ck, T, Hkv, Dh, lw.k_norm.data, eps, stream_.get());
  }
  if (c.clip_qkv) {
    clip(q, T * Cq, *c.clip_qkv, stream_.get());
    clip(k, T * Ck, *c.clip_qkv, stream_.get());
    clip(v, T * Ck, *c.clip_qkv, stream_.get());
  }
  if (spec.rope) {
    rope(q, T, Cq, H, Dh, 0, half, cos_.get(), sin_.get(), positions_.get(), interleaved, stream_.get());
    rope(k, T, Ck, Hkv, Dh, 0, half, cos_.get(), sin_.get(), positions_.get(), interleaved, stream_.get());
    if (c.qk_norm == QkNorm::PerHeadL2) {  // Llama 4: after RoPE, no weight
      cuda::rms_norm(q, Cq, q, Cq, T, H, Dh, nullptr, eps, stream_.get());
      cuda::rms_norm(k, Ck, k, Ck, T, Hkv, Dh, nullptr, eps, stream_.get());
    }
  } else if (c.attn_temperature_tuning) {
    temperature_tune(q, T, Cq, positions_.get(), c.attn_scale, c.floor_scale, stream_.get());
  }
  float* attn = attn_.reserve(size_t(T * Cq));
  cuda::attention(q, k, v, doc_begin_.get(), T,
                  {H, Hkv, Dh, Dh, 1.f / std::sqrt(float(Dh)), spec.sliding_window, spec.attention_chunk,
                   backend_.options().fp32_attention}, attn, stream_.get());
  linear(attn, T, Cq, lw.o, lw.o_bias, out);
}

void CudaPass::router_logits(int l, const Activations& h, std::vector<float>& logits) {
  const DeviceLayer& lw = w_.layers[size_t(l)];
  const int64_t T = h.rows_, E = lw.router_rows, D = h.cols_;
  float* z = logits_.reserve(size_t(T * E));
  gemm_f32(blas_.get(), data(h), T, D, lw.router.data, E, D, z, E);  // [T, E]
  logits.resize(size_t(T * E));
  check(cudaMemcpyAsync(logits.data(), z, size_t(T * E) * 4, cudaMemcpyDeviceToHost, stream_.get()), "router logits to the host");
  sync();
}

void CudaPass::experts(int l, const Activations& input, const TokenRouting& routing, Activations& output,
                       std::vector<double>* slot_norms) {
  const DeviceLayer& lw = w_.layers[size_t(l)];
  const DeviceExpertBank& bank = lw.bank;
  const int64_t T = input.rows_, D = input.cols_, I = bank.width;
  const int K = routing.k, E = c_.layers[size_t(l)].num_experts;
  const bool scales_input = c_.router.scales_input;
  const float* h = data(input);
  float* y = ensure(output, T, D);
  if (slot_norms) slot_norms->assign(size_t(T * K), 0.0);
  const int64_t round = std::max<int64_t>(1, plan_.expert_chunk_tokens);
  std::vector<float> norms;
  for (int64_t c0 = 0; c0 < T; c0 += round) {
    const int64_t n = std::min(round, T - c0), rows = n * K;
    const ExpertPlan p = plan_experts(routing.ids + c0 * K, n, K, E);
    upload(slot_of_row_, p.slot_of_row.data(), p.slot_of_row.size());
    upload(row_of_slot_, p.row_of_slot.data(), p.row_of_slot.size());
    upload(slot_weights_, routing.weights + c0 * K, size_t(rows));
    bf16* xin = xb_.reserve(size_t(rows * D));
    gather_slots(h + c0 * D, D, slot_of_row_.get(), rows, K, scales_input ? slot_weights_.get() : nullptr, xin, stream_.get());
    float* gu = gu_.reserve(size_t(rows * 2 * I));
    bf16* act = act_.reserve(size_t(rows * I));
    float* out = out_.reserve(size_t(rows * D));
    // Expert e's rows [r0, r0 + m): gu [m, 2I] = xin · gate_up^T, then out [m, D] = act · down^T.
    std::vector<GemmProblem> up, down;
    for (int e : p.busy) {
      const int s = bank.slot_of_expert[size_t(e)];
      if (s < 0) fail("CUDA experts", "layer " + std::to_string(l) + " routed to expert " + std::to_string(e) + ", which is not loaded");
      const int64_t r0 = p.offsets[size_t(e)], m = p.rows(e);
      up.push_back({xin + r0 * D, m, D, bank.experts[size_t(s)].gate_up, gu + r0 * 2 * I, 2 * I});
      down.push_back({act + r0 * I, m, I, bank.experts[size_t(s)].down, out + r0 * D, D});
    }
    expert_gemms(up, 0);
    swiglu(gu, rows, I, nullptr, nullptr, act, stream_.get());  // [rows, I]
    expert_gemms(down, 1);
    combine_slots(out, row_of_slot_.get(), slot_weights_.get(), !scales_input, n, K, D, y + c0 * D, stream_.get());
    if (slot_norms) {
      row_norms(out, rows, D, norms_.reserve(size_t(rows)), stream_.get());
      norms.resize(size_t(rows));
      check(cudaMemcpyAsync(norms.data(), norms_.get(), size_t(rows) * 4, cudaMemcpyDeviceToHost, stream_.get()), "norms to the host");
      sync();
      for (int64_t s = 0; s < rows; ++s) (*slot_norms)[size_t(c0 * K + s)] = double(norms[size_t(p.row_of_slot[size_t(s)])]);
    } else {
      sync();  // the plan's host vectors are freed at the end of this round
    }
  }
}

void CudaPass::shared_mlp(int l, const Activations& input, Activations& output) {
  const DeviceLayer& lw = w_.layers[size_t(l)];
  if (lw.shared.gate_up.empty()) return;
  const int64_t T = input.rows_, D = input.cols_;
  float* ys = ys_.reserve(size_t(T * D));
  mlp(data(input), T, lw.shared, ys);  // [T, D]
  const float* dots = nullptr;
  if (!lw.shared_gate.empty()) {
    row_dots(data(input), T, D, lw.shared_gate.data, dots_.reserve(size_t(T)), stream_.get());
    dots = dots_.get();
  }
  add_gated(const_cast<float*>(data(output)), ys, dots, T, D, stream_.get());
}

void CudaPass::dense_mlp(int l, const Activations& input, Activations& output) {
  const int64_t T = input.rows_, D = input.cols_;
  mlp(data(input), T, w_.layers[size_t(l)].dense, ensure(output, T, D));
}

void CudaPass::output_head(const Activations& input, const HeadRequest& request, HeadResult& r) {
  const int64_t T = input.rows_, D = input.cols_, V = w_.lm_head.rows;
  if (request.nll) r.nll.assign(size_t(T), std::numeric_limits<float>::quiet_NaN());
  if (request.logits) r.logits.resize(size_t(T * V));
  if (!request.nll && !request.logits) return;
  const float* x = data(input);
  const int64_t chunk = plan_.head_chunk_tokens, vb = plan_.head_vocab_block;
  std::vector<float> run_max, run_sum, target;
  for (int64_t t0 = 0; t0 < T; t0 += chunk) {
    const int64_t n = std::min(chunk, T - t0);
    bf16* xb = xb_.reserve(size_t(n * D));
    to_bf16(x + t0 * D, n, D, D, xb, stream_.get());
    run_max.assign(size_t(n), -INFINITY);
    run_sum.assign(size_t(n), 0.f);
    target.assign(size_t(n), std::numeric_limits<float>::quiet_NaN());
    upload(run_max_, run_max.data(), size_t(n));
    upload(run_sum_, run_sum.data(), size_t(n));
    upload(target_, target.data(), size_t(n));
    float* z = out_.reserve(size_t(n * vb));
    for (int64_t v0 = 0; v0 < V; v0 += vb) {
      const int64_t nb = std::min(vb, V - v0);
      gemm_bf16(blas_.get(), xb, n, D, DeviceMatrix{w_.lm_head.data + v0 * D, nb, D}, z, nb);  // [n, nb]
      if (request.logits)
        check(cudaMemcpy2DAsync(r.logits.data() + t0 * V + v0, size_t(V) * 4, z, size_t(nb) * 4, size_t(nb) * 4, size_t(n),
                                cudaMemcpyDeviceToHost, stream_.get()),
              "logits to the host");
      if (request.nll)
        fold_logits(z, n, nb, v0, next_ids_.get() + t0, run_max_.get(), run_sum_.get(), target_.get(), stream_.get());
    }
    if (request.nll) {
      check(cudaMemcpyAsync(run_max.data(), run_max_.get(), size_t(n) * 4, cudaMemcpyDeviceToHost, stream_.get()), "nll to the host");
      check(cudaMemcpyAsync(run_sum.data(), run_sum_.get(), size_t(n) * 4, cudaMemcpyDeviceToHost, stream_.get()), "nll to the host");
      check(cudaMemcpyAsync(target.data(), target_.get(), size_t(n) * 4, cudaMemcpyDeviceToHost, stream_.get()), "nll to the host");
    }
    sync();
    if (request.nll)
      for (int64_t i = 0; i < n; ++i) {
        // A document's last token was never folded: its target stays NaN, and so does its NLL.
        if (!std::isnan(target[size_t(i)]))
          r.nll[size_t(t0 + i)] = run_max[size_t(i)] + std::log(run_sum[size_t(i)]) - target[size_t(i)];
      }
  }
}

void CudaPass::to_host(const Activations& x, ActMatrix& out) {
  out.resize(x.rows_, x.cols_);
  check(cudaMemcpyAsync(out.data(), data(x), size_t(x.rows_ * x.cols_) * 4, cudaMemcpyDeviceToHost, stream_.get()), "to the host");
  sync();
}

}  // namespace

CudaBackend::CudaBackend(const ModelConfig& config, const ModelWeights& weights, int index, const CudaOptions& options)
    : config_(config), index_(index), options_(options) {
  check(cudaSetDevice(index), "cudaSetDevice");
  cudaDeviceProp prop{};
  check(cudaGetDeviceProperties(&prop, index), "cudaGetDeviceProperties");
  name_ = prop.name;
  weights_ = std::make_unique<DeviceWeights>(config, weights);
}

std::string CudaBackend::kernels() const {
  const std::string experts = options_.experts == ExpertGemm::Loop ? "one cuBLAS call per expert"
                              : grouped_refused_ ? "one call per expert (this cuBLAS refused the grouped call)"
                                                 : "one grouped cuBLAS call per round";
  return "cuda:" + std::to_string(index_) + " (" + name_ + "): BF16 weight GEMMs on cuBLAS with FP32 accumulation; experts " +
         experts + "; attention " +
         (options_.fp32_attention ? "in FP32" : "on the tensor cores (BF16 q/k/v, FP32 accumulation and softmax)") +
         "; router, norms, RoPE and softmaxes in FP32";
}

std::unique_ptr<BackendPass> CudaBackend::begin(const PackedBatch& batch) const {
  return std::make_unique<CudaPass>(*this, batch);
}

}  // namespace moescope::cuda
