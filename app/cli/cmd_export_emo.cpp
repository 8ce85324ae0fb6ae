// cmd_export_emo.cpp — `moescope-cli export-emo`: a corpus routed into EMO's clustering-pipeline files.
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "analysis/emo_export.h"
#include "app/cli/commands.h"

namespace moescope::cli {

int cmd_export_emo(const std::vector<std::string>& argv) {
  Args args(argv, {"json", "no-memory-check"}, {"model", "corpus", "out", "max-tokens-per-doc", "threads", "precision", "device"});
  const std::vector<CorpusDocument> docs = read_corpus(args.require("corpus"));
  std::unique_ptr<ExpertSubset> no_keep;
  auto model = load_model_for(args, no_keep);
  const std::string out = args.require("out");
  const EmoExportSummary s = export_emo_pipeline(*model, docs, out, args.get_int("max-tokens-per-doc", 0, 1));
  if (args.flag("json")) {
    std::cout << nlohmann::json{{"out", out}, {"documents", s.documents}, {"tokens", s.tokens}, {"skipped", s.skipped},
                                {"emb_dim", s.emb_dim}}
                     .dump(2)
              << "\n";
  } else {
    std::printf("wrote %s: %zu documents, %zu tokens, router logits [%zu, %lld] float16 (%zu empty documents skipped)\n",
                out.c_str(), s.documents, s.tokens, s.tokens, static_cast<long long>(s.emb_dim), s.skipped);
  }
  return 0;
}

}  // namespace moescope::cli
