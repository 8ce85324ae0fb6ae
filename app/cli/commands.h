// commands.h — the moescope-cli commands; each takes the arguments after its name and returns
// the process exit code. Errors are thrown as moescope::Error and printed once by main.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "app/cli/args.h"
#include "app/cli/text_source.h"
#include "analysis/scoring.h"
#include "analysis/text_windows.h"
#include "engine/model.h"

namespace moescope::cli {

int cmd_info(const std::vector<std::string>& argv);
int cmd_tokenize(const std::vector<std::string>& argv);
int cmd_route(const std::vector<std::string>& argv);
int cmd_score(const std::vector<std::string>& argv);
int cmd_bench(const std::vector<std::string>& argv);
int cmd_trace(const std::vector<std::string>& argv);
int cmd_analyze(const std::vector<std::string>& argv);
int cmd_subset(const std::vector<std::string>& argv);
int cmd_export_emo(const std::vector<std::string>& argv);
int cmd_render(const std::vector<std::string>& argv);
int cmd_bench_trace(const std::vector<std::string>& argv);
int cmd_workspace(const std::vector<std::string>& argv);

// Shared by route and score: load DIR (with an optional --keep subset file) ...
// --threads N and --precision f32|bf16 of the commands that run a model (process-wide settings).
void set_cpu_options(const Args& args);
// How a command loads its model: --precision, and --no-memory-check (skips the check that the
// estimated bytes fit in MemAvailable, engine/memory_estimate.h).
LoadOptions load_options(const Args& args);
std::unique_ptr<Model> load_model_for(const Args& args, std::unique_ptr<ExpertSubset>& keep);
// ... and tokenize the input for it (at most max_tokens tokens, ids inside the vocabulary).
Encoding encode_for_model(const Model& model, const TextSource& src, int64_t max_tokens);

// The text of route and score, read (--text/--file, bounded by --max-tokens), tokenized and split
// into windows of --window tokens (1..context, default the context; analysis/text_windows.h).
struct ModelText {
  TextSource src;
  Encoding enc;
  int64_t window = 0;
  std::vector<DocumentSpan> windows;
};
// The checks of route's and score's text options that need no model: exactly one of --text and
// --file, --max-tokens and --window well-formed (UsageError otherwise); run before the model loads.
void check_text_options(const Args& args);
int64_t window_option(const Args& args, const ModelConfig& config);
ModelText read_model_text(const Args& args, const Model& model);
// A text given in memory (the Python package): tokenized as read_model_text does, in windows of
// the model's context, at most 2^20 tokens; `label` names it in errors.
ModelText text_for_model(const Model& model, std::string text, const std::string& label);
// `score` of one text: the NLL summary over its windows (Error when it has < 2 tokens), and its JSON.
ScoreSummary score_text(const Model& model, const ModelText& text);
nlohmann::json score_text_json(const ScoreSummary& s, const ModelText& text, bool subset);

// The line that states the split ("text of T tokens split into W windows ..."), "" for one window.
std::string windows_note(const ModelText& t, const ModelConfig& config);

}  // namespace moescope::cli
