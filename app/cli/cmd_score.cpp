// cmd_score.cpp — `moescope-cli score`: how well the model (or a subset of it) predicts a text.
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "analysis/scoring.h"
#include "app/cli/commands.h"
#include "engine/error.h"

namespace moescope::cli {

int cmd_score(const std::vector<std::string>& argv) {
  Args args(argv, {"json"}, {"model", "text", "file", "keep", "threads"});
  std::unique_ptr<ExpertSubset> keep;
  auto model = load_model_for(args, keep);
  TextSource src = read_text_source(args);
  Encoding enc = encode_for_model(*model, src);
  if (enc.ids.size() < 2)
    fail_expected(src.label, "too short to score", "at least 2 tokens (each token is predicted from the ones before)",
                  std::to_string(enc.ids.size()) + " token");
  ForwardOptions opt;
  ForwardResult r = model->forward({enc.ids}, opt);
  // Bytes of the predicted tokens: the whole text minus what precedes the second token.
  const size_t predicted_bytes = enc.ids.size() > 1 ? src.text.size() - enc.offsets[1].first : 0;
  ScoreSummary s = summarize_nll(r, predicted_bytes);
  if (args.flag("json")) {
    nlohmann::json j{{"tokens", s.tokens},       {"predicted_tokens", s.predicted}, {"mean_nll", s.mean_nll},
                     {"perplexity", s.perplexity}, {"bits_per_byte", s.bits_per_byte}, {"bytes", s.bytes},
                     {"subset", keep != nullptr}};
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::printf("tokens          %zu (%zu predicted)\nmean NLL        %.4f nats\nperplexity      %.3f\nbits per byte   %.4f\n",
              s.tokens, s.predicted, s.mean_nll, s.perplexity, s.bits_per_byte);
  return 0;
}

}  // namespace moescope::cli
