// The file ledger: append, lookups, the per-table FIFO and status transitions.
#include <algorithm>
#include <limits>
#include <unordered_set>
#include <variant>

#include "sluice/catalog/alerts_internal.h"
#include "sluice/catalog/catalog_internal.h"
#include "sluice/catalog/queries_internal.h"

namespace sluice::catalog {

Status SqliteCatalog::RequireOperatorStatus(int64_t seq, LoaderState loader, bool forced,
                                            std::string_view action) {
  return RequireStatus(seq, OperatorStatuses(loader, forced), action);
}

Result<int64_t> SqliteCatalog::InsertFile(const FileRecord& r) {
  SLUICE_ASSIGN_OR_RETURN(bool exists, ConnectionExists(r.connection_id));
  if (!exists) return NoConnection(r.connection_id);
  SLUICE_ASSIGN_OR_RETURN(
      sqlite::Statement q,
      db_->Cached("INSERT INTO files (connection_id, table_name, key, landed_id, size, "
                  "md5_hex, sha256_hex, content_type, metadata_json, received_at, started_at, "
                  "finished_at, status, rows_inserted, rows_updated, rows_refused, "
                  "error_code, error_message, etag, rows_deleted, checksums_json, duplicate_of) "
                  "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"));
  q.Bind(1, r.connection_id).Bind(2, r.table).Bind(3, r.key).Bind(4, r.landed_id);
  q.Bind(5, static_cast<int64_t>(r.size)).Bind(6, r.md5_hex).Bind(7, r.sha256_hex);
  q.Bind(8, r.content_type).Bind(9, r.metadata_json).Bind(10, r.received_at);
  q.Bind(11, r.started_at).Bind(12, r.finished_at).Bind(13, FileStatusName(r.status));
  q.Bind(14, r.rows_inserted).Bind(15, r.rows_updated).Bind(16, r.rows_refused);
  q.Bind(17, r.error_code).Bind(18, r.error_message).Bind(19, r.etag);
  q.Bind(20, r.rows_deleted)
      .Bind(21, r.checksums_json.empty() ? std::string("{}") : r.checksums_json)
      .Bind(22, r.duplicate_of);
  SLUICE_RETURN_IF_ERROR(q.Run());
  const int64_t seq = db_->LastInsertRowid();
  if (!r.condition.empty()) {
    SLUICE_ASSIGN_OR_RETURN(sqlite::Statement before,
                            db_->Cached(SLUICE_PREVIOUS_FILE_SQL("?", "?", "?")));
    before.Bind(1, r.connection_id).Bind(2, r.key).Bind(3, seq);
    std::optional<FileRecord> previous;
    SLUICE_ASSIGN_OR_RETURN(bool row, before.Step());
    if (row) {
      SLUICE_ASSIGN_OR_RETURN(previous, FileFromRow(before));
    }
    SLUICE_RETURN_IF_ERROR(CheckWriteCondition(r.condition, r.key, std::move(previous)));
  }
  return seq;
}

Result<int64_t> SqliteCatalog::AppendFile(FileRecord r) {
  SLUICE_RETURN_IF_ERROR(ValidateFileRecord(r));
  MutexLock lock(&mu_);
  if (r.received_at == 0) r.received_at = clock_.NowMicros();
  int64_t seq = 0;
  SLUICE_RETURN_IF_ERROR(Write([&]() REQUIRES(mu_) -> Status {
    SLUICE_ASSIGN_OR_RETURN(seq, InsertFile(r));
    return Status::Ok();
  }));
  CrashPoint("ledger.after_append");
  return seq;
}

Result<std::optional<FileRecord>> SqliteCatalog::FileLocked(int64_t seq) {
  SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q, db_->Cached(SLUICE_FILE_COLUMNS "WHERE seq = ?"));
  q.Bind(1, seq);
  SLUICE_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<FileRecord>();
  SLUICE_ASSIGN_OR_RETURN(FileRecord f, FileFromRow(q));
  return std::optional<FileRecord>(std::move(f));
}

Result<std::optional<FileRecord>> SqliteCatalog::GetFile(int64_t seq) {
  MutexLock lock(&mu_);
  return FileLocked(seq);
}

Result<std::optional<FileRecord>> SqliteCatalog::LatestFileForKey(const std::string& connection_id,
                                                                  const std::string& key) {
  MutexLock lock(&mu_);
  SLUICE_ASSIGN_OR_RETURN(
      sqlite::Statement q,
      db_->Cached(SLUICE_FILE_COLUMNS
                  "WHERE connection_id = ? AND key = ? ORDER BY seq DESC LIMIT 1"));
  q.Bind(1, connection_id).Bind(2, key);
  SLUICE_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<FileRecord>();
  SLUICE_ASSIGN_OR_RETURN(FileRecord f, FileFromRow(q));
  return std::optional<FileRecord>(std::move(f));
}

Result<std::vector<FileRecord>> SqliteCatalog::ListFiles(const std::string& connection_id,
                                                         const std::string& table) {
  MutexLock lock(&mu_);
  SLUICE_ASSIGN_OR_RETURN(bool exists, ConnectionExists(connection_id));
  if (!exists) return NoConnection(connection_id);
  if (table.empty()) {
    SLUICE_ASSIGN_OR_RETURN(
        sqlite::Statement q,
        db_->Cached(SLUICE_FILE_COLUMNS "WHERE connection_id = ? ORDER BY seq"));
    q.Bind(1, connection_id);
    return sqlite::ReadRows(q, FileFromRow<sqlite::Statement>);
  }
  SLUICE_ASSIGN_OR_RETURN(
      sqlite::Statement q,
      db_->Cached(SLUICE_FILE_COLUMNS "WHERE connection_id = ? AND table_name = ? "
                                      "ORDER BY seq"));
  q.Bind(1, connection_id).Bind(2, table);
  return sqlite::ReadRows(q, FileFromRow<sqlite::Statement>);
}

Result<FilePage> SqliteCatalog::ListFilesPage(const std::string& connection_id,
                                              const FileFilter& filter, size_t limit) {
  MutexLock lock(&mu_);
  SLUICE_ASSIGN_OR_RETURN(bool exists, ConnectionExists(connection_id));
  if (!exists) return NoConnection(connection_id);
  auto prepare = [&](const char* sql, std::span<const SqlValue> values)
                     REQUIRES(mu_) -> Result<sqlite::Statement> {
    SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q, db_->Cached(sql));
    int i = 0;
    for (const SqlValue& v : values) std::visit([&](const auto& x) { q.Bind(++i, x); }, v);
    return q;
  };
  auto files = [&](const char* sql, std::span<const SqlValue> values)
                   REQUIRES(mu_) -> Result<std::vector<FileRecord>> {
    SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q, prepare(sql, values));
    return sqlite::ReadRows(q, FileFromRow<sqlite::Statement>);
  };
  auto window = [&](const char* sql, std::span<const SqlValue> values)
                    REQUIRES(mu_) -> Result<FileWindow> {
    SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q, prepare(sql, values));
    SLUICE_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return FileWindow();
    return FileWindow{.lowest = q.Int(0), .highest = q.Int(1), .entries = q.Int(2)};
  };
  const FilesPageRunner run{.files = files, .window = window};
  return ReadFilesPage(kSqliteFilesPage, run, connection_id, filter, limit);
}

Result<std::vector<ErrorGroup>> SqliteCatalog::OpenErrors(const std::string& connection_id) {
  MutexLock lock(&mu_);
  SLUICE_ASSIGN_OR_RETURN(bool exists, ConnectionExists(connection_id));
  if (!exists) return NoConnection(connection_id);
  SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q, db_->Cached(kOpenErrorsSql));
  q.Bind(1, connection_id);
  return sqlite::ReadRows(q, ErrorGroupFromRow<sqlite::Statement>);
}

Result<std::vector<TableKey>> SqliteCatalog::TablesWithWork() {
  MutexLock lock(&mu_);
  SLUICE_ASSIGN_OR_RETURN(
      sqlite::Statement q,
      db_->Cached("SELECT DISTINCT connection_id, table_name FROM files WHERE status "
                  "IN ('queued', 'loading') ORDER BY connection_id, table_name"));
  std::vector<TableKey> out;
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back(TableKey{q.Text(0), q.Text(1)});
  }
  return out;
}

Result<std::optional<FileRecord>> SqliteCatalog::HeadOfQueue(const TableKey& table) {
  MutexLock lock(&mu_);
  SLUICE_ASSIGN_OR_RETURN(
      sqlite::Statement q,
      // The condition repeats files_pending's WHERE word for word, so that SQLite can prove
      // the partial index applies.
      db_->Cached(SLUICE_FILE_COLUMNS
                  "WHERE connection_id = ? AND table_name = ? AND (status IN ('queued', "
                  "'loading') OR (status = 'failed' AND passed = 0)) ORDER BY seq LIMIT 1"));
  q.Bind(1, table.connection_id).Bind(2, table.table);
  SLUICE_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<FileRecord>();
  SLUICE_ASSIGN_OR_RETURN(FileRecord f, FileFromRow(q));
  return std::optional<FileRecord>(std::move(f));
}

Status SqliteCatalog::RequireStatus(int64_t seq, std::span<const FileStatus> allowed,
                                    std::string_view action) {
  SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q,
                          db_->Cached("SELECT status FROM files WHERE seq = ?"));
  q.Bind(1, seq);
  SLUICE_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return NoFile(seq);
  SLUICE_ASSIGN_OR_RETURN(FileStatus status, FileStatusFromName(q.Text(0)));
  return CheckStatus(seq, status, allowed, action);
}

Status SqliteCatalog::MarkLoading(int64_t seq) {
  MutexLock lock(&mu_);
  // Durable (catalog.h): the attempt must be on disk before the loader reads a byte.
  return Write([&]() REQUIRES(mu_) -> Status {
    SLUICE_RETURN_IF_ERROR(RequireStatus(seq, kQueuedOrLoading, "marked loading"));
    SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q,
                            db_->Cached("UPDATE files SET status = 'loading', started_at = ?, "
                                        "finished_at = 0, load_attempts = load_attempts + 1 "
                                        "WHERE seq = ?"));
    q.Bind(1, clock_.NowMicros()).Bind(2, seq);
    return q.Run();
  });
}

Status SqliteCatalog::AbandonLoading(int64_t seq) {
  MutexLock lock(&mu_);
  return Write([&]() REQUIRES(mu_) -> Status {
    SLUICE_RETURN_IF_ERROR(RequireStatus(seq, kLoadingOnly, "abandoned"));
    SLUICE_ASSIGN_OR_RETURN(
        sqlite::Statement q,
        db_->Cached("UPDATE files SET load_attempts = max(load_attempts - 1, 0) "
                    "WHERE seq = ?"));
    q.Bind(1, seq);
    return q.Run();
  });
}

Status SqliteCatalog::MarkLoaded(int64_t seq, const LoadCounts& counts, int64_t finished_at) {
  MutexLock lock(&mu_);
  return Write([&]() REQUIRES(mu_) -> Status {
    // A queued file may be marked loaded directly by crash reconciliation (the pool already
    // holds its sequence).
    SLUICE_RETURN_IF_ERROR(RequireStatus(seq, kQueuedOrLoading, "marked loaded"));
    SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q,
                            db_->Cached("UPDATE files SET status = 'loaded', rows_inserted = ?, "
                                        "rows_updated = ?, rows_refused = ?, rows_deleted = ?, "
                                        "finished_at = ?, error_code = '', error_message = '' "
                                        "WHERE seq = ?"));
    q.Bind(1, counts.inserted).Bind(2, counts.updated).Bind(3, counts.refused);
    q.Bind(4, counts.deleted).Bind(5, finished_at).Bind(6, seq);
    SLUICE_RETURN_IF_ERROR(q.Run());
    LiteSharedSql alerts(*db_, box_);
    return FileLoadedEvent(alerts, seq, counts, finished_at);
  });
}

Status SqliteCatalog::MarkFailed(int64_t seq, const Status& error) {
  if (error.ok()) return NotOkFailure(seq);
  MutexLock lock(&mu_);
  return Write([&]() REQUIRES(mu_) -> Status {
    SLUICE_RETURN_IF_ERROR(RequireStatus(seq, kQueuedOrLoading, "marked failed"));
    SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q,
                            db_->Cached("UPDATE files SET status = 'failed', error_code = ?, "
                                        "error_message = ?, finished_at = ? WHERE seq = ?"));
    q.Bind(1, ErrorCodeName(error.code())).Bind(2, error.message());
    const int64_t now = clock_.NowMicros();
    q.Bind(3, now).Bind(4, seq);
    SLUICE_RETURN_IF_ERROR(q.Run());
    LiteSharedSql alerts(*db_, box_);
    return FileFailedEvents(alerts, seq, error, now);
  });
}

Status SqliteCatalog::Retry(int64_t seq, LoaderState loader) {
  MutexLock lock(&mu_);
  return Write([&]() REQUIRES(mu_) -> Status {
    SLUICE_RETURN_IF_ERROR(RequireOperatorStatus(seq, loader, false, "retried"));
    SLUICE_RETURN_IF_ERROR(RequireBytes(seq, "retried"));
    LiteSharedSql alerts(*db_, box_);
    SLUICE_RETURN_IF_ERROR(UnblockedEvent(alerts, seq, "retry", clock_.NowMicros()));
    static const std::string sql = "UPDATE files SET " + std::string(kRequeue) + " WHERE seq = ?";
    SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q, db_->Cached(sql.c_str()));
    q.Bind(1, seq);
    return q.Run();
  });
}

Status SqliteCatalog::Skip(int64_t seq, LoaderState loader) {
  MutexLock lock(&mu_);
  return Write([&]() REQUIRES(mu_) -> Status {
    SLUICE_RETURN_IF_ERROR(RequireOperatorStatus(seq, loader, false, "skipped"));
    LiteSharedSql alerts(*db_, box_);
    SLUICE_RETURN_IF_ERROR(UnblockedEvent(alerts, seq, "skip", clock_.NowMicros()));
    // The error stays: it says why the operator skipped the file. A `loading` file has none:
    // it says that it was skipped unfinished.
    SLUICE_ASSIGN_OR_RETURN(
        sqlite::Statement q,
        db_->Cached("UPDATE files SET error_message = CASE WHEN status = 'loading' "
                    "THEN ? ELSE error_message END, status = 'skipped', finished_at = ? "
                    "WHERE seq = ?"));
    q.Bind(1, kSkippedWhileLoading).Bind(2, clock_.NowMicros()).Bind(3, seq);
    return q.Run();
  });
}

Status SqliteCatalog::RetryForced(int64_t seq, LoaderState loader) {
  MutexLock lock(&mu_);
  return Write([&]() REQUIRES(mu_) -> Status {
    SLUICE_RETURN_IF_ERROR(RequireOperatorStatus(seq, loader, true, "retried with --force"));
    SLUICE_RETURN_IF_ERROR(RequireBytes(seq, "retried with --force"));
    LiteSharedSql alerts(*db_, box_);
    SLUICE_RETURN_IF_ERROR(UnblockedEvent(alerts, seq, "retry", clock_.NowMicros()));
    static const std::string sql = "UPDATE files SET " + std::string(kRequeue) +
                                   ", forced = 1, duplicate_of = 0 WHERE seq = ?";
    SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q, db_->Cached(sql.c_str()));
    q.Bind(1, seq);
    return q.Run();
  });
}

Status SqliteCatalog::RequireBytes(int64_t seq, std::string_view action) {
  SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q,
                          db_->Cached("SELECT purged_at, key FROM files WHERE seq = ?"));
  q.Bind(1, seq);
  SLUICE_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return NoFile(seq);
  if (q.Int(0) == 0) return Status::Ok();
  return PurgedError(seq, q.Text(1), q.Int(0), action);
}

Status SqliteCatalog::MovePast(int64_t seq) {
  MutexLock lock(&mu_);
  return Write([&]() REQUIRES(mu_) -> Status {
    SLUICE_RETURN_IF_ERROR(RequireStatus(seq, kFailedOnly, "moved past"));
    LiteSharedSql alerts(*db_, box_);
    SLUICE_RETURN_IF_ERROR(UnblockedEvent(alerts, seq, "move past", clock_.NowMicros()));
    SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q,
                            db_->Cached("UPDATE files SET passed = 1 WHERE seq = ?"));
    q.Bind(1, seq);
    return q.Run();
  });
}

Result<std::optional<FileRecord>> SqliteCatalog::FindLoadedDuplicate(const FileRecord& file) {
  MutexLock lock(&mu_);
  // Both forms walk files_by_content (its WHERE is status = 'loaded'); a multipart object
  // matches only other multipart objects (empty MD5) of its size, then by ETag.
  const bool multipart = file.md5_hex.empty();
  if (multipart && file.etag.empty()) return std::optional<FileRecord>();
  SLUICE_ASSIGN_OR_RETURN(
      sqlite::Statement q,
      db_->Cached(SLUICE_FILE_COLUMNS
                  "WHERE connection_id = ? AND table_name = ? AND md5_hex = ? AND "
                  "size = ? AND status = 'loaded' AND seq != ? AND (md5_hex != '' OR "
                  "etag = ?) ORDER BY seq DESC LIMIT 1"));
  q.Bind(1, file.connection_id).Bind(2, file.table).Bind(3, file.md5_hex);
  q.Bind(4, static_cast<int64_t>(file.size)).Bind(5, file.seq).Bind(6, file.etag);
  SLUICE_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<FileRecord>();
  SLUICE_ASSIGN_OR_RETURN(FileRecord f, FileFromRow(q));
  return std::optional<FileRecord>(std::move(f));
}

Status SqliteCatalog::MarkDuplicate(int64_t seq, int64_t original_seq, const std::string& message) {
  MutexLock lock(&mu_);
  return Write([&]() REQUIRES(mu_) -> Status {
    SLUICE_RETURN_IF_ERROR(RequireStatus(seq, kQueuedOrLoading, "marked a duplicate"));
    SLUICE_ASSIGN_OR_RETURN(
        sqlite::Statement q,
        db_->Cached("UPDATE files SET status = 'skipped', duplicate_of = ?, "
                    "error_code = '', error_message = ?, finished_at = ? WHERE seq = ?"));
    q.Bind(1, original_seq).Bind(2, message).Bind(3, clock_.NowMicros()).Bind(4, seq);
    return q.Run();
  });
}

Result<std::vector<FileRecord>> SqliteCatalog::UnfinishedFiles() {
  MutexLock lock(&mu_);
  SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q,
                          db_->Cached(SLUICE_FILE_COLUMNS "WHERE status IN ('queued', 'loading') "
                                                          "ORDER BY seq"));
  return sqlite::ReadRows(q, FileFromRow<sqlite::Statement>);
}

Result<std::vector<std::string>> SqliteCatalog::NotInLedger(std::vector<std::string> landed_ids) {
  std::unordered_set<std::string> unknown(std::make_move_iterator(landed_ids.begin()),
                                          std::make_move_iterator(landed_ids.end()));
  if (unknown.empty()) return std::vector<std::string>();
  MutexLock lock(&mu_);
  // Every entry, purged or not: a purged file's object is gone already, and a name that is
  // still there is the ledger's to remove, never the start-up sweep's.
  SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q, db_->Cached("SELECT landed_id FROM files"));
  while (!unknown.empty()) {
    SLUICE_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    unknown.erase(q.Text(0));
  }
  return std::vector<std::string>(unknown.begin(), unknown.end());
}

}  // namespace sluice::catalog
