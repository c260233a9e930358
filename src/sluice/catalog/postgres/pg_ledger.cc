// The PostgreSQL ledger: append with the per-table sequence rule, lookups, the per-table FIFO,
// status transitions and the write a load commits with (LoadedInPool).
#include <algorithm>
#include <unordered_set>
#include <variant>

#include "sluice/catalog/postgres/pg_catalog_internal.h"
#include "sluice/core/crash_point.h"
#include "sluice/core/utf8.h"

namespace sluice::catalog {
namespace {

using postgres::Conn;
using postgres::Params;
using postgres::Rows;

// Draws the next seq of a table: locks the table's counter row first (ON CONFLICT DO UPDATE
// evaluates its SET list after the row lock is granted), so that the uploads of one table draw
// their numbers in the order they commit. No number is spent before the lock: a table's first
// file inserts its row with 0 and, holding that row, draws with kFirstSeqSql.
constexpr const char* kTableSeqSql =
    "INSERT INTO table_counters AS t (connection_id, table_name, last_seq) VALUES ($1, $2, 0) "
    "ON CONFLICT (connection_id, table_name) DO UPDATE SET last_seq = nextval('files_seq') "
    "RETURNING t.last_seq";
constexpr const char* kFirstSeqSql =
    "UPDATE table_counters SET last_seq = nextval('files_seq') "
    "WHERE connection_id = $1 AND table_name = $2 RETURNING last_seq";

// The table's applied position moves up to $3 (never down).
constexpr const char* kAdvancePositionSql =
    "INSERT INTO table_positions AS p (connection_id, table_name, applied_seq) "
    "VALUES ($1, $2, $3) ON CONFLICT (connection_id, table_name) "
    "DO UPDATE SET applied_seq = greatest(p.applied_seq, excluded.applied_seq)";

// Landed ids NotInLedger asks about per statement.
constexpr size_t kLandedIdsPerQuery = 1000;

// `values` as a PostgreSQL array literal of text ({"a","b"}), for a text[] parameter.
std::string TextArray(std::span<const std::string> values) {
  std::string out = "{";
  for (const std::string& v : values) {
    if (out.size() > 1) out += ',';
    out += '"';
    for (char ch : v) {
      if (ch == '"' || ch == '\\') out += '\\';
      out += ch;
    }
    out += '"';
  }
  return out + "}";
}

}  // namespace

Result<std::vector<FileRecord>> PgCatalog::QueryFiles(const std::string& sql, const Params& p) {
  std::vector<FileRecord> out;
  SLUICE_RETURN_IF_ERROR(Read([&](Conn& c) -> Status {
    SLUICE_ASSIGN_OR_RETURN(Rows rows, c.Query(sql, p));
    SLUICE_ASSIGN_OR_RETURN(out, ReadAll(rows, FileFromRow<PgRow>));
    return Status::Ok();
  }));
  return out;
}

Result<std::optional<FileRecord>> PgCatalog::QueryFile(const std::string& sql, const Params& p) {
  SLUICE_ASSIGN_OR_RETURN(std::vector<FileRecord> files, QueryFiles(sql, p));
  if (files.empty()) return std::optional<FileRecord>();
  return std::optional<FileRecord>(std::move(files.front()));
}

Result<int64_t> PgCatalog::InsertFile(Conn& c, const FileRecord& r) {
  if (r.key.find('\0') != std::string::npos) {
    return Err(ErrorCode::kInvalidArgument, "catalog: a key with a NUL byte cannot be stored");
  }
  SLUICE_ASSIGN_OR_RETURN(bool exists, ConnectionExists(c, r.connection_id));
  if (!exists) return NoConnection(r.connection_id);
  // Last in the transaction but for the insert itself: the counter row stays locked until
  // commit, and other uploads of the table wait on it.
  const Params table = Params().Text(r.connection_id).Text(r.table);
  SLUICE_ASSIGN_OR_RETURN(Rows drawn,
                          c.Query(kTableSeqSql, table, "drawing the table's next sequence"));
  int64_t seq = PgRow(drawn, 0).Int(0);
  if (seq == 0) {
    SLUICE_ASSIGN_OR_RETURN(drawn,
                            c.Query(kFirstSeqSql, table, "drawing the table's first sequence"));
    seq = PgRow(drawn, 0).Int(0);
  }
  SLUICE_RETURN_IF_ERROR(
      c.Query("INSERT INTO files (seq, connection_id, table_name, key, landed_id, size, "
              "md5_hex, sha256_hex, content_type, metadata_json, received_at, started_at, "
              "finished_at, status, rows_inserted, rows_updated, rows_refused, error_code, "
              "error_message, etag, rows_deleted, checksums_json, duplicate_of) VALUES ($1, $2, "
              "$3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, "
              "$20, $21, $22, $23)",
              Params()
                  .Int(seq)
                  .Text(r.connection_id)
                  .Text(r.table)
                  .Text(r.key)
                  .Text(r.landed_id)
                  .Int(static_cast<int64_t>(r.size))
                  .Text(r.md5_hex)
                  .Text(r.sha256_hex)
                  .Text(r.content_type)
                  .Text(r.metadata_json)
                  .Int(r.received_at)
                  .Int(r.started_at)
                  .Int(r.finished_at)
                  .Text(FileStatusName(r.status))
                  .Int(r.rows_inserted)
                  .Int(r.rows_updated)
                  .Int(r.rows_refused)
                  .Text(r.error_code)
                  .Text(r.error_message)
                  .Text(r.etag)
                  .Int(r.rows_deleted)
                  .Text(r.checksums_json.empty() ? std::string("{}") : r.checksums_json)
                  .Int(r.duplicate_of),
              "appending to the ledger")
          .status());
  if (!r.condition.empty()) {
    // The counter row this append locked is held until commit, so every append of the table
    // that drew a lower sequence has committed and is seen here (read committed).
    SLUICE_ASSIGN_OR_RETURN(Rows before,
                            c.Query(SLUICE_PREVIOUS_FILE_SQL("$1", "$2", "$3"),
                                    Params().Text(r.connection_id).Text(r.key).Int(seq)));
    std::optional<FileRecord> previous;
    if (before.size() > 0) {
      SLUICE_ASSIGN_OR_RETURN(previous, FileFromRow(PgRow(before, 0)));
    }
    SLUICE_RETURN_IF_ERROR(CheckWriteCondition(r.condition, r.key, std::move(previous)));
  }
  return seq;
}

Result<int64_t> PgCatalog::AppendFile(FileRecord r) {
  SLUICE_RETURN_IF_ERROR(ValidateFileRecord(r));
  if (r.received_at == 0) r.received_at = clock_.NowMicros();
  int64_t seq = 0;
  SLUICE_RETURN_IF_ERROR(Write([&](Conn& c) -> Status {
    SLUICE_ASSIGN_OR_RETURN(seq, InsertFile(c, r));
    return Status::Ok();
  }));
  CrashPoint("ledger.after_append");
  return seq;
}

Result<std::optional<FileRecord>> PgCatalog::GetFile(int64_t seq) {
  return QueryFile(SLUICE_FILE_COLUMNS "WHERE seq = $1", Params().Int(seq));
}

Result<std::optional<FileRecord>> PgCatalog::LatestFileForKey(const std::string& connection_id,
                                                              const std::string& key) {
  return QueryFile(SLUICE_FILE_COLUMNS
                   "WHERE connection_id = $1 AND key = $2 ORDER BY seq DESC LIMIT 1",
                   Params().Text(connection_id).Text(key));
}

Result<std::vector<FileRecord>> PgCatalog::ListFiles(const std::string& connection_id,
                                                     const std::string& table) {
  std::vector<FileRecord> out;
  SLUICE_RETURN_IF_ERROR(Read([&](Conn& c) -> Status {
    SLUICE_ASSIGN_OR_RETURN(bool exists, ConnectionExists(c, connection_id));
    if (!exists) return NoConnection(connection_id);
    SLUICE_ASSIGN_OR_RETURN(Rows rows,
                            c.Query(SLUICE_FILE_COLUMNS "WHERE connection_id = $1 AND ($2 = '' OR "
                                                        "table_name = $2) ORDER BY seq",
                                    Params().Text(connection_id).Text(table)));
    SLUICE_ASSIGN_OR_RETURN(out, ReadAll(rows, FileFromRow<PgRow>));
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<ErrorGroup>> PgCatalog::OpenErrors(const std::string& connection_id) {
  std::vector<ErrorGroup> out;
  SLUICE_RETURN_IF_ERROR(Read([&](Conn& c) -> Status {
    SLUICE_ASSIGN_OR_RETURN(bool exists, ConnectionExists(c, connection_id));
    if (!exists) return NoConnection(connection_id);
    SLUICE_ASSIGN_OR_RETURN(Rows rows, c.Query(kOpenErrorsSql, Params().Text(connection_id)));
    SLUICE_ASSIGN_OR_RETURN(out, ReadAll(rows, ErrorGroupFromRow<PgRow>));
    return Status::Ok();
  }));
  return out;
}

Result<FilePage> PgCatalog::ListFilesPage(const std::string& connection_id,
                                          const FileFilter& filter, size_t limit) {
  FilePage page;
  SLUICE_RETURN_IF_ERROR(Read([&](Conn& c) -> Status {
    SLUICE_ASSIGN_OR_RETURN(bool exists, ConnectionExists(c, connection_id));
    if (!exists) return NoConnection(connection_id);
    auto query = [&c](const char* sql, std::span<const SqlValue> values) {
      Params params;
      for (const SqlValue& v : values) {
        if (const int64_t* n = std::get_if<int64_t>(&v)) {
          params.Int(*n);
        } else {
          params.Text(std::get<std::string>(v));
        }
      }
      return c.Query(sql, params, "listing the ledger");
    };
    auto files = [&](const char* sql,
                     std::span<const SqlValue> values) -> Result<std::vector<FileRecord>> {
      SLUICE_ASSIGN_OR_RETURN(Rows rows, query(sql, values));
      return ReadAll(rows, FileFromRow<PgRow>);
    };
    auto window = [&](const char* sql, std::span<const SqlValue> values) -> Result<FileWindow> {
      SLUICE_ASSIGN_OR_RETURN(Rows rows, query(sql, values));
      if (rows.size() == 0) return FileWindow();
      const PgRow w(rows, 0);
      return FileWindow{.lowest = w.Int(0), .highest = w.Int(1), .entries = w.Int(2)};
    };
    const FilesPageRunner run{.files = files, .window = window};
    SLUICE_ASSIGN_OR_RETURN(page, ReadFilesPage(kPgFilesPage, run, connection_id, filter, limit));
    return Status::Ok();
  }));
  return page;
}

Result<std::vector<TableKey>> PgCatalog::TablesWithWork() {
  std::vector<TableKey> out;
  SLUICE_RETURN_IF_ERROR(Read([&](Conn& c) -> Status {
    SLUICE_ASSIGN_OR_RETURN(
        Rows rows, c.Query("SELECT DISTINCT connection_id, table_name FROM files WHERE status "
                           "IN ('queued', 'loading') ORDER BY connection_id, table_name"));
    out.clear();
    for (int i = 0; i < rows.size(); ++i) {
      out.push_back(TableKey{std::string(rows.Text(i, 0)), std::string(rows.Text(i, 1))});
    }
    return Status::Ok();
  }));
  return out;
}

Result<std::optional<FileRecord>> PgCatalog::HeadOfQueue(const TableKey& table) {
  // The condition repeats files_pending's WHERE, so that the partial index applies.
  return QueryFile(SLUICE_FILE_COLUMNS
                   "WHERE connection_id = $1 AND table_name = $2 AND (status IN ('queued', "
                   "'loading') OR (status = 'failed' AND passed = 0)) ORDER BY seq LIMIT 1",
                   Params().Text(table.connection_id).Text(table.table));
}

Status PgCatalog::RequireStatus(Conn& c, int64_t seq, std::span<const FileStatus> allowed,
                                std::string_view action) {
  SLUICE_ASSIGN_OR_RETURN(
      Rows rows, c.Query("SELECT status FROM files WHERE seq = $1 FOR UPDATE", Params().Int(seq)));
  if (rows.size() == 0) return NoFile(seq);
  SLUICE_ASSIGN_OR_RETURN(FileStatus status, FileStatusFromName(PgRow(rows, 0).Text(0)));
  return CheckStatus(seq, status, allowed, action);
}

Status PgCatalog::RequireBytes(Conn& c, int64_t seq, std::string_view action) {
  SLUICE_ASSIGN_OR_RETURN(
      Rows rows, c.Query("SELECT purged_at, key FROM files WHERE seq = $1", Params().Int(seq)));
  if (rows.size() == 0) return NoFile(seq);
  const PgRow row(rows, 0);
  return row.Int(0) == 0 ? Status::Ok() : PurgedError(seq, row.Text(1), row.Int(0), action);
}

Status PgCatalog::MarkLoading(int64_t seq) {
  // Durable (catalog.h): the attempt is committed before the loader reads a byte.
  return Write([&](Conn& c) -> Status {
    SLUICE_RETURN_IF_ERROR(RequireStatus(c, seq, kQueuedOrLoading, "marked loading"));
    return c
        .Query(
            "UPDATE files SET status = 'loading', started_at = $1, finished_at = 0, "
            "load_attempts = load_attempts + 1 WHERE seq = $2",
            Params().Int(clock_.NowMicros()).Int(seq))
        .status();
  });
}

Status PgCatalog::AbandonLoading(int64_t seq) {
  return Write([&](Conn& c) -> Status {
    SLUICE_RETURN_IF_ERROR(RequireStatus(c, seq, kLoadingOnly, "abandoned"));
    return c
        .Query(
            "UPDATE files SET load_attempts = greatest(load_attempts - 1, 0) "
            "WHERE seq = $1",
            Params().Int(seq))
        .status();
  });
}

Status PgCatalog::MarkLoaded(int64_t seq, const LoadCounts& counts, int64_t finished_at) {
  return Write([&](Conn& c) -> Status {
    // A queued file may be marked loaded directly by crash reconciliation (the pool already
    // holds its sequence).
    SLUICE_RETURN_IF_ERROR(RequireStatus(c, seq, kQueuedOrLoading, "marked loaded"));
    SLUICE_ASSIGN_OR_RETURN(Rows rows,
                            c.Query("UPDATE files SET status = 'loaded', rows_inserted = $1, "
                                    "rows_updated = $2, rows_refused = $3, rows_deleted = $4, "
                                    "finished_at = $5, error_code = '', error_message = '' "
                                    "WHERE seq = $6 RETURNING connection_id, table_name",
                                    Params()
                                        .Int(counts.inserted)
                                        .Int(counts.updated)
                                        .Int(counts.refused)
                                        .Int(counts.deleted)
                                        .Int(finished_at)
                                        .Int(seq)));
    const PgRow file(rows, 0);
    SLUICE_RETURN_IF_ERROR(
        c.Query(kAdvancePositionSql, Params().Text(file.Text(0)).Text(file.Text(1)).Int(seq))
            .status());
    PgSharedSql alerts(c, box_);
    return FileLoadedEvent(alerts, seq, counts, finished_at);
  });
}

Ledger::InPoolWrite PgCatalog::LoadedInPool(int64_t seq, int64_t finished_at) {
  // Captures values only: the pool may run it after this catalog is gone. On the pool's
  // connection, whose search_path is the pool's: every name is qualified. It raises unless it
  // set the file loaded (it is not, when another node finished it) and moved its table's
  // position (it does not, when the position is at or past the file): refuse() raises
  // unique_violation, so a second applier fails with kAlreadyExists, the code the PostgreSQL
  // pool's own guard (_sluice.applied) gives it (sluice has no separate "aborted" code).
  return [seq, finished_at](std::string_view counts) {
    const std::string n = std::to_string(seq);
    return "WITH c AS (SELECT * FROM " + std::string(counts) +
           " AS counts), f AS (UPDATE _sluice_catalog.files SET status = 'loaded', "
           "rows_inserted = c.inserted, rows_updated = c.updated, rows_refused = c.refused, "
           "rows_deleted = c.deleted, finished_at = " +
           std::to_string(finished_at) +
           ", error_code = '', error_message = '' FROM c WHERE seq = " + n +
           " AND status = 'loading' RETURNING connection_id, table_name, key, size), "
           "p AS (INSERT INTO _sluice_catalog.table_positions AS t (connection_id, table_name, "
           "applied_seq) SELECT connection_id, table_name, " +
           n +
           " FROM f ON CONFLICT (connection_id, table_name) DO UPDATE SET applied_seq = "
           "excluded.applied_seq WHERE t.applied_seq < excluded.applied_seq RETURNING 1), "
           "a AS (" +
           PgLoadedInPoolEventSql(seq, finished_at) +
           "), "
           "n AS (SELECT pg_notify('sluice_ledger', '')) "
           "SELECT CASE WHEN (SELECT count(*) FROM f) <> 1 THEN _sluice_catalog.refuse('file " +
           n +
           " is no longer loading: another node finished it') WHEN (SELECT count(*) FROM p) <> 1 "
           "THEN _sluice_catalog.refuse('file " +
           n +
           " is at or behind its table''s applied position: another node applied a later file "
           "of the table') ELSE (SELECT count(*) FROM n) = 1 END";
  };
}

Status PgCatalog::MarkFailed(int64_t seq, const Status& error) {
  if (error.ok()) return NotOkFailure(seq);
  return Write([&](Conn& c) -> Status {
    SLUICE_RETURN_IF_ERROR(RequireStatus(c, seq, kQueuedOrLoading, "marked failed"));
    const int64_t now = clock_.NowMicros();
    SLUICE_RETURN_IF_ERROR(
        c.Query("UPDATE files SET status = 'failed', error_code = $1, error_message = $2, "
                "finished_at = $3 WHERE seq = $4",
                Params()
                    .Text(ErrorCodeName(error.code()))
                    // A message may quote the file's bytes (a column name): text PostgreSQL
                    // takes.
                    .Text(ToValidUtf8(error.message()))
                    .Int(now)
                    .Int(seq))
            .status());
    PgSharedSql alerts(c, box_);
    return FileFailedEvents(alerts, seq, error, now);
  });
}

Result<LoaderState> PgCatalog::OperatorLoaderState(int64_t seq, LoaderState loader,
                                                   std::unique_ptr<TableClaim>* hold) {
  if (loader != LoaderState::kStopped) return loader;
  SLUICE_ASSIGN_OR_RETURN(std::optional<FileRecord> file, GetFile(seq));
  if (!file || file->status != FileStatus::kLoading) return loader;  // the claim is moot
  SLUICE_ASSIGN_OR_RETURN(*hold, ClaimTable(TableKey{file->connection_id, file->table}));
  // Claimed: no node's loader holds the table, so nobody is loading the file.
  return *hold != nullptr ? LoaderState::kStopped : LoaderState::kMayBeRunning;
}

Status PgCatalog::OperatorWrite(int64_t seq, LoaderState loader, bool forced,
                                std::string_view action, const std::string& set_sql) {
  std::unique_ptr<TableClaim> claim;
  SLUICE_ASSIGN_OR_RETURN(LoaderState state, OperatorLoaderState(seq, loader, &claim));
  return Write([&](Conn& c) -> Status {
    SLUICE_RETURN_IF_ERROR(RequireStatus(c, seq, OperatorStatuses(state, forced), action));
    const bool requeue = set_sql.starts_with("status = 'queued'");
    PgSharedSql alerts(c, box_);
    SLUICE_RETURN_IF_ERROR(
        UnblockedEvent(alerts, seq, requeue ? "retry" : "skip", clock_.NowMicros()));
    if (requeue) {
      SLUICE_RETURN_IF_ERROR(RequireBytes(c, seq, action));
      // Back in its table's queue: under the queue's lock, so that a RemoveTable of the table
      // either counts the file or commits first (pg_catalog_internal.h).
      SLUICE_RETURN_IF_ERROR(
          c.Query(kPgLockQueueOfFileSql, Params().Int(seq), "locking the table's queue").status());
    }
    return c
        .Query("UPDATE files SET " + set_sql + " WHERE seq = $1",
               requeue ? Params().Int(seq)
                       : Params().Int(seq).Text(kSkippedWhileLoading).Int(clock_.NowMicros()))
        .status();
  });
}

Status PgCatalog::Retry(int64_t seq, LoaderState loader) {
  return OperatorWrite(seq, loader, false, "retried", std::string(kRequeue));
}

Status PgCatalog::Skip(int64_t seq, LoaderState loader) {
  // The error stays: it says why the operator skipped the file. A `loading` file has none:
  // it says that it was skipped unfinished.
  return OperatorWrite(seq, loader, false, "skipped",
                       "error_message = CASE WHEN status = 'loading' THEN $2 ELSE "
                       "error_message END, status = 'skipped', finished_at = $3");
}

Status PgCatalog::RetryForced(int64_t seq, LoaderState loader) {
  return OperatorWrite(seq, loader, true, "retried with --force",
                       std::string(kRequeue) + ", forced = 1, duplicate_of = 0");
}

Status PgCatalog::MovePast(int64_t seq) {
  return Write([&](Conn& c) -> Status {
    SLUICE_RETURN_IF_ERROR(RequireStatus(c, seq, kFailedOnly, "moved past"));
    PgSharedSql alerts(c, box_);
    SLUICE_RETURN_IF_ERROR(UnblockedEvent(alerts, seq, "move past", clock_.NowMicros()));
    return c.Query("UPDATE files SET passed = 1 WHERE seq = $1", Params().Int(seq)).status();
  });
}

Result<std::optional<FileRecord>> PgCatalog::FindLoadedDuplicate(const FileRecord& file) {
  // As in the SQLite ledger: a walk of files_by_content; a multipart object matches only other
  // multipart objects (empty MD5) of its size, then by ETag.
  if (file.md5_hex.empty() && file.etag.empty()) return std::optional<FileRecord>();
  return QueryFile(SLUICE_FILE_COLUMNS
                   "WHERE connection_id = $1 AND table_name = $2 AND md5_hex = $3 AND "
                   "size = $4 AND status = 'loaded' AND seq != $5 AND (md5_hex != '' OR "
                   "etag = $6) ORDER BY seq DESC LIMIT 1",
                   Params()
                       .Text(file.connection_id)
                       .Text(file.table)
                       .Text(file.md5_hex)
                       .Int(static_cast<int64_t>(file.size))
                       .Int(file.seq)
                       .Text(file.etag));
}

Status PgCatalog::MarkDuplicate(int64_t seq, int64_t original_seq, const std::string& message) {
  return Write([&](Conn& c) -> Status {
    SLUICE_RETURN_IF_ERROR(RequireStatus(c, seq, kQueuedOrLoading, "marked a duplicate"));
    return c
        .Query(
            "UPDATE files SET status = 'skipped', duplicate_of = $1, error_code = '', "
            "error_message = $2, finished_at = $3 WHERE seq = $4",
            Params().Int(original_seq).Text(ToValidUtf8(message)).Int(clock_.NowMicros()).Int(seq))
        .status();
  });
}

Result<std::vector<FileRecord>> PgCatalog::UnfinishedFiles() {
  return QueryFiles(SLUICE_FILE_COLUMNS "WHERE status IN ('queued', 'loading') ORDER BY seq", {});
}

Result<std::vector<std::string>> PgCatalog::NotInLedger(std::vector<std::string> landed_ids) {
  // Unlike the SQLite ledger's one pass over every landed id, a batch of ids at a time is
  // looked up in files_by_landed: the result set stays the size of the batch.
  std::sort(landed_ids.begin(), landed_ids.end());
  landed_ids.erase(std::unique(landed_ids.begin(), landed_ids.end()), landed_ids.end());
  std::vector<std::string> out;
  for (size_t at = 0; at < landed_ids.size(); at += kLandedIdsPerQuery) {
    const std::span<const std::string> batch(landed_ids.data() + at,
                                             std::min(kLandedIdsPerQuery, landed_ids.size() - at));
    SLUICE_RETURN_IF_ERROR(Read([&](Conn& c) -> Status {
      SLUICE_ASSIGN_OR_RETURN(Rows rows,
                              c.Query("SELECT id FROM unnest($1::text[]) AS id WHERE NOT EXISTS "
                                      "(SELECT 1 FROM files WHERE landed_id = id)",
                                      Params().Text(TextArray(batch)), "looking up landed ids"));
      for (int i = 0; i < rows.size(); ++i) out.emplace_back(rows.Text(i, 0));
      return Status::Ok();
    }));
  }
  return out;
}

}  // namespace sluice::catalog
