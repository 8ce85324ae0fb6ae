// model_input.cpp — loading a model for a command and turning its text input into token ids.
#include <filesystem>

#include "app/cli/commands.h"
#include "engine/cpu_ops.h"
#include "engine/error.h"
#include "engine/gemm_bf16.h"

namespace moescope::cli {

void set_cpu_options(const Args& args) {
  set_cpu_threads(args.get_int("threads", 0, 1));
  if (auto p = args.get("precision")) set_cpu_precision(parse_precision(*p, "--precision"));
}

std::unique_ptr<Model> load_model_for(const Args& args, std::unique_ptr<ExpertSubset>& keep) {
  const std::string dir = args.require("model");
  set_cpu_options(args);
  if (auto keep_path = args.get("keep")) {
    // The subset decides which experts are read at all, so parse the config first.
    ModelConfig c = ModelConfig::from_file((std::filesystem::path(dir) / "config.json").string());
    keep = std::make_unique<ExpertSubset>(ExpertSubset::from_file(*keep_path, c));
  }
  LoadOptions opt;
  opt.subset = keep.get();
  auto model = Model::load(dir, opt);
  if (!model->tokenizer()) fail(dir, "has no tokenizer.json (needed to turn text into tokens)");
  return model;
}

// No vocabulary entry of a real tokenizer is this long, so a text with more bytes than
// context x this cannot fit the context whatever it tokenizes to: refuse before tokenizing.
constexpr size_t kMaxBytesPerToken = 1024;

Encoding encode_for_model(const Model& model, const TextSource& src) {
  const ModelConfig& config = model.config();
  if (src.text.size() > size_t(config.max_position_embeddings) * kMaxBytesPerToken)
    fail_expected(src.label, "text is longer than the model's context",
                  "at most " + std::to_string(config.max_position_embeddings) + " tokens (max_position_embeddings)",
                  std::to_string(src.text.size()) + " bytes, far more tokens");
  Encoding enc;
  try {
    enc = model.tokenizer()->encode(src.text);
  } catch (const Error& e) {
    fail(src.label, e.what());
  }
  if (enc.ids.empty()) fail(src.label, "the text gives no tokens");
  if (int64_t(enc.ids.size()) > config.max_position_embeddings)
    fail_expected(src.label, "text is longer than the model's context",
                  "at most " + std::to_string(config.max_position_embeddings) + " tokens (max_position_embeddings)",
                  std::to_string(enc.ids.size()) + " tokens");
  for (size_t i = 0; i < enc.ids.size(); ++i)
    if (enc.ids[i] >= config.vocab_size)
      fail_expected(src.label + ": token " + std::to_string(i), "tokenizer id outside the model's vocabulary",
                    "< " + std::to_string(config.vocab_size), std::to_string(enc.ids[i]));
  return enc;
}

}  // namespace moescope::cli
