// sqlite_db.h — a small RAII layer over SQLite: a connection, prepared statements, transactions.
// Every failure throws moescope::Error naming the database file and SQLite's message.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace moescope {

class SqliteDb;

class SqliteStmt {
 public:
  SqliteStmt(SqliteDb& db, std::string_view sql);
  ~SqliteStmt();
  SqliteStmt(const SqliteStmt&) = delete;
  SqliteStmt& operator=(const SqliteStmt&) = delete;

  // Binds are 1-based like SQLite's.
  SqliteStmt& bind(int i, int64_t v);
  SqliteStmt& bind(int i, double v);
  SqliteStmt& bind(int i, std::string_view text);
  SqliteStmt& bind_blob(int i, const void* data, size_t bytes);
  SqliteStmt& bind_null(int i);
  bool step();   // true while a row is available
  void run();    // step to completion, then reset
  void reset();

  int64_t column_int(int i) const;
  double column_double(int i) const;
  std::string column_text(int i) const;
  bool column_is_null(int i) const;
  // The blob as a vector of T (size must be a multiple of sizeof(T), else Error).
  template <typename T>
  std::vector<T> column_blob(int i) const;

 private:
  const void* blob_data(int i, size_t* bytes) const;
  [[noreturn]] void fail_blob_size(int i, size_t bytes, size_t element) const;
  SqliteDb& db_;
  sqlite3_stmt* stmt_ = nullptr;
};

class SqliteDb {
 public:
  // Opens (creating when allowed) the database at path, in WAL mode with foreign keys on.
  SqliteDb(const std::string& path, bool create);
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  void exec(std::string_view sql);
  int64_t last_insert_rowid() const;
  const std::string& path() const { return path_; }
  sqlite3* handle() { return db_; }
  [[noreturn]] void fail_sqlite(std::string_view doing) const;

 private:
  void set_wal_mode();

  std::string path_;
  sqlite3* db_ = nullptr;
};

// BEGIN IMMEDIATE ... COMMIT; rolls back when destroyed without commit().
class SqliteTransaction {
 public:
  explicit SqliteTransaction(SqliteDb& db);
  ~SqliteTransaction();
  void commit();

 private:
  SqliteDb& db_;
  bool done_ = false;
};

template <typename T>
std::vector<T> SqliteStmt::column_blob(int i) const {
  size_t bytes = 0;
  const void* p = blob_data(i, &bytes);
  if (bytes % sizeof(T) != 0) fail_blob_size(i, bytes, sizeof(T));
  std::vector<T> out(bytes / sizeof(T));
  if (bytes) std::memcpy(out.data(), p, bytes);
  return out;
}

}  // namespace moescope
