// attention_kernel.cpp — bench-attention: the CPU attention kernel (engine attention_packed: register
// tiles, scores kept in a per-thread buffer) against the previous form of the same computation as
// the reference, side by side in one process: per (document, head), query blocks of 128 rows whose
// scores [128, m] and weighted sums go through two BLAS GEMM calls. Interleaved rounds, medians,
// the ratio, and the largest difference between the two outputs.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "app/cli/args.h"
#include "engine/cpu/blas_core.h"
#include "engine/cpu/cpu_ops.h"
#include "engine/error.h"

using namespace moescope;

namespace {

const char* kUsage = R"(usage: bench-attention [--docs 32] [--tokens 512] [--heads 8] [--kv-heads 8]
         [--head-dim 64] [--window 0] [--repeat 9] [--threads N] [--json]
Times attention_packed against the BLAS-blocked reference on random q, k, v of DOCS documents
of TOKENS tokens (the OLMoE-shaped benchmark model's attention by default).)";

// The reference: the engine's attention before the tiled kernel.
void attention_blas_blocks(const ActMatrix& q, const ActMatrix& k, const ActMatrix& v, const AttentionShape& shape,
                      const std::vector<DocumentSpan>& docs, ActMatrix& out) {
  using Strided = Eigen::Map<const ActMatrix, 0, Eigen::OuterStride<>>;
  using StridedOut = Eigen::Map<ActMatrix, 0, Eigen::OuterStride<>>;
  const int heads = shape.heads, head_dim = shape.qk_dim, v_dim = shape.v_dim;
  const Eigen::Index T = q.rows();
  out.resize(T, Eigen::Index(heads) * v_dim);
  const int group = heads / shape.kv_heads;
  const float scale = shape.scale;
  const Eigen::Index qs = q.cols(), ks = k.cols(), vs = v.cols();
  auto first_key = [&](Eigen::Index i) { return Eigen::Index(shape.first_key(i)); };
  const int jobs = int(docs.size()) * heads;
  // Threads only pay off past a few hundred thousand multiply-adds; tiny texts stay serial.
  double work = 0;
  for (const DocumentSpan& d : docs) work += double(d.size()) * double(d.size()) * heads * head_dim;
#pragma omp parallel if (work > 2e5)
  {
    ActMatrix scores;
#pragma omp for schedule(dynamic)
    for (int job = 0; job < jobs; ++job) {
      const DocumentSpan& d = docs[size_t(job / heads)];
      const int h = job % heads, hk = h / group;
      const Eigen::Index n = Eigen::Index(d.size()), t0 = Eigen::Index(d.begin);
      if (n == 0) continue;
      Strided Q(q.data() + t0 * qs + h * head_dim, n, head_dim, Eigen::OuterStride<>(qs));
      Strided K(k.data() + t0 * ks + hk * head_dim, n, head_dim, Eigen::OuterStride<>(ks));
      Strided V(v.data() + t0 * vs + hk * v_dim, n, v_dim, Eigen::OuterStride<>(vs));
      // Causal attention in query blocks of kBlock rows, so keys no row of the block sees are
      // never computed: scores [b, m] = Q[i0:i1] [b, Dh] · K[j0:i1]^T [Dh, m] * scale, m = i1 - j0,
      // where j0 is the first key the block's first query sees (0 without a window).
      constexpr Eigen::Index kBlock = 128;
      for (Eigen::Index i0 = 0; i0 < n; i0 += kBlock) {
        const Eigen::Index i1 = std::min(n, i0 + kBlock), b = i1 - i0;
        const Eigen::Index j0 = first_key(i0), m = i1 - j0;
        scores.noalias() = (Q.middleRows(i0, b) * K.middleRows(j0, m).transpose()) * scale;
        for (Eigen::Index r = 0; r < b; ++r) {
          const Eigen::Index i = i0 + r;  // keys j0 + [lo, hi) are visible
          const Eigen::Index lo = first_key(i) - j0, hi = i + 1 - j0;
          Eigen::Map<Eigen::ArrayXf> row(scores.data() + r * m, m);
          auto visible = row.segment(lo, hi - lo);
          visible = (visible - visible.maxCoeff()).exp();
          visible *= 1.f / visible.sum();
          row.head(lo).setZero();
          row.tail(m - hi).setZero();
        }
        StridedOut O(out.data() + (t0 + i0) * out.cols() + h * v_dim, b, v_dim, Eigen::OuterStride<>(out.cols()));
        O.noalias() = scores * V.middleRows(j0, m);
      }
    }
  }
}


double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  moescope::match_blas_kernels_to_cpu(argv);  // BLAS sgemm is the reference: its kernels must fit the CPU
  const std::vector<std::string> argv_list(argv + 1, argv + argc);
  if (!argv_list.empty() && (argv_list[0] == "--help" || argv_list[0] == "-h")) {
    std::puts(kUsage);
    return 0;
  }
  try {
    const cli::Args args(argv_list, {"json"},
                         {"docs", "tokens", "heads", "kv-heads", "head-dim", "window", "repeat", "threads"});
    const int docs_n = args.get_int("docs", 32, 1), tokens = args.get_int("tokens", 512, 1);
    const int heads = args.get_int("heads", 8, 1), kv_heads = args.get_int("kv-heads", heads, 1);
    const int head_dim = args.get_int("head-dim", 64, 1), window = args.get_int("window", 0, 0);
    const int repeat = args.get_int("repeat", 9, 1);
    const bool json = args.flag("json");
    set_cpu_threads(args.get_int("threads", 0, 0));
    if (heads % kv_heads != 0) fail("--heads", "must be a multiple of --kv-heads");

    std::vector<DocumentSpan> docs;
    for (int d = 0; d < docs_n; ++d) docs.push_back({size_t(d) * size_t(tokens), size_t(d + 1) * size_t(tokens)});
    const Eigen::Index T = Eigen::Index(docs_n) * tokens;
    std::mt19937 rng(1);
    std::normal_distribution<float> dist;
    auto random = [&](Eigen::Index cols) {
      ActMatrix m(T, cols);
      for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = dist(rng);
      return m;
    };
    const ActMatrix q = random(Eigen::Index(heads) * head_dim), k = random(Eigen::Index(kv_heads) * head_dim),
                    v = random(Eigen::Index(kv_heads) * head_dim);
    const AttentionShape shape{heads, kv_heads, head_dim, head_dim, 1.f / std::sqrt(float(head_dim)), window, 0};
    ActMatrix out_kernel, out_ref;
    attention_packed(q, k, v, shape, docs, out_kernel);  // warm-up (and the outputs compared below)
    attention_blas_blocks(q, k, v, shape, docs, out_ref);
    std::vector<double> t_kernel, t_ref;
    for (int r = 0; r < repeat; ++r) {  // interleaved: both see the same machine state
      auto t0 = std::chrono::steady_clock::now();
      attention_packed(q, k, v, shape, docs, out_kernel);
      t_kernel.push_back(seconds_since(t0));
      t0 = std::chrono::steady_clock::now();
      attention_blas_blocks(q, k, v, shape, docs, out_ref);
      t_ref.push_back(seconds_since(t0));
    }
    // Multiply-adds of the visible (causal, windowed) scores and of the weighted sums, x 2 flops.
    double pairs = 0;
    for (int i = 0; i < tokens; ++i) pairs += window > 0 ? std::min(i + 1, window) : i + 1;
    const double flops = 2.0 * 2.0 * pairs * docs_n * heads * head_dim;
    const double mk = median(t_kernel), mr = median(t_ref);
    const double diff = (out_kernel - out_ref).cwiseAbs().maxCoeff();
    if (json) {
      std::printf("{\"threads\":%d,\"repeat\":%d,\"kernel_seconds\":%.6f,\"reference_seconds\":%.6f,"
                  "\"speedup\":%.3f,\"kernel_gflops\":%.2f,\"reference_gflops\":%.2f,\"max_abs_diff\":%.3g}\n",
                  cpu_threads(), repeat, mk, mr, mr / mk, flops / mk / 1e9, flops / mr / 1e9, diff);
    } else {
      std::printf("attention over %d x %d tokens, %d heads (%d KV), head dim %d%s, %d threads, median of %d rounds\n",
                  docs_n, tokens, heads, kv_heads, head_dim, window > 0 ? (", window " + std::to_string(window)).c_str() : "",
                  cpu_threads(), repeat);
      std::printf("  kernel (attention_packed)  %.4f s  %6.1f GFLOP/s\n", mk, flops / mk / 1e9);
      std::printf("  reference (BLAS blocks)    %.4f s  %6.1f GFLOP/s\n", mr, flops / mr / 1e9);
      std::printf("  speedup %.2fx   max |difference| %.2g\n", mr / mk, diff);
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench-attention: error: %s\n", e.what());
    return 1;
  }
}
