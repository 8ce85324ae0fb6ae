// trace.cpp — corpus -> forward passes -> workspace records.
#include "analysis/trace.h"

#include <chrono>

#include "analysis/document_tokens.h"
#include "engine/dtype.h"
#include "engine/error.h"

namespace moescope {

DocumentRecord record_of(const ForwardResult& r, size_t i, bool probs) {
  const DocumentSpan& span = r.docs[i];
  const size_t T = span.size();
  DocumentRecord out;
  out.ids.assign(r.ids.begin() + std::ptrdiff_t(span.begin), r.ids.begin() + std::ptrdiff_t(span.end));
  out.nll.assign(r.nll.begin() + std::ptrdiff_t(span.begin), r.nll.begin() + std::ptrdiff_t(span.end));
  for (const LayerRecord& l : r.layers) {
    const size_t K = size_t(l.k), Es = size_t(l.num_standard);
    for (size_t t = span.begin; t < span.end; ++t)
      for (size_t j = 0; j < K; ++j) {
        out.topk_ids.push_back(uint16_t(l.topk_ids[t * K + j]));
        out.topk_weights.push_back(l.topk_weights[t * K + j]);
      }
    out.doc_mean_probs.insert(out.doc_mean_probs.end(), l.doc_mean_probs.begin() + std::ptrdiff_t(i * Es),
                              l.doc_mean_probs.begin() + std::ptrdiff_t((i + 1) * Es));
    out.doc_topk_freq.insert(out.doc_topk_freq.end(), l.doc_topk_freq.begin() + std::ptrdiff_t(i * Es),
                             l.doc_topk_freq.begin() + std::ptrdiff_t((i + 1) * Es));
    if (probs)
      for (size_t t = span.begin; t < span.end; ++t)
        for (size_t e = 0; e < Es; ++e) out.probs_f16.push_back(f32_to_f16(l.probs[t * Es + e]));
  }
  (void)T;
  return out;
}

TraceSummary trace_corpus(const Model& model, const std::vector<CorpusDocument>& docs, Workspace& ws,
                          const TraceOptions& opt) {
  if (!model.tokenizer()) fail(model.dir(), "has no tokenizer.json (needed to trace text)");
  const ModelConfig& c = model.config();
  TraceSettings settings;
  settings.max_tokens_per_doc = token_limit(model, opt.max_tokens_per_doc);
  settings.probs = opt.probs;
  settings.bf16 = model.precision() == Precision::BF16;
  std::vector<LayerLayout> layout;
  for (int l = 0; l < c.num_layers; ++l) {
    const LayerSpec& s = c.layers[size_t(l)];
    if (s.is_moe()) layout.push_back({l, c.top_k, s.num_standard()});
  }
  ws.bind_run(identify_model(model.dir()), settings, layout);
  const std::vector<int64_t> ids = ws.add_documents(docs);
  const std::set<int64_t> done = ws.traced_documents();

  TraceSummary sum;
  sum.total = docs.size();
  ForwardOptions fwd;
  fwd.probs = opt.probs;
  const auto t0 = std::chrono::steady_clock::now();
  TraceProgress prog;
  prog.documents_total = docs.size();
  std::vector<std::vector<int32_t>> batch;
  std::vector<DocumentRecord> pending;  // offsets, ids and flags of the batch's documents
  int64_t batch_size = 0;

  auto flush = [&]() {
    if (batch.empty() && pending.empty()) return;
    std::vector<DocumentRecord> records;
    if (!batch.empty()) {
      const ForwardResult r = model.forward(batch, fwd);
      size_t next = 0;
      for (DocumentRecord& p : pending) {
        if (p.ids.empty()) {  // an empty document: stored with no tokens
          records.push_back(std::move(p));
          continue;
        }
        DocumentRecord rec = record_of(r, next++, opt.probs);
        rec.doc_id = p.doc_id;
        rec.offsets = std::move(p.offsets);
        rec.truncated = p.truncated;
        sum.tokens += rec.ids.size();
        prog.tokens_this_run += rec.ids.size();
        records.push_back(std::move(rec));
      }
    } else {
      for (DocumentRecord& p : pending) records.push_back(std::move(p));
    }
    ws.store_records(records);
    sum.traced_now += records.size();
    prog.documents_done += records.size();
    batch.clear();
    pending.clear();
    batch_size = 0;
    prog.seconds_this_run = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (opt.progress) opt.progress(prog);
  };

  for (size_t d = 0; d < docs.size(); ++d)
    if (done.count(ids[d])) ++sum.already;
  prog.documents_done = sum.already;
  if (opt.progress) opt.progress(prog);

  for (size_t d = 0; d < docs.size(); ++d) {
    if (done.count(ids[d])) continue;
    if (opt.stop && opt.stop->load()) {
      sum.stopped = true;
      break;
    }
    DocumentTokens dt = encode_document(model, docs[d], settings.max_tokens_per_doc);
    Encoding& enc = dt.enc;
    DocumentRecord p;
    p.doc_id = ids[d];
    p.truncated = dt.truncated;
    sum.truncated += dt.truncated ? 1 : 0;
    for (const auto& o : enc.offsets) {
      p.offsets.push_back(int32_t(o.first));
      p.offsets.push_back(int32_t(o.second));
    }
    if (!enc.ids.empty()) {
      if (batch_size + int64_t(enc.ids.size()) > opt.batch_tokens && !batch.empty()) {
        flush();
        if (opt.stop && opt.stop->load()) {
          sum.stopped = true;
          break;
        }
      }
      batch_size += int64_t(enc.ids.size());
      p.ids = enc.ids;  // marks a non-empty document; record_of fills the rest
      batch.push_back(std::move(enc.ids));
    }
    pending.push_back(std::move(p));
  }
  if (!sum.stopped || !batch.empty()) flush();
  return sum;
}

}  // namespace moescope
