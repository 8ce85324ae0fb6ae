// cmd_tokenize.cpp — `moescope-cli tokenize`: ids, vocabulary strings and byte offsets.
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "app/cli/commands.h"
#include "app/cli/json_out.h"
#include "engine/error.h"

namespace moescope::cli {

int cmd_tokenize(const std::vector<std::string>& argv) {
  Args args(argv, {"json"}, {"tokenizer", "model", "text", "file"});
  auto tok_file = args.get("tokenizer");
  auto model_dir = args.get("model");
  if (tok_file && model_dir) usage_fail("input", "give either --tokenizer or --model, not both");
  if (!tok_file && !model_dir) usage_fail("input", "give --tokenizer FILE or --model DIR");
  const std::string path = tok_file ? *tok_file : (std::filesystem::path(*model_dir) / "tokenizer.json").string();
  if (model_dir && !std::filesystem::exists(path)) fail(*model_dir, "has no tokenizer.json");
  Tokenizer tok = Tokenizer::from_file(path);
  TextSource src = read_text_source(args);
  Encoding enc;
  try {
    enc = tok.encode(src.text);
  } catch (const Error& e) {
    fail(src.label, e.what());
  }
  if (args.flag("json")) {
    nlohmann::json j;
    add_encoding(j, enc);
    std::cout << dump(j) << "\n";
    return 0;
  }
  std::cout << enc.ids.size() << " tokens\n";
  for (size_t i = 0; i < enc.ids.size(); ++i) {
    const auto [b, e] = enc.offsets[i];
    std::cout << i << "\t" << enc.ids[i] << "\t[" << b << ", " << e << ")\t"
              << dump(nlohmann::json(src.text.substr(b, e - b)))
              << "\n";
  }
  return 0;
}

}  // namespace moescope::cli
