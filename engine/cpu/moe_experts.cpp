// moe_experts.cpp — the CPU backend's routed experts: (token, slot) pairs grouped by expert with a
// counting sort, one SwiGLU GEMM chain per expert over all its tokens, weighted outputs into
// slots, slots summed in the router's order (deterministic). In token chunks, so the [chunk*K, D]
// slot buffer stays near 256 MB while each expert still sees enough tokens for an efficient GEMM.
#include <algorithm>

#include "engine/cpu/cpu_pass.h"

namespace moescope {

namespace {
constexpr int64_t kMoeSlotBufferFloats = int64_t(64) << 20;
}  // namespace

void CpuPass::experts(int l, const Activations& input, const TokenRouting& routing, Activations& output,
                      std::vector<double>* slot_norms) {
  const LayerWeights& lw = w_.layers[size_t(l)];
  const ActMatrix& h = input.host;  // [T, D]
  ActMatrix& y = output.host;       // [T, D]
  const int64_t T = h.rows(), D = h.cols();
  const int E = c_.layers[size_t(l)].num_experts, K = routing.k;
  const int32_t* ids = routing.ids;      // [T, K]
  const float* weights = routing.weights;  // [T, K]
  y.setZero(T, D);
  if (slot_norms) slot_norms->assign(size_t(T * K), 0.0);
  const bool scales_input = c_.router.scales_input;
  std::vector<int64_t> count(size_t(E) + 1);
  std::vector<int64_t> order;
  ActMatrix& slot_out = slot_out_;
  const int64_t chunk = std::max<int64_t>(64, kMoeSlotBufferFloats / std::max<int64_t>(1, K * D));
  for (int64_t c0 = 0; c0 < T; c0 += chunk) {
    const int64_t c1 = std::min(T, c0 + chunk), n = c1 - c0;
    std::fill(count.begin(), count.end(), 0);
    for (int64_t i = c0 * K; i < c1 * K; ++i) ++count[size_t(ids[i]) + 1];
    for (int e = 0; e < E; ++e) count[size_t(e) + 1] += count[size_t(e)];
    order.assign(size_t(n * K), 0);
    std::vector<int64_t> fill(count.begin(), count.end() - 1);
    for (int64_t i = c0 * K; i < c1 * K; ++i) order[size_t(fill[size_t(ids[i])]++)] = i - c0 * K;
    // Busiest experts first for load balance across threads.
    std::vector<int> busy;
    for (int e = 0; e < E; ++e)
      if (count[size_t(e) + 1] > count[size_t(e)]) busy.push_back(e);
    std::sort(busy.begin(), busy.end(), [&](int a, int b) {
      return count[size_t(a) + 1] - count[size_t(a)] > count[size_t(b) + 1] - count[size_t(b)];
    });
    slot_out.resize(n * K, D);
    auto run_expert = [&](int e, ActMatrix& xe, ActMatrix& ye) {
      const int64_t b = count[size_t(e)], ne = count[size_t(e) + 1] - b;
      xe.resize(ne, D);
      for (int64_t r = 0; r < ne; ++r) xe.row(r) = h.row(c0 + order[size_t(b + r)] / K);  // xe [ne, D]
      if (scales_input)  // Llama 4: the router weight scales the expert's input
        for (int64_t r = 0; r < ne; ++r) xe.row(r) *= weights[c0 * K + order[size_t(b + r)]];
      swiglu(xe, lw.experts[size_t(e)], ye);                                               // ye [ne, D]
      for (int64_t r = 0; r < ne; ++r) {
        const int64_t slot = order[size_t(b + r)];
        slot_out.row(slot) = ye.row(r) * (scales_input ? 1.f : weights[c0 * K + slot]);
        if (slot_norms) (*slot_norms)[size_t(c0 * K + slot)] = double(ye.row(r).norm());
      }
    };
    // An expert holding more than a thread's share of the work (a shared expert sees every
    // token) runs alone with all threads in its GEMMs; the rest run one expert per thread.
    const int threads = cpu_threads();
    size_t big = 0;
    while (big < busy.size() && threads > 1 &&
           (count[size_t(busy[big]) + 1] - count[size_t(busy[big])]) * threads > n * K)
      ++big;
    {
      ActMatrix xe, ye;
      for (size_t j = 0; j < big; ++j) run_expert(busy[j], xe, ye);
    }
#pragma omp parallel if (n * K >= 256)
    {
      ActMatrix xe, ye;
#pragma omp for schedule(dynamic)
      for (size_t j = big; j < busy.size(); ++j) run_expert(busy[j], xe, ye);
    }
    // y[t] = sum over slots in the router's order (deterministic)
#pragma omp parallel for schedule(static) if (n >= 256)
    for (int64_t t = 0; t < n; ++t)
      for (int i = 0; i < K; ++i) y.row(c0 + t) += slot_out.row(t * K + i);
  }
}

}  // namespace moescope
