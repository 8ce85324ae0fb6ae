// attention_packed against a direct double-precision evaluation of the definition: for query i of
// a document, p_j = softmax_j(q_i · k_j * scale) over the keys it sees, out_i = sum_j p_j v_j.
// Shapes chosen to hit every edge of the tiled kernel: head widths that are not multiples of the
// vector width, one-token documents, documents shorter and longer than a tile, GQA, windows, chunks.
#include <doctest/doctest.h>

#include <cmath>
#include <random>

#include "engine/cpu/cpu_ops.h"

using namespace moescope;

namespace {

ActMatrix random_matrix(Eigen::Index rows, Eigen::Index cols, std::mt19937& rng, float sd) {
  std::normal_distribution<float> dist(0.f, sd);
  ActMatrix m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = dist(rng);
  return m;
}

// out [T, H*Dv] by the definition, in double.
Eigen::MatrixXd reference_attention(const ActMatrix& q, const ActMatrix& k, const ActMatrix& v, const AttentionShape& s,
                                    const std::vector<DocumentSpan>& docs) {
  Eigen::MatrixXd out = Eigen::MatrixXd::Zero(q.rows(), Eigen::Index(s.heads) * s.v_dim);
  const int group = s.heads / s.kv_heads;
  for (const DocumentSpan& d : docs)
    for (int h = 0; h < s.heads; ++h)
      for (size_t i = 0; i < d.size(); ++i) {
        std::vector<double> logit;
        std::vector<size_t> keys;
        for (size_t j = 0; j <= i; ++j) {
          if (s.window > 0 && i - j >= size_t(s.window)) continue;
          if (s.chunk > 0 && i / size_t(s.chunk) != j / size_t(s.chunk)) continue;
          double dot = 0;
          for (int c = 0; c < s.qk_dim; ++c)
            dot += double(q(Eigen::Index(d.begin + i), h * s.qk_dim + c)) *
                   double(k(Eigen::Index(d.begin + j), (h / group) * s.qk_dim + c));
          logit.push_back(dot * s.scale);
          keys.push_back(j);
        }
        double mx = -1e300, sum = 0;
        for (double z : logit) mx = std::max(mx, z);
        for (double& z : logit) sum += (z = std::exp(z - mx));
        for (size_t n = 0; n < keys.size(); ++n)
          for (int c = 0; c < s.v_dim; ++c)
            out(Eigen::Index(d.begin + i), h * s.v_dim + c) +=
                logit[n] / sum * double(v(Eigen::Index(d.begin + keys[n]), (h / group) * s.v_dim + c));
      }
  return out;
}

double max_abs_diff(const ActMatrix& got, const Eigen::MatrixXd& want) {
  return (got.cast<double>() - want).cwiseAbs().maxCoeff();
}

std::vector<DocumentSpan> spans_of(const std::vector<size_t>& lengths) {
  std::vector<DocumentSpan> docs;
  size_t at = 0;
  for (size_t n : lengths) {
    docs.push_back({at, at + n});
    at += n;
  }
  return docs;
}

}  // namespace

TEST_CASE("attention_packed equals the definition of causal softmax attention, per document") {
  struct Case {
    const char* what;
    int heads, kv_heads, qk_dim, v_dim, window, chunk;
    std::vector<size_t> lengths;
  };
  const Case cases[] = {
      {"MHA, head width 64, documents of 1 to 130 tokens", 4, 4, 64, 64, 0, 0, {1, 7, 8, 9, 33, 130}},
      {"GQA 6/2, widths 40 and 24 (not multiples of a vector)", 6, 2, 40, 24, 0, 0, {3, 70, 17}},
      {"MLA-like: q/k width 48, v width 32", 3, 3, 48, 32, 0, 0, {65, 2}},
      {"sliding window of 5", 2, 1, 16, 16, 5, 0, {1, 40, 100}},
      {"attention chunks of 16", 2, 2, 32, 8, 0, 16, {15, 16, 17, 90}},
      {"window longer than a tile plus chunks", 2, 2, 24, 24, 37, 48, {200}},
  };
  std::mt19937 rng(7);
  for (const Case& c : cases) {
    CAPTURE(c.what);
    const std::vector<DocumentSpan> docs = spans_of(c.lengths);
    const Eigen::Index T = Eigen::Index(docs.back().end);
    // Scores of order 1-10 so the softmax is far from uniform.
    const ActMatrix q = random_matrix(T, Eigen::Index(c.heads) * c.qk_dim, rng, 1.f);
    const ActMatrix k = random_matrix(T, Eigen::Index(c.kv_heads) * c.qk_dim, rng, 1.f);
    const ActMatrix v = random_matrix(T, Eigen::Index(c.kv_heads) * c.v_dim, rng, 1.f);
    const AttentionShape shape{c.heads, c.kv_heads, c.qk_dim, c.v_dim, 1.f / std::sqrt(float(c.qk_dim)) * 2.f,
                               c.window, c.chunk};
    ActMatrix out;
    attention_packed(q, k, v, shape, docs, out);
    REQUIRE(out.rows() == T);
    REQUIRE(out.cols() == Eigen::Index(c.heads) * c.v_dim);
    CHECK(max_abs_diff(out, reference_attention(q, k, v, shape, docs)) < 2e-5);
  }
}

TEST_CASE("attention_packed: a query's output moves only with the keys it sees") {
  // Changing the last token of document 0 leaves every other output of document 0 and all of
  // document 1 bit-identical (causality, no crossing of document boundaries).
  std::mt19937 rng(11);
  const std::vector<DocumentSpan> docs = spans_of({50, 30});
  const AttentionShape shape{2, 2, 32, 32, 0.25f, 0, 0};
  ActMatrix q = random_matrix(80, 64, rng, 1.f), k = random_matrix(80, 64, rng, 1.f), v = random_matrix(80, 64, rng, 1.f);
  ActMatrix a, b;
  attention_packed(q, k, v, shape, docs, a);
  k.row(49).setConstant(3.f);
  v.row(49).setConstant(-2.f);
  attention_packed(q, k, v, shape, docs, b);
  CHECK(a.topRows(49) == b.topRows(49));
  CHECK(a.bottomRows(30) == b.bottomRows(30));
  CHECK(a.row(49) != b.row(49));
}
