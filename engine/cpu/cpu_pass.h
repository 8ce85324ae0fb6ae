// cpu_pass.h — one forward pass on the CPU backend: the pass's scratch buffers and each operation
// of backend.h on today's kernels (attention: attention_layer.cpp; experts: moe_experts.cpp;
// output head: output_head.cpp; the rest: cpu_backend.cpp).
#pragma once

#include "engine/cpu/cpu_backend.h"

namespace moescope {

class CpuPass final : public BackendPass {
 public:
  CpuPass(const CpuBackend& backend, const PackedBatch& batch);
  ~CpuPass() override;

  Activations activations() override { return {}; }
  void embed(Activations& x) override;
  void rms_norm(NormSite site, int layer, const Activations& x, Activations& y) override;
  void rms_norm_inplace(NormSite site, int layer, Activations& x) override;
  void add(Activations& x, const Activations& y) override { x.host += y.host; }
  void attention(int layer, const Activations& x, Activations& out) override;
  void router_logits(int layer, const Activations& h, std::vector<float>& logits) override;
  void experts(int layer, const Activations& h, const TokenRouting& routing, Activations& y,
               std::vector<double>* slot_norms) override;
  void shared_mlp(int layer, const Activations& h, Activations& y) override;
  void dense_mlp(int layer, const Activations& h, Activations& y) override;
  void output_head(const Activations& x, const HeadRequest& request, HeadResult& result) override;
  void to_host(const Activations& x, ActMatrix& out) override { out = x.host; }

 private:
  const Matrix& norm_weight(NormSite site, int layer) const;
  void mla_qkv(int layer, const ActMatrix& x, ActMatrix& q, ActMatrix& k, ActMatrix& v);

  const CpuBackend& backend_;
  const ModelConfig& c_;
  const ModelWeights& w_;
  const PackedBatch& batch_;
  int threads_before_ = 0;
  // Activations every layer needs again, kept for the whole pass: a fresh buffer per layer costs
  // a page fault per 4 KB (the expert-output buffer alone is up to 256 MB).
  ActMatrix q_, k_, v_, attn_;  // attention: [T, H*Dqk], [T, Hkv*Dqk], [T, Hkv*Dv], [T, H*Dv]
  ActMatrix slot_out_;          // MoE: [chunk*K, D] expert outputs per (token, slot)
};

}  // namespace moescope
