// corpus_scoring.cpp — scoring a corpus document by document, in packed batches.
#include "analysis/corpus_scoring.h"

#include "analysis/document_tokens.h"

#include <algorithm>
#include <map>

#include "engine/error.h"

namespace moescope {

void ScoreTotals::add(const ScoreTotals& o) {
  documents += o.documents;
  tokens += o.tokens;
  predicted += o.predicted;
  nll += o.nll;
  bytes += o.bytes;
}

CorpusScore score_corpus(const Model& model, const std::vector<CorpusDocument>& docs, const CorpusScoreOptions& opt) {
  if (!model.tokenizer()) fail(model.dir(), "has no tokenizer.json (needed to score text)");
  const int64_t max_tokens = token_limit(model, opt.max_tokens_per_doc);
  CorpusScore out;
  out.documents.resize(docs.size());

  std::vector<std::vector<int32_t>> batch;
  std::vector<size_t> batch_docs;
  std::vector<double> batch_bytes;
  int64_t batch_size = 0;
  ForwardOptions fwd;
  fwd.mask = opt.mask;
  auto flush = [&](size_t done) {
    if (batch.empty()) return;
    ForwardResult r = model.forward(batch, fwd);
    for (size_t i = 0; i < batch.size(); ++i) {
      const DocumentSpan& span = r.docs[i];
      ScoreTotals& s = out.documents[batch_docs[i]];
      s.documents = 1;
      s.tokens = span.size();
      for (size_t t = span.begin; t + 1 < span.end; ++t) {  // the last token predicts nothing
        if (!std::isfinite(r.nll[t]))
          fail("document '" + docs[batch_docs[i]].id + "'", "NLL is not finite (NaN or Inf): the model's outputs overflowed");
        s.nll += double(r.nll[t]);
        ++s.predicted;
      }
      s.bytes = batch_bytes[i];
    }
    batch.clear();
    batch_docs.clear();
    batch_bytes.clear();
    batch_size = 0;
    if (opt.progress) opt.progress(done, docs.size());
  };

  for (size_t d = 0; d < docs.size(); ++d) {
    DocumentTokens dt = encode_document(model, docs[d], max_tokens);
    Encoding& enc = dt.enc;
    if (enc.ids.size() < 2) {
      ++out.skipped;
      continue;
    }
    out.truncated += dt.truncated ? 1 : 0;
    // Bytes of the predicted tokens 1..n-1.
    const double bytes = double(enc.offsets.back().second - enc.offsets[1].first);
    if (batch_size + int64_t(enc.ids.size()) > opt.batch_tokens) flush(d);
    batch_size += int64_t(enc.ids.size());
    batch.push_back(std::move(enc.ids));
    batch_docs.push_back(d);
    batch_bytes.push_back(bytes);
  }
  flush(docs.size());

  std::map<std::string, ScoreTotals> by_domain;
  for (size_t d = 0; d < docs.size(); ++d) {
    if (!out.documents[d].documents) continue;
    by_domain[docs[d].domain].add(out.documents[d]);
    out.total.add(out.documents[d]);
  }
  for (auto& [name, totals] : by_domain) out.domains.push_back({name, totals});
  return out;
}

}  // namespace moescope
