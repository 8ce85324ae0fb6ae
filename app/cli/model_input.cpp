// model_input.cpp — loading a model for a command and turning its text input into token ids and windows.
#include <charconv>
#include <filesystem>
#include <optional>

#include "app/cli/commands.h"
#include "engine/cpu/cpu_ops.h"
#include "engine/error.h"
#include "engine/cpu/gemm_bf16.h"
#include "kernels/backend_maker.h"
#include "kernels/cuda_device.h"
#include "app/cli/mpi_shard.h"

namespace moescope::cli {

void set_cpu_options(const Args& args) { set_cpu_threads(args.get_int("threads", 0, 1)); }

LoadOptions load_options(const Args& args) {
  set_cpu_options(args);
  LoadOptions opt;
  if (auto p = args.get("precision")) opt.precision = parse_option([&] { return parse_precision(*p, "--precision"); });
  opt.f32_gemm = f32_gemm_from_environment();  // read once, here at the edge
  opt.threads = args.get_int("threads", 0, 1);
  opt.memory_check = !args.flag("no-memory-check");
  opt.force_subset = args.flag("force-subset");
  if (auto d = args.get("device")) {
    Device device = parse_option([&] { return parse_device(*d); });
    // Under mpirun each rank of a node drives its own GPU: local rank modulo the node's devices.
    if (launched_ranks() > 1) device = device_for_local_rank(device, launched_local_rank(), cuda_device_info().count);
    opt.backend = backend_maker(device);
  }
  return opt;
}

std::unique_ptr<Model> load_model_for(const Args& args, std::unique_ptr<ExpertSubset>& keep) {
  const std::string dir = args.require("model");
  LoadOptions opt = load_options(args);
  // The subset decides which experts are read at all; the load checks it against the config it reads.
  if (auto keep_path = args.get("keep")) opt.subset_file = *keep_path;
  auto model = Model::load(dir, opt);
  if (!opt.subset_file.empty()) keep = std::make_unique<ExpertSubset>(model->loaded_subset());
  if (!model->tokenizer()) fail(dir, "has no tokenizer.json (needed to turn text into tokens)");
  return model;
}

namespace {

// Bounds of one text: --max-tokens (default 2^20, ten times a 100k-token book) and, checked
// before tokenizing, 64 bytes per allowed token (a real text averages about 4 bytes per token).
constexpr int kDefaultMaxTokens = 1 << 20;
constexpr size_t kMaxBytesPerToken = 64;

int64_t max_tokens_option(const Args& args) { return args.get_int("max-tokens", kDefaultMaxTokens, 1); }

TextSource read_bounded_text(const Args& args) {
  const int64_t max_tokens = max_tokens_option(args);
  std::string why = std::to_string(kMaxBytesPerToken);
  why += " bytes per token of --max-tokens ";
  why += std::to_string(max_tokens);
  return read_text_source(args, size_t(max_tokens) * kMaxBytesPerToken, why);
}

}  // namespace

Encoding encode_for_model(const Model& model, const TextSource& src, int64_t max_tokens) {
  const ModelConfig& config = model.config();
  Encoding enc;
  try {
    enc = model.tokenizer()->encode(src.text);
  } catch (const Error& e) {
    fail(src.label, e.what());
  }
  if (enc.ids.empty()) fail(src.label, "the text gives no tokens");
  if (int64_t(enc.ids.size()) > max_tokens)
    fail_expected(src.label, "text has more tokens than moescope routes at once",
                  "at most " + std::to_string(max_tokens) + " tokens (raise --max-tokens)",
                  std::to_string(enc.ids.size()) + " tokens");
  for (size_t i = 0; i < enc.ids.size(); ++i)
    if (enc.ids[i] >= config.vocab_size)
      fail_expected(src.label + ": token " + std::to_string(i), "tokenizer id outside the model's vocabulary",
                    "< " + std::to_string(config.vocab_size), std::to_string(enc.ids[i]));
  return enc;
}

namespace {

std::string window_range(int64_t context) {
  std::string range = "an integer from 1 to ";
  range += std::to_string(context);
  range += " (the model's context, max_position_embeddings)";
  return range;
}

// --window as written: absent, or an integer >= 1 (UsageError otherwise). The range message names
// the model's context when it is known (context > 0).
std::optional<int64_t> window_syntax(const Args& args, int64_t context) {
  const auto v = args.get("window");
  if (!v) return std::nullopt;
  int64_t n = 0;
  const auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || end != v->data() + v->size() || n < 1)
    usage_fail_expected("--window", "bad value", context > 0 ? window_range(context) : "an integer >= 1", "'" + *v + "'");
  return n;
}

}  // namespace

void check_text_options(const Args& args) {
  check_text_choice(args);
  max_tokens_option(args);
  // The model's context is in its config.json: read it (a few KB) so the message can name it.
  int64_t context = 0;
  if (args.get("window")) {
    try {
      context = ModelConfig::from_file((std::filesystem::path(args.require("model")) / "config.json").string())
                    .max_position_embeddings;
    } catch (const Error&) {
      // an unreadable config is reported by the model's load, with its own message
    }
  }
  window_syntax(args, context);
}

int64_t window_option(const Args& args, const ModelConfig& config) {
  const int64_t context = config.max_position_embeddings;
  const auto n = window_syntax(args, context);
  if (!n) return context;
  if (*n > context) fail_expected("--window", "larger than the model's context", window_range(context), "'" + *args.get("window") + "'");
  return *n;
}

ModelText text_for_model(const Model& model, std::string text, const std::string& label) {
  ModelText t;
  t.window = model.config().max_position_embeddings;
  if (text.empty()) fail(label, "the text is empty (expected at least one character)");
  t.src = TextSource{std::move(text), label};
  t.enc = encode_for_model(model, t.src, kDefaultMaxTokens);
  t.windows = split_windows(t.enc.ids.size(), t.window);
  return t;
}

ModelText read_model_text(const Args& args, const Model& model) {
  ModelText t;
  t.window = window_option(args, model.config());  // checked before the text is read and tokenized
  t.src = read_bounded_text(args);
  t.enc = encode_for_model(model, t.src, max_tokens_option(args));
  t.windows = split_windows(t.enc.ids.size(), t.window);
  return t;
}

std::string windows_note(const ModelText& t, const ModelConfig& config) {
  if (t.windows.size() < 2) return "";
  std::string s = "text of ";
  s += std::to_string(t.enc.ids.size());
  s += " tokens split into ";
  s += std::to_string(t.windows.size());
  s += " windows of at most ";
  s += std::to_string(t.window);
  s += " tokens (the model's context is ";
  s += std::to_string(config.max_position_embeddings);
  s += "); each window is routed on its own (positions restart, attention stays inside it), so its last token has no NLL\n";
  return s;
}

}  // namespace moescope::cli
