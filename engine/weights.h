// weights.h — model weights as fp32 row-major matrices, resolved from checkpoint tensor names
// per family (EMO pre-norm names, OLMoE q/k-norm names; experts one tensor each or fused).
// F32 tensors are viewed in place in the mapping (their pages prefetched); BF16/F16 are read
// with pread and widened once on load, so their mapping pages never count as resident memory.
// Experts a subset drops are never read from disk: not one of their pages is fetched.
#pragma once

#include <Eigen/Core>
#include <string>
#include <vector>

#include "engine/checkpoint.h"
#include "engine/config.h"
#include "engine/gemm_amx.h"
#include "engine/gemm_bf16.h"
#include "engine/subset.h"

namespace moescope {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MatrixView = Eigen::Map<const RowMatrix>;

// A [rows, cols] fp32 matrix (PyTorch Linear layout [out, in]); a vector has rows = 1.
// Move-only: `data` may point into `owned`, so a copy would point at the source's buffer.
struct Matrix {
  Matrix() = default;
  Matrix(Matrix&&) noexcept = default;
  Matrix& operator=(Matrix&&) noexcept = default;
  Matrix(const Matrix&) = delete;
  Matrix& operator=(const Matrix&) = delete;

  const float* data = nullptr;
  int64_t rows = 0, cols = 0;
  std::vector<float> owned;  // set when widened from BF16/F16 (or copied for alignment)
  // BF16 copy [rows, cols] for the BF16 compute mode (filled by add_bf16_copies). For an expert's
  // gate it holds gate and up rows together [2I, D], matching the fused FP32 layout.
  Bf16Weights bf16;
  // BF16x3 split [rows, cols] for the FP32 mode on AMX machines (filled by add_amx_f32_copies);
  // gate holds [gate; up] like `bf16`.
  AmxF32Weights amx;

  bool empty() const { return data == nullptr; }
  MatrixView view() const { return MatrixView(data, rows, cols); }
  size_t bytes() const { return size_t(rows * cols) * sizeof(float); }
};

struct ExpertWeights {
  Matrix gate, up, down;        // gate, up [I, D]; down [D, I]. Experts keep up right after gate in memory.
  Matrix gate_bias, up_bias, down_bias;  // dense layers with dense_mlp_bias only
  bool loaded() const { return !gate.empty(); }
};

struct LayerWeights {
  Matrix attn_norm, ffn_norm;   // [D]
  Matrix q, k, v, o;            // q [H*Dh, D], k/v [Hkv*Dh, D], o [D, H*Dh]
  Matrix q_bias, k_bias, v_bias, o_bias;  // qkv_bias / o_bias only
  Matrix q_norm, k_norm;        // QkNorm::Full: [H*Dh], [Hkv*Dh]; QkNorm::PerHead: [Dh] each
  Matrix router;                // [E, D]
  Matrix router_bias;           // DeepSeek-V3: e_score_correction_bias [E] (selection only)
  // Multi-head latent attention (DeepSeek); `q` holds q_proj when there is no q compression.
  Matrix q_a, q_a_bias, q_a_norm, q_b;       // q_a [Rq, D], q_a_norm [Rq], q_b [H*(nope+rope), Rq]
  Matrix kv_a, kv_a_bias, kv_a_norm, kv_b;   // kv_a [Rkv+rope, D], kv_a_norm [Rkv], kv_b [H*(nope+v), Rkv]
  std::vector<ExpertWeights> experts;  // E entries; dropped experts stay unloaded
  ExpertWeights dense;          // dense layers (E = 0)
  ExpertWeights shared;         // MoE layers of families with an always-on shared MLP: gate, up [Sw, D]; down [D, Sw]
  Matrix shared_gate;           // Qwen2-MoE: [1, D], the shared MLP's output is scaled by sigmoid(h · gate)
};

// BF16 mode keeps the output head in vocabulary blocks of this many rows ([256, 4096] logit blocks;
// the FP32 head's blocks are set in model.cpp).
constexpr int64_t kHeadVocabBlock = 4096;

struct ModelWeights {
  Matrix embed;                 // [V, D]
  Matrix lm_head;               // [V, D] (the embedding when tied)
  std::vector<Bf16Weights> lm_head_blocks;  // BF16 mode: lm_head in vocabulary blocks of kHeadVocabBlock rows
  AmxF32Weights lm_head_amx;    // FP32 mode on AMX machines: the BF16x3 split of lm_head [V, D]
  Matrix final_norm;            // [D]
  std::vector<LayerWeights> layers;
  size_t resident_bytes = 0;    // fp32 bytes this process holds or maps for the model
  std::string storage_dtype;    // dtype of the layer weights on disk, e.g. "BF16"
};

// BF16 compute mode: BF16 copies of the weights of every GEMM except the router (attention
// projections, experts, dense MLPs, output head). Exact for BF16 checkpoints.
void add_bf16_copies(ModelWeights& w);

// FP32 compute mode where the CPU has AMX-BF16 (amx_f32_available): BF16x3 splits of the same
// matrices, so their GEMMs run on the tiles at FP32 accuracy (engine/gemm_amx.h). Costs 2 bytes
// per weight for BF16 checkpoints (exact in one part), 6 for FP32 ones; counted in resident_bytes.
void add_amx_f32_copies(ModelWeights& w);

// Resolves every tensor the config needs, checks its shape against the config, and sets
// config.vocab_size from the embedding. Throws Error naming the tensor and both shapes.
ModelWeights load_weights(const Checkpoint& ckpt, ModelConfig& config, const ExpertSubset& subset);

}  // namespace moescope
