// cpu_backend.cpp — the CPU backend's description, passes, and its small operations (embedding,
// norms, router logits, shared and dense MLPs).
#include "engine/cpu/cpu_backend.h"

#include <omp.h>

#include <cmath>

#include "engine/cpu/blas_core.h"
#include "engine/cpu/cpu_pass.h"
#include "engine/error.h"

namespace moescope {

CpuBackend::CpuBackend(const ModelConfig& config, const ModelWeights& weights, int threads)
    : config_(config), weights_(weights), threads_(threads) {}

std::string CpuBackend::kernels() const {
  std::string how;
  const ModelWeights& w = weights_;
  if (w.plan.precision == Precision::BF16) {
    bf16_gemm_fast(&how);
    return "bf16: " + how;
  }
  const bool stored = w.storage_dtype != "F32";
  if (w.plan.amx)
    return "f32: AMX-BF16 tiles, BF16x3" + (stored ? ", " + w.storage_dtype + " weights as stored" : std::string()) +
           " (MOESCOPE_F32_GEMM=blas for BLAS)";
  if (amx_f32_available(&how)) how = "BLAS chosen at load (MOESCOPE_F32_GEMM=blas)";
  const std::string widened = stored ? ", " + w.storage_dtype + " weights widened per panel" : "";
#ifdef EIGEN_USE_BLAS
  return "f32: BLAS sgemm, OpenBLAS " + blas_core_name() + " kernels" + widened + " (AMX BF16x3 not used: " + how + ")";
#else
  return "f32: Eigen GEMM" + widened + " (AMX BF16x3 not used: " + how + ")";
#endif
}

std::unique_ptr<BackendPass> CpuBackend::begin(const PackedBatch& batch) const {
  return std::make_unique<CpuPass>(*this, batch);
}

CpuPass::CpuPass(const CpuBackend& backend, const PackedBatch& batch)
    : backend_(backend), c_(backend.config()), w_(backend.weights()), batch_(batch) {
  threads_before_ = omp_get_max_threads();
  if (backend.threads() > 0) omp_set_num_threads(backend.threads());  // this thread's setting only
}

CpuPass::~CpuPass() { omp_set_num_threads(threads_before_); }

void CpuPass::embed(Activations& x) {
  const int64_t T = int64_t(batch_.ids.size()), D = c_.hidden_size;
  x.host.resize(T, D);
  for (int64_t t = 0; t < T; ++t) w_.embed.row_f32(batch_.ids[size_t(t)], x.host.data() + t * D);
}

const Matrix& CpuPass::norm_weight(NormSite site, int layer) const {
  switch (site) {
    case NormSite::Attention: return w_.layers[size_t(layer)].attn_norm;
    case NormSite::FeedForward: return w_.layers[size_t(layer)].ffn_norm;
    case NormSite::Final: return w_.final_norm;
  }
  fail("rms_norm", "unknown norm site");
}

void CpuPass::rms_norm(NormSite site, int layer, const Activations& x, Activations& y) {
  moescope::rms_norm(x.host, norm_weight(site, layer), c_.rms_norm_eps, y.host);
}

void CpuPass::rms_norm_inplace(NormSite site, int layer, Activations& x) {
  moescope::rms_norm_inplace(x.host, norm_weight(site, layer), c_.rms_norm_eps);
}

void CpuPass::router_logits(int layer, const Activations& h, std::vector<float>& logits) {
  const Matrix& router = w_.layers[size_t(layer)].router;  // [E, D], FP32
  const int64_t T = h.host.rows(), E = router.rows;
  logits.resize(size_t(T * E));
  // logits [T, E] = h [T, D] · router^T [D, E]
  Eigen::Map<ActMatrix>(logits.data(), T, E).noalias() = h.host * router.view().transpose();
}

void CpuPass::shared_mlp(int layer, const Activations& h, Activations& y) {
  const LayerWeights& lw = w_.layers[size_t(layer)];
  if (!lw.shared.loaded()) return;
  // y += g_t * shared(h), g_t = 1 or sigmoid(h_t · gate) (Qwen2-MoE)
  ActMatrix ys;
  swiglu(h.host, lw.shared, ys);  // ys [T, D]
  if (!lw.shared_gate.empty()) {
    const Eigen::VectorXf g = h.host * Eigen::Map<const Eigen::VectorXf>(lw.shared_gate.data, c_.hidden_size);  // [T]
    for (int64_t t = 0; t < ys.rows(); ++t) ys.row(t) *= 1.f / (1.f + std::exp(-g[t]));
  }
  y.host += ys;
}

void CpuPass::dense_mlp(int layer, const Activations& h, Activations& y) {
  swiglu(h.host, w_.layers[size_t(layer)].dense, y.host);
}

}  // namespace moescope
