// weights.h — model weights resolved from checkpoint tensor names per family (EMO pre-norm names,
// OLMoE q/k-norm names; experts one tensor each or fused), kept as the checkpoint stores them.
//
// Every GEMM weight is held in exactly one form, chosen once at load for the model's GEMM path
// (WeightPlan) and the tensor's dtype — never an FP32 copy of a BF16/F16 matrix:
//   F32      FP32 values: a zero-copy view of an F32 checkpoint's mapping (pages prefetched);
//   Stored16 BF16/F16 values as stored, 2 bytes each, widened a panel at a time inside the GEMM
//            (engine/cpu/gemm_stored.h): FP32 precision on machines without AMX;
//   Amx      the BF16x3 tile layout (engine/cpu/gemm_amx.h): FP32 precision on AMX machines, one
//            part (2 bytes) for BF16 weights, three for F32 ones;
//   Bf16     BF16 weights for `--precision bf16` (oneDNN's packed layout, or plain).
// Non-F32 bytes come through pread (never the mapping), so mapping pages never count as resident
// memory beside them. Vectors (norms, biases) and the router [E, D] are FP32 (widened: the router
// ranks experts in FP32, and both are < 0.1% of the weights). Experts a subset drops are never
// read from disk: not one of their pages is fetched.
// Shape legend (GEMMs): rows = outputs, cols = inputs, as PyTorch's Linear [out, in].
#pragma once

#include <Eigen/Core>
#include <string>
#include <vector>

#include "engine/checkpoint/checkpoint.h"
#include "engine/config.h"
#include "engine/checkpoint/dtype.h"
#include "engine/cpu/gemm_amx.h"
#include "engine/cpu/gemm_bf16.h"
#include "engine/subset.h"

namespace moescope {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MatrixView = Eigen::Map<const RowMatrix>;

// How a model's weight GEMMs run, chosen once at load (Model::load) and passed down.
struct WeightPlan {
  Precision precision = Precision::F32;
  bool amx = false;  // FP32 precision on AMX-BF16 tiles (amx_f32_available at load)
};

enum class WeightForm : uint8_t { F32, Stored16, Amx, Bf16 };
const char* weight_form_name(WeightForm f);

// A [rows, cols] weight (a vector has rows = 1) in one WeightForm.
// Move-only: `data`/`half` may point into `owned`/`owned_half`, so a copy would point at the source's buffers.
struct Matrix {
  Matrix() = default;
  Matrix(Matrix&&) noexcept = default;
  Matrix& operator=(Matrix&&) noexcept = default;
  Matrix(const Matrix&) = delete;
  Matrix& operator=(const Matrix&) = delete;

  int64_t rows = 0, cols = 0;
  WeightForm form = WeightForm::F32;
  const float* data = nullptr;     // F32: the values (a mapping view or `owned`)
  std::vector<float> owned;
  const uint16_t* half = nullptr;  // Stored16: the values in `half_dtype` (`owned_half`, or a tied embedding's)
  DType half_dtype = DType::BF16;
  std::vector<uint16_t> owned_half;
  AmxF32Weights amx;               // Amx
  Bf16Weights bf16;                // Bf16

  bool empty() const { return rows == 0; }
  MatrixView view() const { return MatrixView(data, rows, cols); }  // F32 form only
  size_t bytes() const;            // bytes this form holds (or maps)
  void row_f32(int64_t r, float* out) const;  // row r widened to FP32 (F32 and Stored16 forms)
};

struct ExpertWeights {
  Matrix gate_up;               // [2I, D]: gate rows, then up rows (one GEMM for both projections)
  Matrix down;                  // [D, I]
  Matrix gate_bias, up_bias, down_bias;  // dense layers with dense_mlp_bias only: [I], [I], [D]
  bool loaded() const { return !gate_up.empty(); }
  int64_t width() const { return gate_up.rows / 2; }  // I
};

// Where a layer's experts sit in the checkpoint, for a backend that uploads them as one bank
// (gate_up [E, 2I, D], down [E, D, I]; the CUDA backend): fused banks as the file holds them, or
// per-expert tensors addressed by expert id. Pointers into the model's Checkpoint.
struct ExpertBankSource {
  enum class Layout { None, Fused, InputMajor, PerExpert };
  Layout layout = Layout::None;
  const TensorInfo* gate_up = nullptr;  // Fused: [E, 2I, D] (gate rows, then up); InputMajor (Llama 4): [E, D, 2I]
  const TensorInfo* down = nullptr;     // Fused: [E, D, I]; InputMajor: [E, I, D]
  std::vector<const TensorInfo*> gate, up, down_per_expert;  // PerExpert: [I, D], [I, D], [D, I] by expert id
};

struct LayerWeights {
  Matrix attn_norm, ffn_norm;   // [D]
  Matrix q, k, v, o;            // q [H*Dh, D], k/v [Hkv*Dh, D], o [D, H*Dh]
  Matrix q_bias, k_bias, v_bias, o_bias;  // qkv_bias / o_bias only
  Matrix q_norm, k_norm;        // QkNorm::Full: [H*Dh], [Hkv*Dh]; QkNorm::PerHead: [Dh] each
  Matrix router;                // [E, D], FP32
  Matrix router_bias;           // DeepSeek-V3: e_score_correction_bias [E] (selection only)
  // Multi-head latent attention (DeepSeek); `q` holds q_proj when there is no q compression.
  Matrix q_a, q_a_bias, q_a_norm, q_b;       // q_a [Rq, D], q_a_norm [Rq], q_b [H*(nope+rope), Rq]
  Matrix kv_a, kv_a_bias, kv_a_norm, kv_b;   // kv_a [Rkv+rope, D], kv_a_norm [Rkv], kv_b [H*(nope+v), Rkv]
  std::vector<ExpertWeights> experts;  // E entries; dropped experts stay unloaded
  ExpertBankSource expert_source;      // the same experts (all E) as the file lays them out
  ExpertWeights dense;          // dense layers (E = 0)
  ExpertWeights shared;         // MoE layers of families with an always-on shared MLP: gate_up [2Sw, D]; down [D, Sw]
  Matrix shared_gate;           // Qwen2-MoE: [1, D], the shared MLP's output is scaled by sigmoid(h · gate)
};

// BF16 mode keeps the output head in vocabulary blocks of this many rows ([256, 4096] logit blocks;
// the other forms' blocks are set in model.cpp).
constexpr int64_t kHeadVocabBlock = 4096;

struct ModelWeights {
  Matrix embed;                 // [V, D], F32 or Stored16 (rows widened at lookup)
  Matrix lm_head;               // [V, D] (the embedding when tied and in the same form)
  std::vector<Bf16Weights> lm_head_blocks;  // Bf16 form: lm_head in vocabulary blocks of kHeadVocabBlock rows
  Matrix final_norm;            // [D]
  std::vector<LayerWeights> layers;
  WeightPlan plan;
  size_t resident_bytes = 0;    // bytes this process holds or maps for the model's weights
  // True when lm_head is the embedding itself (tied, in the same form): one copy, not two.
  bool head_is_embedding() const {
    return (lm_head.half && lm_head.half == embed.half) || (lm_head.data && lm_head.data == embed.data);
  }
  std::string storage_dtype;    // dtype of the layer weights on disk, e.g. "BF16"
};

// After a device backend has uploaded them: frees the host copies of every GEMM weight (the
// embedding and head included; shapes and forms stay, so the model still describes itself).
// Vectors and routers stay; resident_bytes drops by what was freed.
void release_host_gemm_weights(ModelWeights& w);

// The form a GEMM weight stored in `dtype` takes under `plan`.
WeightForm gemm_weight_form(const WeightPlan& plan, DType dtype);

// Resolves every tensor the config needs, checks its shape against the config, sets
// config.vocab_size from the embedding, and lays each GEMM weight out in its form under `plan`.
// Throws Error naming the tensor and both shapes.
ModelWeights load_weights(const Checkpoint& ckpt, ModelConfig& config, const ExpertSubset& subset, const WeightPlan& plan);

}  // namespace moescope
