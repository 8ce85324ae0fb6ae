// Host-side planning of the CUDA backend (kernels/plan/): the grouped-GEMM plan of a routing,
// checked exhaustively on small routings and on a large random one; the pass plan and the device
// memory estimate worked out by hand; `--device` parsing and the device of an MPI local rank.
#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "engine/error.h"
#include "kernels/backend_maker.h"
#include "kernels/cuda_device.h"
#include "kernels/plan/device_pass_plan.h"
#include "kernels/plan/expert_plan.h"
#include "tests/error_of.h"

using namespace moescope;
using moescope::test::error_of;

namespace {

// Every property the kernels rely on, against the definition (not the counting sort).
void check_plan(const std::vector<int32_t>& ids, int64_t T, int K, int E) {
  const ExpertPlan p = plan_experts(ids.data(), T, K, E);
  const int64_t S = T * K;
  REQUIRE(p.offsets.size() == size_t(E) + 1);
  CHECK(p.offsets.front() == 0);
  CHECK(p.offsets.back() == S);
  std::vector<int32_t> seen(size_t(S), 0);
  for (int e = 0; e < E; ++e) {
    // Expert e's rows hold exactly its slots, in increasing slot order (stable: token order).
    std::vector<int32_t> want;
    for (int64_t s = 0; s < S; ++s)
      if (ids[size_t(s)] == e) want.push_back(int32_t(s));
    REQUIRE(p.rows(e) == int64_t(want.size()));
    for (int64_t r = 0; r < p.rows(e); ++r) CHECK(p.slot_of_row[size_t(p.offsets[size_t(e)] + r)] == want[size_t(r)]);
  }
  for (int64_t r = 0; r < S; ++r) {
    const int32_t s = p.slot_of_row[size_t(r)];
    REQUIRE(s >= 0);
    REQUIRE(s < S);
    ++seen[size_t(s)];
    CHECK(p.row_of_slot[size_t(s)] == r);
  }
  for (int32_t c : seen) CHECK(c == 1);  // a permutation
  // busy: the experts with rows, most rows first, ties by id.
  std::vector<int32_t> busy;
  for (int e = 0; e < E; ++e)
    if (p.rows(e) > 0) busy.push_back(e);
  std::sort(busy.begin(), busy.end(), [&](int a, int b) { return p.rows(a) != p.rows(b) ? p.rows(a) > p.rows(b) : a < b; });
  CHECK(p.busy == busy);
}

}  // namespace

TEST_CASE("kernel plan: the expert plan of every routing of up to 3 tokens x 2 slots over 3 experts") {
  int cases = 0;
  for (int T = 0; T <= 3; ++T)
    for (int K = 1; K <= 2; ++K) {
      const int S = T * K;
      int total = 1;
      for (int i = 0; i < S; ++i) total *= 3;
      for (int code = 0; code < total; ++code) {
        std::vector<int32_t> ids(static_cast<size_t>(S));
        for (int i = 0, c = code; i < S; ++i, c /= 3) ids[size_t(i)] = c % 3;
        check_plan(ids, T, K, 3);
        ++cases;
      }
    }
  CHECK(cases == 2 + 3 + 9 + 9 + 81 + 27 + 729);  // T=0 twice, then 3^(T*K)
}

TEST_CASE("kernel plan: a large random routing, empty experts, and ids out of range") {
  std::mt19937 rng(19);
  const int64_t T = 1500;
  const int K = 8, E = 64;
  std::vector<int32_t> ids(size_t(T * K));
  for (auto& id : ids) id = int32_t(std::uniform_int_distribution<int>(0, E / 2)(rng) * 2 % E);  // odd experts empty
  check_plan(ids, T, K, E);
  const ExpertPlan p = plan_experts(ids.data(), T, K, E);
  for (int e = 1; e < E; e += 2) CHECK(p.rows(e) == 0);
  std::vector<int32_t> bad = {0, 1, 7, 2};
  const std::string why = error_of([&] { plan_experts(bad.data(), 2, 2, 4); });
  CHECK(why.find("token 1 slot 0") != std::string::npos);
  CHECK(why.find("0..3") != std::string::npos);
  CHECK(why.find("7") != std::string::npos);
  bad[2] = -1;
  CHECK(error_of([&] { plan_experts(bad.data(), 2, 2, 4); }).find("found -1") != std::string::npos);
}

TEST_CASE("kernel plan: a device pass plan and memory estimate worked out by hand") {
  ModelConfig c;
  c.hidden_size = 8;     // D
  c.num_heads = 2;
  c.num_kv_heads = 1;
  c.head_dim = 4;        // H*Dh = 8
  c.expert_width = 6;    // I: widest activation 2I = 12
  c.top_k = 2;
  c.vocab_size = 100;
  c.layers.resize(2);
  c.layers[0].num_experts = 4;
  CHECK(widest_activation(c) == 12);
  // Per token of an expert round: K * (2D + 4*2I + 2I + 4D + 16) = 2 * (16 + 48 + 12 + 32 + 16) = 248 bytes.
  const DevicePassPlan p = plan_device_pass(c, 10, 1000);
  CHECK(p.expert_chunk_tokens == 4);                 // floor(1000 / 248)
  CHECK(p.expert_bytes == 4 * 248);
  // Pass buffers per token: 20D + 16W + 2W + 4E + 16 = 160 + 192 + 24 + 16 + 16 = 408 (no MLA).
  CHECK(p.activation_bytes == 10 * 408);
  CHECK(p.head_chunk_tokens == 10);
  CHECK(p.head_vocab_block == 64);                   // floor(1000 / 40 / 64) * 64 = 0 -> at least 64
  CHECK(p.head_bytes == 10 * (4 * 64 + 2 * 8 + 16));
  // MLA: the widest activation becomes the kv up projection H*(Dn + Dv) = 16, and each token adds
  // its latents Rq + (Rkv + Dr) + Rkv + H*(Dn + Dv) = 6 + 7 + 5 + 16 = 34 floats:
  // 20D + 16W + 2W + 4E + 16 + 4*34 = 160 + 256 + 32 + 16 + 16 + 136 = 616.
  ModelConfig m = c;
  m.mla = {true, 6, 5, 4, 2, 4};
  CHECK(widest_activation(m) == 16);
  CHECK(plan_device_pass(m, 10, 1000).activation_bytes == 10 * 616);
  const DevicePassPlan big = plan_device_pass(c, 10, uint64_t(1) << 30);
  CHECK(big.expert_chunk_tokens == 10);              // never more than the pass's tokens
  CHECK(big.head_vocab_block == 128);                // the vocabulary rounded up to 64
  CHECK(plan_device_pass(c, 10, 1).expert_chunk_tokens == 1);  // at least one token per round

  MemoryEstimate host;
  host.weights = uint64_t(3) << 30;
  const DeviceMemoryEstimate e = estimate_device_memory(c, host, 1000);
  CHECK(e.weights == host.weights);
  CHECK(e.total() == e.weights + e.pass.total() + e.reserve);
  CHECK_NOTHROW(check_device_memory_fits("M", "cuda:0", e, e.total()));
  const std::string why = error_of([&] { check_device_memory_fits("M", "cuda:1", e, e.total() - 1); });
  CHECK(why.find("M") == 0);
  CHECK(why.find("will not fit on cuda:1") != std::string::npos);
  CHECK(why.find("weights 3.00 GiB") != std::string::npos);
  CHECK(why.find("--keep") != std::string::npos);
}

TEST_CASE("kernel plan: --device parsing, the device of an MPI local rank, and cuda without a device") {
  CHECK(parse_device("cpu").kind == DeviceKind::Cpu);
  CHECK(parse_device("cuda").kind == DeviceKind::Cuda);
  CHECK(parse_device("cuda").index == 0);
  CHECK(parse_device("cuda:3").index == 3);
  CHECK(parse_device("cuda:3").name() == "cuda:3");
  for (const char* bad : {"gpu", "cuda:", "cuda:x", "cuda:-1", "CUDA", "cuda:1234", "cpu:0"})
    CHECK(error_of([&] { parse_device(bad); }).find("expected cpu, cuda or cuda:N") != std::string::npos);
  CHECK(device_for_local_rank(parse_device("cuda"), 5, 4).index == 1);
  CHECK(device_for_local_rank(parse_device("cuda:2"), 0, 4).index == 0);
  CHECK(device_for_local_rank(parse_device("cpu"), 5, 4).kind == DeviceKind::Cpu);
  CHECK(device_for_local_rank(parse_device("cuda:2"), 3, 0).index == 2);  // no devices: left as asked
  CHECK(backend_maker(parse_device("cpu")) == nullptr);
  const CudaDeviceInfo& info = cuda_device_info();
  if (!info.available) {
    const std::string why = error_of([] { backend_maker(parse_device("cuda")); });
    CHECK(why.find("--device cuda:0") == 0);
    CHECK(why.find(info.reason) != std::string::npos);
  } else {
    CHECK(backend_maker(parse_device("cuda")) != nullptr);
    CHECK(error_of([&] { backend_maker(Device{DeviceKind::Cuda, info.count}); }).find("CUDA device") != std::string::npos);
  }
}
