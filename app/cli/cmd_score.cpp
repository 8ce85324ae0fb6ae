// cmd_score.cpp — `moescope-cli score`: how well the model (or a subset of it) predicts a text.
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "analysis/corpus_scoring.h"
#include "analysis/scoring.h"
#include "analysis/text_windows.h"
#include "app/cli/commands.h"
#include "engine/error.h"

namespace moescope::cli {

namespace {

nlohmann::json totals_json(const ScoreTotals& t) {
  return {{"documents", t.documents}, {"tokens", t.tokens},   {"predicted_tokens", t.predicted},
          {"mean_nll", t.mean_nll()},  {"bytes", t.bytes},     {"bits_per_byte", t.bits_per_byte()}};
}

// --corpus: every document scored on its own, totals per domain.
int score_corpus_command(const Args& args, const Model& model, bool subset) {
  const std::vector<CorpusDocument> docs = read_corpus(args.require("corpus"));
  CorpusScoreOptions opt;
  opt.max_tokens_per_doc = args.get_int("max-tokens-per-doc", 0, 2);
  const CorpusScore s = score_corpus(model, docs, opt);
  if (s.total.documents == 0) fail(args.require("corpus"), "no document has the 2 tokens needed to score it");
  if (args.flag("json")) {
    nlohmann::json domains = nlohmann::json::array();
    for (const DomainTotals& d : s.domains) {
      nlohmann::json j = totals_json(d.totals);
      j["domain"] = d.domain;
      domains.push_back(j);
    }
    nlohmann::json j{{"total", totals_json(s.total)}, {"domains", domains}, {"skipped_documents", s.skipped},
                     {"truncated_documents", s.truncated}, {"subset", subset}};
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::printf("%-24s %9s %10s %10s %14s\n", "domain", "documents", "tokens", "mean NLL", "bits per byte");
  auto row = [](const std::string& name, const ScoreTotals& t) {
    std::printf("%-24s %9zu %10zu %10.4f %14.4f\n", name.c_str(), t.documents, t.tokens, t.mean_nll(), t.bits_per_byte());
  };
  for (const DomainTotals& d : s.domains) row(d.domain.empty() ? "(no domain)" : d.domain, d.totals);
  row("all", s.total);
  if (s.skipped || s.truncated)
    std::printf("(%zu documents skipped: fewer than 2 tokens; %zu truncated to the token limit)\n", s.skipped, s.truncated);
  return 0;
}

// Bytes of the predicted tokens: in each window, from its second token to where the next window
// starts (the next window's first token is not predicted), or to the end of the text.
size_t predicted_bytes(const ModelText& text) {
  size_t bytes = 0;
  for (size_t w = 0; w < text.windows.size(); ++w) {
    const DocumentSpan& win = text.windows[w];
    if (win.size() < 2) continue;
    const size_t end = w + 1 < text.windows.size() ? text.enc.offsets[text.windows[w + 1].begin].first : text.src.text.size();
    bytes += end - text.enc.offsets[win.begin + 1].first;
  }
  return bytes;
}

}  // namespace

ScoreSummary score_text(const Model& model, const ModelText& text) {
  const size_t T = text.enc.ids.size();
  if (T < 2)
    fail_expected(text.src.label, "too short to score", "at least 2 tokens (each token is predicted from the ones before)",
                  std::to_string(T) + " token");
  ScoreSummary s;
  route_windows(model, text.enc.ids, text.windows, ForwardOptions{}, kWindowBatchTokens,
                [&](const WindowBatch& b) { add_nll(s, b.result, b.first_token); });
  finish_summary(s, predicted_bytes(text));
  return s;
}

nlohmann::json score_text_json(const ScoreSummary& s, const ModelText& text, bool subset) {
  nlohmann::json windows = nlohmann::json::array();
  for (const DocumentSpan& w : text.windows) windows.push_back({{"start", w.begin}, {"end", w.end}});
  return {{"tokens", s.tokens},       {"predicted_tokens", s.predicted}, {"mean_nll", s.mean_nll},
          {"perplexity", s.perplexity}, {"bits_per_byte", s.bits_per_byte}, {"bytes", s.bytes},
          {"subset", subset},           {"windows", windows}};
}

int cmd_score(const std::vector<std::string>& argv) {
  Args args(argv, {"json", "no-memory-check", "force-subset"},
            {"model", "text", "file", "corpus", "max-tokens-per-doc", "keep", "threads", "precision", "window", "max-tokens", "device"});
  // A malformed command line is refused before the model loads.
  if (args.get("corpus")) {
    if (args.get("text") || args.get("file")) usage_fail("--corpus", "give either --corpus or --text/--file, not both");
    for (const std::string o : {"window", "max-tokens"})
      if (args.get(o)) usage_fail("--" + o, "applies to one text (--text/--file), not to --corpus (see --max-tokens-per-doc)");
  } else {
    check_text_options(args);
    if (const auto w = args.get("window"); w && std::stoll(*w) == 1)  // well-formed: checked just above
      usage_fail_expected("--window", "leaves nothing to score", "at least 2 (a window's first token is predicted from nothing)", "1");
  }
  std::unique_ptr<ExpertSubset> keep;
  auto model = load_model_for(args, keep);
  if (args.get("corpus")) return score_corpus_command(args, *model, keep != nullptr);
  const ModelText text = read_model_text(args, *model);
  const ScoreSummary s = score_text(*model, text);
  if (args.flag("json")) {
    std::cout << score_text_json(s, text, keep != nullptr).dump(2) << "\n";
    return 0;
  }

  std::printf("%s", windows_note(text, model->config()).c_str());
  std::printf("tokens          %zu (%zu predicted)\nmean NLL        %.4f nats\nperplexity      %.3f\nbits per byte   %.4f\n",
              s.tokens, s.predicted, s.mean_nll, s.perplexity, s.bits_per_byte);
  return 0;
}

}  // namespace moescope::cli
