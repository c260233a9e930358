#include "sluice/catalog/sqlite_db.h"

namespace sluice::catalog {

// Another process (the CLI, a second server) may hold the write lock for the length of one
// short transaction; five seconds is generous for that and short enough to surface a stuck
// holder as an error.
constexpr int kBusyTimeoutMs = 5000;

Status SqliteError(sqlite3* db, int rc, std::string_view what) {
  const std::string detail = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  const std::string message = "catalog: " + std::string(what) + ": " + detail;
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Err(ErrorCode::kUnavailable, message + " (the catalog is locked by another user)");
    case SQLITE_CONSTRAINT:
      if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE) {
        return Err(ErrorCode::kAlreadyExists, message);
      }
      if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) return Err(ErrorCode::kNotFound, message);
      return Err(ErrorCode::kInvalidArgument, message);
    default:
      return Err(ErrorCode::kIoError, message);
  }
}

Query::~Query() {
  if (stmt_ == nullptr) return;
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

Query& Query::Bind(int i, int64_t v) {
  const int rc = sqlite3_bind_int64(stmt_, i, v);
  if (rc != SQLITE_OK && bind_error_.ok()) bind_error_ = SqliteError(db_, rc, "bind");
  return *this;
}

Query& Query::Bind(int i, std::string_view v) {
  const int rc = sqlite3_bind_text64(stmt_, i, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK && bind_error_.ok()) bind_error_ = SqliteError(db_, rc, "bind");
  return *this;
}

Query& Query::BindBlob(int i, ByteView v) {
  // A zero-length blob must still be a blob, not NULL: pass a non-null pointer.
  static const uint8_t kEmpty = 0;
  const int rc =
      sqlite3_bind_blob64(stmt_, i, v.empty() ? &kEmpty : v.data(), v.size(), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK && bind_error_.ok()) bind_error_ = SqliteError(db_, rc, "bind");
  return *this;
}

Result<bool> Query::Step() {
  if (!bind_error_.ok()) return bind_error_;
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return SqliteError(db_, rc, sqlite3_sql(stmt_));
}

Status Query::Run() {
  SLUICE_ASSIGN_OR_RETURN(bool row, Step());
  (void)row;
  return Status::Ok();
}

std::string Query::Text(int col) const {
  const auto* p = sqlite3_column_text(stmt_, col);
  const int n = sqlite3_column_bytes(stmt_, col);
  return p == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(p), n);
}

std::string Query::Blob(int col) const {
  const void* p = sqlite3_column_blob(stmt_, col);
  const int n = sqlite3_column_bytes(stmt_, col);
  return p == nullptr ? std::string() : std::string(static_cast<const char*>(p), n);
}

Result<std::unique_ptr<Db>> Db::Open(const std::string& path) {
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  std::unique_ptr<Db> db(new Db(raw));  // closes `raw` even when the open failed
  if (rc != SQLITE_OK) return SqliteError(raw, rc, "open " + path);
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, kBusyTimeoutMs);
  return db;
}

Db::~Db() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  sqlite3_close_v2(db_);
}

Status Db::Exec(const char* sql) {
  const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return SqliteError(db_, rc, sql);
  return Status::Ok();
}

Result<Query> Db::Prepare(const char* sql) {
  auto it = cache_.find(std::string_view(sql));
  if (it == cache_.end()) {
    sqlite3_stmt* stmt = nullptr;
    const int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) return SqliteError(db_, rc, std::string("prepare ") + sql);
    it = cache_.emplace(sql, stmt).first;
  }
  return Query(db_, it->second);
}

Result<int64_t> Db::PragmaInt(const char* sql) {
  SLUICE_ASSIGN_OR_RETURN(Query q, Prepare(sql));
  SLUICE_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return Err(ErrorCode::kInternal, std::string("catalog: no result from ") + sql);
  return q.Int(0);
}

WriteTransaction::~WriteTransaction() {
  if (open_) db_.Exec("ROLLBACK").IgnoreError();
}

Status WriteTransaction::Begin() {
  SLUICE_RETURN_IF_ERROR(db_.Exec("BEGIN IMMEDIATE"));
  open_ = true;
  return Status::Ok();
}

Status WriteTransaction::Commit() {
  Status st = db_.Exec("COMMIT");
  // A failed COMMIT (busy) leaves the transaction open; the destructor rolls it back.
  if (st.ok()) open_ = false;
  return st;
}

}  // namespace sluice::catalog
