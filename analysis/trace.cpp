// trace.cpp — corpus -> forward passes -> workspace records.
#include "analysis/trace.h"

#include <chrono>

#include "analysis/batching.h"
#include "analysis/document_tokens.h"
#include "engine/checkpoint/dtype.h"
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

namespace {

// A document of the batch being collected (only for batches this shard runs).
struct PlannedDoc {
  size_t position = 0;
  bool done = false;       // traced before: forwarded only for its batch-mates' sake, not stored
  bool encoded = false;    // tokens below are filled (done documents may skip tokenizing)
  DocumentTokens tokens;
};

}  // namespace

int64_t bind_trace_run(const Model& model, const TraceOptions& opt, Workspace& ws) {
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
  ws.bind_run(identify_model(model.checkpoint()), settings, layout);
  return settings.max_tokens_per_doc;
}

TraceSummary trace_corpus(const Model& model, const std::vector<CorpusDocument>& docs, Workspace& ws,
                          const TraceOptions& opt) {
  if (!model.tokenizer()) fail(model.dir(), "has no tokenizer.json (needed to trace text)");
  if (opt.shard_count < 1 || opt.shard_rank < 0 || opt.shard_rank >= opt.shard_count)
    fail_expected("trace shard", "bad shard", "a rank in [0, shard count)",
                  std::to_string(opt.shard_rank) + " of " + std::to_string(opt.shard_count));
  if (opt.traced_elsewhere && opt.traced_elsewhere->size() != docs.size())
    fail_expected("trace: documents traced elsewhere", "list does not match the corpus",
                  std::to_string(docs.size()) + " entries", std::to_string(opt.traced_elsewhere->size()));
  const int64_t limit = bind_trace_run(model, opt, ws);
  const std::vector<int64_t> ids = ws.add_documents(docs);

  // Token counts of traced documents (-1 = not traced): they place batch boundaries without
  // tokenizing the text again.
  std::vector<int64_t> traced_tokens(docs.size(), -1);
  {
    const std::vector<WorkspaceDocument> listed = ws.documents();  // in corpus order
    for (const WorkspaceDocument& w : listed)
      if (w.position >= 0 && size_t(w.position) < docs.size()) traced_tokens[size_t(w.position)] = w.tokens;
    if (opt.traced_elsewhere)
      for (size_t d = 0; d < docs.size(); ++d)
        if ((*opt.traced_elsewhere)[d] >= 0) traced_tokens[d] = (*opt.traced_elsewhere)[d];
  }
  size_t done_before = 0;
  for (int64_t t : traced_tokens) done_before += t >= 0 ? 1 : 0;

  TraceSummary sum;
  sum.total = docs.size();
  if (opt.shard_count == 1) sum.already = done_before;
  ForwardOptions fwd;
  fwd.probs = opt.probs;
  const auto t0 = std::chrono::steady_clock::now();
  TraceProgress prog;
  prog.documents_total = docs.size();
  prog.documents_done = done_before;
  if (opt.progress) opt.progress(prog);

  // Runs (or skips) one batch of this shard: forwards all its documents together, as a fresh
  // trace would, and stores the records of those not traced before, in one transaction.
  auto run_batch = [&](std::vector<PlannedDoc>& batch) {
    size_t fresh = 0;
    for (const PlannedDoc& p : batch) fresh += p.done ? 0 : 1;
    if (opt.shard_count > 1) sum.already += batch.size() - fresh;  // one shard: all counted up front
    if (fresh == 0) return;
    std::vector<std::vector<int32_t>> forward_ids;
    for (PlannedDoc& p : batch) {
      if (!p.encoded) p.tokens = encode_document(model, docs[p.position], limit);
      if (!p.tokens.enc.ids.empty()) forward_ids.push_back(p.tokens.enc.ids);
    }
    ForwardResult r;
    if (!forward_ids.empty()) r = model.forward(forward_ids, fwd);
    std::vector<DocumentRecord> records;
    size_t next = 0;
    for (PlannedDoc& p : batch) {
      const Encoding& enc = p.tokens.enc;
      const size_t span = enc.ids.empty() ? 0 : next++;
      if (p.done) continue;
      DocumentRecord rec;
      if (!enc.ids.empty()) rec = record_of(r, span, opt.probs);  // empty documents: stored with no tokens
      rec.doc_id = ids[p.position];
      rec.truncated = p.tokens.truncated;
      for (const auto& o : enc.offsets) {
        rec.offsets.push_back(int32_t(o.first));
        rec.offsets.push_back(int32_t(o.second));
      }
      sum.truncated += p.tokens.truncated ? 1 : 0;
      sum.tokens += rec.ids.size();
      prog.tokens_this_run += rec.ids.size();
      records.push_back(std::move(rec));
    }
    ws.store_records(records);
    sum.traced_now += records.size();
  };

  // One pass over the corpus: every document's size places the batch boundaries (the same plan on
  // every shard); only this shard's batches are kept and run.
  BatchPacker packer(opt.batch_tokens);
  std::vector<PlannedDoc> batch;
  size_t batch_index = 0, passed_new = 0, batch_new = 0;
  auto close_batch = [&]() -> bool {  // false when stopped before running it
    const bool mine = batch_index % size_t(opt.shard_count) == size_t(opt.shard_rank);
    if (mine && !batch.empty()) {
      bool fresh = false;
      for (const PlannedDoc& p : batch) fresh = fresh || !p.done;
      if (fresh && opt.stop && opt.stop->load()) return false;
      run_batch(batch);
    }
    passed_new += batch_new;
    if (mine && batch_new > 0) {
      prog.documents_done = done_before + passed_new;
      prog.seconds_this_run = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (opt.progress) opt.progress(prog);
    }
    batch.clear();
    batch_new = 0;
    return true;
  };
  for (size_t d = 0; d < docs.size(); ++d) {
    PlannedDoc p;
    p.position = d;
    p.done = traced_tokens[d] >= 0;
    int64_t n = traced_tokens[d];
    if (!p.done) {
      p.tokens = encode_document(model, docs[d], limit);
      p.encoded = true;
      n = int64_t(p.tokens.enc.ids.size());
    }
    const size_t b = packer.add(n);
    if (b != batch_index) {
      if (!close_batch()) {
        sum.stopped = true;
        break;
      }
      batch_index = b;
    }
    batch_new += p.done ? 0 : 1;
    if (batch_index % size_t(opt.shard_count) == size_t(opt.shard_rank)) batch.push_back(std::move(p));
  }
  if (!sum.stopped && !close_batch()) sum.stopped = true;
  if (!sum.stopped && prog.documents_done != done_before + passed_new && opt.progress) {
    prog.documents_done = done_before + passed_new;  // the last batches were other shards'
    opt.progress(prog);
  }
  return sum;
}

}  // namespace moescope
