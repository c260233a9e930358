#include "sluice/pool/sqlite/sqlite_db.h"

#include <cctype>

namespace sluice::pool::sqlite {
namespace {

// How long a statement waits for a lock held by another connection (the reader vs a
// checkpoint, or another process) before failing with SQLITE_BUSY.
constexpr int kBusyTimeoutMs = 30'000;

// The code for SQLite's result `rc` with its message `sqlite_message`.
ErrorCode SqliteCode(int rc, std::string_view sqlite_message) {
  const auto starts = [&](std::string_view prefix) {
    return sqlite_message.substr(0, prefix.size()) == prefix;
  };
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return ErrorCode::kUnavailable;
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return ErrorCode::kIoError;
    case SQLITE_TOOBIG:
      // A string or blob longer than SQLite stores (SQLITE_MAX_LENGTH): the file's value.
      return ErrorCode::kLimitExceeded;
    case SQLITE_ERROR:
      // SQLite reports its other limits and a repeated column as SQLITE_ERROR; its message is
      // all that tells them from a bad statement. They come from the file's shape (more
      // columns than SQLITE_MAX_COLUMN, one column twice), not from sluice.
      if (starts("too many columns") || starts("too many SQL variables") ||
          starts("string or blob too big")) {
        return ErrorCode::kLimitExceeded;
      }
      if (starts("duplicate column name")) return ErrorCode::kSchemaMismatch;
      return ErrorCode::kInvalidArgument;
    case SQLITE_RANGE:
    case SQLITE_MISMATCH:
      return ErrorCode::kInvalidArgument;
    case SQLITE_CONSTRAINT:
      return ErrorCode::kAlreadyExists;
    default:
      return ErrorCode::kInternal;
  }
}

}  // namespace

std::string QuoteIdent(std::string_view name) {
  std::string out;
  out.reserve(name.size() + 2);
  out.push_back('"');
  for (char c : name) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

Status SqliteError(sqlite3* db, int rc, std::string_view what) {
  const std::string sqlite_message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  return Err(SqliteCode(rc, sqlite_message), std::string(what) + ": " + sqlite_message);
}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    stmt_ = other.stmt_;
    other.stmt_ = nullptr;
  }
  return *this;
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Connection::~Connection() {
  // Statements are finalised by their owners first; close_v2 defers if any remain.
  if (db_ != nullptr) sqlite3_close_v2(db_);
}

Result<Connection> Connection::Open(const std::string& path, Sync sync, int cache_kib) {
  Connection c;
  int rc =
      sqlite3_open_v2(path.c_str(), &c.db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Status st = SqliteError(c.db_, rc, "opening pool database '" + path + "'");
    return st;
  }
  sqlite3_extended_result_codes(c.db_, 1);
  sqlite3_busy_timeout(c.db_, kBusyTimeoutMs);
  SLUICE_RETURN_IF_ERROR(c.Exec("PRAGMA journal_mode=WAL"));
  SLUICE_RETURN_IF_ERROR(c.Exec(
      // NORMAL in WAL mode can lose the last commits on power loss but never corrupts. The
      // writer needs FULL: the loader records a file as loaded right after the pool commit,
      // and the ledger must never call loaded what the pool lost (pool.h, "Durability").
      std::string(sync == Sync::kFull ? "PRAGMA synchronous=FULL;" : "PRAGMA synchronous=NORMAL;") +
      "PRAGMA temp_store=MEMORY;"
      "PRAGMA foreign_keys=OFF;"
      "PRAGMA cache_size=-" +
      std::to_string(cache_kib)));
  return c;
}

Status Connection::Exec(std::string_view sql) {
  std::string text(sql);
  char* error = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &error);
  if (rc != SQLITE_OK) {
    std::string message = error != nullptr ? error : sqlite3_errstr(rc);
    sqlite3_free(error);
    return Err(SqliteCode(rc, message), "executing SQL: " + message);
  }
  return Status::Ok();
}

Result<Statement> Connection::Prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  const char* tail = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, &tail);
  if (rc != SQLITE_OK) return SqliteError(db_, rc, "preparing SQL");
  Statement out(stmt);
  if (stmt == nullptr) return Err(ErrorCode::kInvalidArgument, "the SQL holds no statement");
  const char* end = sql.data() + sql.size();
  for (; tail != nullptr && tail < end; ++tail) {
    if (!std::isspace(static_cast<unsigned char>(*tail)) && *tail != ';') {
      return Err(ErrorCode::kInvalidArgument, "the SQL holds more than one statement");
    }
  }
  return out;
}

Status StepDone(sqlite3* db, sqlite3_stmt* stmt, std::string_view what) {
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
  }
  // The error text lives on the connection until the next call: take it before the reset.
  Status st = rc == SQLITE_DONE ? Status::Ok() : SqliteError(db, rc, what);
  sqlite3_reset(stmt);
  return st;
}

}  // namespace sluice::pool::sqlite
