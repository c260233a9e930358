#pragma once
// Private to pool/sqlite: thin RAII over the SQLite C API (connection, statement) and the
// mapping of SQLite result codes to Status. Nothing here knows about batches.

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "sluice/core/core.h"

namespace sluice::pool::sqlite {

// `"name"` with embedded double quotes doubled: every identifier sluice writes into SQL goes
// through this, so table and column names from files can never break out of the quotes.
std::string QuoteIdent(std::string_view name);

// A Status for SQLite result `rc` on `db`, prefixed with what was being done.
Status SqliteError(sqlite3* db, int rc, std::string_view what);

class Statement {
 public:
  Statement() = default;
  explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  Statement(Statement&& other) noexcept : stmt_(other.stmt_) { other.stmt_ = nullptr; }
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  sqlite3_stmt* get() const { return stmt_; }
  explicit operator bool() const { return stmt_ != nullptr; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

// How a connection's commits reach the disk (PRAGMA synchronous, WAL mode).
enum class Sync {
  kNormal,  // WAL synced at checkpoints only: a power loss may lose the last commits
  kFull,    // WAL synced at every commit: a commit that returned survives a power loss
};

class Connection {
 public:
  Connection() = default;
  Connection(Connection&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
  Connection& operator=(Connection&&) = delete;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  // Opens (creating if needed) `path` with the pool's pragmas: WAL, `sync`, a page cache of at
  // most `cache_kib` KiB (allocated as pages are touched), temp_store=MEMORY, a busy timeout.
  static Result<Connection> Open(const std::string& path, Sync sync, int cache_kib);

  sqlite3* get() const { return db_; }

  // Runs one or more statements that return no rows.
  Status Exec(std::string_view sql);
  // Prepares one statement; a trailing second statement is an error.
  Result<Statement> Prepare(std::string_view sql);

 private:
  sqlite3* db_ = nullptr;
};

// Steps `stmt` to completion (SQLITE_DONE), ignoring any rows.
Status StepDone(sqlite3* db, sqlite3_stmt* stmt, std::string_view what);

}  // namespace sluice::pool::sqlite
