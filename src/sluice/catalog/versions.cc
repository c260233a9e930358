// The versions of keys (versions_internal.h): the page assembly both engines share, and the
// SQLite catalog's statements.
#include <algorithm>
#include <cstdint>
#include <limits>

#include "sluice/catalog/catalog_internal.h"
#include "sluice/catalog/versions_internal.h"

namespace sluice::catalog {

Result<FileVersionPage> ReadVersionPage(VersionStatements& statements, const std::string& prefix,
                                        const std::string& after_key, int64_t before_seq,
                                        size_t limit) {
  FileVersionPage page;
  limit = std::min(limit, kMaxListPage);
  if (limit == 0) return page;
  const auto window = static_cast<int64_t>(ListScanWindow(limit));
  const auto room = [&] { return static_cast<int64_t>(limit - page.files.size()); };
  const auto resume = [&](const std::string& key, int64_t before) {
    page.more = true;
    page.resume_key = key;
    page.resume_before = before;
  };
  // `key`'s files below `before`, newest first; false when the page ends inside the key.
  const auto take_key = [&](const std::string& key, int64_t before) -> Result<bool> {
    const int64_t asked = room();
    SLUICE_ASSIGN_OR_RETURN(std::vector<VersionRow> rows,
                            statements.KeyRows(key, before, window, asked));
    for (VersionRow& r : rows) {
      // The window's last entry comes back whatever it is: it says where reading stopped.
      if (r.version.IsVersion() || r.version.newest) page.files.push_back(std::move(r.version));
    }
    if (rows.empty()) return true;
    if (static_cast<int64_t>(rows.size()) == asked) {
      resume(key, rows.back().version.file.seq);
      return false;
    }
    if (rows.front().window_rows == window) {
      resume(key, rows.front().window_end);
      return false;
    }
    return true;
  };

  if (before_seq > 0 && after_key.starts_with(prefix)) {
    SLUICE_ASSIGN_OR_RETURN(bool done, take_key(after_key, before_seq));
    if (!done) return page;
    if (room() == 0) {
      resume(after_key, 0);
      return page;
    }
  }
  const int64_t asked = room();
  SLUICE_ASSIGN_OR_RETURN(std::vector<VersionRow> rows, statements.ForwardRows(window, asked));
  if (rows.empty()) {
    // The range is empty, or its first key fills the whole window: read that key alone.
    SLUICE_ASSIGN_OR_RETURN(std::optional<std::string> first, statements.NextKey());
    if (!first) return page;
    SLUICE_ASSIGN_OR_RETURN(bool done, take_key(*first, std::numeric_limits<int64_t>::max()));
    if (done) resume(*first, 0);
    return page;
  }
  const int64_t window_rows = rows.front().window_rows;
  for (VersionRow& r : rows) page.files.push_back(std::move(r.version));
  const FileRecord& last = page.files.back().file;
  if (static_cast<int64_t>(rows.size()) == asked) {
    resume(last.key, last.seq);
  } else if (window_rows == window) {
    resume(last.key, 0);  // the key the window cut short follows
  }
  return page;
}

namespace {

// The SQLite engine's statements, on the catalog's connection (the caller holds its mutex).
class LiteVersionStatements final : public VersionStatements {
 public:
  LiteVersionStatements(sqlite::Db& db, const std::string& connection_id, const std::string& prefix,
                        const std::string& after_key)
      : db_(db),
        connection_id_(connection_id),
        prefix_(prefix),
        after_key_(after_key),
        end_(PrefixEnd(prefix)) {}

  Result<std::vector<VersionRow>> KeyRows(const std::string& key, int64_t before_seq,
                                          int64_t window, int64_t limit) override {
    SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q, db_.Cached(kSqliteVersionSql.key_versions));
    q.Bind(1, connection_id_).Bind(2, key).Bind(3, before_seq).Bind(4, window).Bind(5, limit);
    return sqlite::ReadRows(q, VersionRowFromRow<sqlite::Statement>);
  }

  Result<std::vector<VersionRow>> ForwardRows(int64_t window, int64_t limit) override {
    SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q, db_.Cached(kSqliteVersionSql.forward));
    BindRange(q);
    q.Bind(6, window).Bind(7, limit);
    return sqlite::ReadRows(q, VersionRowFromRow<sqlite::Statement>);
  }

  Result<std::optional<std::string>> NextKey() override {
    SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q, db_.Cached(kSqliteVersionSql.next_key));
    BindRange(q);
    SLUICE_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return std::optional<std::string>();
    return std::optional<std::string>(q.Text(0));
  }

 private:
  void BindRange(sqlite::Statement& q) {
    q.Bind(1, connection_id_).Bind(2, after_key_).Bind(3, prefix_);
    q.Bind(4, static_cast<int64_t>(end_ ? 1 : 0)).Bind(5, end_ ? *end_ : std::string());
  }

  sqlite::Db& db_;
  const std::string& connection_id_;
  const std::string& prefix_;
  const std::string& after_key_;
  const std::optional<std::string> end_;
};

}  // namespace

Result<FileVersionPage> SqliteCatalog::ListVersions(const std::string& connection_id,
                                                    const std::string& prefix,
                                                    const std::string& after_key,
                                                    int64_t before_seq, size_t limit) {
  MutexLock lock(&mu_);
  LiteVersionStatements statements(*db_, connection_id, prefix, after_key);
  return ReadVersionPage(statements, prefix, after_key, before_seq, limit);
}

Result<std::optional<FileVersion>> SqliteCatalog::VersionLocked(const std::string& connection_id,
                                                                const std::string& key,
                                                                int64_t seq) {
  SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q,
                          db_->Cached(seq == 0 ? kSqliteVersionSql.newest : kSqliteVersionSql.get));
  q.Bind(1, connection_id).Bind(2, key);
  if (seq != 0) q.Bind(3, seq);
  SLUICE_ASSIGN_OR_RETURN(std::vector<VersionRow> rows,
                          sqlite::ReadRows(q, VersionRowFromRow<sqlite::Statement>));
  if (rows.empty()) return std::optional<FileVersion>();
  return std::optional<FileVersion>(std::move(rows[0].version));
}

Result<std::optional<FileVersion>> SqliteCatalog::GetVersion(const std::string& connection_id,
                                                             const std::string& key, int64_t seq) {
  MutexLock lock(&mu_);
  return VersionLocked(connection_id, key, seq);
}

Result<std::optional<FileVersion>> SqliteCatalog::DeleteVersion(const std::string& connection_id,
                                                                const std::string& key,
                                                                int64_t seq) {
  MutexLock lock(&mu_);
  std::optional<FileVersion> out;
  SLUICE_RETURN_IF_ERROR(Write([&]() REQUIRES(mu_) -> Status {
    SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q, db_->Cached(kSqliteVersionSql.delete_version));
    q.Bind(1, connection_id).Bind(2, key).Bind(3, seq);
    SLUICE_RETURN_IF_ERROR(q.Run());
    if (db_->Changes() == 0) return Status::Ok();
    SLUICE_ASSIGN_OR_RETURN(out, VersionLocked(connection_id, key, seq));
    return Status::Ok();
  }));
  return out;
}

Result<bool> SqliteCatalog::RemoveDeleteMarker(const std::string& connection_id,
                                               const std::string& key, int64_t seq) {
  MutexLock lock(&mu_);
  bool removed = false;
  SLUICE_RETURN_IF_ERROR(Write([&]() REQUIRES(mu_) -> Status {
    SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q, db_->Cached(kSqliteVersionSql.remove_marker));
    q.Bind(1, connection_id).Bind(2, key).Bind(3, seq);
    SLUICE_RETURN_IF_ERROR(q.Run());
    removed = db_->Changes() > 0;
    return Status::Ok();
  }));
  return removed;
}

}  // namespace sluice::catalog
