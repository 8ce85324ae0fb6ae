// weights.cpp — tensor-name resolution, shape checks and laying out model weights in their forms.
#include "engine/weights.h"

#include <algorithm>
#include <cstring>

#include "engine/error.h"
#include "engine/cpu/gemm_stored.h"
#include "engine/checkpoint/tensor_names.h"
#include "engine/families/family.h"

namespace moescope {

namespace {

std::string shape_str(std::initializer_list<int64_t> dims) {
  std::string s = "[";
  size_t i = 0;
  for (int64_t d : dims) s += (i++ ? ", " : "") + std::to_string(d);
  return s + "]";
}

// Where a GEMM weight's rows come from: a tensor's bytes in its file (read with pread) or a
// buffer in memory (Llama 4's transposed experts).
struct RowSource {
  const TensorInfo* tensor = nullptr;  // file source; null for memory
  DType dtype = DType::F32;
  const unsigned char* at = nullptr;   // first row (in the mapping, or in memory)
};

class Loader {
 public:
  Loader(const Checkpoint& ckpt, ModelWeights& w, const WeightPlan& plan) : ckpt_(ckpt), w_(w), plan_(plan) {}

  // An FP32 tensor (vectors, router) that must have exactly `dims` (legend in `legend`, e.g. "[E, D]").
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

  // A whole 2-D GEMM weight [rows, cols] in its form under the plan.
  Matrix gemm(const std::string& name, int64_t rows, int64_t cols, const char* legend) {
    const TensorInfo& t = ckpt_.get(name);
    check(t, {rows, cols}, legend);
    return gemm_rows({{&t, t.dtype, t.data}}, {rows}, cols);
  }

  // The embedding [V, D]: viewed in place (F32) or kept as stored (BF16/F16), rows widened at lookup.
  Matrix embedding(const TensorInfo& t, int64_t V, int64_t D) {
    if (t.dtype == DType::F32) return materialise(t, t.data, V, D);
    Matrix m;
    m.rows = V, m.cols = D, m.form = WeightForm::Stored16, m.half_dtype = t.dtype;
    m.owned_half.resize(size_t(V * D));
    read_raw(t, t.data, size_t(V * D) * 2, m.owned_half.data());
    m.half = m.owned_half.data();
    account(t, m.bytes());
    return m;
  }

  // One GEMM weight [sum(rows), cols] made of row blocks from `parts` (an expert's gate then up
  // rows; one tensor otherwise), laid out in the plan's form for their common dtype. F32 parts
  // adjacent in the mapping are viewed in place.
  Matrix gemm_rows(const std::vector<RowSource>& parts, const std::vector<int64_t>& rows, int64_t cols) {
    int64_t N = 0;
    bool same = true, contiguous = true;
    for (size_t i = 0; i < parts.size(); ++i) {
      N += rows[i];
      same = same && parts[i].dtype == parts[0].dtype;
      contiguous = contiguous && parts[i].tensor &&
                   (i == 0 || parts[i].at == parts[i - 1].at + size_t(rows[i - 1] * cols) * dtype_size(parts[i - 1].dtype));
    }
    const DType stored = same ? parts[0].dtype : DType::F32;
    const WeightForm form = gemm_weight_form(plan_, stored);
    if (form == WeightForm::F32 && same && contiguous && viewable(*parts[0].tensor, parts[0].at))
      return materialise(*parts[0].tensor, parts[0].at, N, cols);
    Matrix m;
    m.rows = N, m.cols = cols, m.form = form;
    if (form == WeightForm::Stored16) {
      m.half_dtype = stored;
      m.owned_half.resize(size_t(N * cols));
    } else if (form == WeightForm::Amx && stored == DType::BF16) {
      m.amx = amx_bf16_weights(N, cols);
    } else if (form == WeightForm::Bf16) {
      plain_.resize(size_t(N * cols));
    } else {
      m.owned.resize(size_t(N * cols));  // F32, or F32 values about to be split for Amx
    }
    int64_t row0 = 0;
    for (size_t i = 0; i < parts.size(); ++i) {
      add_rows(m, stored, parts[i], row0, rows[i]);
      row0 += rows[i];
    }
    if (form == WeightForm::Stored16) {
      m.half = m.owned_half.data();
    } else if (form == WeightForm::Bf16) {
      m.bf16 = bf16_weights_from_plain(plain_, N, cols);
    } else if (form == WeightForm::Amx && stored != DType::BF16) {
      m.amx = pack_amx_f32_weights(m.owned.data(), N, cols);
      std::vector<float>().swap(m.owned);
    } else if (form == WeightForm::F32) {
      m.data = m.owned.data();
    }
    if (parts[0].tensor) account(*parts[0].tensor, m.bytes());
    return m;
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

  // Starts fetching [p, p + nbytes) of t's file in the background (exactly that range).
  void prefetch(const TensorInfo& t, const unsigned char* p, size_t nbytes) {
    if (t.source) t.source->prefetch(p, nbytes);
  }

  // nbytes at p (inside t's mapping) into dst, through pread: touched mapping pages would count as
  // resident memory beside the copy, and faults read around them (neighbouring, maybe dropped, experts).
  void read_raw(const TensorInfo& t, const unsigned char* p, size_t nbytes, void* dst) {
    if (t.source) t.source->read_data(p, nbytes, dst);
    else std::memcpy(dst, p, nbytes);
  }

  const WeightPlan& plan() const { return plan_; }

 private:
  static bool viewable(const TensorInfo& t, const unsigned char* p) {
    return t.dtype == DType::F32 && reinterpret_cast<uintptr_t>(p) % alignof(float) == 0;
  }

  // Rows [row0, row0 + n) of m (in its form) from `src`.
  void add_rows(Matrix& m, DType stored, const RowSource& src, int64_t row0, int64_t n) {
    const int64_t K = m.cols;
    const size_t count = size_t(n * K), elem = dtype_size(src.dtype);
    if (src.tensor) prefetch(*src.tensor, src.at, count * elem);  // one request for the whole range
    if (m.form == WeightForm::Stored16) {
      fetch_raw(src, 0, count * 2, m.owned_half.data() + row0 * K);
    } else if (m.form == WeightForm::Amx && stored == DType::BF16) {
      // 32 rows (one tile row block) at a time through the staging buffer.
      for (int64_t r = 0; r < n; r += 32) {
        const int64_t nr = std::min<int64_t>(32, n - r);
        staging16_.resize(size_t(nr * K));
        fetch_raw(src, size_t(r * K) * 2, size_t(nr * K) * 2, staging16_.data());
        pack_amx_bf16_rows(m.amx, row0 + r, staging16_.data(), nr);
      }
    } else if (m.form == WeightForm::Bf16 && src.dtype == DType::BF16) {
      fetch_raw(src, 0, count * 2, plain_.data() + row0 * K);
    } else if (m.form == WeightForm::Bf16) {
      const size_t chunk = kStagingBytes / sizeof(float);
      staging32_.resize(chunk);
      for (size_t i = 0; i < count; i += chunk) {
        const size_t k = std::min(chunk, count - i);
        fetch_f32(src, i, k, staging32_.data());
        f32_to_bf16_n(staging32_.data(), k, plain_.data() + size_t(row0 * K) + i);
      }
    } else {
      fetch_f32(src, 0, count, m.owned.data() + row0 * K);
    }
  }

  void fetch_raw(const RowSource& src, size_t byte0, size_t nbytes, void* dst) {
    if (src.tensor) read_raw(*src.tensor, src.at + byte0, nbytes, dst);
    else std::memcpy(dst, src.at + byte0, nbytes);
  }

  // Elements [i0, i0 + n) of src widened to FP32 into dst, through a small staging buffer.
  void fetch_f32(const RowSource& src, size_t i0, size_t n, float* dst) {
    const size_t elem = dtype_size(src.dtype);
    if (src.dtype == DType::F32) return fetch_raw(src, i0 * 4, n * 4, dst);
    const size_t chunk = kStagingBytes / elem;
    staging_.resize(kStagingBytes);
    for (size_t i = 0; i < n; i += chunk) {
      const size_t k = std::min(chunk, n - i);
      fetch_raw(src, (i0 + i) * elem, k * elem, staging_.data());
      convert_to_f32(src.dtype, staging_.data(), dst + i, k);
    }
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
      fetch_f32({&t, t.dtype, p}, 0, n, m.owned.data());
      m.data = m.owned.data();
    }
    account(t, m.bytes());
    return m;
  }

  void account(const TensorInfo& t, size_t bytes) {
    w_.resident_bytes += bytes;
    if (w_.storage_dtype.empty()) w_.storage_dtype = dtype_name(t.dtype);
  }

  static constexpr size_t kStagingBytes = size_t(1) << 20;
  const Checkpoint& ckpt_;
  ModelWeights& w_;
  const WeightPlan plan_;
  std::vector<unsigned char> staging_;
  std::vector<uint16_t> staging16_;
  std::vector<float> staging32_;
  // The Bf16 form's plain [N, K] values before packing, reused across matrices: a fresh buffer per
  // matrix, freed after packing, left the heap holey (~1/3 of the BF16 bytes stayed resident).
  std::vector<uint16_t> plain_;
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
  if (family_of(c.arch).experts_input_major && ckpt.find(p + "gate_up_proj")) {
    const TensorInfo& gu = ckpt.get(p + "gate_up_proj");
    const TensorInfo& down = ckpt.get(p + "down_proj");
    ld.check(gu, {E, D, 2 * I}, "[E, D, 2*I] (Llama 4, input-major)");
    ld.check(down, {E, I, D}, "[E, I, D] (Llama 4, input-major)");
    lw.expert_source = {ExpertBankSource::Layout::InputMajor, &gu, &down, {}, {}, {}};
    std::vector<unsigned char> stored, transposed;
    // Expert e's [R, C] matrix of bank t, transposed to [C, R] in memory (the engine keeps
    // PyTorch Linear's [out, in]), then laid out in its form.
    auto transposed_rows = [&](const TensorInfo& t, int e) {
      const int64_t R = t.shape[1], C = t.shape[2];
      const size_t elem = dtype_size(t.dtype), bytes = size_t(R * C) * elem;
      stored.resize(bytes);
      transposed.resize(bytes);
      ld.read_raw(t, t.data + size_t(e) * bytes, bytes, stored.data());
      for (int64_t r = 0; r < R; ++r)
        for (int64_t col = 0; col < C; ++col)
          std::memcpy(transposed.data() + size_t(col * R + r) * elem, stored.data() + size_t(r * C + col) * elem, elem);
      return ld.gemm_rows({{nullptr, t.dtype, transposed.data()}}, {C}, R);
    };
    for (int e : kept) {
      ExpertWeights& x = lw.experts[size_t(e)];
      x.gate_up = transposed_rows(gu, e);  // [2I, D]: gate rows, then up rows
      x.down = transposed_rows(down, e);   // [D, I]
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
    lw.expert_source = {ExpertBankSource::Layout::Fused, fused_gate_up, &down, {}, {}, {}};
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
      x.gate_up = ld.gemm_rows({{fused_gate_up, fused_gate_up->dtype, fused_gate_up->data + size_t(kept[i]) * gu_bytes}}, {2 * I}, D);
      x.down = ld.gemm_rows({{&down, down.dtype, down.data + size_t(kept[i]) * d_bytes}}, {D}, I);
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
  ExpertBankSource& src = lw.expert_source;
  src.layout = ExpertBankSource::Layout::PerExpert;
  for (int e = 0; e < E; ++e) {  // dropped ones too (their headers only: never read)
    src.gate.push_back(&ckpt.get(names.expert(e, names.gate)));
    src.up.push_back(&ckpt.get(names.expert(e, names.up)));
    src.down_per_expert.push_back(&ckpt.get(names.expert(e, names.down)));
  }
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
    x.gate_up = ld.gemm_rows({{&g, g.dtype, g.data}, {&u, u.dtype, u.data}}, {I, I}, D);
    x.down = ld.gemm(name(kept[i], names.down), D, I, "[D, I]");
  }
}

// A dense or shared MLP whose gate_proj / up_proj / down_proj live under `mp`, `width` wide.
void load_mlp(Loader& ld, const Checkpoint& ckpt, const std::string& mp, int64_t width, int64_t D, const char* what,
              bool bias, ExpertWeights& x) {
  const std::string legend = std::string("[") + what + ", D]";
  const TensorInfo& g = ckpt.get(mp + "gate_proj.weight");
  const TensorInfo& u = ckpt.get(mp + "up_proj.weight");
  ld.check(g, {width, D}, legend.c_str());
  ld.check(u, {width, D}, legend.c_str());
  x.gate_up = ld.gemm_rows({{&g, g.dtype, g.data}, {&u, u.dtype, u.data}}, {width, width}, D);
  x.down = ld.gemm(mp + "down_proj.weight", D, width, (std::string("[D, ") + what + "]").c_str());
  if (bias) {
    x.gate_bias = ld.tensor(mp + "gate_proj.bias", {width}, "[dense_intermediate_size]");
    x.up_bias = ld.tensor(mp + "up_proj.bias", {width}, "[dense_intermediate_size]");
    x.down_bias = ld.tensor(mp + "down_proj.bias", {D}, "[D]");
  }
}

// DeepSeek's multi-head latent attention projections (legend in weights.h).
void load_mla(Loader& ld, const ModelConfig& c, const std::string& a, LayerWeights& lw) {
  const MlaSpec& m = c.mla;
  const int64_t D = c.hidden_size, H = c.num_heads, Dqk = m.qk_head_dim();
  if (m.q_lora_rank > 0) {
    const int64_t R = m.q_lora_rank;
    lw.q_a = ld.gemm(a + "q_a_proj.weight", R, D, "[q_lora_rank, D]");
    if (c.qkv_bias) lw.q_a_bias = ld.tensor(a + "q_a_proj.bias", {R}, "[q_lora_rank]");
    lw.q_a_norm = ld.tensor(a + "q_a_layernorm.weight", {R}, "[q_lora_rank]");
    lw.q_b = ld.gemm(a + "q_b_proj.weight", H * Dqk, R, "[H*(qk_nope+qk_rope), q_lora_rank]");
  } else {
    lw.q = ld.gemm(a + "q_proj.weight", H * Dqk, D, "[H*(qk_nope+qk_rope), D]");
  }
  const int64_t R = m.kv_lora_rank;
  lw.kv_a = ld.gemm(a + "kv_a_proj_with_mqa.weight", R + m.qk_rope_head_dim, D, "[kv_lora_rank+qk_rope, D]");
  if (c.qkv_bias) lw.kv_a_bias = ld.tensor(a + "kv_a_proj_with_mqa.bias", {R + m.qk_rope_head_dim}, "[kv_lora_rank+qk_rope]");
  lw.kv_a_norm = ld.tensor(a + "kv_a_layernorm.weight", {R}, "[kv_lora_rank]");
  lw.kv_b = ld.gemm(a + "kv_b_proj.weight", H * (m.qk_nope_head_dim + m.v_head_dim), R, "[H*(qk_nope+v_head_dim), kv_lora_rank]");
  lw.o = ld.gemm(a + "o_proj.weight", D, H * m.v_head_dim, "[D, H*v_head_dim]");
}

// The output head [V, D] from tensor t (the embedding when tied): in the plan's form; a tied head
// in the embedding's own form is the embedding (no second copy); the Bf16 form is built in
// vocabulary blocks of kHeadVocabBlock rows.
void load_head(Loader& ld, const TensorInfo& t, bool tied, ModelWeights& w) {
  const int64_t V = t.shape[0], D = t.shape[1];
  const WeightForm form = gemm_weight_form(ld.plan(), t.dtype);
  Matrix& h = w.lm_head;
  if (tied && form == w.embed.form) {
    h.rows = V, h.cols = D, h.form = form;
    h.data = w.embed.data;
    h.half = w.embed.half;
    h.half_dtype = w.embed.half_dtype;
    return;
  }
  if (form != WeightForm::Bf16) {
    h = ld.gemm_rows({{&t, t.dtype, t.data}}, {V}, D);
    return;
  }
  h.rows = V, h.cols = D, h.form = form;
  const size_t row_bytes = size_t(D) * dtype_size(t.dtype);
  for (int64_t v0 = 0; v0 < V; v0 += kHeadVocabBlock) {
    Matrix block = ld.gemm_rows({{&t, t.dtype, t.data + size_t(v0) * row_bytes}}, {std::min(kHeadVocabBlock, V - v0)}, D);
    w.lm_head_blocks.push_back(std::move(block.bf16));
  }
}

}  // namespace

ModelWeights load_weights(const Checkpoint& ckpt, ModelConfig& c, const ExpertSubset& subset, const WeightPlan& plan) {
  ModelWeights w;
  w.plan = plan;
  Loader ld(ckpt, w, plan);
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
  ld.check(embed, {V, D}, "[V, D]");
  w.embed = ld.embedding(embed, V, D);
  const TensorInfo* head = ckpt.find(head_name);
  if (!head && !c.tie_word_embeddings)
    fail(ckpt.dir(), "tensor '" + head_name + "' is missing and config.json does not set tie_word_embeddings");
  if (head) ld.check(*head, {V, D}, "[V, D] (V from the embedding)");
  load_head(ld, head ? *head : embed, !head, w);
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
      lw.q = ld.gemm(p + "self_attn.q_proj.weight", H * Dh, D, "[H*Dh, D]");
      lw.k = ld.gemm(p + "self_attn.k_proj.weight", Hkv * Dh, D, "[Hkv*Dh, D]");
      lw.v = ld.gemm(p + "self_attn.v_proj.weight", Hkv * Dh, D, "[Hkv*Dh, D]");
      lw.o = ld.gemm(p + "self_attn.o_proj.weight", D, H * Dh, "[D, H*Dh]");
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
      load_mlp(ld, ckpt, mp, c.dense_width, D, "dense width", c.dense_mlp_bias, lw.dense);
      continue;
    }
    lw.router = ld.tensor(names.router, {spec.num_experts, D},
                          ("[E, D] with E = " + std::to_string(spec.num_experts) + " experts of layer " + std::to_string(l)).c_str());
    if (c.router.correction_bias)
      lw.router_bias = ld.tensor(names.router_bias, {spec.num_experts}, "[E]");
    load_experts(ld, ckpt, c, subset, l, names, lw);
    if (c.shared_width > 0) {
      load_mlp(ld, ckpt, names.shared, c.shared_width, D, "shared MLP width", false, lw.shared);
      if (c.shared_gate) lw.shared_gate = ld.tensor(names.moe + "shared_expert_gate.weight", {1, D}, "[1, D]");
    }
  }
  return w;
}

const char* weight_form_name(WeightForm f) {
  switch (f) {
    case WeightForm::F32: return "F32";
    case WeightForm::Stored16: return "stored 16-bit, widened per panel";
    case WeightForm::Amx: return "AMX BF16x3 tiles";
    case WeightForm::Bf16: return "BF16";
  }
  return "?";
}

WeightForm gemm_weight_form(const WeightPlan& plan, DType dtype) {
  if (plan.precision == Precision::BF16) return WeightForm::Bf16;
  // F16 is not exact in one BF16 part (11 significant bits): on AMX it would take three parts,
  // 6 bytes per weight, so it stays as stored and is widened per panel instead.
  if (plan.amx && dtype != DType::F16) return WeightForm::Amx;
  return dtype == DType::F32 ? WeightForm::F32 : WeightForm::Stored16;
}

size_t Matrix::bytes() const {
  switch (form) {
    case WeightForm::F32: return data ? size_t(rows * cols) * sizeof(float) : 0;
    case WeightForm::Stored16: return owned_half.size() * sizeof(uint16_t);
    case WeightForm::Amx: return amx.bytes();
    case WeightForm::Bf16: return bf16.bytes;
  }
  return 0;
}

void Matrix::row_f32(int64_t r, float* out) const {
  if (!data && !half) fail("weights", "the host copy of this weight was freed after its upload to a device");
  if (form == WeightForm::F32) {
    std::memcpy(out, data + r * cols, size_t(cols) * sizeof(float));
    return;
  }
  if (form != WeightForm::Stored16) fail("weights", std::string("cannot read a row of a matrix in form ") + weight_form_name(form));
  widen_stored(half + r * cols, half_dtype, cols, out);
}

}  // namespace moescope

namespace moescope {

namespace {
void release(Matrix& m, size_t& resident) {
  const size_t b = m.bytes();
  resident -= std::min(resident, b);
  m.data = nullptr;
  m.half = nullptr;
  std::vector<float>().swap(m.owned);
  std::vector<uint16_t>().swap(m.owned_half);
  m.amx = AmxF32Weights{};
  m.bf16 = Bf16Weights{};
}
void release(ExpertWeights& e, size_t& resident) {
  release(e.gate_up, resident);
  release(e.down, resident);
}
}  // namespace

void release_host_gemm_weights(ModelWeights& w) {
  const bool tied = w.head_is_embedding();
  if (!tied) release(w.lm_head, w.resident_bytes);
  w.lm_head.data = nullptr;
  w.lm_head.half = nullptr;
  release(w.embed, w.resident_bytes);
  w.lm_head_blocks.clear();
  for (LayerWeights& l : w.layers) {
    for (Matrix* m : {&l.q, &l.k, &l.v, &l.o, &l.q_a, &l.q_b, &l.kv_a, &l.kv_b}) release(*m, w.resident_bytes);
    for (ExpertWeights& e : l.experts) release(e, w.resident_bytes);
    release(l.dense, w.resident_bytes);
    release(l.shared, w.resident_bytes);
  }
}

}  // namespace moescope
