// workspace.h — the SQLite file (WS.moescope) where a trace of a labelled corpus lives:
// documents, domains, the model the records came from, the run's settings, and per document its
// routing records. WAL mode; every batch of documents is one transaction, so a killed process
// leaves every committed document intact and a re-run resumes where it stopped.
//
// Record blobs are little-endian arrays (Lm = MoE layers, T = tokens, K = experts per token,
// Es = standard experts of a layer; layers concatenated in order):
//   ids int32 [T], offsets int32 [T, 2] (byte ranges), nll float32 [T] (NaN at the last token),
//   topk_ids uint16 [Lm, T, K], topk_weights float32 [Lm, T, K],
//   doc_mean_probs float32 [sum Es], doc_topk_freq float32 [sum Es], probs float16 [Lm, T, Es] (--probs only).
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "analysis/corpus.h"
#include "analysis/sqlite_db.h"
#include "engine/checkpoint/model_identity.h"  // ModelIdentity, identify_model

namespace moescope {


struct TraceSettings {
  int64_t max_tokens_per_doc = 0;  // after clamping to the context
  bool probs = false;
  bool bf16 = false;  // records made in the BF16 compute mode (kept apart from FP32 ones)
  nlohmann::json to_json() const {
    nlohmann::json j{{"max_tokens_per_doc", max_tokens_per_doc}, {"probs", probs}};
    if (bf16) j["precision"] = "bf16";  // absent = f32, as in workspaces made before the BF16 mode
    return j;
  }
};

struct LayerLayout {       // one MoE layer's shape in the record blobs
  int layer = 0;           // index among all layers
  int k = 0;
  int num_standard = 0;    // Es
};

struct DocumentRecord {
  int64_t doc_id = 0;
  std::vector<int32_t> ids, offsets;
  std::vector<float> nll;
  std::vector<uint16_t> topk_ids;
  std::vector<float> topk_weights, doc_mean_probs, doc_topk_freq;
  std::vector<uint16_t> probs_f16;
  bool truncated = false;
};

struct WorkspaceDocument {
  int64_t id = 0;
  int64_t position = 0;  // index in the corpus it came from
  std::string ext_id, domain, lang;
  int64_t tokens = -1;   // -1 until traced
};

class Workspace {
 public:
  // Opens path; create=true makes a new workspace when the file does not exist. Throws Error for
  // a file that is not a moescope workspace (or of another schema version).
  Workspace(const std::string& path, bool create);

  // The first trace stores the model and settings; later ones must match, else Error naming both.
  void bind_run(const ModelIdentity& model, const TraceSettings& settings, const std::vector<LayerLayout>& layers);
  // The same with a run record as run_info() returns it (merging workspaces).
  void bind_run_record(const nlohmann::json& run);
  // Adds the corpus documents not present yet; a document at the same position with other text is
  // an Error (a workspace holds one corpus). Returns the ids in corpus order.
  std::vector<int64_t> add_documents(const std::vector<CorpusDocument>& docs);
  std::set<int64_t> traced_documents();
  // All records of a batch in one transaction.
  void store_records(const std::vector<DocumentRecord>& records);

  std::vector<WorkspaceDocument> documents();
  // The stored corpus (text included), in corpus order; `id` is the document's workspace id.
  std::vector<CorpusDocument> corpus();
  std::vector<LayerLayout> layers();
  nlohmann::json run_info();   // model + settings as stored (null when nothing was traced yet)
  DocumentRecord record(int64_t doc_id);
  // One document's text; Error naming the workspace for an id it does not hold.
  std::string document_text(int64_t doc_id);
  // Ids of the documents whose text contains `needle` (ASCII letters in any case), corpus order,
  // at most `limit` of them.
  std::vector<int64_t> find_documents(const std::string& needle, size_t limit);
  const std::string& path() const { return db_->path(); }
  SqliteDb& db() { return *db_; }  // for analysis results stored beside the records (ablations)

 private:
  std::string meta(const std::string& key);
  void set_meta(const std::string& key, const std::string& value);
  int64_t domain_id(const std::string& name);
  std::unique_ptr<SqliteDb> db_;
};

}  // namespace moescope
