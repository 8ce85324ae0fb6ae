// moescope-cli on texts longer than the context: `route` and `score` split them into windows,
// say so, stream their JSON (checked against a reference built from the engine's forward pass
// with nlohmann::json, as the one-object output was), refuse bad --window / --max-tokens values,
// and keep peak memory flat in the text's length (a child's ru_maxrss, not a timing).
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "analysis/corpus.h"
#include "analysis/text_windows.h"
#include "engine/model.h"
#include "tests/app/cli_run.h"
#include "tests/test_paths.h"

using nlohmann::json;
using moescope::test::Run;
using moescope::test::run_cli;
using namespace moescope;

namespace {

std::string sample_model() { return test::source_dir() + "/samples/models/emo-sample"; }
std::string fixture_model(const std::string& name) { return test::fixtures_dir() + "/models/" + name; }

// Held-out corpus documents joined by blank lines until the text has at least `tokens` tokens
// (counted per document, so the joined text may have a few more or fewer).
std::string heldout_text(const Tokenizer& tok, size_t tokens) {
  std::string text;
  size_t n = 0;
  for (const CorpusDocument& d : read_corpus(test::source_dir() + "/samples/corpus/heldout.jsonl")) {
    if (!text.empty()) text += "\n\n";
    text += d.text;
    n += tok.encode(d.text).ids.size();
    if (n >= tokens) return text;
  }
  FAIL("the held-out corpus has fewer than " << tokens << " tokens");
  return text;
}

std::string write_file(const test::TempDir& tmp, const std::string& name, const std::string& text) {
  const std::string path = tmp / name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

template <typename T>
json rows(const std::vector<T>& v, size_t begin, size_t end, size_t width) {
  json out = json::array();
  for (size_t r = begin; r < end; ++r) out.push_back(std::vector<T>(v.begin() + long(r * width), v.begin() + long((r + 1) * width)));
  return out;
}

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// Peak resident set (KiB) of `moescope-cli args`, stdout and stderr to /dev/null, measured by
// tests/tools/peak_rss.cpp (a fork of this large test process would count its own pages).
long peak_rss_kib(const test::TempDir& tmp, const std::vector<std::string>& args, int& exit_code) {
  const std::string out = tmp / "peak_rss.txt";
  std::vector<std::string> words{MOESCOPE_PEAK_RSS_PATH, out, test::cli_path()};
  words.insert(words.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
#if defined(__SANITIZE_ADDRESS__)
    // AddressSanitizer holds freed memory in a quarantine of up to 256 MB before reusing it, so a
    // run of several batches would count up to that much garbage; measure live memory instead.
    std::string asan = ::getenv("ASAN_OPTIONS") ? ::getenv("ASAN_OPTIONS") : "";
    asan += ":quarantine_size_mb=0";
    ::setenv("ASAN_OPTIONS", asan.c_str(), 1);
#endif
    const int fd = ::open("/dev/null", O_WRONLY);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  long kib = -1;
  std::ifstream(out) >> kib;
  REQUIRE(kib > 0);
  return kib;
}

}  // namespace

TEST_CASE("cli route --json, one window: the streamed text equals the one-object JSON, plus \"windows\"") {
  const auto model = Model::load(sample_model());
  const std::string text = "Die Experten teilen sich die Arbeit.\nIn the beginning God created the heaven. \xc3\xa9t\xc3\xa9";
  const Encoding enc = model->tokenizer()->encode(text);
  const size_t T = enc.ids.size();
  ForwardOptions opt;
  opt.probs = opt.router_logits = true;
  const ForwardResult r = model->forward({enc.ids}, opt);
  // The reference: the object the command built before it streamed, key for key.
  json j;
  j["ids"] = enc.ids;
  j["tokens"] = enc.tokens;
  auto& off = j["offsets"] = json::array();
  for (const auto& [b, e] : enc.offsets) off.push_back({b, e});
  j["nll"] = std::vector<float>(r.nll.begin(), r.nll.end() - 1);
  auto& layers = j["layers"] = json::array();
  for (const LayerRecord& rec : r.layers) {
    json lj;
    lj["layer"] = rec.layer;
    lj["num_experts"] = rec.num_experts;
    lj["num_standard"] = rec.num_standard;
    lj["k"] = rec.k;
    lj["topk_ids"] = rows(rec.topk_ids, 0, T, size_t(rec.k));
    lj["topk_weights"] = rows(rec.topk_weights, 0, T, size_t(rec.k));
    lj["probs"] = rows(rec.probs, 0, T, size_t(rec.num_standard));
    lj["router_logits"] = rows(rec.router_logits, 0, T, size_t(rec.num_experts));
    lj["doc_mean_probs"] = rec.doc_mean_probs;
    lj["doc_topk_freq"] = rec.doc_topk_freq;
    layers.push_back(std::move(lj));
  }
  j["windows"] = json::array({{{"start", 0}, {"end", T}}});
  const Run run = run_cli({"route", "--model", sample_model(), "--text", text, "--json", "--probs", "--router-logits"});
  REQUIRE_MESSAGE(run.code == 0, run.err);
  CHECK(run.out == dump(j) + "\n");
  // Without --probs / --router-logits the keys are absent, the rest the same.
  const Run plain = run_cli({"route", "--model", sample_model(), "--text", text, "--json"});
  REQUIRE_MESSAGE(plain.code == 0, plain.err);
  for (auto& l : j["layers"]) l.erase("probs"), l.erase("router_logits");
  CHECK(plain.out == dump(j) + "\n");
}

TEST_CASE("cli route/score on a text longer than the context: windows stated, records of the windows' forward pass") {
  const auto model = Model::load(sample_model());
  test::TempDir tmp("long-text");
  const std::string text = heldout_text(*model->tokenizer(), 2700);
  const std::string file = write_file(tmp, "long.txt", text);
  const Encoding enc = model->tokenizer()->encode(text);
  const size_t T = enc.ids.size();
  REQUIRE(T > 2800);  // at least three windows of the sample's 1024-token context, four of 700

  for (const int64_t window : {int64_t(1024), int64_t(700)}) {
    CAPTURE(window);
    const auto windows = split_windows(T, window);
    std::vector<std::string> args{"route", "--model", sample_model(), "--file", file, "--json", "--probs", "--router-logits"};
    if (window != 1024) args.insert(args.end(), {"--window", std::to_string(window)});
    const Run run = run_cli(args);
    REQUIRE_MESSAGE(run.code == 0, run.err);
    const json j = json::parse(run.out);
    REQUIRE(j["ids"] == enc.ids);
    CHECK(j["tokens"].size() == T);
    REQUIRE(j["windows"].size() == windows.size());
    for (size_t w = 0; w < windows.size(); ++w) {
      CHECK(j["windows"][w]["start"] == windows[w].begin);
      CHECK(j["windows"][w]["end"] == windows[w].end);
    }
    // The reference: the windows' id slices as documents of one forward pass (the command packs
    // up to 16384 tokens per pass, so these < 16384 tokens are one pass there too).
    std::vector<std::vector<int32_t>> docs;
    for (const DocumentSpan& w : windows) docs.emplace_back(enc.ids.begin() + long(w.begin), enc.ids.begin() + long(w.end));
    ForwardOptions opt;
    opt.probs = opt.router_logits = true;
    const ForwardResult r = model->forward(docs, opt);
    // nll: T - 1 entries, null at every window's last token (nothing to predict inside the window).
    REQUIRE(j["nll"].size() == T - 1);
    for (size_t t = 0; t + 1 < T; ++t) {
      if (std::isnan(r.nll[t])) CHECK(j["nll"][t].is_null());
      else CHECK(j["nll"][t] == json(r.nll[t]));
    }
    size_t nulls = 0;
    for (const auto& v : j["nll"]) nulls += v.is_null();
    CHECK(nulls == windows.size() - 1);
    REQUIRE(j["layers"].size() == r.layers.size());
    for (size_t l = 0; l < r.layers.size(); ++l) {
      CAPTURE(l);
      const LayerRecord& rec = r.layers[l];
      const json& got = j["layers"][l];
      const size_t es = size_t(rec.num_standard), k = size_t(rec.k);
      CHECK(got["layer"] == rec.layer);
      CHECK(got["topk_ids"] == rows(rec.topk_ids, 0, T, k));
      CHECK(got["topk_weights"] == rows(rec.topk_weights, 0, T, k));
      CHECK(got["probs"] == rows(rec.probs, 0, T, es));
      CHECK(got["router_logits"] == rows(rec.router_logits, 0, T, size_t(rec.num_experts)));
      // Whole-text means: over every token's probabilities / selections, whatever the windows.
      for (size_t e = 0; e < es; ++e) {
        double mean = 0, freq = 0;
        for (size_t t = 0; t < T; ++t) {
          mean += rec.probs[t * es + e];
          for (size_t i = 0; i < k; ++i) freq += rec.topk_ids[t * k + i] == int32_t(e);
        }
        CHECK(got["doc_mean_probs"][e].get<double>() == doctest::Approx(mean / double(T)).epsilon(1e-5));
        CHECK(got["doc_topk_freq"][e].get<double>() == doctest::Approx(freq / double(T)).epsilon(1e-5));
      }
    }

    // score: every window's tokens but its first predicted; NLLs summed in text order.
    std::vector<std::string> sargs{"score", "--model", sample_model(), "--file", file, "--json"};
    if (window != 1024) sargs.insert(sargs.end(), {"--window", std::to_string(window)});
    const Run score = run_cli(sargs);
    REQUIRE_MESSAGE(score.code == 0, score.err);
    const json s = json::parse(score.out);
    double total = 0;
    size_t bytes = 0;
    for (size_t w = 0; w < windows.size(); ++w) {
      for (size_t t = windows[w].begin; t + 1 < windows[w].end; ++t) total += double(r.nll[t]);
      const size_t end = w + 1 < windows.size() ? enc.offsets[windows[w + 1].begin].first : text.size();
      bytes += end - enc.offsets[windows[w].begin + 1].first;
    }
    CHECK(s["tokens"] == T);
    CHECK(s["predicted_tokens"] == T - windows.size());
    CHECK(s["mean_nll"].get<double>() == doctest::Approx(total / double(T - windows.size())).epsilon(1e-12));
    CHECK(s["bytes"].get<double>() == double(bytes));
    CHECK(s["bits_per_byte"].get<double>() == doctest::Approx(total / (double(bytes) * std::log(2.0))).epsilon(1e-12));
    CHECK(s["windows"] == j["windows"]);
  }

  // The readable table says how the text was split and marks every window.
  const Run table = run_cli({"route", "--model", sample_model(), "--file", file, "--window", "700"});
  REQUIRE_MESSAGE(table.code == 0, table.err);
  std::string said = "text of ";
  said += std::to_string(T);
  said += " tokens split into ";
  said += std::to_string((T + 699) / 700);
  said += " windows of at most 700 tokens (the model's context is 1024)";
  CHECK(table.out.find(said) != std::string::npos);
  CHECK(table.out.find("\n-- window 3: tokens 2100..2799\n") != std::string::npos);
  // Token 699 ends window 0: no NLL on its line; token 698 has one.
  const auto line_of = [&](size_t t) {
    char head[16];
    std::snprintf(head, sizeof head, "\n%5zu ", t);
    const size_t at = table.out.find(head);
    REQUIRE(at != std::string::npos);
    return table.out.substr(at + 1, table.out.find('\n', at + 1) - at - 1);
  };
  CHECK(line_of(698).find(" nll ") != std::string::npos);
  CHECK(line_of(699).find(" nll ") == std::string::npos);
  const Run score_table = run_cli({"score", "--model", sample_model(), "--file", file});
  REQUIRE_MESSAGE(score_table.code == 0, score_table.err);
  std::string split = "split into ";
  split += std::to_string((T + 1023) / 1024);
  split += " windows of at most 1024 tokens";
  CHECK(score_table.out.find(split) != std::string::npos);
}

TEST_CASE("cli route/score: bad --window and --max-tokens values and too-large texts are refused by name") {
  test::TempDir tmp("long-text-bad");
  const std::string model = sample_model();
  const std::string text = "Die Experten teilen sich die Arbeit.";
  struct Case {
    std::vector<std::string> args;
    std::string message;
    int code = 1;  // 2: a malformed command line (a usage error); 1: a value this model or text cannot take
  };
  const std::string range = "(expected an integer from 1 to 1024 (the model's context, max_position_embeddings), found ";
  const std::string big = write_file(tmp, "big.txt", std::string(200, 'a'));
  const std::vector<Case> cases{
      {{"route", "--model", model, "--text", text, "--window", "0"}, "--window: bad value " + range + "'0')", 2},
      {{"route", "--model", model, "--text", text, "--window", "-3"}, "--window: bad value " + range + "'-3')", 2},
      {{"route", "--model", model, "--text", text, "--window", "12x"}, "--window: bad value " + range + "'12x')", 2},
      {{"route", "--model", model, "--text", text, "--window", ""}, "--window: bad value " + range + "'')", 2},
      {{"route", "--model", model, "--text", text, "--window", "1025"}, "--window: larger than the model's context " + range + "'1025')"},
      {{"score", "--model", model, "--text", text, "--window", "4096"}, "--window: larger than the model's context " + range + "'4096')"},
      {{"score", "--model", model, "--text", text, "--window", "1"},
       "--window: leaves nothing to score (expected at least 2 (a window's first token is predicted from nothing), found 1)", 2},
      {{"score", "--model", model, "--corpus", "x.jsonl", "--window", "8"}, "--window: applies to one text (--text/--file), not to --corpus", 2},
      {{"route", "--model", model, "--text", text, "--max-tokens", "0"}, "--max-tokens: bad value (expected an integer >= 1, found '0')", 2},
      {{"route", "--model", model, "--text", text, "--max-tokens", "3"},
       "--text: text has more tokens than moescope routes at once (expected at most 3 tokens (raise --max-tokens), found "},
      {{"route", "--model", model, "--text", std::string(65, 'a'), "--max-tokens", "1"},
       "--text: text is too large (expected at most 64 bytes (64 bytes per token of --max-tokens 1), found 65 bytes)"},
      {{"score", "--model", model, "--file", big, "--max-tokens", "2"},
       big + ": text is too large (expected at most 128 bytes (64 bytes per token of --max-tokens 2), found 200 bytes)"},
      // Still refused as before: empty text, invalid UTF-8 (with its byte offset).
      {{"route", "--model", model, "--text", ""}, "--text: the text is empty"},
      {{"route", "--model", model, "--file", write_file(tmp, "bad.txt", "ab\xff"), "--window", "2"}, "byte 2"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.message);
    const Run r = run_cli(c.args);
    CHECK(r.code == c.code);
    CHECK(r.out.empty());
    CHECK_MESSAGE(r.err.find(c.message) != std::string::npos, r.err);
  }
}

TEST_CASE("cli route: peak memory of a 100k-token text stays within 1.5x that of a 10k-token text") {
  // The fixture model routes ~40k tokens/s on one thread, so 100k tokens take seconds; the
  // sample-model version of this measurement is bench/long_text_memory.py.
  const std::string model = fixture_model("emo-shared");
  const Tokenizer tok = Tokenizer::from_file(model + "/tokenizer.json");
  test::TempDir tmp("long-text-rss");
  long peak[2] = {0, 0};
  const size_t sizes[2] = {10000, 100000};
  for (int i = 0; i < 2; ++i) {
    const std::string text = heldout_text(tok, sizes[i] + sizes[i] / 50);
    const size_t T = tok.encode(text).ids.size();
    CHECK(T >= sizes[i]);
    std::string name = "text";
    name += std::to_string(i);
    const std::string file = write_file(tmp, name, text);
    int code = -1;
    peak[i] = peak_rss_kib(tmp, {"route", "--model", model, "--file", file, "--json", "--window", "512", "--threads", "1"}, code);
    REQUIRE(code == 0);
    MESSAGE(T << " tokens: peak RSS " << peak[i] / 1024 << " MiB");
  }
  // Growth allowed: the ids, offsets and token strings themselves (~60 bytes a token) and the
  // larger batch of the longer text (16384 tokens instead of 10000): 16 MiB covers both.
  CHECK(peak[1] <= long(1.5 * double(peak[0])) + 16 * 1024);
}
