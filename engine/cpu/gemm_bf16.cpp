// gemm_bf16.cpp — BF16 GEMMs: oneDNN matmul primitives (cached per padded shape, user-managed
// scratchpads so concurrent calls never share state) or the portable fallback.
#include "engine/cpu/gemm_bf16.h"

#include <Eigen/Core>
#include <algorithm>
#include <cstdlib>
#include <atomic>
#include <cstring>
#include <memory>
#include <mutex>
#include <vector>

#include "engine/error.h"
#include "engine/cpu/gemm_stored.h"


#ifdef MOESCOPE_HAVE_DNNL
#include <dnnl.hpp>
#include <map>
#include <tuple>
#endif

namespace moescope {

Precision parse_precision(const std::string& text, const std::string& where) {
  if (text == "f32" || text == "fp32") return Precision::F32;
  if (text == "bf16") return Precision::BF16;
  fail_expected(where, "unknown precision", "f32 or bf16", text);
}

const char* precision_name(Precision p) { return p == Precision::BF16 ? "bf16" : "f32"; }


namespace {


// Same rounding as the fast path: both operands rounded to BF16, products and sums in FP32 (the
// weights widened a panel at a time, never as a whole FP32 matrix).
void gemm_bf16_portable(const float* x, int64_t M, int64_t K, const uint16_t* w, int64_t N, float* y) {
  thread_local std::vector<uint16_t> xb;
  thread_local std::vector<float> xf;
  xb.resize(size_t(M * K));
  xf.resize(size_t(M * K));
  f32_to_bf16_n(x, xb.size(), xb.data());
  widen_stored(xb.data(), DType::BF16, M * K, xf.data());
  gemm_stored(xf.data(), M, K, w, DType::BF16, N, K, y, N);
}

#ifdef MOESCOPE_HAVE_DNNL
using namespace dnnl;

engine& cpu_engine() {
  static engine e(engine::kind::cpu, 0);
  return e;
}

// Weights in the layout oneDNN's matmul picked for them (64-byte aligned buffer).
struct Packed {
  memory::desc desc;
  std::unique_ptr<uint8_t, void (*)(void*)> data{nullptr, std::free};
};

struct Kernel {
  matmul prim;
  memory::desc src, wei, dst, scratch;
  std::string impl;
};

// Rows are padded to a few bucket sizes so experts with slightly different token counts share
// one primitive (creating one costs ~0.5 ms; padding rows cost a little GEMM work).
int64_t padded_rows(int64_t m) {
  if (m <= 64) return (m + 15) / 16 * 16;
  if (m <= 1024) return (m + 63) / 64 * 64;
  return (m + 255) / 256 * 256;
}

// wei: the weights' desc (plain [K, N] "ba" = w [N, K] row-major, a packed one, or any).
std::shared_ptr<const Kernel> kernel_for(int64_t M, int64_t K, int64_t N, const memory::desc& wei) {
  static std::mutex mu;
  static std::map<std::tuple<int64_t, int64_t, int64_t, bool>, std::shared_ptr<const Kernel>> cache;
  const bool plain = wei == memory::desc({K, N}, memory::data_type::bf16, memory::format_tag::ba);
  std::lock_guard<std::mutex> lock(mu);
  auto& slot = cache[{M, K, N, plain}];
  if (!slot) {
    auto k = std::make_shared<Kernel>();
    k->src = memory::desc({M, K}, memory::data_type::bf16, memory::format_tag::ab);
    k->dst = memory::desc({M, N}, memory::data_type::f32, memory::format_tag::ab);
    primitive_attr attr;
    attr.set_scratchpad_mode(scratchpad_mode::user);
    const auto pd = matmul::primitive_desc(matmul::desc(k->src, wei, k->dst), attr, cpu_engine());
    k->prim = matmul(pd);
    k->wei = pd.weights_desc();
    k->scratch = pd.scratchpad_desc();
    k->impl = pd.impl_info_str();
    slot = k;
  }
  return slot;
}

memory::desc plain_desc(int64_t K, int64_t N) { return memory::desc({K, N}, memory::data_type::bf16, memory::format_tag::ba); }

bool cpu_has_bf16_kernels(std::string* how) {
  // The oneDNN kernel chosen for a probe shape tells whether the ISA has BF16 instructions.
  const auto k = kernel_for(64, 64, 64, plain_desc(64, 64));
  if (how) *how = "oneDNN " + k->impl;
  return k->impl.find("amx") != std::string::npos || k->impl.find("bf16") != std::string::npos;
}

bool fast_kernels() {
  static const bool fast = [] {
    try {
      return cpu_has_bf16_kernels(nullptr);
    } catch (const std::exception&) {
      return false;
    }
  }();
  return fast;
}

// The layout the matmul prefers for these weights at a typical row count, and the reorder into it.
std::shared_ptr<const Packed> pack(const uint16_t* plain, int64_t N, int64_t K) {
  const memory::desc any({K, N}, memory::data_type::bf16, memory::format_tag::any);
  const memory::desc src({256, K}, memory::data_type::bf16, memory::format_tag::ab);
  const memory::desc dst({256, N}, memory::data_type::f32, memory::format_tag::ab);
  const auto pd = matmul::primitive_desc(matmul::desc(src, any, dst), cpu_engine());
  auto p = std::make_shared<Packed>();
  p->desc = pd.weights_desc();
  const size_t bytes = (p->desc.get_size() + 63) / 64 * 64;
  p->data.reset(static_cast<uint8_t*>(std::aligned_alloc(64, bytes)));
  if (!p->data) fail("BF16 weights", "out of memory packing a [" + std::to_string(N) + ", " + std::to_string(K) + "] matrix");
  memory from(plain_desc(K, N), cpu_engine(), const_cast<uint16_t*>(plain)), to(p->desc, cpu_engine(), p->data.get());
  stream s(cpu_engine());
  reorder(from, to).execute(s, from, to);
  s.wait();
  return p;
}
#endif

}  // namespace

bool bf16_gemm_fast(std::string* how) {
#ifdef MOESCOPE_HAVE_DNNL
  try {
    return cpu_has_bf16_kernels(how) && fast_kernels();
  } catch (const std::exception& e) {
    if (how) *how = std::string("oneDNN unusable: ") + e.what();
    return false;
  }
#else
  if (how) *how = "built without oneDNN (libdnnl-dev): portable BF16 path";
  return false;
#endif
}

Bf16Weights bf16_weights_from_plain(std::vector<uint16_t>& plain, int64_t N, int64_t K) {
  if (plain.size() != size_t(N * K))
    fail("BF16 weights", "plain buffer holds " + std::to_string(plain.size()) + " values, expected [" + std::to_string(N) +
                             ", " + std::to_string(K) + "]");
  Bf16Weights out;
  out.N = N;
  out.K = K;
  out.bytes = plain.size() * 2;
#ifdef MOESCOPE_HAVE_DNNL
  if (fast_kernels()) {
    try {
      auto p = pack(plain.data(), N, K);
      out.bytes = p->desc.get_size();
      out.packed = p;
      return out;
    } catch (const dnnl::error&) {
      // no packed layout for this shape: the plain one works, just slower
    }
  }
#endif
  out.plain = std::move(plain);
  plain.clear();
  return out;
}

Bf16Weights make_bf16_weights(const float* w, int64_t N, int64_t K, std::vector<uint16_t>& scratch) {
  scratch.resize(size_t(N * K));
  f32_to_bf16_n(w, scratch.size(), scratch.data());
  Bf16Weights out = bf16_weights_from_plain(scratch, N, K);
  return out;
}

Bf16Weights make_bf16_weights(const float* w, int64_t N, int64_t K) {
  std::vector<uint16_t> scratch;
  return make_bf16_weights(w, N, K, scratch);
}

void gemm_bf16(const float* x, int64_t M, const Bf16Weights& w, float* y) {
  const int64_t K = w.K, N = w.N;
  if (M <= 0 || N <= 0) return;
#ifdef MOESCOPE_HAVE_DNNL
  if (fast_kernels()) {
    int64_t Mp = padded_rows(M);
    const auto* packed = static_cast<const Packed*>(w.packed.get());
    const memory::desc wdesc = packed ? packed->desc : plain_desc(K, N);
    std::shared_ptr<const Kernel> k;
    try {
      k = kernel_for(Mp, K, N, wdesc);
    } catch (const dnnl::error&) {
      // The packed layout was chosen for 256-row blocks; a row count it cannot serve runs padded to them.
      Mp = (M + 255) / 256 * 256;
      k = kernel_for(Mp, K, N, wdesc);
    }
    thread_local std::vector<uint16_t> xb;
    thread_local std::vector<float> yp;
    thread_local std::vector<uint8_t> scratch;
    xb.resize(size_t(Mp * K));
    f32_to_bf16_n(x, size_t(M * K), xb.data());
    std::fill(xb.begin() + M * K, xb.end(), uint16_t(0));
    float* out = y;
    if (Mp != M) {
      yp.resize(size_t(Mp * N));
      out = yp.data();
    }
    scratch.resize(std::max<size_t>(1, k->scratch.get_size()));
    thread_local stream s(cpu_engine());
    void* wdata = packed ? static_cast<void*>(packed->data.get()) : static_cast<void*>(const_cast<uint16_t*>(w.plain.data()));
    memory src(k->src, cpu_engine(), xb.data()), wei(k->wei, cpu_engine(), wdata), dst(k->dst, cpu_engine(), out),
        scr(k->scratch, cpu_engine(), scratch.data());
    k->prim.execute(s, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wei}, {DNNL_ARG_DST, dst}, {DNNL_ARG_SCRATCHPAD, scr}});
    s.wait();
    if (Mp != M) std::copy(yp.begin(), yp.begin() + M * N, y);
    return;
  }
#endif
  gemm_bf16_portable(x, M, K, w.plain.data(), N, y);
}

}  // namespace moescope
