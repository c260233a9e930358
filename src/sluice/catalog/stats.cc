// The ledger seen in aggregate: backlogs for backpressure and metrics, status counts, and the
// retention queries. Each is one statement over an index chosen for it (schema.cc).
#include "sluice/catalog/catalog_internal.h"
#include "sluice/catalog/queries_internal.h"

namespace sluice::catalog {

Result<std::vector<Catalog::TableBacklog>> SqliteCatalog::BacklogByTable() {
  MutexLock lock(&mu_);
  // The WHERE clause matches the partial index files_with_work, so only unfinished files are
  // read, whatever the length of the history.
  SLUICE_ASSIGN_OR_RETURN(
      sqlite::Statement q,
      db_->Cached("SELECT connection_id, table_name, count(*), total(size), "
                  "min(CASE WHEN status = 'queued' THEN received_at END) FROM files "
                  "WHERE status IN ('queued', 'loading') "
                  "GROUP BY connection_id, table_name ORDER BY connection_id, "
                  "table_name"));
  std::vector<TableBacklog> out;
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    TableBacklog b;
    b.table = {q.Text(0), q.Text(1)};
    b.files = q.Int(2);
    b.bytes = static_cast<uint64_t>(q.Int(3));
    b.oldest_queued_at = q.Int(4);  // NULL (no queued file) reads as 0
    out.push_back(std::move(b));
  }
  return out;
}

Result<std::vector<Catalog::StatusCount>> SqliteCatalog::CountPending() {
  MutexLock lock(&mu_);
  SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q, db_->Cached(kCountPendingSql));
  std::vector<StatusCount> out;
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    StatusCount c;
    c.table = {q.Text(0), q.Text(1)};
    SLUICE_ASSIGN_OR_RETURN(c.status, FileStatusFromName(q.Text(2)));
    c.error_code = q.Text(3);
    c.files = q.Int(4);
    out.push_back(std::move(c));
  }
  return out;
}

Result<std::vector<FileRecord>> SqliteCatalog::RetainedBefore(int64_t finished_before,
                                                              size_t limit) {
  MutexLock lock(&mu_);
  // Matches the partial index files_retained(finished_at): objects kept by the `store` policy
  // (skipped, TABLE_NOT_CONFIGURED) are plain objects, not ingested files, and are not purged.
  SLUICE_ASSIGN_OR_RETURN(
      sqlite::Statement q,
      db_->Cached(SLUICE_FILE_COLUMNS
                  "WHERE purged_at = 0 AND (status = 'loaded' OR (status = 'skipped' "
                  "AND error_code != 'TABLE_NOT_CONFIGURED')) "
                  "AND finished_at < ? ORDER BY finished_at LIMIT ?"));
  q.Bind(1, finished_before).Bind(2, static_cast<int64_t>(limit));
  return sqlite::ReadRows(q, FileFromRow<sqlite::Statement>);
}

Status SqliteCatalog::MarkPurged(int64_t seq, int64_t purged_at) {
  MutexLock lock(&mu_);
  return Write([&]() REQUIRES(mu_) -> Status {
    SLUICE_RETURN_IF_ERROR(RequireStatus(seq, kLoadedOrSkipped, "purged"));
    SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q,
                            db_->Cached("UPDATE files SET purged_at = ? WHERE seq = ?"));
    q.Bind(1, purged_at).Bind(2, seq);
    return q.Run();
  });
}

Result<std::vector<std::pair<std::string, uint64_t>>> SqliteCatalog::StoredBytesByConnection() {
  MutexLock lock(&mu_);
  // The files' WHERE clause matches the partial index files_stored(connection_id, size), which
  // covers the sum. Uploads in progress are few; their parts are summed through the upload.
  SLUICE_ASSIGN_OR_RETURN(
      sqlite::Statement q,
      db_->Cached("SELECT connection_id, sum(bytes) FROM ("
                  "SELECT connection_id, sum(size) AS bytes FROM files "
                  "WHERE purged_at = 0 GROUP BY connection_id "
                  "UNION ALL SELECT u.connection_id, sum(p.size) FROM upload_parts p "
                  "JOIN uploads u USING (upload_id) GROUP BY u.connection_id) "
                  "GROUP BY connection_id HAVING sum(bytes) > 0 ORDER BY connection_id"));
  std::vector<std::pair<std::string, uint64_t>> out;
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.emplace_back(q.Text(0), static_cast<uint64_t>(q.Int(1)));
  }
  return out;
}

}  // namespace sluice::catalog
