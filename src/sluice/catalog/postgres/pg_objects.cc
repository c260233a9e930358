// The PostgreSQL ledger seen through S3 (visible objects, listings, deletes, bucket deletion)
// and in aggregate (backlogs, status counts, retention, stored bytes): objects.cc and stats.cc
// of the SQLite catalog.
#include <algorithm>

#include "sluice/catalog/postgres/pg_catalog_internal.h"
#include "sluice/core/utf8.h"

namespace sluice::catalog {
namespace {

using postgres::Conn;
using postgres::Params;
using postgres::Rows;

// Visible keys after a key: the newest version of each, not deleted or purged. The window
// subquery walks files_by_key for at most $6 entries, however sparse the visible keys are;
// the correlated max(seq) is one index probe per row.
constexpr const char* kVisiblePageSql = SLUICE_FILE_COLUMN_LIST
    "FROM (SELECT * FROM files WHERE connection_id = $1 AND key > $2 AND key >= $3 "
    "AND ($4 = 0 OR key < $5) ORDER BY key, seq LIMIT $6) AS files "
    "WHERE deleted = 0 AND purged_at = 0 AND seq = (SELECT max(g.seq) FROM files g "
    "WHERE g.connection_id = files.connection_id AND g.key = files.key) "
    "ORDER BY key LIMIT $7";
// The key of the window's last entry (read only when a page came back short).
constexpr const char* kVisibleWindowEndSql =
    "SELECT key FROM files WHERE connection_id = $1 AND key > $2 AND key >= $3 "
    "AND ($4 = 0 OR key < $5) ORDER BY key, seq LIMIT 1 OFFSET $6";

// The smallest valid UTF-8 string greater than every string that starts with `valid` (which is
// valid UTF-8): its last code point incremented (past the surrogates), or dropped when it is
// the last one and the one before incremented; nullopt when there is none.
std::optional<std::string> ValidSuccessor(std::string_view valid) {
  std::vector<size_t> starts;
  for (size_t i = 0; i < valid.size(); i += DecodeUtf8At(valid, i).length) starts.push_back(i);
  while (!starts.empty()) {
    const size_t at = starts.back();
    starts.pop_back();
    uint32_t cp = DecodeUtf8At(valid, at).code_point;
    if (cp >= 0x10FFFF) continue;
    cp = cp == 0xD7FF ? 0xE000 : cp + 1;
    std::string out(valid.substr(0, at));
    AppendUtf8(out, cp);
    return out;
  }
  return std::nullopt;
}

}  // namespace

PgKeyRange MakePgKeyRange(std::string_view prefix, std::string_view start_after) {
  PgKeyRange range;
  if (Utf8TextPrefix(prefix) != prefix.size()) {
    range.empty = true;  // no key starts with it
    return range;
  }
  range.from = std::string(prefix);
  range.before = ValidSuccessor(prefix);
  const size_t n = Utf8TextPrefix(start_after);
  if (n == start_after.size()) {
    range.after = std::string(start_after);
    return range;
  }
  // key > start_after, where start_after = valid + rest and rest begins with a byte that does
  // not start a well-formed sequence. A byte that never occurs in UTF-8 (0xF5..0xFF: the
  // S3 layer's `\xff` cursor) sorts after every key that starts with `valid`: the keys past
  // start_after are those at or after valid's successor. Anything else (a stray continuation
  // byte, a cut sequence): keys after `valid` itself, a superset that may repeat keys of
  // `valid`'s range, and only for a malformed marker.
  const std::string valid(start_after.substr(0, n));
  const auto next = static_cast<unsigned char>(start_after[n]);
  if (next >= 0xF5 || next == 0xC0 || next == 0xC1 || (next >= 0x80 && next < 0xC0)) {
    // 0x80..0xC1 sort below every lead byte of a multi-byte character and above ASCII: the
    // keys past it start with `valid` and a non-ASCII character, or are past valid's range.
    std::optional<std::string> succ;
    if (next >= 0xF5) {
      succ = ValidSuccessor(valid);
    } else {
      succ = valid + "\xC2\x80";  // U+0080, the smallest non-ASCII character
    }
    if (!succ) {
      range.empty = true;
      return range;
    }
    range.after.clear();
    if (*succ > range.from) range.from = *succ;
    return range;
  }
  range.after = valid;
  return range;
}

Result<std::optional<FileRecord>> PgCatalog::VisibleFile(const std::string& connection_id,
                                                         const std::string& key) {
  SLUICE_ASSIGN_OR_RETURN(auto f, LatestFileForKey(connection_id, key));
  return IfVisible(std::move(f));
}

Result<VisiblePage> PgCatalog::ListVisible(const std::string& connection_id,
                                           const std::string& prefix,
                                           const std::string& start_after, size_t limit) {
  VisiblePage page;
  const PgKeyRange keys = MakePgKeyRange(prefix, start_after);
  if (limit == 0 || keys.empty) return page;
  const auto window = static_cast<int64_t>(ListScanWindow(limit));
  auto range = [&] {
    return Params()
        .Text(connection_id)
        .Text(keys.after)
        .Text(keys.from)
        .Int(keys.before ? 1 : 0)
        .Text(keys.before ? *keys.before : std::string());
  };
  SLUICE_RETURN_IF_ERROR(Read([&](Conn& c) -> Status {
    page = VisiblePage();
    {
      SLUICE_ASSIGN_OR_RETURN(
          Rows rows,
          c.Query(kVisiblePageSql,
                  range().Int(window).Int(static_cast<int64_t>(std::min<size_t>(limit, INT64_MAX))),
                  "listing objects"));
      SLUICE_ASSIGN_OR_RETURN(page.files, ReadAll(rows, FileFromRow<PgRow>));
    }
    if (page.files.size() >= limit) return Status::Ok();
    // Short: either the range ended, or the window did.
    SLUICE_ASSIGN_OR_RETURN(
        Rows last_rows, c.Query(kVisibleWindowEndSql, range().Int(window - 1), "listing objects"));
    if (last_rows.size() == 0) return Status::Ok();
    std::string last(last_rows.Text(0, 0));
    // The window may have cut the last key's versions short: decide that key from its newest
    // version.
    if (page.files.empty() || page.files.back().key != last) {
      SLUICE_ASSIGN_OR_RETURN(Rows newest,
                              c.Query(SLUICE_FILE_COLUMNS "WHERE connection_id = $1 AND key = $2 "
                                                          "ORDER BY seq DESC LIMIT 1",
                                      Params().Text(connection_id).Text(last)));
      SLUICE_ASSIGN_OR_RETURN(std::optional<FileRecord> f, ReadOne(newest, FileFromRow<PgRow>));
      f = IfVisible(std::move(f));
      if (f) page.files.push_back(std::move(*f));
    }
    page.scanned_to = std::move(last);
    return Status::Ok();
  }));
  return page;
}

Result<std::vector<FileRecord>> PgCatalog::DeleteKey(const std::string& connection_id,
                                                     const std::string& key) {
  std::vector<FileRecord> marked;
  SLUICE_RETURN_IF_ERROR(Write([&](Conn& c) -> Status {
    SLUICE_ASSIGN_OR_RETURN(
        Rows rows,
        c.Query("WITH d AS (UPDATE files SET deleted = 1 WHERE connection_id = $1 AND key = $2 "
                "AND deleted = 0 RETURNING *) " SLUICE_FILE_COLUMN_LIST "FROM d ORDER BY seq",
                Params().Text(connection_id).Text(key)));
    SLUICE_ASSIGN_OR_RETURN(marked, ReadAll(rows, FileFromRow<PgRow>));
    return Status::Ok();
  }));
  return marked;
}

Result<std::vector<std::string>> PgCatalog::DeleteConnection(const std::string& id) {
  std::vector<std::string> landed;
  SLUICE_RETURN_IF_ERROR(Write([&](Conn& c) -> Status {
    // The connection's row, locked: appends to it (whose foreign-key checks share the row)
    // wait, and then fail with no connection.
    SLUICE_ASSIGN_OR_RETURN(Rows conn, c.Query("SELECT 1 FROM connections WHERE id = $1 FOR UPDATE",
                                               Params().Text(id)));
    if (conn.size() == 0) return NoConnection(id);
    for (const InUseCheck& check : kConnectionInUse) {
      SLUICE_ASSIGN_OR_RETURN(Rows any, c.Query(InUseSql(check, "$1"), Params().Text(id)));
      if (any.size() > 0) return BucketNotEmpty(id, check.why);
    }
    SLUICE_ASSIGN_OR_RETURN(Rows rows, c.Query("DELETE FROM files WHERE connection_id = $1 "
                                               "RETURNING landed_id",
                                               Params().Text(id)));
    landed.clear();
    for (int i = 0; i < rows.size(); ++i) landed.emplace_back(rows.Text(i, 0));
    // A table's claim row is left: a loader may hold it, and it is harmless.
    for (const char* sql : {"DELETE FROM completed_uploads WHERE connection_id = $1",
                            "DELETE FROM credentials WHERE connection_id = $1",
                            "DELETE FROM table_counters WHERE connection_id = $1",
                            "DELETE FROM table_positions WHERE connection_id = $1",
                            "DELETE FROM connections WHERE id = $1"}) {
      SLUICE_RETURN_IF_ERROR(c.Query(sql, Params().Text(id)).status());
    }
    return Status::Ok();
  }));
  return landed;
}

Result<std::vector<Catalog::TableBacklog>> PgCatalog::BacklogByTable() {
  std::vector<TableBacklog> out;
  SLUICE_RETURN_IF_ERROR(Read([&](Conn& c) -> Status {
    // The WHERE clause matches the partial index files_with_work.
    SLUICE_ASSIGN_OR_RETURN(
        Rows rows,
        c.Query("SELECT connection_id, table_name, count(*), coalesce(sum(size), 0)::bigint, "
                "coalesce(min(CASE WHEN status = 'queued' THEN received_at END), 0) FROM files "
                "WHERE status IN ('queued', 'loading') GROUP BY connection_id, table_name "
                "ORDER BY connection_id, table_name"));
    out.clear();
    for (int i = 0; i < rows.size(); ++i) {
      const PgRow r(rows, i);
      out.push_back(TableBacklog{TableKey{r.Text(0), r.Text(1)}, r.Int(2),
                                 static_cast<uint64_t>(r.Int(3)), r.Int(4)});
    }
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<Catalog::StatusCount>> PgCatalog::CountPending() {
  std::vector<StatusCount> out;
  SLUICE_RETURN_IF_ERROR(Read([&](Conn& c) -> Status {
    SLUICE_ASSIGN_OR_RETURN(Rows rows, c.Query(kCountPendingSql));
    out.clear();
    for (int i = 0; i < rows.size(); ++i) {
      const PgRow r(rows, i);
      StatusCount count{TableKey{r.Text(0), r.Text(1)}};
      SLUICE_ASSIGN_OR_RETURN(count.status, FileStatusFromName(r.Text(2)));
      count.error_code = r.Text(3);
      count.files = r.Int(4);
      out.push_back(std::move(count));
    }
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<FileRecord>> PgCatalog::RetainedBefore(int64_t finished_before, size_t limit) {
  // files_retained's WHERE clause: objects kept by the `store` policy are not purged.
  return QueryFiles(
      SLUICE_FILE_COLUMNS
      "WHERE purged_at = 0 AND (status = 'loaded' OR (status = 'skipped' "
      "AND error_code != 'TABLE_NOT_CONFIGURED')) "
      "AND finished_at < $1 ORDER BY finished_at LIMIT $2",
      Params().Int(finished_before).Int(static_cast<int64_t>(std::min<size_t>(limit, INT64_MAX))));
}

Status PgCatalog::MarkPurged(int64_t seq, int64_t purged_at) {
  return Write([&](Conn& c) -> Status {
    SLUICE_RETURN_IF_ERROR(RequireStatus(c, seq, kLoadedOrSkipped, "purged"));
    return c
        .Query("UPDATE files SET purged_at = $1 WHERE seq = $2", Params().Int(purged_at).Int(seq))
        .status();
  });
}

Result<std::vector<std::pair<std::string, uint64_t>>> PgCatalog::StoredBytesByConnection() {
  std::vector<std::pair<std::string, uint64_t>> out;
  SLUICE_RETURN_IF_ERROR(Read([&](Conn& c) -> Status {
    // files_stored covers the files' sum; uploads in progress are few.
    SLUICE_ASSIGN_OR_RETURN(
        Rows rows,
        c.Query("SELECT connection_id, sum(bytes)::bigint FROM ("
                "SELECT connection_id, sum(size) AS bytes FROM files WHERE purged_at = 0 "
                "GROUP BY connection_id UNION ALL SELECT u.connection_id, sum(p.size) "
                "FROM upload_parts p JOIN uploads u USING (upload_id) GROUP BY u.connection_id"
                ") s GROUP BY connection_id HAVING sum(bytes) > 0 ORDER BY connection_id"));
    out.clear();
    for (int i = 0; i < rows.size(); ++i) {
      const PgRow r(rows, i);
      out.emplace_back(r.Text(0), static_cast<uint64_t>(r.Int(1)));
    }
    return Status::Ok();
  }));
  return out;
}

}  // namespace sluice::catalog
