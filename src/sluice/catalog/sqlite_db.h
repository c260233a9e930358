#pragma once
// Private to catalog: a thin RAII layer over the SQLite C API. One Db owns one connection and
// a cache of prepared statements keyed by their SQL text; a Query borrows one of them and
// resets it when it goes out of scope. Not thread-safe: the Catalog serialises on its mutex.

#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "sluice/core/core.h"

namespace sluice::catalog {

// Maps a SQLite result code to a Status: busy and locked are kUnavailable (another process
// holds the database longer than the busy timeout), unique-key violations kAlreadyExists,
// foreign-key violations kNotFound, other constraints kInvalidArgument, the rest kIoError. `what`
// names the operation.
Status SqliteError(sqlite3* db, int rc, std::string_view what);

class Query {
 public:
  Query(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~Query();
  Query(Query&& other) noexcept
      : db_(other.db_), stmt_(other.stmt_), bind_error_(std::move(other.bind_error_)) {
    other.stmt_ = nullptr;
  }
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;
  Query& operator=(Query&&) = delete;

  // Parameters are 1-based, as in SQLite.
  Query& Bind(int i, int64_t v);
  Query& Bind(int i, std::string_view v);
  Query& BindBlob(int i, ByteView v);

  // Advances: true when a row is available, false when done.
  Result<bool> Step();
  // Runs a statement that returns no rows.
  Status Run();

  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  std::string Text(int col) const;
  std::string Blob(int col) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
  Status bind_error_;
};

class Db {
 public:
  static Result<std::unique_ptr<Db>> Open(const std::string& path);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // Runs one or more statements without results (pragmas, schema, BEGIN/COMMIT).
  Status Exec(const char* sql);
  // A cached prepared statement for `sql`.
  Result<Query> Prepare(const char* sql);
  // The single integer a pragma such as "PRAGMA user_version" returns.
  Result<int64_t> PragmaInt(const char* sql);
  int64_t Changes() const { return sqlite3_changes64(db_); }
  sqlite3* raw() const { return db_; }

 private:
  explicit Db(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::map<std::string, sqlite3_stmt*, std::less<>> cache_;
};

// BEGIN IMMEDIATE ... COMMIT, rolled back by the destructor unless committed. IMMEDIATE takes
// the write lock up front, so that a concurrent writer waits in the busy handler instead of
// failing at the first write of a deferred transaction.
class WriteTransaction {
 public:
  explicit WriteTransaction(Db& db) : db_(db) {}
  ~WriteTransaction();
  Status Begin();
  Status Commit();

 private:
  Db& db_;
  bool open_ = false;
};

}  // namespace sluice::catalog
