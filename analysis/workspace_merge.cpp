// workspace_merge.cpp — checking that partial workspaces fit together, then copying their record
// rows (blobs byte for byte) into one workspace.
#include "analysis/workspace_merge.h"

#include <algorithm>
#include <array>
#include <filesystem>
#include <memory>
#include <optional>

#include "analysis/workspace.h"
#include "engine/atomic_file.h"
#include "engine/error.h"

namespace fs = std::filesystem;

namespace moescope {

namespace {

constexpr const char* kExtension = ".moescope";

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

bool all_digits(const std::string& s) {
  return !s.empty() && s.size() < 10 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The ws path without its ".moescope" (the partials' common prefix).
std::string stem_of(const std::string& ws) {
  return ends_with(ws, kExtension) ? ws.substr(0, ws.size() - std::string(kExtension).size()) : ws;
}

struct DocKey {
  std::string text_hash, ext_id;
};

// Documents by position; positions must run 0, 1, ... (as add_documents makes them).
std::vector<DocKey> document_keys(Workspace& ws) {
  std::vector<DocKey> out;
  SqliteStmt st(ws.db(), "SELECT position, text_hash, ext_id FROM documents ORDER BY position");
  while (st.step()) {
    if (st.column_int(0) != int64_t(out.size()))
      fail_expected(ws.path() + ": documents", "corpus positions have a gap (a damaged workspace?)",
                    "position " + std::to_string(out.size()), std::to_string(st.column_int(0)));
    out.push_back({st.column_text(1), st.column_text(2)});
  }
  return out;
}

std::vector<CorpusDocument> stored_corpus(Workspace& ws) {
  std::vector<CorpusDocument> out;
  SqliteStmt st(ws.db(),
                "SELECT d.ext_id, m.name, d.lang, d.text FROM documents d JOIN domains m ON m.id = d.domain_id "
                "ORDER BY d.position");
  while (st.step()) out.push_back({st.column_text(0), st.column_text(1), st.column_text(2), st.column_text(3)});
  return out;
}

std::vector<int64_t> traced_positions(Workspace& ws) {
  std::vector<int64_t> out;
  SqliteStmt st(ws.db(), "SELECT d.position FROM records r JOIN documents d ON d.id = r.doc_id ORDER BY d.position");
  while (st.step()) out.push_back(st.column_int(0));
  return out;
}

constexpr const char* kRecordColumns =
    "r.tokens, r.truncated, r.ids, r.offsets, r.nll, r.topk_ids, r.topk_weights, r.doc_mean_probs, r.doc_topk_freq, "
    "r.probs";
constexpr int kBlobColumns = 8;

// One records row as stored: the two integers and the blobs' bytes (nullopt = NULL).
struct RawRecord {
  int64_t tokens = 0, truncated = 0;
  std::array<std::optional<std::vector<uint8_t>>, kBlobColumns> blobs;
  bool operator==(const RawRecord&) const = default;
};

// Reads the row from columns first, first + 1, ... of st.
RawRecord raw_record(const SqliteStmt& st, int first) {
  RawRecord r;
  r.tokens = st.column_int(first);
  r.truncated = st.column_int(first + 1);
  for (int b = 0; b < kBlobColumns; ++b)
    if (!st.column_is_null(first + 2 + b)) r.blobs[size_t(b)] = st.column_blob<uint8_t>(first + 2 + b);
  return r;
}

RawRecord raw_record_at(Workspace& ws, int64_t position) {
  std::string sql = "SELECT ";
  sql += kRecordColumns;
  sql += " FROM records r JOIN documents d ON d.id = r.doc_id WHERE d.position = ?";
  SqliteStmt st(ws.db(), sql);
  st.bind(1, position);
  if (!st.step()) fail(ws.path(), "record vanished while merging");
  return raw_record(st, 0);
}

std::string document_name(int64_t position, const DocKey& key) {
  std::string s = "document ";
  s += std::to_string(position);
  s += " ('";
  s += key.ext_id;
  s += "')";
  return s;
}

void check_same_run(const nlohmann::json& a, const std::string& a_path, const nlohmann::json& b, const std::string& b_path) {
  for (const char* hash : {"config_hash", "weights_hash"})
    if (a["model"][hash] != b["model"][hash])
      fail_expected(b_path, "traced with another model than " + a_path, a["model"].dump(), b["model"].dump());
  if (a["settings"] != b["settings"])
    fail_expected(b_path, "traced with other settings than " + a_path, a["settings"].dump(), b["settings"].dump());
  if (a["layers"] != b["layers"])
    fail_expected(b_path, "records have another layer layout than " + a_path, a["layers"].dump(), b["layers"].dump());
}

// Copies the rows of `part` whose document `owner` assigns to it, into `into` (ids = corpus ids).
size_t copy_records(Workspace& part, Workspace& into, const std::vector<int64_t>& ids, const std::vector<int>& owner,
                    int which) {
  std::string sql = "SELECT d.position, ";
  sql += kRecordColumns;
  sql += " FROM records r JOIN documents d ON d.id = r.doc_id ORDER BY d.position";
  SqliteStmt rows(part.db(), sql);
  SqliteStmt ins(into.db(),
                 "INSERT INTO records(doc_id, tokens, truncated, ids, offsets, nll, topk_ids, topk_weights, "
                 "doc_mean_probs, doc_topk_freq, probs) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  size_t copied = 0;
  while (rows.step()) {
    const int64_t p = rows.column_int(0);
    if (owner[size_t(p)] != which) continue;
    const RawRecord r = raw_record(rows, 1);
    ins.bind(1, ids[size_t(p)]).bind(2, r.tokens).bind(3, r.truncated);
    for (int b = 0; b < kBlobColumns; ++b) {
      const auto& blob = r.blobs[size_t(b)];
      if (blob) ins.bind_blob(4 + b, blob->data(), blob->size());
      else ins.bind_null(4 + b);
    }
    ins.run();
    ++copied;
  }
  return copied;
}

}  // namespace

std::string partial_workspace_path(const std::string& ws, int rank, int ranks) {
  std::string s = stem_of(ws);
  s += ".rank-";
  s += std::to_string(rank);
  s += "-of-";
  s += std::to_string(ranks);
  s += kExtension;
  return s;
}

std::vector<std::string> partials_of_other_runs(const std::string& ws, int ranks) {
  const fs::path stem(stem_of(ws));
  const fs::path dir = stem.has_parent_path() ? stem.parent_path() : fs::path(".");
  const std::string prefix = stem.filename().string() + ".rank-";
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.size() <= prefix.size() + 9 || name.compare(0, prefix.size(), prefix) != 0 || !ends_with(name, kExtension))
      continue;
    const std::string middle = name.substr(prefix.size(), name.size() - prefix.size() - std::string(kExtension).size());
    const size_t of = middle.find("-of-");
    if (of == std::string::npos || !all_digits(middle.substr(0, of)) || !all_digits(middle.substr(of + 4))) continue;
    if (std::stoi(middle.substr(of + 4)) != ranks) out.push_back((dir / name).string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

void remove_workspace(const std::string& path) {
  for (const char* side : {"", "-wal", "-shm", "-journal"}) {
    std::error_code ec;
    fs::remove(path + side, ec);
    if (ec) fail(path + side, "cannot remove (" + ec.message() + ")");
  }
}

MergeSummary merge_workspaces(const std::string& out, const std::vector<std::string>& parts) {
  if (parts.empty()) fail(out, "nothing to merge (no partial workspaces given)");
  for (const std::string& p : parts)
    if (fs::exists(p) && fs::exists(out) && fs::equivalent(p, out)) fail(p, "is the merge's output too");

  // 1. Every part: same corpus and run record as the first.
  std::vector<std::unique_ptr<Workspace>> ws;
  for (const std::string& p : parts) ws.push_back(std::make_unique<Workspace>(p, false));
  const nlohmann::json run = ws[0]->run_info();
  if (run.is_null()) fail(parts[0], "holds no trace (no run record): nothing to merge");
  const std::vector<DocKey> keys = document_keys(*ws[0]);
  const size_t n = keys.size();
  for (size_t i = 1; i < ws.size(); ++i) {
    const nlohmann::json other = ws[i]->run_info();
    if (other.is_null()) fail(parts[i], "holds no trace (no run record): nothing to merge");
    check_same_run(run, parts[0], other, parts[i]);
    const std::vector<DocKey> k = document_keys(*ws[i]);
    if (k.size() != n)
      fail_expected(parts[i], "holds another corpus than " + parts[0], std::to_string(n) + " documents",
                    std::to_string(k.size()));
    for (size_t d = 0; d < n; ++d)
      if (k[d].text_hash != keys[d].text_hash)
        fail_expected(parts[i] + ": " + document_name(int64_t(d), k[d]), "holds another corpus than " + parts[0],
                      "the text of " + document_name(int64_t(d), keys[d]), "other text");
  }

  // 2. An existing out: the same run, and its documents a prefix of the parts' corpus.
  const bool existed = fs::exists(out);
  std::unique_ptr<Workspace> target;
  if (existed) {
    target = std::make_unique<Workspace>(out, false);
    const nlohmann::json have = target->run_info();
    if (!have.is_null()) check_same_run(run, parts[0], have, out);
    const std::vector<DocKey> k = document_keys(*target);
    if (k.size() > n)
      fail_expected(out, "holds another corpus than " + parts[0], "at most " + std::to_string(n) + " documents",
                    std::to_string(k.size()));
    for (size_t d = 0; d < k.size(); ++d)
      if (k[d].text_hash != keys[d].text_hash)
        fail_expected(out + ": " + document_name(int64_t(d), k[d]), "holds another corpus than " + parts[0],
                      "the text of " + document_name(int64_t(d), keys[d]), "other text");
  }

  // 3. Every document exactly once: owner[d] = the first input with its record (-1 = out), copies
  // elsewhere must be byte-identical.
  constexpr int kNone = -2, kOut = -1;
  std::vector<int> owner(n, kNone);
  MergeSummary sum;
  sum.documents = n;
  auto input_path = [&](int which) { return which == kOut ? out : parts[size_t(which)]; };
  auto input_ws = [&](int which) -> Workspace& { return which == kOut ? *target : *ws[size_t(which)]; };
  for (int which = existed ? kOut : 0; which < int(parts.size()); ++which) {
    for (int64_t p : traced_positions(input_ws(which))) {
      int& o = owner[size_t(p)];
      if (o == kNone) {
        o = which;
        if (which == kOut) ++sum.already;
      } else if (!(raw_record_at(input_ws(o), p) == raw_record_at(input_ws(which), p))) {
        fail(document_name(p, keys[size_t(p)]),
             "has different records in " + input_path(o) + " and " + input_path(which) +
                 " (traced twice with other batches or settings?); nothing merged");
      }
    }
  }
  const size_t missing = size_t(std::count(owner.begin(), owner.end(), kNone));
  if (missing > 0) {
    const size_t first = size_t(std::find(owner.begin(), owner.end(), kNone) - owner.begin());
    std::string where = existed ? out + " or any of the " : std::string("any of the ");
    where += std::to_string(parts.size());
    where += " partial workspaces";
    fail_expected(document_name(int64_t(first), keys[first]),
                  "has no record in " + where + " (a rank stopped or failed before the end?); nothing merged",
                  "every one of the " + std::to_string(n) + " documents traced", std::to_string(missing) + " missing");
  }

  // 4. Write: into a file beside a new out, or one transaction on the existing one.
  const std::string build_path = existed ? out : temp_path_for(out);
  if (!existed) {
    remove_workspace(build_path);  // SQLite side files a reused PID could find
    target = std::make_unique<Workspace>(build_path, true);
  }
  try {
    target->bind_run_record(run);
    const std::vector<int64_t> ids = target->add_documents(stored_corpus(*ws[0]));
    SqliteTransaction tx(target->db());
    for (size_t i = 0; i < parts.size(); ++i) sum.merged += copy_records(*ws[i], *target, ids, owner, int(i));
    {
      SqliteStmt count(target->db(), "SELECT count(*) FROM records");
      if (!count.step() || size_t(count.column_int(0)) != n)
        fail(build_path, "merged workspace does not hold one record per document; nothing merged");
    }
    tx.commit();
    if (!existed) {
      // A self-contained file (no -wal beside it) so that the rename moves all of it.
      target->db().exec("PRAGMA wal_checkpoint(TRUNCATE)");
      target->db().exec("PRAGMA journal_mode=DELETE");
      target.reset();
      if (fs::exists(out)) fail(out, "appeared while merging (nothing overwritten)");
      commit_temp_file(build_path, out);  // fsync, rename, fsync the folder
    }
  } catch (...) {
    if (!existed) {
      target.reset();
      std::error_code ec;
      for (const char* side : {"", "-wal", "-shm", "-journal"}) fs::remove(build_path + side, ec);
    }
    throw;
  }
  return sum;
}

}  // namespace moescope
