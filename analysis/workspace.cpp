// workspace.cpp — the SQLite trace store.
#include "analysis/workspace.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "analysis/workspace_run.h"
#include "engine/error.h"
#include "engine/json_file.h"

namespace fs = std::filesystem;

namespace moescope {

namespace {

constexpr const char* kSchemaVersion = "1";

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS domains (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS documents (
  id INTEGER PRIMARY KEY,
  position INTEGER NOT NULL UNIQUE,
  ext_id TEXT NOT NULL,
  domain_id INTEGER NOT NULL REFERENCES domains(id),
  lang TEXT NOT NULL,
  text TEXT NOT NULL,
  text_hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (
  doc_id INTEGER PRIMARY KEY REFERENCES documents(id),
  tokens INTEGER NOT NULL,
  truncated INTEGER NOT NULL,
  ids BLOB NOT NULL, offsets BLOB NOT NULL, nll BLOB NOT NULL,
  topk_ids BLOB NOT NULL, topk_weights BLOB NOT NULL,
  doc_mean_probs BLOB NOT NULL, doc_topk_freq BLOB NOT NULL,
  probs BLOB);
CREATE TABLE IF NOT EXISTS ablations (
  id INTEGER PRIMARY KEY,
  domain TEXT NOT NULL, method TEXT NOT NULL, k INTEGER NOT NULL, seed INTEGER NOT NULL,
  mean_nll REAL NOT NULL, bits_per_byte REAL NOT NULL, tokens INTEGER NOT NULL, documents INTEGER NOT NULL,
  eval_source TEXT NOT NULL, created TEXT NOT NULL DEFAULT (datetime('now')),
  UNIQUE (domain, method, k, seed, eval_source));
)sql";

std::string hash_text(const std::string& s) { return fingerprint(s); }

template <typename T>
void bind_vector(SqliteStmt& st, int i, const std::vector<T>& v) {
  st.bind_blob(i, v.data(), v.size() * sizeof(T));
}

}  // namespace

Workspace::Workspace(const std::string& path, bool create) {
  const bool existed = fs::exists(path);
  if (!existed && !create) fail(path, "no such workspace (run `moescope-cli trace` to make one)");
  if (existed && fs::is_regular_file(path) && fs::file_size(path) > 0) {
    char magic[16] = {};
    std::ifstream in(path, std::ios::binary);
    in.read(magic, sizeof magic);
    // A file shorter than the magic must not pass on the zeros the buffer starts with.
    if (in.gcount() != sizeof magic || std::string(magic, sizeof magic) != std::string("SQLite format 3\0", 16))
      fail(path, "not a moescope workspace (not an SQLite database)");
  }
  db_ = std::make_unique<SqliteDb>(path, create);
  if (existed) {
    SqliteStmt st(*db_, "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='meta'");
    bool has_meta = false;
    try {
      has_meta = st.step() && st.column_int(0) == 1;
    } catch (const Error&) {
      fail(path, "not a moescope workspace (not an SQLite database)");
    }
    if (!has_meta) {
      SqliteStmt any(*db_, "SELECT count(*) FROM sqlite_master");
      if (any.step() && any.column_int(0) > 0) fail(path, "not a moescope workspace (an SQLite database without moescope's tables)");
    }
  }
  db_->exec(kSchema);
  const std::string version = meta("schema_version");
  if (version.empty()) {
    set_meta("schema_version", kSchemaVersion);
  } else if (version != kSchemaVersion) {
    fail_expected(path, "workspace schema version not supported", kSchemaVersion, version);
  }
}

std::string Workspace::meta(const std::string& key) {
  SqliteStmt st(*db_, "SELECT value FROM meta WHERE key = ?");
  st.bind(1, key);
  return st.step() ? st.column_text(0) : std::string();
}

void Workspace::set_meta(const std::string& key, const std::string& value) {
  SqliteStmt st(*db_, "INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value");
  st.bind(1, key).bind(2, value);
  st.run();
}

void Workspace::bind_run(const ModelIdentity& model, const TraceSettings& settings, const std::vector<LayerLayout>& layers) {
  nlohmann::json layout = nlohmann::json::array();
  for (const LayerLayout& l : layers) layout.push_back({{"layer", l.layer}, {"k", l.k}, {"num_standard", l.num_standard}});
  bind_run_record({{"model", {{"path", model.path}, {"config_hash", model.config_hash}, {"weights_hash", model.weights_hash}}},
                   {"settings", settings.to_json()},
                   {"layers", layout}});
}

void Workspace::bind_run_record(const nlohmann::json& run) {
  const std::string stored = meta("run");
  if (stored.empty()) {
    set_meta("run", run.dump());
    return;
  }
  const nlohmann::json old = run_info();
  if (old["model"]["config_hash"] != run["model"]["config_hash"] || old["model"]["weights_hash"] != run["model"]["weights_hash"])
    fail_expected(path(), "workspace was traced with a different model; use a new workspace for this one",
                  "the model at " + old["model"]["path"].get<std::string>() + " (config " +
                      old["model"]["config_hash"].get<std::string>() + ", weights " +
                      old["model"]["weights_hash"].get<std::string>() + ")",
                  run["model"]["path"].get<std::string>() + " (config " + run["model"]["config_hash"].get<std::string>() +
                      ", weights " + run["model"]["weights_hash"].get<std::string>() + ")");
  if (old["settings"] != run["settings"])
    fail_expected(path(), "workspace was traced with other settings; resume with the same ones or use a new workspace",
                  old["settings"].dump(), run["settings"].dump());
  if (old["layers"] != run["layers"])
    fail_expected(path(), "workspace records have another layer layout (another expert subset?)", old["layers"].dump(),
                  run["layers"].dump());
}

int64_t Workspace::domain_id(const std::string& name) {
  SqliteStmt ins(*db_, "INSERT OR IGNORE INTO domains(name) VALUES(?)");
  ins.bind(1, name);
  ins.run();
  SqliteStmt sel(*db_, "SELECT id FROM domains WHERE name = ?");
  sel.bind(1, name);
  if (!sel.step()) db_->fail_sqlite("looking up a domain");
  return sel.column_int(0);
}

std::vector<int64_t> Workspace::add_documents(const std::vector<CorpusDocument>& docs) {
  std::vector<int64_t> ids(docs.size(), 0);
  SqliteTransaction tx(*db_);
  SqliteStmt find(*db_, "SELECT id, text_hash, ext_id FROM documents WHERE position = ?");
  SqliteStmt ins(*db_,
                 "INSERT INTO documents(position, ext_id, domain_id, lang, text, text_hash) VALUES(?, ?, ?, ?, ?, ?)");
  for (size_t i = 0; i < docs.size(); ++i) {
    const std::string h = hash_text(docs[i].text);
    find.bind(1, int64_t(i));
    if (find.step()) {
      if (find.column_text(1) != h)
        fail_expected(path() + ": document " + std::to_string(i) + " ('" + docs[i].id + "')",
                      "workspace holds another corpus (this document's text differs); use a new workspace",
                      "the text of '" + find.column_text(2) + "'", "other text");
      ids[i] = find.column_int(0);
      find.reset();
      continue;
    }
    find.reset();
    ins.bind(1, int64_t(i)).bind(2, docs[i].id).bind(3, domain_id(docs[i].domain)).bind(4, docs[i].lang);
    ins.bind(5, docs[i].text).bind(6, h);
    ins.run();
    ids[i] = db_->last_insert_rowid();
  }
  tx.commit();
  return ids;
}

std::set<int64_t> Workspace::traced_documents() {
  std::set<int64_t> out;
  SqliteStmt st(*db_, "SELECT doc_id FROM records");
  while (st.step()) out.insert(st.column_int(0));
  return out;
}

void Workspace::store_records(const std::vector<DocumentRecord>& records) {
  SqliteTransaction tx(*db_);
  SqliteStmt ins(*db_,
                 "INSERT INTO records(doc_id, tokens, truncated, ids, offsets, nll, topk_ids, topk_weights, "
                 "doc_mean_probs, doc_topk_freq, probs) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  for (const DocumentRecord& r : records) {
    ins.bind(1, r.doc_id).bind(2, int64_t(r.ids.size())).bind(3, int64_t(r.truncated ? 1 : 0));
    bind_vector(ins, 4, r.ids);
    bind_vector(ins, 5, r.offsets);
    bind_vector(ins, 6, r.nll);
    bind_vector(ins, 7, r.topk_ids);
    bind_vector(ins, 8, r.topk_weights);
    bind_vector(ins, 9, r.doc_mean_probs);
    bind_vector(ins, 10, r.doc_topk_freq);
    if (r.probs_f16.empty() && !r.ids.empty()) ins.bind_null(11);
    else bind_vector(ins, 11, r.probs_f16);
    ins.run();
  }
  tx.commit();
}

std::vector<WorkspaceDocument> Workspace::documents() {
  std::vector<WorkspaceDocument> out;
  SqliteStmt st(*db_,
                "SELECT d.id, d.position, d.ext_id, m.name, d.lang, r.tokens FROM documents d JOIN domains m ON "
                "m.id = d.domain_id LEFT JOIN records r ON r.doc_id = d.id ORDER BY d.position");
  while (st.step()) {
    WorkspaceDocument d;
    d.id = st.column_int(0);
    d.position = st.column_int(1);
    d.ext_id = st.column_text(2);
    d.domain = st.column_text(3);
    d.lang = st.column_text(4);
    d.tokens = st.column_is_null(5) ? -1 : st.column_int(5);
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<CorpusDocument> Workspace::corpus() {
  std::vector<CorpusDocument> out;
  SqliteStmt st(*db_,
                "SELECT d.id, m.name, d.lang, d.text FROM documents d JOIN domains m ON m.id = d.domain_id ORDER BY d.position");
  while (st.step()) out.push_back({std::to_string(st.column_int(0)), st.column_text(1), st.column_text(2), st.column_text(3)});
  return out;
}

std::string Workspace::document_text(int64_t doc_id) {
  SqliteStmt st(*db_, "SELECT text FROM documents WHERE id = ?");
  st.bind(1, doc_id);
  if (!st.step()) fail(path(), "no document with id " + std::to_string(doc_id));
  return st.column_text(0);
}

std::vector<int64_t> Workspace::find_documents(const std::string& needle, size_t limit) {
  // instr() on lower() rather than LIKE: no wildcard characters to escape in the needle.
  SqliteStmt st(*db_, "SELECT id FROM documents WHERE instr(lower(text), lower(?)) > 0 ORDER BY position LIMIT ?");
  st.bind(1, std::string_view(needle)).bind(2, int64_t(limit));
  std::vector<int64_t> out;
  while (st.step()) out.push_back(st.column_int(0));
  return out;
}

nlohmann::json Workspace::run_info() {
  const std::string stored = meta("run");
  if (stored.empty()) return nlohmann::json();
  const std::string where = path() + ": meta 'run'";
  nlohmann::json run = parse_json(stored, where);
  check_run_record(run, where);  // every reader indexes into it
  return run;
}

std::vector<LayerLayout> Workspace::layers() {
  std::vector<LayerLayout> out;
  const nlohmann::json run = run_info();
  if (run.is_null()) return out;
  for (const auto& l : run["layers"]) out.push_back({l["layer"].get<int>(), l["k"].get<int>(), l["num_standard"].get<int>()});
  return out;
}

DocumentRecord Workspace::record(int64_t doc_id) {
  SqliteStmt st(*db_,
                "SELECT truncated, ids, offsets, nll, topk_ids, topk_weights, doc_mean_probs, doc_topk_freq, probs "
                "FROM records WHERE doc_id = ?");
  st.bind(1, doc_id);
  if (!st.step()) fail(path(), "document " + std::to_string(doc_id) + " has no records (not traced yet)");
  DocumentRecord r;
  r.doc_id = doc_id;
  r.truncated = st.column_int(0) != 0;
  r.ids = st.column_blob<int32_t>(1);
  r.offsets = st.column_blob<int32_t>(2);
  r.nll = st.column_blob<float>(3);
  r.topk_ids = st.column_blob<uint16_t>(4);
  r.topk_weights = st.column_blob<float>(5);
  r.doc_mean_probs = st.column_blob<float>(6);
  r.doc_topk_freq = st.column_blob<float>(7);
  if (!st.column_is_null(8)) r.probs_f16 = st.column_blob<uint16_t>(8);
  return r;
}

}  // namespace moescope
