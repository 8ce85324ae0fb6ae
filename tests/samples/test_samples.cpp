// test_samples.cpp — the built-in sample models (samples/models) load, are what their README says,
// and predict the committed held-out corpus far better than chance.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <map>

#include "analysis/corpus.h"
#include "analysis/corpus_scoring.h"
#include "engine/model.h"
#include "tests/test_paths.h"

using namespace moescope;

namespace {
std::string sample_dir(const std::string& name) { return test::source_dir() + "/samples/models/" + name; }

// A few held-out documents of every domain (the first N per domain in file order).
std::vector<CorpusDocument> heldout_sample(size_t per_domain) {
  const auto all = read_corpus(test::source_dir() + "/samples/corpus/heldout.jsonl");
  std::map<std::string, size_t> taken;
  std::vector<CorpusDocument> out;
  for (const auto& d : all)
    if (taken[d.domain]++ < per_domain) out.push_back(d);
  return out;
}
}  // namespace

TEST_CASE("samples: both models load with the documented shape") {
  for (const std::string name : {"emo-sample", "std-sample"}) {
    CAPTURE(name);
    const auto model = Model::load(sample_dir(name));
    const ModelConfig& c = model->config();
    CHECK(c.model_type == "emo");
    CHECK(c.num_layers == 4);
    CHECK(c.hidden_size == 128);
    CHECK(c.num_heads == 4);
    CHECK(c.vocab_size == 8192);
    CHECK(c.top_k == 4);
    CHECK(c.expert_width == 96);
    for (const LayerSpec& l : c.layers) {
      CHECK(l.num_experts == 32);
      CHECK(l.num_shared == 1);
    }
    REQUIRE(model->tokenizer());
    CHECK(model->tokenizer()->token_to_id("<|endoftext|>") == 8191);
    CHECK(std::filesystem::file_size(sample_dir(name) + "/model.safetensors") <= 16u * 1000 * 1000);
  }
}

TEST_CASE("samples: held-out NLL is finite and far below a uniform predictor's") {
  const auto docs = heldout_sample(2);
  CorpusScoreOptions opt;
  opt.max_tokens_per_doc = 256;
  for (const std::string name : {"emo-sample", "std-sample"}) {
    CAPTURE(name);
    const auto model = Model::load(sample_dir(name));
    const CorpusScore s = score_corpus(*model, docs, opt);
    REQUIRE(s.total.documents == docs.size());
    const double uniform = std::log(double(model->config().vocab_size));  // 9.01 nats
    CHECK(std::isfinite(s.total.mean_nll()));
    CHECK(s.total.mean_nll() < 0.6 * uniform);
    for (const DomainTotals& d : s.domains) {
      CAPTURE(d.domain);
      CHECK(d.totals.mean_nll() < 0.85 * uniform);  // every domain, not just the average, is learned
    }
  }
}
