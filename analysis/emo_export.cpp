// emo_export.cpp — EMO clustering-pipeline interop export.
#include "analysis/emo_export.h"

#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "analysis/batching.h"
#include "analysis/document_tokens.h"
#include "analysis/npy_writer.h"
#include "engine/checkpoint/dtype.h"
#include "engine/error.h"
#include "engine/checkpoint/safetensors_writer.h"

namespace fs = std::filesystem;

namespace moescope {

namespace {

class GzLines {
 public:
  explicit GzLines(const std::string& path) : path_(path), f_(gzopen(path.c_str(), "wb6")) {
    if (!f_) fail(path, "cannot create");
  }
  ~GzLines() {
    if (f_) gzclose(f_);
  }
  void line(const nlohmann::json& j) {
    const std::string s = j.dump() + "\n";
    if (gzwrite(f_, s.data(), unsigned(s.size())) != int(s.size())) fail(path_, "write failed");
  }
  void close() {
    if (gzclose(f_) != Z_OK) fail(path_, "close failed");
    f_ = nullptr;
  }

 private:
  std::string path_;
  gzFile f_;
};

}  // namespace

EmoExportSummary export_emo_pipeline(const Model& model, const std::vector<CorpusDocument>& docs, const std::string& out_dir,
                                     int64_t max_tokens_per_doc, int64_t batch_tokens) {
  if (fs::exists(out_dir)) fail(out_dir, "already exists (choose a new folder; nothing is overwritten)");
  if (!model.tokenizer()) fail(model.dir(), "has no tokenizer.json (needed to export text)");
  const ModelConfig& c = model.config();
  const int64_t limit = token_limit(model, max_tokens_per_doc);
  // Tokenize everything first: the .npy headers need the final sizes.
  EmoExportSummary sum;
  std::vector<std::vector<int32_t>> ids;
  std::vector<size_t> which;  // corpus index of each exported document
  for (size_t d = 0; d < docs.size(); ++d) {
    Encoding enc = encode_document(model, docs[d], limit).enc;
    if (enc.ids.empty()) {
      ++sum.skipped;
      continue;
    }
    sum.tokens += enc.ids.size();
    ids.push_back(std::move(enc.ids));
    which.push_back(d);
  }
  sum.documents = ids.size();
  if (ids.empty()) fail(out_dir, "no document gives any tokens: nothing to export");
  std::vector<int> es;
  for (const LayerSpec& s : c.layers)
    if (s.is_moe()) {
      es.push_back(s.num_standard());
      sum.emb_dim += s.num_standard();
    }

  write_folder_atomically(out_dir, [&](const std::string& dir) {
    const fs::path tmp(dir);
    NpyWriter logits((tmp / "embeddings_logits.npy").string(), "<f2", {int64_t(sum.tokens), sum.emb_dim}, 2);
    NpyWriter tokens((tmp / "documents.npy").string(), "<i4", {int64_t(sum.tokens)}, 4);
    GzLines meta_tokens((tmp / "metadata_tokens.jsonl.gz").string());
    GzLines meta_docs((tmp / "metadata_docs.jsonl.gz").string());
    std::vector<int64_t> bounds{0};
    std::map<std::string, int64_t> source_tokens, source_docs;
    ForwardOptions opt;
    opt.router_logits = true;
    opt.nll = false;
    std::vector<uint16_t> row(size_t(sum.emb_dim));
    for (const auto& range : pack_batches(ids, batch_tokens)) {
      const ForwardResult r = model.forward(batch_of(ids, range), opt);
      for (size_t i = 0; i < r.docs.size(); ++i) {
        const size_t doc_index = range.first + i;
        const std::string& source = docs[which[doc_index]].domain;
        const DocumentSpan& span = r.docs[i];
        for (size_t t = span.begin; t < span.end; ++t) {
          size_t col = 0;
          for (size_t l = 0; l < r.layers.size(); ++l) {  // layer-major: layer 0's experts, then layer 1's, ...
            const LayerRecord& rec = r.layers[l];
            const float* z = rec.router_logits.data() + t * size_t(rec.num_experts);
            for (int e = 0; e < rec.num_standard; ++e) row[col++] = f32_to_f16(z[e]);
          }
          logits.append(row.data(), row.size());
          meta_tokens.line({{"source", source}, {"doc_index", doc_index}, {"token_position", t - span.begin},
                            {"token_id", r.ids[t]}});
        }
        tokens.append(r.ids.data() + span.begin, span.size());
        meta_docs.line({{"doc_index", doc_index}, {"source", source}, {"doc_len", span.size()}});
        bounds.push_back(bounds.back() + int64_t(span.size()));
        source_tokens[source] += int64_t(span.size());
        source_docs[source] += 1;
      }
    }
    logits.finish();
    tokens.finish();
    meta_tokens.close();
    meta_docs.close();
    write_npy((tmp / "doc_boundaries.npy").string(), "<i8", {int64_t(bounds.size())}, bounds.data(), 8);
    const bool uniform = std::all_of(es.begin(), es.end(), [&](int v) { return v == es.front(); });
    const nlohmann::json info{{"source", "moescope corpus export"},
                              {"num_tokens", sum.tokens},
                              {"num_docs", sum.documents},
                              {"num_layers", es.size()},
                              {"num_standard_experts", uniform ? nlohmann::json(es.front()) : nlohmann::json(es)},
                              {"routed_top_k", c.top_k - (c.layers.empty() ? 0 : c.num_shared_experts)},
                              {"emb_dim", sum.emb_dim},
                              {"model_path", fs::absolute(model.dir()).lexically_normal().string()},
                              {"source_token_counts", source_tokens},
                              {"source_doc_counts", source_docs},
                              {"max_tokens_per_doc", max_tokens_per_doc},
                              {"dtype", "float16"},
                              {"layout", "layer-major router logits of the standard experts (shared columns dropped)"}};
    write_file_atomically((tmp / "info.json").string(), info.dump(2) + "\n");
  });
  return sum;
}

}  // namespace moescope
