// device_weights.h — a model's weights on one GPU, uploaded once from the host weights as loaded
// (weights.h, kept as stored): every GEMM weight BF16 (F32 and F16 converted on the way), vectors
// and routers FP32, and each MoE layer's kept experts in one bank (gate_up [Ek, 2I, D], down
// [Ek, D, I]) with the bank slot of every expert id. Shape legend: see backend.h; Ek kept experts.
#pragma once

#include <cuda_bf16.h>

#include <vector>

#include "engine/config.h"
#include "engine/weights.h"
#include "kernels/cuda/device_array.h"

namespace moescope::cuda {

using bf16 = __nv_bfloat16;

struct DeviceMatrix {  // BF16 [rows, cols], row-major; may point into another's storage (tied head, banks)
  const bf16* data = nullptr;
  int64_t rows = 0, cols = 0;
  bool empty() const { return rows == 0; }
};

struct DeviceVector {  // FP32 [n]
  const float* data = nullptr;
  int64_t n = 0;
  bool empty() const { return n == 0; }
};

struct DeviceMlp {  // a SwiGLU MLP: gate_up [2I, D], down [D, I] (+ dense biases)
  DeviceMatrix gate_up, down;
  DeviceVector gate_bias, up_bias, down_bias;
  int64_t width() const { return gate_up.rows / 2; }
};

struct DeviceExpertBank {
  std::vector<int> slot_of_expert;  // [E]: bank slot of each expert id, -1 when not loaded
  std::vector<DeviceMlp> experts;   // [Ek]: views into the bank, by slot
  int64_t width = 0;                // I
};

struct DeviceLayer {
  DeviceVector attn_norm, ffn_norm, q_norm, k_norm;
  DeviceMatrix q, k, v, o;
  DeviceVector q_bias, k_bias, v_bias, o_bias;
  DeviceMatrix q_a, q_b, kv_a, kv_b;          // MLA
  DeviceVector q_a_bias, q_a_norm, kv_a_bias, kv_a_norm;
  DeviceVector router;                        // [E, D] FP32, row-major
  int64_t router_rows = 0;
  DeviceExpertBank bank;
  DeviceMlp dense, shared;
  DeviceVector shared_gate;                   // [D]
};

class DeviceWeights {
 public:
  // Uploads to the current device; throws Error on a CUDA failure (out of memory, no device).
  DeviceWeights(const ModelConfig& config, const ModelWeights& host);

  // The embedding [V, D] for the lookup: BF16 when the checkpoint stores BF16 (exact), else FP32
  // (`embed_f32`), so the residual stream starts from the stored values. lm_head [V, D] is BF16,
  // the embedding itself when tied and BF16.
  DeviceMatrix embed, lm_head;
  const float* embed_f32 = nullptr;
  DeviceVector final_norm;
  std::vector<DeviceLayer> layers;
  uint64_t bytes() const { return bytes_; }

 private:
  DeviceMatrix matrix(const Matrix& m);
  DeviceVector vector(const Matrix& m);
  DeviceMlp mlp(const ExpertWeights& w);
  DeviceExpertBank bank(const LayerSpec& spec, const std::vector<ExpertWeights>& experts);
  // One allocation per uploaded piece, owned here.
  std::vector<DeviceArray<bf16>> bf16_;
  std::vector<DeviceArray<float>> f32_;
  uint64_t bytes_ = 0;
};

}  // namespace moescope::cuda
