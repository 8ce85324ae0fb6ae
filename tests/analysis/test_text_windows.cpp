// test_text_windows.cpp — a text longer than the context, as windows: the split, the batches, and
// the records of a windowed run against each window's token slice run on its own (bitwise).
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <type_traits>

#include "analysis/corpus.h"
#include "analysis/scoring.h"
#include "analysis/text_windows.h"
#include "engine/error.h"
#include "tests/one_thread.h"
#include "tests/test_paths.h"

using namespace moescope;

namespace {

std::string sample_model() { return test::source_dir() + "/samples/models/emo-sample"; }

// The first `n` token ids of the held-out corpus's documents, one after another.
std::vector<int32_t> heldout_ids(const Model& model, size_t n) {
  std::vector<int32_t> ids;
  for (const CorpusDocument& d : read_corpus(test::source_dir() + "/samples/corpus/heldout.jsonl")) {
    const Encoding e = model.tokenizer()->encode(d.text);
    ids.insert(ids.end(), e.ids.begin(), e.ids.end());
    if (ids.size() >= n) break;
  }
  REQUIRE(ids.size() >= n);
  ids.resize(n);
  return ids;
}

// Bitwise equality of float vectors (NaN equal to NaN of the same bits).
bool same_bits(const std::vector<float>& a, const float* b, size_t n) {
  return a.size() == n && std::memcmp(a.data(), b, n * sizeof(float)) == 0;
}

TEST_CASE("split_windows: consecutive, non-overlapping, at most N tokens, covering the text") {
  auto w = split_windows(10, 4);
  REQUIRE(w.size() == 3);
  CHECK((w[0].begin == 0 && w[0].end == 4 && w[1].begin == 4 && w[1].end == 8 && w[2].begin == 8 && w[2].end == 10));
  CHECK(split_windows(8, 4).size() == 2);
  CHECK(split_windows(8, 8).size() == 1);
  CHECK(split_windows(3, 100).size() == 1);
  CHECK(split_windows(3, 1).size() == 3);
  CHECK(split_windows(0, 4).empty());
  CHECK_THROWS_WITH_AS(split_windows(5, 0), "window: bad size (expected at least 1 token, found 0)", Error);
}

TEST_CASE("window_batches: whole windows in order, at most batch_tokens each, a larger window alone") {
  const auto w = split_windows(10, 4);  // sizes 4, 4, 2
  auto b = window_batches(w, 8);
  REQUIRE(b.size() == 2);
  CHECK((b[0] == std::pair<size_t, size_t>{0, 2} && b[1] == std::pair<size_t, size_t>{2, 3}));
  b = window_batches(w, 3);
  REQUIRE(b.size() == 3);
  CHECK((b[0] == std::pair<size_t, size_t>{0, 1} && b[2] == std::pair<size_t, size_t>{2, 3}));
  CHECK(window_batches(w, 100).size() == 1);
}

// Compares windows [first, last) of a windowed run with `ref`, a forward pass of the same windows'
// id slices (ref's token 0 = text token ref_first_token): bit for bit, or within `tol` (ids equal).
void compare_windows(const ForwardResult& all, const std::vector<DocumentSpan>& windows, size_t first, size_t last,
                     const ForwardResult& ref, size_t ref_first_token, double tol) {
  auto close = [&](const std::vector<float>& want, const float* got, size_t n) {
    if (tol == 0) return same_bits(want, got, n);
    if (want.size() != n) return false;
    for (size_t i = 0; i < n; ++i)
      if (!(std::isnan(want[i]) && std::isnan(got[i])) && !(std::fabs(double(want[i]) - double(got[i])) <= tol))
        return false;
    return true;
  };
  const size_t b = windows[first].begin, n = windows[last - 1].end - b, o = b - ref_first_token;
  REQUIRE(ref.docs.size() == last - first);
  CHECK(close(std::vector<float>(ref.nll.begin() + long(o), ref.nll.begin() + long(o + n)), all.nll.data() + b, n));
  for (size_t w = first; w < last; ++w) CHECK(std::isnan(all.nll[windows[w].end - 1]));  // a window's last token predicts nothing
  for (size_t l = 0; l < ref.layers.size(); ++l) {
    CAPTURE(l);
    const LayerRecord& a = all.layers[l];
    const LayerRecord& r = ref.layers[l];
    const size_t k = size_t(r.k), e = size_t(r.num_experts), es = size_t(r.num_standard);
    auto rows = [&](const auto& v, size_t width) {
      using V = std::decay_t<decltype(v)>;
      return V(v.begin() + long(o * width), v.begin() + long((o + n) * width));
    };
    CHECK(rows(r.topk_ids, k) == std::vector<int32_t>(a.topk_ids.begin() + long(b * k), a.topk_ids.begin() + long((b + n) * k)));
    CHECK(close(rows(r.topk_weights, k), a.topk_weights.data() + b * k, n * k));
    CHECK(close(rows(r.probs, es), a.probs.data() + b * es, n * es));
    CHECK(close(rows(r.router_logits, e), a.router_logits.data() + b * e, n * e));
    CHECK(close(r.doc_mean_probs, a.doc_mean_probs.data() + first * es, (last - first) * es));
    CHECK(close(r.doc_topk_freq, a.doc_topk_freq.data() + first * es, (last - first) * es));
  }
}

std::vector<std::vector<int32_t>> slices(const std::vector<int32_t>& ids, const std::vector<DocumentSpan>& windows, size_t first,
                                         size_t last) {
  std::vector<std::vector<int32_t>> out;
  for (size_t w = first; w < last; ++w)
    out.emplace_back(ids.begin() + long(windows[w].begin), ids.begin() + long(windows[w].end));
  return out;
}

}  // namespace

TEST_CASE("route_windows on the sample model: each window's records are those of its id slice routed on its own") {
  test::OneThread one_thread;
  const auto model = Model::load(sample_model());
  const size_t context = size_t(model->config().max_position_embeddings);
  REQUIRE(context == 1024);
  const std::vector<int32_t> ids = heldout_ids(*model, 2600);
  ForwardOptions opt;
  opt.probs = true;
  opt.router_logits = true;
  const auto windows = split_windows(ids.size(), int64_t(context));
  REQUIRE(windows.size() == 3);

  for (const int64_t batch_tokens : {int64_t(1024), int64_t(2048), int64_t(16384)}) {
    CAPTURE(batch_tokens);
    ForwardResult all;
    size_t batches = 0, next_window = 0;
    route_windows(*model, ids, windows, opt, batch_tokens, [&](const WindowBatch& b) {
      CHECK(b.first_window == next_window);
      CHECK(b.first_token == windows[b.first_window].begin);
      next_window = b.last_window;
      ++batches;
      append_forward(all, b.result);
    });
    CHECK(next_window == windows.size());
    CHECK(batches == window_batches(windows, batch_tokens).size());
    REQUIRE(all.ids == ids);
    REQUIRE(all.docs.size() == windows.size());
    for (size_t w = 0; w < windows.size(); ++w) CHECK((all.docs[w].begin == windows[w].begin && all.docs[w].end == windows[w].end));
    // Bit for bit: the same windows' id slices packed into the same forward passes (one window
    // per pass when batch_tokens is the window: each slice routed alone).
    for (const auto& [first, last] : window_batches(windows, batch_tokens))
      compare_windows(all, windows, first, last, model->forward(slices(ids, windows, first, last), opt), windows[first].begin, 0);
    // Each slice alone, whatever the batches: the same experts; weights, logits and NLL to rounding
    // (a GEMM over more rows may take another kernel and add in another order: ~1e-6 here).
    for (size_t w = 0; w < windows.size(); ++w)
      compare_windows(all, windows, w, w + 1, model->forward(slices(ids, windows, w, w + 1), opt), windows[w].begin, 1e-4);
  }
}

TEST_CASE("TextRoutingMeans: one window gives its own row exactly; several, the mean over all tokens") {
  test::OneThread one_thread;
  const auto model = Model::load(sample_model());
  const std::vector<int32_t> ids = heldout_ids(*model, 700);
  ForwardOptions opt;
  opt.probs = true;

  TextRoutingMeans one;
  const ForwardResult whole = model->forward({ids}, opt);
  one.add(whole);
  REQUIRE(one.layers() == whole.layers.size());
  for (size_t l = 0; l < whole.layers.size(); ++l) {
    CHECK(one.mean_probs(l) == whole.layers[l].doc_mean_probs);
    CHECK(one.topk_freq(l) == whole.layers[l].doc_topk_freq);
  }

  // Windows of 150 tokens in batches of 300: the means must be those of every token's own
  // probabilities and selections, computed here from the per-token records.
  TextRoutingMeans many;
  ForwardResult all;
  route_windows(*model, ids, split_windows(ids.size(), 150), opt, 300, [&](const WindowBatch& b) {
    many.add(b.result);
    append_forward(all, b.result);
  });
  for (size_t l = 0; l < all.layers.size(); ++l) {
    const LayerRecord& r = all.layers[l];
    const size_t es = size_t(r.num_standard), k = size_t(r.k), T = ids.size();
    std::vector<double> mean(es, 0.0), freq(es, 0.0);
    for (size_t t = 0; t < T; ++t) {
      for (size_t e = 0; e < es; ++e) mean[e] += r.probs[t * es + e] / double(T);
      for (size_t j = 0; j < k; ++j)
        if (size_t(r.topk_ids[t * k + j]) < es) freq[size_t(r.topk_ids[t * k + j])] += 1.0 / double(T);
    }
    const auto got_mean = many.mean_probs(l), got_freq = many.topk_freq(l);
    for (size_t e = 0; e < es; ++e) {
      CHECK(got_mean[e] == doctest::Approx(mean[e]).epsilon(1e-5));
      CHECK(got_freq[e] == doctest::Approx(freq[e]).epsilon(1e-5));
    }
  }
}

TEST_CASE("add_nll over batches: the predicted tokens of every window, window ends excluded, in text order") {
  test::OneThread one_thread;
  const auto model = Model::load(sample_model());
  const std::vector<int32_t> ids = heldout_ids(*model, 500);
  const auto windows = split_windows(ids.size(), 120);  // 5 windows: 4 x 120, 1 x 20
  // Reference: each window alone (one window per batch below), its NLLs added token by token.
  double total = 0;
  size_t predicted = 0;
  for (size_t w = 0; w < windows.size(); ++w) {
    const ForwardResult r = model->forward(slices(ids, windows, w, w + 1));
    for (size_t t = 0; t + 1 < r.nll.size(); ++t, ++predicted) total += double(r.nll[t]);
  }
  ScoreSummary s;
  route_windows(*model, ids, windows, ForwardOptions{}, 120, [&](const WindowBatch& b) { add_nll(s, b.result, b.first_token); });
  finish_summary(s, 1000);
  CHECK(s.tokens == 500);
  CHECK(s.predicted == 500 - windows.size());
  CHECK(s.predicted == predicted);
  CHECK(s.total_nll == total);
  CHECK(s.mean_nll == total / double(predicted));
  CHECK(s.perplexity == doctest::Approx(std::exp(total / double(predicted))));
  CHECK(s.bits_per_byte == doctest::Approx(total / (1000 * std::log(2.0))));
}
