// memory_estimate.cpp — counting a load's resident bytes from the headers (memory_estimate.h).
#include "engine/memory_estimate.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>

#include "engine/error.h"
#include "engine/checkpoint/tensor_names.h"

namespace moescope {

namespace {

bool starts_with(const std::string& s, const std::string& head) { return s.compare(0, head.size(), head) == 0; }

// Bytes of a GEMM weight [N, K] (numel = N * K; 3-D banks pass their per-matrix N, K) in its form.
uint64_t gemm_bytes(const WeightPlan& plan, DType dtype, uint64_t numel, int64_t N, int64_t K) {
  switch (gemm_weight_form(plan, dtype)) {
    case WeightForm::F32: return 4 * numel;
    case WeightForm::Stored16:
    case WeightForm::Bf16: return 2 * numel;
    case WeightForm::Amx: {
      // Padded to 32 x 32 tiles; one BF16 part when the weights are BF16, three otherwise.
      const uint64_t per = uint64_t((N + 31) / 32 * 32) * uint64_t((K + 31) / 32 * 32);
      const uint64_t matrices = N * K > 0 ? numel / uint64_t(N * K) : 0;
      return 2 * per * matrices * (dtype == DType::BF16 ? 1 : 3);
    }
  }
  return 0;
}

// The last two dims of a tensor as a GEMM's [N, K] (a vector is [1, n]).
void gemm_dims(const TensorInfo& t, int64_t& N, int64_t& K) {
  K = t.shape.empty() ? 1 : t.shape.back();
  N = t.shape.size() >= 2 ? t.shape[t.shape.size() - 2] : 1;
}

// The expert number after "experts." in `rest` ("3.gate_proj.weight" -> 3); -1 for fused banks.
int expert_number(const std::string& rest) {
  size_t i = 0;
  int v = 0;
  while (i < rest.size() && i < 9 && std::isdigit(static_cast<unsigned char>(rest[i]))) v = v * 10 + (rest[i++] - '0');
  return i == 0 || i >= rest.size() || rest[i] != '.' ? -1 : v;
}

}  // namespace

MemoryEstimate estimate_memory(const Checkpoint& ckpt, const ModelConfig& c, const ExpertSubset& subset,
                               const WeightPlan& plan) {
  MemoryEstimate m;
  const std::vector<std::string> names = ckpt.names();
  const TensorInfo* embed = ckpt.find(model_tensor(c, "model.embed_tokens.weight"));
  const TensorInfo* head = ckpt.find(model_tensor(c, "lm_head.weight"));
  int64_t D = c.hidden_size, widest = std::max<int64_t>(D, int64_t(c.num_heads) * std::max(c.head_dim, c.mla.qk_head_dim()));
  if (embed) {
    m.weights += embed->nbytes;  // as stored (F32 viewed in place)
    if (!head) {  // tied: the head is the embedding unless its form differs (then a second layout)
      const WeightForm form = gemm_weight_form(plan, embed->dtype);
      const bool shared = form == (embed->dtype == DType::F32 ? WeightForm::F32 : WeightForm::Stored16);
      if (!shared) m.weights += gemm_bytes(plan, embed->dtype, uint64_t(embed->numel()), embed->shape[0], D);
    }
  }
  if (head) m.weights += gemm_bytes(plan, head->dtype, uint64_t(head->numel()), head->shape[0], D);
  if (const TensorInfo* norm = ckpt.find(model_tensor(c, "model.norm.weight"))) m.weights += 4 * uint64_t(norm->numel());

  DType expert_dtype = embed ? embed->dtype : DType::BF16;
  for (int l = 0; l < c.num_layers; ++l) {
    const LayerSpec& spec = c.layers[size_t(l)];
    const LayerTensorNames n = layer_tensor_names(c, ckpt, l);
    if (spec.is_moe()) {
      ++m.moe_layers;
      m.max_standard = std::max(m.max_standard, spec.num_standard());
      widest = std::max<int64_t>(widest, 2 * std::max<int64_t>(c.expert_width, c.shared_width));
    } else {
      widest = std::max<int64_t>(widest, 2 * c.dense_width);
    }
    for (const std::string& name : names) {
      if (!starts_with(name, n.prefix)) continue;
      const TensorInfo& t = ckpt.get(name);
      const uint64_t numel = uint64_t(t.numel());
      if (name == n.router || t.shape.size() <= 1) {  // routers and vectors: FP32
        m.weights += 4 * numel;
        continue;
      }
      int64_t N = 0, K = 0;
      gemm_dims(t, N, K);
      if (!spec.is_moe() || !starts_with(name, n.experts)) {
        m.weights += gemm_bytes(plan, t.dtype, numel, N, K);
        continue;
      }
      const int e = expert_number(name.substr(n.experts.size()));
      uint64_t kept_numel = 0;
      if (e >= 0) {
        kept_numel = e < spec.num_experts && subset.keeps(c, l, e) ? numel : 0;
      } else if (spec.num_experts > 0) {  // a fused bank [E, ...]: an equal share per kept expert
        int kept = 0;
        for (int x = 0; x < spec.num_experts; ++x) kept += subset.keeps(c, l, x) ? 1 : 0;
        kept_numel = numel / uint64_t(spec.num_experts) * uint64_t(kept);
      }
      const uint64_t bytes = gemm_bytes(plan, t.dtype, kept_numel, N, K);
      m.weights += bytes;
      m.experts += bytes;
      expert_dtype = t.dtype;
    }
  }
  // Per-expert bytes of the widest layer: gate, up [I, D] and down [D, I] in the form of the
  // experts' dtype.
  const DType dt = expert_dtype;
  const int64_t I = c.expert_width;
  m.per_expert = gemm_bytes(plan, dt, uint64_t(2 * I * D), 2 * I, D) + gemm_bytes(plan, dt, uint64_t(D * I), D, I);
  // Working memory: the MoE slot buffer (256 MiB, model.cpp) and about ten [T, widest] FP32
  // activation buffers of an 8192-token batch.
  m.working = (uint64_t(256) << 20) + 10 * 8192 * uint64_t(widest) * 4;
  return m;
}

std::optional<uint64_t> available_memory() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  uint64_t kib = 0;
  std::string unit;
  while (in >> key >> kib) {
    std::getline(in, unit);
    if (key == "MemAvailable:") return kib * 1024;
  }
  return std::nullopt;
}

int experts_per_layer_that_fit(const MemoryEstimate& base, uint64_t available) {
  if (base.total() >= available) return 0;
  if (base.moe_layers == 0 || base.per_expert == 0) return base.max_standard;
  const uint64_t fit = (available - base.total()) / (base.per_expert * uint64_t(base.moe_layers));
  return int(std::min<uint64_t>(fit, uint64_t(base.max_standard)));
}

std::string gib(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f GiB", double(bytes) / double(uint64_t(1) << 30));
  return buf;
}

void check_memory_fits(const std::string& dir, const MemoryEstimate& e, uint64_t available) {
  if (e.total() <= available) return;
  fail(dir, "will not fit in memory: loading it needs about " + gib(e.total()) + " (weights " + gib(e.weights) +
                " + working memory " + gib(e.working) + ") but this machine has " + gib(available) +
                " available (MemAvailable). Load fewer experts with --keep SUBSET.json (`moescope-cli info` says how "
                "many per layer fit), or pass --no-memory-check to load anyway");
}

}  // namespace moescope
