// device_weights.cu — uploading a model's weights to the GPU (device_weights.h).
#include "kernels/cuda/device_weights.h"

#include <cstring>

#include "engine/checkpoint/dtype.h"

namespace moescope::cuda {

namespace {

// rows of m as BF16 bits into out (BF16 copied, F16 and F32 converted, round to nearest even).
void to_bf16_bits(const Matrix& m, int64_t row0, int64_t rows, uint16_t* out) {
  const size_t n = size_t(rows * m.cols), first = size_t(row0 * m.cols);
  if (m.form == WeightForm::F32) {
    for (size_t i = 0; i < n; ++i) out[i] = f32_to_bf16(m.data[first + i]);
  } else if (m.form == WeightForm::Stored16 && m.half_dtype == DType::BF16) {
    std::memcpy(out, m.half + first, n * 2);
  } else if (m.form == WeightForm::Stored16) {
    for (size_t i = 0; i < n; ++i) out[i] = f32_to_bf16(f16_to_f32(m.half[first + i]));
  } else {
    fail("CUDA upload", std::string("a weight in the ") + weight_form_name(m.form) +
                            " form (the device backend uploads weights loaded as stored)");
  }
}

}  // namespace

DeviceMatrix DeviceWeights::matrix(const Matrix& m) {
  if (m.empty()) return {};
  std::vector<uint16_t> staging(size_t(m.rows * m.cols));
  to_bf16_bits(m, 0, m.rows, staging.data());
  DeviceArray<bf16>& a = bf16_.emplace_back(staging.size());
  check(cudaMemcpy(a.get(), staging.data(), staging.size() * 2, cudaMemcpyHostToDevice), "weight upload");
  bytes_ += a.bytes();
  return {a.get(), m.rows, m.cols};
}

DeviceVector DeviceWeights::vector(const Matrix& m) {
  if (m.empty()) return {};
  if (m.form != WeightForm::F32 || !m.data) fail("CUDA upload", "a vector or router not held in FP32");
  const size_t n = size_t(m.rows * m.cols);
  DeviceArray<float>& a = f32_.emplace_back(n);
  check(cudaMemcpy(a.get(), m.data, n * 4, cudaMemcpyHostToDevice), "weight upload");
  bytes_ += a.bytes();
  return {a.get(), int64_t(n)};
}

DeviceMlp DeviceWeights::mlp(const ExpertWeights& w) {
  DeviceMlp d;
  if (!w.loaded()) return d;
  d.gate_up = matrix(w.gate_up);
  d.down = matrix(w.down);
  d.gate_bias = vector(w.gate_bias);
  d.up_bias = vector(w.up_bias);
  d.down_bias = vector(w.down_bias);
  return d;
}

// The kept experts of a layer in one gate_up bank and one down bank: one allocation each, so a
// grouped GEMM addresses expert slot s at a fixed stride.
DeviceExpertBank DeviceWeights::bank(const LayerSpec& spec, const std::vector<ExpertWeights>& experts) {
  DeviceExpertBank b;
  b.slot_of_expert.assign(size_t(spec.num_experts), -1);
  std::vector<int> kept;
  for (int e = 0; e < spec.num_experts && size_t(e) < experts.size(); ++e)
    if (experts[size_t(e)].loaded()) {
      b.slot_of_expert[size_t(e)] = int(kept.size());
      kept.push_back(e);
    }
  if (kept.empty()) return b;
  const ExpertWeights& first = experts[size_t(kept[0])];
  const int64_t I = first.width(), D = first.gate_up.cols;
  b.width = I;
  const size_t gu = size_t(2 * I * D), dn = size_t(D * I);
  // Pointers, not references into bf16_: the second emplace_back may move the first array.
  bf16* gate_up = bf16_.emplace_back(gu * kept.size()).get();
  bf16* down = bf16_.emplace_back(dn * kept.size()).get();
  bytes_ += (gu + dn) * kept.size() * 2;
  std::vector<uint16_t> staging(std::max(gu, dn));
  for (size_t s = 0; s < kept.size(); ++s) {
    const ExpertWeights& w = experts[size_t(kept[s])];
    if (w.width() != I || w.gate_up.cols != D || w.down.rows != D || w.down.cols != I)
      fail("CUDA upload", "experts of one layer differ in shape (expert " + std::to_string(kept[s]) + ")");
    to_bf16_bits(w.gate_up, 0, w.gate_up.rows, staging.data());
    check(cudaMemcpy(gate_up + s * gu, staging.data(), gu * 2, cudaMemcpyHostToDevice), "expert upload");
    to_bf16_bits(w.down, 0, w.down.rows, staging.data());
    check(cudaMemcpy(down + s * dn, staging.data(), dn * 2, cudaMemcpyHostToDevice), "expert upload");
    DeviceMlp m;
    m.gate_up = {gate_up + s * gu, 2 * I, D};
    m.down = {down + s * dn, D, I};
    b.experts.push_back(m);
  }
  return b;
}

DeviceWeights::DeviceWeights(const ModelConfig& c, const ModelWeights& w) {
  const bool tied = w.head_is_embedding();
  if (w.embed.form == WeightForm::Stored16 && w.embed.half_dtype == DType::BF16) {
    embed = matrix(w.embed);
  } else {  // F32 or F16: widened exactly, one row at a time
    std::vector<float> rows(size_t(w.embed.rows * w.embed.cols));
    for (int64_t r = 0; r < w.embed.rows; ++r) w.embed.row_f32(r, rows.data() + r * w.embed.cols);
    DeviceArray<float>& a = f32_.emplace_back(rows.size());
    check(cudaMemcpy(a.get(), rows.data(), rows.size() * 4, cudaMemcpyHostToDevice), "embedding upload");
    bytes_ += a.bytes();
    embed_f32 = a.get();
    embed = {nullptr, w.embed.rows, w.embed.cols};
  }
  lm_head = !tied ? matrix(w.lm_head) : embed.data ? embed : matrix(w.embed);
  final_norm = vector(w.final_norm);
  layers.resize(w.layers.size());
  for (size_t l = 0; l < w.layers.size(); ++l) {
    const LayerWeights& h = w.layers[l];
    DeviceLayer& d = layers[l];
    d.attn_norm = vector(h.attn_norm);
    d.ffn_norm = vector(h.ffn_norm);
    d.q_norm = vector(h.q_norm);
    d.k_norm = vector(h.k_norm);
    d.q = matrix(h.q), d.k = matrix(h.k), d.v = matrix(h.v), d.o = matrix(h.o);
    d.q_bias = vector(h.q_bias), d.k_bias = vector(h.k_bias), d.v_bias = vector(h.v_bias), d.o_bias = vector(h.o_bias);
    d.q_a = matrix(h.q_a), d.q_b = matrix(h.q_b), d.kv_a = matrix(h.kv_a), d.kv_b = matrix(h.kv_b);
    d.q_a_bias = vector(h.q_a_bias), d.q_a_norm = vector(h.q_a_norm);
    d.kv_a_bias = vector(h.kv_a_bias), d.kv_a_norm = vector(h.kv_a_norm);
    d.router = vector(h.router);
    d.router_rows = h.router.rows;
    d.bank = bank(c.layers[l], h.experts);
    d.dense = mlp(h.dense);
    d.shared = mlp(h.shared);
    d.shared_gate = vector(h.shared_gate);
  }
}

}  // namespace moescope::cuda
