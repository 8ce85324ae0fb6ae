// model.h — a loaded MoE checkpoint and its forward pass with router recording: packing, the
// layer loop, routing and records here; the arithmetic on a Backend (backend.h).
// Usage:
//   moescope::Model model = moescope::Model::load("path/to/checkpoint");
//   moescope::ForwardResult r = model.forward({ids_doc0, ids_doc1}, {.probs = true});
//   r.layers[i].topk_ids ... r.nll ...
// Documents are packed without padding into one batch; attention never crosses a document.
// Recorded names are stable across C++, JSON, SQLite and the GUI: topk_ids, topk_weights,
// router_logits, probs, doc_mean_probs, doc_topk_freq, nll.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/backend.h"
#include "engine/checkpoint/checkpoint.h"
#include "engine/config.h"
#include "engine/cpu/gemm_bf16.h"
#include "engine/rope_scaling.h"
#include "engine/subset.h"
#include "engine/tokenizer/tokenizer.h"
#include "engine/weights.h"

namespace moescope {

struct ForwardOptions {
  bool router_logits = false;  // keep raw router logits [T, E] per MoE layer
  bool probs = false;          // keep routing probabilities [T, E-S] per MoE layer
  bool logits = false;         // keep output logits [T, V] (tests; large)
  bool nll = true;             // per-token NLL of the next token
  const ExpertSubset* mask = nullptr;  // route as if only these experts existed (must be loaded)
  int last_layer = -1;                 // >= 0: stop after this layer (no later layers, no head, no NLL)
  bool easy_ep = false;                // accumulate EASY-EP expert scores per MoE layer
};

// Router decisions of one MoE layer over the packed batch.
struct LayerRecord {
  int layer = 0;                      // index among all layers (dense layers have no record)
  int num_experts = 0;                // E
  int num_standard = 0;               // E - S
  int k = 0;                          // experts per token
  std::vector<int32_t> topk_ids;      // [T, k]
  std::vector<float> topk_weights;    // [T, k]
  std::vector<float> router_logits;   // [T, E] raw, when requested
  std::vector<float> probs;           // [T, E-S], when requested
  std::vector<float> doc_mean_probs;  // [N, E-S] mean over the document's tokens of the routing probabilities
  std::vector<float> doc_topk_freq;   // [N, E-S] share of the document's tokens selecting each expert (row sums to k - S)
  // [E] EASY-EP (emo-reference.md §4.3), when requested: sum over the batch's (token, selected
  // expert) of weight * ||expert output|| * max(0, 1 - cos(u_t, u_t + y_t)).
  std::vector<double> easy_ep_scores;
};

// Wall time of the forward pass by stage (seconds), for benchmarks.
struct StageSeconds {
  double attention = 0;  // norms, q/k/v/o projections, RoPE, attention
  double router = 0;     // router GEMM, softmax/top-k, records
  double experts = 0;    // expert dispatch and SwiGLU GEMMs (dense MLPs too)
  double lm_head = 0;    // final norm, output GEMM, NLL
};

struct ForwardResult {
  std::vector<DocumentSpan> docs;     // N token ranges into the packed batch
  std::vector<int32_t> ids;           // [T]
  std::vector<float> nll;             // [T]: -log p(ids[t+1] | ids[..t]); NaN at each document's last token
  std::vector<float> logits;          // [T, V], when requested
  std::vector<LayerRecord> layers;    // MoE layers, in order
  StageSeconds seconds;
};

// How FP32-precision GEMMs run: Auto = on AMX-BF16 tiles (BF16x3) where the CPU has them, else
// BLAS/Eigen; Blas = never on the tiles. Programs read MOESCOPE_F32_GEMM once, at their edge
// (f32_gemm_from_environment); the engine never reads the environment.
enum class F32Gemm { Auto, Blas };
F32Gemm f32_gemm_from_environment();

struct LoadOptions {
  const ExpertSubset* subset = nullptr;  // load only these experts (others never read from disk)
  std::string subset_file;               // or read them from this subset JSON (subset.h), against the config read once here
  // A subset (either form) that names the model it was chosen for is refused on another model
  // (check_subset_model); true applies it anyway (`--force-subset`).
  bool force_subset = false;
  bool load_tokenizer = true;            // read DIR/tokenizer.json when present
  Precision precision = Precision::F32;  // of the weight GEMMs (norms, attention, router: always FP32)
  F32Gemm f32_gemm = F32Gemm::Auto;
  int threads = 0;                       // CPU threads of each forward pass (0: the calling thread's default)
  // Refuse, before reading any weight, a load whose estimated bytes exceed MemAvailable
  // (engine/memory_estimate.h); `--no-memory-check` turns it off.
  bool memory_check = true;
  // The device the forward passes run on; null: the CPU backend with the options above. A
  // device's weight GEMMs are its own (CUDA: BF16 with FP32 accumulation): `precision` must stay
  // F32, and the host keeps the weights as stored for the upload.
  std::shared_ptr<const BackendMaker> backend;
};

class Model {
 public:
  // Reads DIR/config.json, the safetensors and DIR/tokenizer.json; throws Error.
  static std::unique_ptr<Model> load(const std::string& dir, const LoadOptions& options = {});

  const ModelConfig& config() const { return config_; }
  const ModelWeights& weights() const { return weights_; }
  const Tokenizer* tokenizer() const { return tokenizer_.get(); }
  const Checkpoint& checkpoint() const { return *checkpoint_; }
  const std::string& dir() const { return dir_; }
  const ExpertSubset& loaded_subset() const { return loaded_; }  // the experts the load kept
  Precision precision() const { return weights_.plan.precision; }
  Device device() const { return backend_->device(); }
  const Backend& backend() const { return *backend_; }
  // Which kernels the weight GEMMs run on, e.g. "f32: AMX-BF16 tiles, BF16x3" (bench output).
  std::string gemm_kernels() const { return backend_->kernels(); }

  // Each document must be non-empty, within the context and use ids < V; throws Error.
  ForwardResult forward(const std::vector<std::vector<int32_t>>& documents, const ForwardOptions& options = {}) const;

 private:
  Model() = default;
  // Router, records and EASY-EP of MoE layer l on the host; the experts on the backend.
  void moe_layer(BackendPass& pass, int l, const Activations& h, const ForwardOptions& opt,
                 const std::vector<DocumentSpan>& docs, Activations& y, LayerRecord& rec, StageSeconds& seconds) const;

  std::string dir_;
  ModelConfig config_;
  std::unique_ptr<Checkpoint> checkpoint_;
  ModelWeights weights_;
  ExpertSubset loaded_;
  std::unique_ptr<Backend> backend_;  // made last: it refers to config_ and weights_
  RopeFrequencies rope_;  // of the rotated dims, scaled per config.rope (rope_scaling.h)
  std::unique_ptr<Tokenizer> tokenizer_;
};

}  // namespace moescope
