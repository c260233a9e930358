#pragma once
// sqlite: the one layer over the SQLite C API that catalog and pool share. It opens a
// database with the caller's pragmas, owns statements (prepared once, or cached by their SQL
// text), runs write transactions and maps SQLite result codes to Status in one place. It knows
// nothing of tables, batches or the ledger; the hot loops that bind rows use the raw handles
// (Statement::get, Db::get) and report through Db::Error.
//
// Thread-safety: none. A Db is opened SQLITE_OPEN_NOMUTEX; its owner serialises every use of
// it and of its statements (the catalog's mutex, the pool's writer and reader mutexes).
// Lifetimes: a Statement must not outlive the Db that prepared it.

#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/core/core.h"

namespace sluice::sqlite {

// How long a statement waits for a lock another connection holds before failing with
// SQLITE_BUSY (kUnavailable, which the loader retries). The default fits the catalog: another
// process (the CLI, a second server) holds its write lock for one short transaction, and five
// seconds surfaces a stuck holder as an error. The pool passes a longer wait (sqlite_pool.cc):
// its writer's transaction spans a whole file's load.
inline constexpr int kDefaultBusyTimeoutMs = 5'000;

struct OpenOptions {
  // Names the database in every error message ("catalog", "pool").
  std::string label;
  // Run once after opening, before anything else (journal mode, synchronous, cache size ...).
  std::string pragmas;
  int busy_timeout_ms = kDefaultBusyTimeoutMs;
};

// `"name"` with embedded double quotes doubled: every identifier sluice writes into SQL goes
// through this, so table and column names from files can never break out of the quotes.
std::string QuoteIdent(std::string_view name);

class Db;

// One prepared statement. Owned (Db::Prepare: finalised when destroyed) or borrowed from the
// Db's cache (Db::Cached: reset and its bindings cleared when destroyed). Parameters and
// columns are numbered as in SQLite: parameters from 1, columns from 0.
class Statement {
 public:
  Statement() = default;
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // A failed bind is reported by the next Step or Run.
  Statement& Bind(int i, int64_t v);
  Statement& Bind(int i, std::string_view v);  // copied (SQLITE_TRANSIENT)
  Statement& BindBlob(int i, ByteView v);      // copied; an empty blob stays a blob, not NULL

  // Advances: true when a row is available, false when done.
  Result<bool> Step();
  // Steps to completion ignoring any rows, then resets (the bindings stay). An error names
  // `what`, or the statement's SQL when `what` is empty.
  Status Run(std::string_view what = {});

  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::string Text(int col) const;
  std::string Blob(int col) const;

  sqlite3_stmt* get() const { return stmt_; }
  explicit operator bool() const { return stmt_ != nullptr; }

 private:
  friend class Db;
  Statement(const Db* db, sqlite3_stmt* stmt, bool cached)
      : db_(db), stmt_(stmt), cached_(cached) {}
  void Release();

  const Db* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
  bool cached_ = false;
  Status bind_error_;
};

// Every remaining row of `q`, each made by `from_row`; the first error ends it.
template <class T>
Result<std::vector<T>> ReadRows(Statement& q, Result<T> (*from_row)(const Statement&)) {
  std::vector<T> out;
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return out;
    SLUICE_ASSIGN_OR_RETURN(T value, from_row(q));
    out.push_back(std::move(value));
  }
}

class Db {
 public:
  // Opens (creating if needed) `path` read-write with extended result codes and the busy
  // timeout, then runs `options.pragmas`.
  static Result<std::unique_ptr<Db>> Open(const std::string& path, OpenOptions options);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // Runs one or more statements that return no rows (pragmas, schema, BEGIN/COMMIT).
  Status Exec(std::string_view sql);
  // Prepares one statement, owned by the caller; a second statement in `sql` is an error.
  Result<Statement> Prepare(std::string_view sql);
  // The cached statement for `sql` (prepared on first use, finalised with the Db). For the
  // fixed statements a Db runs again and again; at most one handle per SQL text at a time.
  Result<Statement> Cached(std::string_view sql);
  // The single integer a statement such as "PRAGMA user_version" returns.
  Result<int64_t> QueryInt(std::string_view sql);

  int64_t Changes() const { return sqlite3_changes64(db_); }
  int64_t LastInsertRowid() const { return sqlite3_last_insert_rowid(db_); }

  // The one mapping of SQLite result `rc` to a Status, with the connection's last message:
  //   BUSY, LOCKED                                   kUnavailable (transient: retry)
  //   IOERR, FULL, CANTOPEN, READONLY, CORRUPT, NOTADB  kIoError
  //   TOOBIG and the limits SQLITE_ERROR reports     kLimitExceeded (the file's shape)
  //   ERROR "duplicate column name"                  kSchemaMismatch
  //   other ERROR, RANGE, MISMATCH                   kInvalidArgument (a refused statement)
  //   CONSTRAINT primary key / unique                kAlreadyExists
  //   CONSTRAINT foreign key                         kNotFound
  //   other CONSTRAINT                               kInvalidArgument
  //   anything else                                  kInternal
  // The message reads "<label>: <what>: <sqlite's message>".
  Status Error(int rc, std::string_view what) const;

  sqlite3* get() const { return db_; }
  const std::string& label() const { return label_; }

 private:
  Db(sqlite3* db, std::string label) : db_(db), label_(std::move(label)) {}

  sqlite3* db_;
  std::string label_;
  std::map<std::string, sqlite3_stmt*, std::less<>> cache_;
};

// BEGIN IMMEDIATE ... COMMIT, rolled back on destruction unless committed. IMMEDIATE takes
// the write lock up front, so that a concurrent writer waits in the busy handler instead of
// failing at the first write of a deferred transaction. Movable, so that whoever began it can
// hand it to the object that finishes it.
class WriteTransaction {
 public:
  explicit WriteTransaction(Db& db) : db_(&db) {}
  WriteTransaction(WriteTransaction&& other) noexcept : db_(other.db_), open_(other.open_) {
    other.open_ = false;
  }
  WriteTransaction& operator=(WriteTransaction&&) = delete;
  WriteTransaction(const WriteTransaction&) = delete;
  WriteTransaction& operator=(const WriteTransaction&) = delete;
  ~WriteTransaction();

  Status Begin();
  // A failed COMMIT (busy) leaves the transaction open; destruction rolls it back.
  Status Commit();
  bool open() const { return open_; }

 private:
  Db* db_;
  bool open_ = false;
};

}  // namespace sluice::sqlite
