#include "sluice/sqlite/sqlite.h"

#include <cctype>

namespace sluice::sqlite {
namespace {

// Statements are named in error messages; a schema script or a generated upsert is cut here.
constexpr size_t kMaxStatementInMessage = 160;

std::string Abbreviate(std::string_view sql) {
  if (sql.size() <= kMaxStatementInMessage) return std::string(sql);
  return std::string(sql.substr(0, kMaxStatementInMessage)) + "...";
}

// The code for SQLite's result `rc` with its message `sqlite_message` (Db::Error).
ErrorCode CodeFor(int rc, std::string_view sqlite_message) {
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
      // all that tells them from a bad statement. They come from a file's shape (more columns
      // than SQLITE_MAX_COLUMN, one column twice), not from sluice.
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
      if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE) {
        return ErrorCode::kAlreadyExists;
      }
      if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) return ErrorCode::kNotFound;
      return ErrorCode::kInvalidArgument;
    default:
      return ErrorCode::kInternal;
  }
}

Status MakeError(std::string_view label, int rc, std::string_view what,
                 const std::string& sqlite_message) {
  const ErrorCode code = CodeFor(rc, sqlite_message);
  std::string message = std::string(label) + ": " + std::string(what) + ": " + sqlite_message;
  if (code == ErrorCode::kUnavailable) {
    message += " (the " + std::string(label) + " is locked by another user)";
  }
  return Err(code, std::move(message));
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

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_),
      stmt_(other.stmt_),
      cached_(other.cached_),
      bind_error_(std::move(other.bind_error_)) {
  other.stmt_ = nullptr;
}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    Release();
    db_ = other.db_;
    stmt_ = other.stmt_;
    cached_ = other.cached_;
    bind_error_ = std::move(other.bind_error_);
    other.stmt_ = nullptr;
  }
  return *this;
}

Statement::~Statement() { Release(); }

void Statement::Release() {
  if (stmt_ == nullptr) return;
  if (cached_) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  } else {
    sqlite3_finalize(stmt_);
  }
  stmt_ = nullptr;
}

Statement& Statement::Bind(int i, int64_t v) {
  const int rc = sqlite3_bind_int64(stmt_, i, v);
  if (rc != SQLITE_OK && bind_error_.ok()) bind_error_ = db_->Error(rc, "bind");
  return *this;
}

Statement& Statement::Bind(int i, std::string_view v) {
  const int rc = sqlite3_bind_text64(stmt_, i, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK && bind_error_.ok()) bind_error_ = db_->Error(rc, "bind");
  return *this;
}

Statement& Statement::BindBlob(int i, ByteView v) {
  // A zero-length blob must still be a blob, not NULL: pass a non-null pointer.
  static const uint8_t kEmpty = 0;
  const int rc =
      sqlite3_bind_blob64(stmt_, i, v.empty() ? &kEmpty : v.data(), v.size(), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK && bind_error_.ok()) bind_error_ = db_->Error(rc, "bind");
  return *this;
}

Result<bool> Statement::Step() {
  if (!bind_error_.ok()) return bind_error_;
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return db_->Error(rc, Abbreviate(sqlite3_sql(stmt_)));
}

Status Statement::Run(std::string_view what) {
  if (!bind_error_.ok()) return bind_error_;
  int rc;
  while ((rc = sqlite3_step(stmt_)) == SQLITE_ROW) {
  }
  // The error text lives on the connection until the next call: take it before the reset.
  Status st = rc == SQLITE_DONE
                  ? Status::Ok()
                  : db_->Error(rc, what.empty() ? Abbreviate(sqlite3_sql(stmt_)) : what);
  sqlite3_reset(stmt_);
  return st;
}

std::string Statement::Text(int col) const {
  const auto* p = sqlite3_column_text(stmt_, col);
  const int n = sqlite3_column_bytes(stmt_, col);
  return p == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(p), n);
}

std::string Statement::Blob(int col) const {
  const void* p = sqlite3_column_blob(stmt_, col);
  const int n = sqlite3_column_bytes(stmt_, col);
  return p == nullptr ? std::string() : std::string(static_cast<const char*>(p), n);
}

Result<std::unique_ptr<Db>> Db::Open(const std::string& path, OpenOptions options) {
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  std::unique_ptr<Db> db(new Db(raw, std::move(options.label)));  // closes `raw` on failure too
  if (rc != SQLITE_OK) {
    return MakeError(db->label_, rc, "open " + path,
                     raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc));
  }
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, options.busy_timeout_ms);
  if (!options.pragmas.empty()) SLUICE_RETURN_IF_ERROR(db->Exec(options.pragmas));
  return db;
}

Db::~Db() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  // Owned statements are finalised by their owners first; close_v2 defers if any remain.
  if (db_ != nullptr) sqlite3_close_v2(db_);
}

Status Db::Error(int rc, std::string_view what) const {
  return MakeError(label_, rc, what, db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc));
}

Status Db::Exec(std::string_view sql) {
  const std::string text(sql);
  char* error = nullptr;
  const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &error);
  if (rc == SQLITE_OK) return Status::Ok();
  const std::string message = error != nullptr ? error : sqlite3_errstr(rc);
  sqlite3_free(error);
  return MakeError(label_, rc, Abbreviate(sql), message);
}

Result<Statement> Db::Prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  const char* tail = nullptr;
  const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &stmt, &tail);
  if (rc != SQLITE_OK) return Error(rc, "prepare " + Abbreviate(sql));
  Statement out(this, stmt, /*cached=*/false);
  if (stmt == nullptr) {
    return Err(ErrorCode::kInvalidArgument, label_ + ": the SQL holds no statement");
  }
  const char* end = sql.data() + sql.size();
  for (; tail != nullptr && tail < end; ++tail) {
    if (!std::isspace(static_cast<unsigned char>(*tail)) && *tail != ';') {
      return Err(ErrorCode::kInvalidArgument, label_ + ": the SQL holds more than one statement");
    }
  }
  return out;
}

Result<Statement> Db::Cached(std::string_view sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    SLUICE_ASSIGN_OR_RETURN(Statement owned, Prepare(sql));
    it = cache_.emplace(std::string(sql), owned.stmt_).first;
    owned.stmt_ = nullptr;  // the cache finalises it
  }
  return Statement(this, it->second, /*cached=*/true);
}

Result<int64_t> Db::QueryInt(std::string_view sql) {
  SLUICE_ASSIGN_OR_RETURN(Statement q, Cached(sql));
  SLUICE_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return Err(ErrorCode::kInternal, label_ + ": no result from " + std::string(sql));
  return q.Int(0);
}

WriteTransaction::~WriteTransaction() {
  if (open_) db_->Exec("ROLLBACK").IgnoreError();
}

Status WriteTransaction::Begin() {
  SLUICE_RETURN_IF_ERROR(db_->Exec("BEGIN IMMEDIATE"));
  open_ = true;
  return Status::Ok();
}

Status WriteTransaction::Commit() {
  Status st = db_->Exec("COMMIT");
  if (st.ok()) open_ = false;
  return st;
}

}  // namespace sluice::sqlite
