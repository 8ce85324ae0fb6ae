// backend.h — the seam between the forward pass and where its arithmetic runs.
//
// Model::forward (model.cpp) keeps what must be identical on every device: packing documents,
// the layer loop, routing (router.h) from router logits brought to the host, the records and the
// timing. A Backend holds the model's weights on its device and runs everything else: embedding,
// norms, attention over packed documents, router logits, the experts of a given routing, the
// shared and dense MLPs, and the output head with NLL folded over vocabulary chunks. So a routing
// decision can differ between backends only through the logits.
//
// The CPU backend (engine/cpu/cpu_backend.h) runs today's kernels; precision, GEMM path and
// threads are fixed when it is made (Model::load), never read from globals or the environment.
// Shape legend (the project's one): T tokens of the packed batch, N documents, D hidden, E
// experts of a layer (S shared among them), K experts per token, I expert width, V vocabulary.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/checkpoint/checkpoint.h"
#include "engine/config.h"
#include "engine/cpu/cpu_ops.h"  // ActMatrix, DocumentSpan, RopeTable
#include "engine/memory_estimate.h"
#include "engine/subset.h"
#include "engine/weights.h"

namespace moescope {

enum class DeviceKind { Cpu, Cuda };

struct Device {
  DeviceKind kind = DeviceKind::Cpu;
  int index = 0;                 // cuda:N
  std::string name() const { return kind == DeviceKind::Cpu ? "cpu" : "cuda:" + std::to_string(index); }
};

// Activations [rows, cols], FP32, row-major, where a backend keeps them. On the CPU they are
// `host`; a device backend keeps its buffer in `buffer` and its shape in rows/cols.
struct Activations {
  Device device;
  ActMatrix host;                 // DeviceKind::Cpu
  std::shared_ptr<void> buffer;   // other devices: the backend's own storage
  int64_t rows_ = 0, cols_ = 0;   // other devices
  int64_t rows() const { return device.kind == DeviceKind::Cpu ? host.rows() : rows_; }
  int64_t cols() const { return device.kind == DeviceKind::Cpu ? host.cols() : cols_; }
};

// One forward pass's batch, packed on the host: token ids [T], document spans [N], and RoPE's
// cos/sin by document position (positions restart in every document).
struct PackedBatch {
  std::vector<int32_t> ids;
  std::vector<DocumentSpan> docs;
  RopeTable rope;
};

// The host's routing of one MoE layer: topk_ids / topk_weights [T, K] (ids are original expert ids).
struct TokenRouting {
  int k = 0;
  const int32_t* ids = nullptr;
  const float* weights = nullptr;
};

enum class NormSite { Attention, FeedForward, Final };

// What the output head computes; every result lands on the host.
struct HeadRequest {
  bool nll = true;                // -log p(ids[t+1]) per token, NaN at each document's last token
  bool logits = false;            // the full [T, V] (tests; large)
};
struct HeadResult {
  std::vector<float> nll;         // [T]
  std::vector<float> logits;      // [T, V], when asked
};

// One forward pass's state on the device (scratch buffers, the batch's positions). Used by one
// thread; made by Backend::begin, so concurrent passes on one model never share it.
class BackendPass {
 public:
  virtual ~BackendPass() = default;
  virtual Activations activations() = 0;                                  // empty, on this device
  virtual void embed(Activations& x) = 0;                                 // x [T, D] = embed[ids]
  virtual void rms_norm(NormSite site, int layer, const Activations& x, Activations& y) = 0;  // y = norm(x)
  virtual void rms_norm_inplace(NormSite site, int layer, Activations& x) = 0;
  virtual void add(Activations& x, const Activations& y) = 0;             // x += y, both [T, D]
  virtual void attention(int layer, const Activations& x, Activations& out) = 0;  // out [T, D]
  virtual void router_logits(int layer, const Activations& h, std::vector<float>& logits) = 0;  // [T, E] on the host
  // y [T, D] = sum over each token's routed experts of weight * expert(h) (Llama 4 scales the
  // input instead). slot_norms [T*K], when given: ||expert output|| per (token, slot), for EASY-EP.
  virtual void experts(int layer, const Activations& h, const TokenRouting& routing, Activations& y,
                       std::vector<double>* slot_norms) = 0;
  virtual void shared_mlp(int layer, const Activations& h, Activations& y) = 0;  // y += (gated) shared MLP(h)
  virtual void dense_mlp(int layer, const Activations& h, Activations& y) = 0;   // y = MLP(h), dense layers
  virtual void output_head(const Activations& x, const HeadRequest& request, HeadResult& result) = 0;
  virtual void to_host(const Activations& x, ActMatrix& out) = 0;
  // Waits for the work queued so far (a device backend runs asynchronously): stage timings wait
  // here, so each stage's seconds are its own.
  virtual void synchronize() {}
};

// A loaded model's weights on one device and the kernels that use them. Shared by every thread
// that runs the model (const); each forward pass runs in its own BackendPass.
class Backend {
 public:
  virtual ~Backend() = default;
  virtual Device device() const = 0;
  virtual std::string kernels() const = 0;  // which kernels the weight GEMMs run on (bench output)
  // Bytes of weights the backend holds on its device; 0 for the CPU, which computes on the
  // host's weights (a device backend's host copies of GEMM weights are freed after its upload).
  virtual uint64_t device_weight_bytes() const { return 0; }
  virtual std::unique_ptr<BackendPass> begin(const PackedBatch& batch) const = 0;
};

// Makes the backend of a device other than the CPU. The engine never includes a device's code:
// programs pick a maker at their edge (kernels/backend_maker.h, from `--device`) and pass it in
// LoadOptions; Model::load asks it first whether the model fits, then loads the host weights with
// the plan that keeps them as stored (WeightPlan{F32, no AMX}), then makes the backend from them.
class BackendMaker {
 public:
  virtual ~BackendMaker() = default;
  virtual Device device() const = 0;
  // Throws Error naming `dir`, before any weight is read, when the model will not fit on the
  // device; `host` counts the weights as stored (memory_estimate.h).
  virtual void check_fits(const std::string& dir, const ModelConfig& config, const MemoryEstimate& host) const = 0;
  // config and weights outlive the backend (both are the Model's).
  virtual std::unique_ptr<Backend> make(const ModelConfig& config, const ModelWeights& weights) const = 0;
};

}  // namespace moescope
