// emo_export.h — a corpus routed into the files EMO's clustering pipeline reads
// (emo-reference.md §5.1), so its transforms, clustering and HTML explorers run on moescope traces:
//   embeddings_logits.npy   float16 [N_tokens, sum Es]: router logits of the standard experts, layer-major
//   documents.npy           int32 [N_tokens]: token ids, documents concatenated
//   doc_boundaries.npy      int64 [N_docs + 1]: cumulative offsets
//   metadata_tokens.jsonl.gz {source, doc_index, token_position, token_id}
//   metadata_docs.jsonl.gz   {doc_index, source, doc_len}
//   info.json               sizes, layers, experts, routed top-k, model path, per-source counts
// `source` is the document's domain. The folder appears complete or not at all.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "analysis/corpus.h"
#include "engine/model.h"

namespace moescope {

struct EmoExportSummary {
  size_t documents = 0, tokens = 0, skipped = 0;
  int64_t emb_dim = 0;
};

// max_tokens_per_doc: EMO's published run truncates at 100; 0 = the model's context.
EmoExportSummary export_emo_pipeline(const Model& model, const std::vector<CorpusDocument>& docs, const std::string& out_dir,
                                     int64_t max_tokens_per_doc, int64_t batch_tokens = 16384);

}  // namespace moescope
