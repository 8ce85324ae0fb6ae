// sqlite_db.cpp — the SQLite wrapper.
#include "analysis/sqlite_db.h"

#include <chrono>
#include <thread>

#include <sqlite3.h>

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "engine/error.h"

namespace moescope {

namespace {

// SQLite's message plus, for failures of the file system under it, the operating system's reason
// and what the user can do: "disk I/O error" alone does not say the disk is full.
std::string failure_text(sqlite3* db, const std::string& message) {
  std::string text = message;
  if (!db) return text;
  const int extended = sqlite3_extended_errcode(db);
  const int code = extended & 0xff;
  if (code != SQLITE_IOERR && code != SQLITE_FULL && code != SQLITE_CANTOPEN && code != SQLITE_READONLY &&
      code != SQLITE_PERM)
    return text;
  // SQLite's rollback after a failed write may clear the saved errno: the code says enough then.
  const int sys = sqlite3_system_errno(db);
  if (sys != 0) {
    text += ": ";
    text += std::strerror(sys);
  }
  const bool write_failed = code == SQLITE_FULL || extended == SQLITE_IOERR_WRITE || extended == SQLITE_IOERR_FSYNC ||
                            extended == SQLITE_IOERR_TRUNCATE || sys == ENOSPC || sys == EFBIG || sys == EDQUOT;
  if (write_failed)
    text += "; the disk is full (or a file size limit was reached) or failing: free space and run the same "
            "command again, nothing committed before is lost";
  else if (code == SQLITE_READONLY || code == SQLITE_PERM || sys == EACCES || sys == EPERM || sys == EROFS)
    text += "; the workspace or its folder is not writable";
  return text;
}

// Why a workspace cannot be created at `path`, when the folder is the reason (SQLite's own errno
// is that of its read-only retry, "No such file or directory").
std::string folder_problem(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::exists(path, ec)) return "";
  const fs::path dir = fs::path(path).parent_path().empty() ? fs::path(".") : fs::path(path).parent_path();
  if (!fs::is_directory(dir, ec)) return "the folder " + dir.string() + " does not exist";
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    return "the folder " + dir.string() + " is not writable: " + std::strerror(errno);
  return "";
}
}  // namespace

SqliteDb::SqliteDb(const std::string& path, bool create) : path_(path) {
  const int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX;
  if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
    std::string msg = db_ ? failure_text(db_, sqlite3_errmsg(db_)) : "out of memory";
    if (create && db_) {
      const std::string folder = folder_problem(path);
      if (!folder.empty()) msg = folder;
    }
    sqlite3_close(db_);
    db_ = nullptr;
    fail(path, "cannot open the workspace database (" + msg + ")");
  }
  sqlite3_busy_timeout(db_, 5000);
  try {
    set_wal_mode();  // the first statement that reads the file: a damaged one fails here
    exec("PRAGMA synchronous=NORMAL");
    exec("PRAGMA foreign_keys=ON");
  } catch (...) {
    // A throwing constructor runs no destructor: close the connection here.
    sqlite3_close(db_);
    db_ = nullptr;
    throw;
  }
}

SqliteDb::~SqliteDb() { sqlite3_close(db_); }

void SqliteDb::set_wal_mode() {
  // Two connections switching the same new file to WAL at once (a trace creating its workspace
  // while the app or a script peeks at it) deadlock on the upgrade to an exclusive lock, and SQLite
  // answers one of them SQLITE_BUSY at once, without the busy handler. The other finishes within
  // milliseconds, so retry for as long as the busy timeout would have waited.
  for (int attempt = 0;; ++attempt) {
    const int rc = sqlite3_exec(db_, "PRAGMA journal_mode=WAL", nullptr, nullptr, nullptr);
    if (rc == SQLITE_OK) return;
    if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) || attempt >= 500) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  exec("PRAGMA journal_mode=WAL");  // fails with the full message
}

void SqliteDb::fail_sqlite(std::string_view doing) const {
  fail(path_, std::string(doing) + ": " + failure_text(db_, sqlite3_errmsg(db_)));
}

int64_t SqliteDb::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }

void SqliteDb::exec(std::string_view sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, std::string(sql).c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    const std::string raw = err ? err : "unknown error";
    sqlite3_free(err);
    // "SQL failed (reason): statement", then what the user can do about it, if anything.
    const std::string full = failure_text(db_, raw);
    fail(path_, "SQL failed (" + raw + "): " + std::string(sql.substr(0, 80)) + full.substr(raw.size()));
  }
}

SqliteStmt::SqliteStmt(SqliteDb& db, std::string_view sql) : db_(db) {
  if (sqlite3_prepare_v2(db.handle(), sql.data(), int(sql.size()), &stmt_, nullptr) != SQLITE_OK)
    db.fail_sqlite("preparing '" + std::string(sql.substr(0, 60)) + "'");
}

SqliteStmt::~SqliteStmt() { sqlite3_finalize(stmt_); }

SqliteStmt& SqliteStmt::bind(int i, int64_t v) {
  if (sqlite3_bind_int64(stmt_, i, v) != SQLITE_OK) db_.fail_sqlite("binding a value");
  return *this;
}
SqliteStmt& SqliteStmt::bind(int i, double v) {
  if (sqlite3_bind_double(stmt_, i, v) != SQLITE_OK) db_.fail_sqlite("binding a value");
  return *this;
}
SqliteStmt& SqliteStmt::bind(int i, std::string_view text) {
  if (sqlite3_bind_text64(stmt_, i, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8) != SQLITE_OK)
    db_.fail_sqlite("binding a value");
  return *this;
}
SqliteStmt& SqliteStmt::bind_blob(int i, const void* data, size_t bytes) {
  // A zero-length blob still binds as a blob (not NULL).
  static const char empty = 0;
  if (sqlite3_bind_blob64(stmt_, i, bytes ? data : &empty, bytes, SQLITE_TRANSIENT) != SQLITE_OK)
    db_.fail_sqlite("binding a value");
  return *this;
}
SqliteStmt& SqliteStmt::bind_null(int i) {
  if (sqlite3_bind_null(stmt_, i) != SQLITE_OK) db_.fail_sqlite("binding a value");
  return *this;
}

bool SqliteStmt::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  db_.fail_sqlite("running a statement");
}

void SqliteStmt::run() {
  while (step()) {}
  reset();
}

void SqliteStmt::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

int64_t SqliteStmt::column_int(int i) const { return sqlite3_column_int64(stmt_, i); }
double SqliteStmt::column_double(int i) const { return sqlite3_column_double(stmt_, i); }
std::string SqliteStmt::column_text(int i) const {
  const unsigned char* t = sqlite3_column_text(stmt_, i);
  return t ? std::string(reinterpret_cast<const char*>(t), size_t(sqlite3_column_bytes(stmt_, i))) : std::string();
}
bool SqliteStmt::column_is_null(int i) const { return sqlite3_column_type(stmt_, i) == SQLITE_NULL; }
void SqliteStmt::fail_blob_size(int i, size_t bytes, size_t element) const {
  // Not an SQLite error (sqlite3_errmsg would describe the last step), so name the column here.
  const char* name = sqlite3_column_name(stmt_, i);
  fail_expected(db_.path() + ": column '" + (name ? name : "?") + "'", "damaged record blob",
                "a multiple of " + std::to_string(element) + " bytes", std::to_string(bytes) + " bytes");
}

const void* SqliteStmt::blob_data(int i, size_t* bytes) const {
  const void* p = sqlite3_column_blob(stmt_, i);
  *bytes = size_t(sqlite3_column_bytes(stmt_, i));
  return p;
}

SqliteTransaction::SqliteTransaction(SqliteDb& db) : db_(db) { db_.exec("BEGIN IMMEDIATE"); }
SqliteTransaction::~SqliteTransaction() {
  if (!done_) {
    char* err = nullptr;
    sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, &err);
    sqlite3_free(err);
  }
}
void SqliteTransaction::commit() {
  db_.exec("COMMIT");
  done_ = true;
}

}  // namespace moescope
