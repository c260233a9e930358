// The ledger seen through S3: visible objects, listings, deletes, and buckets as connections.
#include <algorithm>
#include <cstdint>

#include "sluice/catalog/catalog_internal.h"
#include "sluice/catalog/queries_internal.h"

namespace sluice::catalog {
namespace {

// Counts the rows `sql` (one `?` bound to the connection) returns, up to one.
Result<bool> AnyRow(sqlite::Db& db, const std::string& sql, const std::string& connection_id) {
  SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q, db.Cached(sql.c_str()));
  q.Bind(1, connection_id);
  return q.Step();
}

}  // namespace

Result<std::optional<FileRecord>> SqliteCatalog::VisibleFile(const std::string& connection_id,
                                                             const std::string& key) {
  SLUICE_ASSIGN_OR_RETURN(auto f, LatestFileForKey(connection_id, key));
  return IfVisible(std::move(f));
}

Result<VisiblePage> SqliteCatalog::ListVisible(const std::string& connection_id,
                                               const std::string& prefix,
                                               const std::string& start_after, size_t limit) {
  VisiblePage page;
  if (limit == 0) return page;
  const std::optional<std::string> end = PrefixEnd(prefix);
  const auto window = static_cast<int64_t>(ListScanWindow(limit));
  MutexLock lock(&mu_);
  {
    SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q, db_->Cached(kVisiblePageSql));
    q.Bind(1, connection_id).Bind(2, start_after).Bind(3, prefix);
    q.Bind(4, static_cast<int64_t>(end ? 1 : 0)).Bind(5, end ? *end : std::string());
    q.Bind(6, window).Bind(7, static_cast<int64_t>(std::min<size_t>(limit, INT64_MAX)));
    SLUICE_ASSIGN_OR_RETURN(page.files, sqlite::ReadRows(q, FileFromRow<sqlite::Statement>));
  }
  if (page.files.size() >= limit) return page;
  // Short: either the range ended, or the window did.
  SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q, db_->Cached(kVisibleWindowEndSql));
  q.Bind(1, connection_id).Bind(2, start_after).Bind(3, prefix);
  q.Bind(4, static_cast<int64_t>(end ? 1 : 0)).Bind(5, end ? *end : std::string());
  q.Bind(6, window - 1);
  SLUICE_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return page;
  std::string last = q.Text(0);
  // The window may have cut the last key's versions short (they sort by seq): decide that key
  // from its newest version.
  if (page.files.empty() || page.files.back().key != last) {
    SLUICE_ASSIGN_OR_RETURN(
        sqlite::Statement newest,
        db_->Cached(SLUICE_FILE_COLUMNS
                    "WHERE connection_id = ? AND key = ? ORDER BY seq DESC LIMIT 1"));
    newest.Bind(1, connection_id).Bind(2, last);
    SLUICE_ASSIGN_OR_RETURN(std::vector<FileRecord> rows,
                            sqlite::ReadRows(newest, FileFromRow<sqlite::Statement>));
    if (!rows.empty() && !rows[0].deleted && rows[0].purged_at == 0) {
      page.files.push_back(std::move(rows[0]));
    }
  }
  page.scanned_to = std::move(last);
  return page;
}

Result<std::vector<FileRecord>> SqliteCatalog::DeleteKey(const std::string& connection_id,
                                                         const std::string& key) {
  MutexLock lock(&mu_);
  std::vector<FileRecord> marked;
  SLUICE_RETURN_IF_ERROR(Write([&]() REQUIRES(mu_) -> Status {
    {
      SLUICE_ASSIGN_OR_RETURN(
          sqlite::Statement q,
          db_->Cached(SLUICE_FILE_COLUMNS
                      "WHERE connection_id = ? AND key = ? AND deleted = 0 ORDER BY seq"));
      q.Bind(1, connection_id).Bind(2, key);
      SLUICE_ASSIGN_OR_RETURN(marked, sqlite::ReadRows(q, FileFromRow<sqlite::Statement>));
    }
    if (marked.empty()) return Status::Ok();
    SLUICE_ASSIGN_OR_RETURN(
        sqlite::Statement q,
        db_->Cached("UPDATE files SET deleted = 1 WHERE connection_id = ? AND key = ? "
                    "AND deleted = 0"));
    q.Bind(1, connection_id).Bind(2, key);
    return q.Run();
  }));
  for (FileRecord& f : marked) f.deleted = true;
  return marked;
}

Result<std::vector<std::string>> SqliteCatalog::DeleteConnection(const std::string& id) {
  MutexLock lock(&mu_);
  std::vector<std::string> landed;
  SLUICE_RETURN_IF_ERROR(Write([&]() REQUIRES(mu_) -> Status {
    SLUICE_ASSIGN_OR_RETURN(bool exists, ConnectionExists(id));
    if (!exists) return NoConnection(id);
    for (const InUseCheck& check : kConnectionInUse) {
      static_assert(std::size(kConnectionInUse) == 4);
      SLUICE_ASSIGN_OR_RETURN(bool any, AnyRow(*db_, InUseSql(check, "?"), id));
      if (any) return BucketNotEmpty(id, check.why);
    }
    {
      SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q,
                              db_->Cached("SELECT landed_id FROM files WHERE connection_id = ?"));
      q.Bind(1, id);
      while (true) {
        SLUICE_ASSIGN_OR_RETURN(bool row, q.Step());
        if (!row) break;
        landed.push_back(q.Text(0));
      }
    }
    for (const char* sql : {"DELETE FROM files WHERE connection_id = ?",
                            "DELETE FROM completed_uploads WHERE connection_id = ?",
                            "DELETE FROM credentials WHERE connection_id = ?",
                            "DELETE FROM connections WHERE id = ?"}) {
      SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q, db_->Cached(sql));
      q.Bind(1, id);
      SLUICE_RETURN_IF_ERROR(q.Run());
    }
    return Status::Ok();
  }));
  return landed;
}

}  // namespace sluice::catalog
