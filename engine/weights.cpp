// weights.cpp — tensor-name resolution, shape checks and fp32 materialisation of model weights.
#include "engine/weights.h"

#include "engine/gemm_bf16.h"

#include <algorithm>
#include <cstring>

#include "engine/error.h"
#include "engine/tensor_names.h"

namespace moescope {

namespace {

std::string shape_str(std::initializer_list<int64_t> dims) {
  std::string s = "[";
  size_t i = 0;
  for (int64_t d : dims) s += (i++ ? ", " : "") + std::to_string(d);
  return s + "]";
}

class Loader {
 public:
  Loader(const Checkpoint& ckpt, ModelWeights& w) : ckpt_(ckpt), w_(w) {}

  // A whole tensor that must have exactly `dims` (legend in `legend`, e.g. "[H*Dh, D]").
  Matrix tensor(const std::string& name, std::initializer_list<int64_t> dims, const char* legend) {
    const TensorInfo& t = ckpt_.get(name);
    check(t, dims, legend);
    int64_t rows = dims.size() == 1 ? 1 : *dims.begin();
    int64_t cols = dims.size() == 1 ? *dims.begin() : *(dims.begin() + 1);
    return materialise(t, t.data, rows, cols);
  }
  Matrix optional_tensor(const std::string& name, std::initializer_list<int64_t> dims, const char* legend) {
    return ckpt_.find(name) ? tensor(name, dims, legend) : Matrix{};
  }
  // Rows [row0, row0+rows) of matrix `index` inside a 3-D tensor [n, R, C] (fused experts).
  Matrix slice3(const TensorInfo& t, int64_t index, int64_t row0, int64_t rows) {
    const int64_t R = t.shape[1], C = t.shape[2];
    const size_t elem = dtype_size(t.dtype);
    const unsigned char* p = t.data + size_t((index * R + row0) * C) * elem;
    return materialise(t, p, rows, C);
  }
  // Matrix `index` [R, C] of a 3-D tensor [n, R, C], transposed to [C, R] (Llama 4 stores experts
  // input-major: x @ W; the engine keeps PyTorch Linear's [out, in]).
  Matrix slice3_transposed(const TensorInfo& t, int64_t index) {
    Matrix m = slice3(t, index, 0, t.shape[1]);
    Matrix out;
    out.rows = m.cols;
    out.cols = m.rows;
    out.owned.resize(size_t(out.rows * out.cols));
    Eigen::Map<RowMatrix>(out.owned.data(), out.rows, out.cols) = m.view().transpose();
    out.data = out.owned.data();
    return out;
  }
  void check(const TensorInfo& t, std::initializer_list<int64_t> dims, const char* legend) {
    if (!dtype_is_float_weight(t.dtype))
      fail_expected(ckpt_.dir() + ": tensor '" + t.name + "'", "unsupported weight dtype", "F32, BF16 or F16", dtype_name(t.dtype));
    bool ok = t.shape.size() == dims.size();
    size_t i = 0;
    for (int64_t d : dims) ok = ok && t.shape[i++] == d;
    if (!ok)
      fail_expected(ckpt_.dir() + ": tensor '" + t.name + "'", "shape does not match config.json",
                    shape_str(dims) + " = " + legend, t.shape_string());
  }

  // An expert's gate and up [I, D] as one [2I, D] block (gate rows, then up rows), so the two
  // projections run as one GEMM. Viewed in place when both are F32 and already adjacent (fused
  // F32 checkpoints); otherwise widened straight into one buffer.
  void gate_up(ExpertWeights& x, const TensorInfo& gt, const unsigned char* gp, const TensorInfo& ut,
               const unsigned char* upp, int64_t I, int64_t D) {
    const size_t n = size_t(I * D);
    if (viewable(gt, gp) && viewable(ut, upp) && upp == gp + n * sizeof(float)) {
      x.gate = materialise(gt, gp, I, D);
      x.up = materialise(ut, upp, I, D);
      return;
    }
    x.gate.rows = x.up.rows = I;
    x.gate.cols = x.up.cols = D;
    x.gate.owned.resize(2 * n);
    widen(gt, gp, n, x.gate.owned.data());
    widen(ut, upp, n, x.gate.owned.data() + n);
    x.gate.data = x.gate.owned.data();
    x.up.data = x.gate.data + n;
    account(gt, 2 * n);
  }

  // Starts fetching [p, p + nbytes) of t's file in the background (exactly that range).
  void prefetch(const TensorInfo& t, const unsigned char* p, size_t nbytes) {
    if (t.source) t.source->prefetch(p, nbytes);
  }

 private:
  static bool viewable(const TensorInfo& t, const unsigned char* p) {
    return t.dtype == DType::F32 && reinterpret_cast<uintptr_t>(p) % alignof(float) == 0;
  }

  Matrix materialise(const TensorInfo& t, const unsigned char* p, int64_t rows, int64_t cols) {
    Matrix m;
    m.rows = rows;
    m.cols = cols;
    const size_t n = size_t(rows * cols);
    if (viewable(t, p)) {
      m.data = reinterpret_cast<const float*>(p);  // zero-copy view of the mapping
      prefetch(t, p, n * sizeof(float));  // faults then find the pages; no read-around
    } else {
      m.owned.resize(n);
      widen(t, p, n, m.owned.data());
      m.data = m.owned.data();
    }
    account(t, n);
    return m;
  }

  // Widens n elements at p (inside t's mapping) into dst. The bytes come through pread in
  // chunks, never through the mapping: touched mapping pages would count as resident memory on
  // top of the widened copy, and faults read around them (neighbouring, maybe dropped, experts).
  void widen(const TensorInfo& t, const unsigned char* p, size_t n, float* dst) {
    if (!t.source) {
      convert_to_f32(t.dtype, p, dst, n);
      return;
    }
    if (t.dtype == DType::F32) {
      t.source->read_data(p, n * sizeof(float), dst);
      return;
    }
    const size_t elem = dtype_size(t.dtype), chunk = kStagingBytes / elem;
    prefetch(t, p, n * elem);  // one request for the whole range, not one per chunk
    staging_.resize(kStagingBytes);
    for (size_t i = 0; i < n; i += chunk) {
      const size_t k = std::min(chunk, n - i);
      t.source->read_data(p + i * elem, k * elem, staging_.data());
      convert_to_f32(t.dtype, staging_.data(), dst + i, k);
    }
  }

  void account(const TensorInfo& t, size_t n) {
    w_.resident_bytes += n * sizeof(float);
    if (w_.storage_dtype.empty()) w_.storage_dtype = dtype_name(t.dtype);
  }

  static constexpr size_t kStagingBytes = size_t(1) << 20;
  const Checkpoint& ckpt_;
  ModelWeights& w_;
  std::vector<unsigned char> staging_;
};

// Kept experts are read this many ahead: while one is widened, the disk fetches the next ones
// (reads through pread alone would wait for each request in turn).
constexpr size_t kExpertLookahead = 4;

void load_experts(Loader& ld, const Checkpoint& ckpt, const ModelConfig& c, const ExpertSubset& subset, int l,
                  const LayerTensorNames& names, LayerWeights& lw) {
  const LayerSpec& spec = c.layers[size_t(l)];
  const std::string& p = names.experts;
  const int64_t D = c.hidden_size, I = c.expert_width, E = spec.num_experts;
  lw.experts.resize(size_t(E));
  std::vector<int> kept;
  for (int e = 0; e < E; ++e)
    if (subset.keeps(c, l, e)) kept.push_back(e);
  // Llama 4 keeps every expert in two input-major banks: gate_up_proj [E, D, 2I], down_proj [E, I, D].
  if (c.arch == Arch::Llama4 && ckpt.find(p + "gate_up_proj")) {
    const TensorInfo& gu = ckpt.get(p + "gate_up_proj");
    const TensorInfo& down = ckpt.get(p + "down_proj");
    ld.check(gu, {E, D, 2 * I}, "[E, D, 2*I] (Llama 4, input-major)");
    ld.check(down, {E, I, D}, "[E, I, D] (Llama 4, input-major)");
    for (int e : kept) {
      ExpertWeights& x = lw.experts[size_t(e)];
      x.gate = ld.slice3_transposed(gu, e);  // [2I, D]: gate rows, then up rows
      x.up.data = x.gate.data + I * D;
      x.up.rows = I;
      x.up.cols = D;
      x.gate.rows = I;
      x.down = ld.slice3_transposed(down, e);  // [D, I]
    }
    return;
  }
  // transformers >= 5 may save the in-memory fused layout: gate_up_proj [E, 2I, D] (gate rows
  // first, then up), down_proj [E, D, I]. Hub checkpoints hold one tensor per expert.
  const TensorInfo* fused_gate_up = ckpt.find(p + "gate_up_proj");
  if (fused_gate_up) {
    const TensorInfo& down = ckpt.get(p + "down_proj");
    ld.check(*fused_gate_up, {E, 2 * I, D}, "[E, 2*I, D]");
    ld.check(down, {E, D, I}, "[E, D, I]");
    const size_t gu_bytes = size_t(2 * I * D) * dtype_size(fused_gate_up->dtype), d_bytes = size_t(D * I) * dtype_size(down.dtype);
    auto prefetch = [&](size_t i) {
      if (i >= kept.size()) return;
      ld.prefetch(*fused_gate_up, fused_gate_up->data + size_t(kept[i]) * gu_bytes, gu_bytes);
      ld.prefetch(down, down.data + size_t(kept[i]) * d_bytes, d_bytes);
    };
    for (size_t i = 0; i < kExpertLookahead; ++i) prefetch(i);
    for (size_t i = 0; i < kept.size(); ++i) {
      prefetch(i + kExpertLookahead);
      ExpertWeights& x = lw.experts[size_t(kept[i])];
      const unsigned char* g = fused_gate_up->data + size_t(kept[i]) * gu_bytes;
      ld.gate_up(x, *fused_gate_up, g, *fused_gate_up, g + gu_bytes / 2, I, D);
      x.down = ld.slice3(down, kept[i], 0, D);
    }
    return;
  }
  if (!ckpt.find(names.expert(0, names.gate)))
    fail(ckpt.dir(), "layer " + std::to_string(l) + " has " + std::to_string(E) + " experts in config.json but neither '" +
                         names.expert(0, names.gate) + "' nor '" + p + "gate_up_proj' is in the checkpoint");
  if (ckpt.find(names.expert(E, names.gate)))
    fail_expected(ckpt.dir() + ": tensor '" + names.expert(E, names.gate) + "'",
                  "more experts in the checkpoint than in config.json", std::to_string(E) + " experts in layer " + std::to_string(l),
                  "at least " + std::to_string(E + 1));
  for (int e = 0; e < E; ++e) ckpt.get(names.expert(e, names.gate));  // dropped ones too: never read
  auto name = [&](int e, const char* part) { return names.expert(e, part); };
  auto prefetch = [&](size_t i) {
    if (i >= kept.size()) return;
    for (const char* part : {names.gate, names.up, names.down})
      if (const TensorInfo* t = ckpt.find(name(kept[i], part))) ld.prefetch(*t, t->data, t->nbytes);
  };
  for (size_t i = 0; i < kExpertLookahead; ++i) prefetch(i);
  for (size_t i = 0; i < kept.size(); ++i) {
    prefetch(i + kExpertLookahead);
    ExpertWeights& x = lw.experts[size_t(kept[i])];
    const TensorInfo& g = ckpt.get(name(kept[i], names.gate));
    const TensorInfo& u = ckpt.get(name(kept[i], names.up));
    ld.check(g, {I, D}, "[I, D]");
    ld.check(u, {I, D}, "[I, D]");
    ld.gate_up(x, g, g.data, u, u.data, I, D);
    x.down = ld.tensor(name(kept[i], names.down), {D, I}, "[D, I]");
  }
}

// DeepSeek's multi-head latent attention projections (legend in weights.h).
void load_mla(Loader& ld, const ModelConfig& c, const std::string& a, LayerWeights& lw) {
  const MlaSpec& m = c.mla;
  const int64_t D = c.hidden_size, H = c.num_heads, Dqk = m.qk_head_dim();
  if (m.q_lora_rank > 0) {
    const int64_t R = m.q_lora_rank;
    lw.q_a = ld.tensor(a + "q_a_proj.weight", {R, D}, "[q_lora_rank, D]");
    if (c.qkv_bias) lw.q_a_bias = ld.tensor(a + "q_a_proj.bias", {R}, "[q_lora_rank]");
    lw.q_a_norm = ld.tensor(a + "q_a_layernorm.weight", {R}, "[q_lora_rank]");
    lw.q_b = ld.tensor(a + "q_b_proj.weight", {H * Dqk, R}, "[H*(qk_nope+qk_rope), q_lora_rank]");
  } else {
    lw.q = ld.tensor(a + "q_proj.weight", {H * Dqk, D}, "[H*(qk_nope+qk_rope), D]");
  }
  const int64_t R = m.kv_lora_rank;
  lw.kv_a = ld.tensor(a + "kv_a_proj_with_mqa.weight", {R + m.qk_rope_head_dim, D}, "[kv_lora_rank+qk_rope, D]");
  if (c.qkv_bias) lw.kv_a_bias = ld.tensor(a + "kv_a_proj_with_mqa.bias", {R + m.qk_rope_head_dim}, "[kv_lora_rank+qk_rope]");
  lw.kv_a_norm = ld.tensor(a + "kv_a_layernorm.weight", {R}, "[kv_lora_rank]");
  lw.kv_b = ld.tensor(a + "kv_b_proj.weight", {H * (m.qk_nope_head_dim + m.v_head_dim), R}, "[H*(qk_nope+v_head_dim), kv_lora_rank]");
  lw.o = ld.tensor(a + "o_proj.weight", {D, H * m.v_head_dim}, "[D, H*v_head_dim]");
}

}  // namespace

ModelWeights load_weights(const Checkpoint& ckpt, ModelConfig& c, const ExpertSubset& subset) {
  ModelWeights w;
  Loader ld(ckpt, w);
  const std::string embed_name = model_tensor(c, "model.embed_tokens.weight"), head_name = model_tensor(c, "lm_head.weight");
  const TensorInfo& embed = ckpt.get(embed_name);
  if (embed.shape.size() != 2 || embed.shape[1] != c.hidden_size)
    fail_expected(ckpt.dir() + ": tensor '" + embed_name + "'", "shape does not match config.json",
                  "[V, " + std::to_string(c.hidden_size) + "] = [V, D]", embed.shape_string());
  const int64_t V = embed.shape[0], D = c.hidden_size;
  if (V < 1 || V > int64_t(INT32_MAX))
    fail_expected(ckpt.dir() + ": tensor '" + embed_name + "'", "vocabulary size out of range",
                  "1 to 2^31-1 rows", embed.shape_string());
  c.vocab_size = int(V);  // V comes from the tensors, never from config.json (emo-reference.md §1.2)
  w.embed = ld.tensor(embed_name, {V, D}, "[V, D]");
  if (ckpt.find(head_name)) {
    w.lm_head = ld.tensor(head_name, {V, D}, "[V, D] (V from the embedding)");
  } else if (c.tie_word_embeddings) {
    w.lm_head.data = w.embed.data;  // tied: a view of the embedding, no second copy
    w.lm_head.rows = V;
    w.lm_head.cols = D;
  } else {
    fail(ckpt.dir(), "tensor '" + head_name + "' is missing and config.json does not set tie_word_embeddings");
  }
  w.final_norm = ld.tensor(model_tensor(c, "model.norm.weight"), {D}, "[D]");

  const int64_t H = c.num_heads, Hkv = c.num_kv_heads, Dh = c.head_dim;
  w.layers.resize(size_t(c.num_layers));
  for (int l = 0; l < c.num_layers; ++l) {
    LayerWeights& lw = w.layers[size_t(l)];
    const LayerSpec& spec = c.layers[size_t(l)];
    const LayerTensorNames names = layer_tensor_names(c, ckpt, l);
    const std::string& p = names.prefix;
    lw.attn_norm = ld.tensor(names.attn_norm, {D}, "[D]");
    lw.ffn_norm = ld.tensor(names.ffn_norm, {D}, "[D]");
    if (c.mla.enabled) {
      load_mla(ld, c, p + "self_attn.", lw);
    } else {
      lw.q = ld.tensor(p + "self_attn.q_proj.weight", {H * Dh, D}, "[H*Dh, D]");
      lw.k = ld.tensor(p + "self_attn.k_proj.weight", {Hkv * Dh, D}, "[Hkv*Dh, D]");
      lw.v = ld.tensor(p + "self_attn.v_proj.weight", {Hkv * Dh, D}, "[Hkv*Dh, D]");
      lw.o = ld.tensor(p + "self_attn.o_proj.weight", {D, H * Dh}, "[D, H*Dh]");
    }
    if (c.qkv_bias && !c.mla.enabled) {
      lw.q_bias = ld.tensor(p + "self_attn.q_proj.bias", {H * Dh}, "[H*Dh]");
      lw.k_bias = ld.tensor(p + "self_attn.k_proj.bias", {Hkv * Dh}, "[Hkv*Dh]");
      lw.v_bias = ld.tensor(p + "self_attn.v_proj.bias", {Hkv * Dh}, "[Hkv*Dh]");
    }
    if (c.o_bias) lw.o_bias = ld.tensor(p + "self_attn.o_proj.bias", {D}, "[D]");
    const std::string& mp = names.mlp;
    if (c.qk_norm == QkNorm::Full) {
      lw.q_norm = ld.tensor(p + "self_attn.q_norm.weight", {H * Dh}, "[H*Dh]");
      lw.k_norm = ld.tensor(p + "self_attn.k_norm.weight", {Hkv * Dh}, "[Hkv*Dh]");
    } else if (c.qk_norm == QkNorm::PerHead) {
      lw.q_norm = ld.tensor(p + "self_attn.q_norm.weight", {Dh}, "[Dh] (one weight for every head)");
      lw.k_norm = ld.tensor(p + "self_attn.k_norm.weight", {Dh}, "[Dh] (one weight for every head)");
    }
    if (!spec.is_moe()) {
      const int64_t Id = c.dense_width;
      lw.dense.gate = ld.tensor(mp + "gate_proj.weight", {Id, D}, "[dense width, D]");
      lw.dense.up = ld.tensor(mp + "up_proj.weight", {Id, D}, "[dense width, D]");
      lw.dense.down = ld.tensor(mp + "down_proj.weight", {D, Id}, "[D, dense width]");
      if (c.dense_mlp_bias) {
        lw.dense.gate_bias = ld.tensor(mp + "gate_proj.bias", {Id}, "[dense_intermediate_size]");
        lw.dense.up_bias = ld.tensor(mp + "up_proj.bias", {Id}, "[dense_intermediate_size]");
        lw.dense.down_bias = ld.tensor(mp + "down_proj.bias", {D}, "[D]");
      }
      continue;
    }
    lw.router = ld.tensor(names.router, {spec.num_experts, D},
                          ("[E, D] with E = " + std::to_string(spec.num_experts) + " experts of layer " + std::to_string(l)).c_str());
    if (c.router.correction_bias)
      lw.router_bias = ld.tensor(names.router_bias, {spec.num_experts}, "[E]");
    load_experts(ld, ckpt, c, subset, l, names, lw);
    if (c.shared_width > 0) {
      const int64_t S = c.shared_width;
      const std::string& sp = names.shared;
      lw.shared.gate = ld.tensor(sp + "gate_proj.weight", {S, D}, "[shared MLP width, D]");
      lw.shared.up = ld.tensor(sp + "up_proj.weight", {S, D}, "[shared MLP width, D]");
      lw.shared.down = ld.tensor(sp + "down_proj.weight", {D, S}, "[D, shared MLP width]");
      if (c.shared_gate) lw.shared_gate = ld.tensor(names.moe + "shared_expert_gate.weight", {1, D}, "[1, D]");
    }
  }
  return w;
}

namespace {
// Calls f(matrix, rows) for every GEMM weight of the layers that is loaded (attention projections,
// MLA, experts, dense and shared MLPs; not the router). An expert whose up rows follow its gate
// rows in memory (and has no gate bias) comes once as gate with 2I rows, the fused [gate; up]
// that swiglu multiplies in one GEMM.
template <typename F>
void for_each_layer_gemm_weight(std::vector<LayerWeights>& layers, F f) {
  auto expert = [&](ExpertWeights& x) {
    if (!x.loaded()) return;
    const bool adjacent = x.up.data == x.gate.data + x.gate.rows * x.gate.cols && x.gate_bias.empty();
    f(x.gate, adjacent ? 2 * x.gate.rows : x.gate.rows);
    if (!adjacent) f(x.up, x.up.rows);
    f(x.down, x.down.rows);
  };
  for (LayerWeights& lw : layers) {
    for (Matrix* m : {&lw.q, &lw.k, &lw.v, &lw.o, &lw.q_a, &lw.q_b, &lw.kv_a, &lw.kv_b})
      if (!m->empty()) f(*m, m->rows);
    for (ExpertWeights& x : lw.experts) expert(x);
    expert(lw.dense);
    expert(lw.shared);
  }
}
}  // namespace

void add_amx_f32_copies(ModelWeights& w) {
  size_t extra = 0;
  for_each_layer_gemm_weight(w.layers, [&](Matrix& m, int64_t rows) {
    m.amx = pack_amx_f32_weights(m.data, rows, m.cols);
    extra += m.amx.bytes();
  });
  w.lm_head_amx = pack_amx_f32_weights(w.lm_head.data, w.lm_head.rows, w.lm_head.cols);
  w.resident_bytes += extra + w.lm_head_amx.bytes();
}

void add_bf16_copies(ModelWeights& w) {
  std::vector<uint16_t> scratch;  // one rounding buffer for every matrix (see make_bf16_weights)
  size_t extra = 0;
  for_each_layer_gemm_weight(w.layers, [&](Matrix& m, int64_t rows) {
    m.bf16 = make_bf16_weights(m.data, rows, m.cols, scratch);
    extra += m.bf16.bytes;
  });
  w.lm_head_blocks.clear();
  for (int64_t v0 = 0; v0 < w.lm_head.rows; v0 += kHeadVocabBlock)
    w.lm_head_blocks.push_back(make_bf16_weights(w.lm_head.data + v0 * w.lm_head.cols,
                                                 std::min(kHeadVocabBlock, w.lm_head.rows - v0), w.lm_head.cols, scratch));
  for (const Bf16Weights& b : w.lm_head_blocks) extra += b.bytes;
  w.resident_bytes += extra;
}

}  // namespace moescope
