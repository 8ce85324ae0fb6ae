// test_samples.cpp — the built-in sample models (samples/models) load, are what their README says,
// and predict the committed held-out corpus far better than chance.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <map>

#include "analysis/corpus.h"
#include "analysis/corpus_scoring.h"
#include "analysis/doc_clusters.h"
#include "analysis/domain_stats.h"
#include "analysis/expert_groups.h"
#include "analysis/expert_usage.h"
#include "analysis/trace.h"
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

TEST_CASE("samples: the analysis finds domain structure in emo-sample's routing") {
  // Three held-out documents of every domain, their first 128 tokens.
  test::TempDir tmp("samples-analysis");
  const auto model = Model::load(sample_dir("emo-sample"));
  Workspace ws(tmp / "w.moescope", true);
  TraceOptions opt;
  opt.max_tokens_per_doc = 128;
  trace_corpus(*model, heldout_sample(3), ws, opt);
  const TraceData td = load_trace(ws);
  REQUIRE(td.domains.size() == 22);
  const auto stats = domain_stats(td, 0.9);
  for (const DomainStats& s : stats) {
    CAPTURE(s.domain);
    CHECK(s.documents == 3);
    for (const auto& l : s.layers) {
      CHECK(l.pool.size() < 31);  // no domain needs every expert for 90% of its routing
      CHECK(l.doc_entropy_bits < std::log2(31.0));
    }
  }
  // Expert groups serve documents better than the same group sizes at random, in every layer.
  for (size_t l = 0; l < td.layers.size(); ++l) {
    const LayerGroups g = expert_groups(td, l, GroupOptions{});
    CAPTURE(l);
    CHECK(g.groups.size() >= 2);
    CHECK(g.modularity > 0.0);
  }
  // Documents cluster by domain above chance: random labels give NMI 0.63 on average (max 0.66 in
  // 200 draws) for 66 documents in 22 clusters; emo-sample reaches about 0.87 (printed).
  DocClusterOptions co;
  co.k = 22;
  const DocClusters dc = cluster_documents(td, co);
  MESSAGE("emo-sample document clusters: NMI " << dc.nmi);
  CHECK(dc.nmi > 0.7);
}

TEST_CASE("samples: every standard expert of both models is in use (issue: samples without dead experts)") {
  // The built-in demonstration must not get its cheap EMO subsets from experts no domain uses:
  // on four held-out documents of every domain (first 256 tokens), every standard expert of every
  // layer takes at least LOAD_FLOOR x the uniform share 1/31 of the routed selections. The full
  // held-out corpus (tools/train/evaluate.py, samples/README.md) is held to 0.25x; this sample of it
  // to a lower floor for sampling noise. The first pair (balancing 0.01) fails it: its emo-sample
  // had experts at 0.00x in every layer (samples/experiments-lb0.01-pool-results.json).
  constexpr double LOAD_FLOOR = 0.15;
  const auto docs = heldout_sample(4);
  for (const std::string name : {"emo-sample", "std-sample"}) {
    CAPTURE(name);
    test::TempDir tmp("samples-load-" + name);
    const auto model = Model::load(sample_dir(name));
    Workspace ws(tmp / "w.moescope", true);
    TraceOptions opt;
    opt.max_tokens_per_doc = 256;
    trace_corpus(*model, docs, ws, opt);
    const auto usage = expert_usage(load_trace(ws));
    REQUIRE(usage.size() == 4);
    for (const ExpertUsageLayer& u : usage) {
      CAPTURE(u.layer);
      MESSAGE(name << " layer " << u.layer << ": least / most used expert " << u.min_vs_uniform << "x / "
                   << u.max_vs_uniform << "x the uniform share");
      CHECK(u.num_standard == 31);
      CHECK(u.never_used.empty());
      CHECK(u.min_vs_uniform >= LOAD_FLOOR);
    }
  }
}
