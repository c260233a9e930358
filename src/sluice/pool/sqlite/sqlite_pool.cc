// The SQLite pool: one writer connection (serialised by a mutex that a LoadTransaction holds
// for its lifetime) and one read connection for FindApplied, SchemaHistory and Query. In WAL
// mode the reader sees the last committed state while a load is running. The load itself is
// in sqlite_load.cc.

#include <charconv>
#include <cmath>
#include <limits>
#include <mutex>
#include <string>
#include <vector>

#include "sluice/core/mutex.h"
#include "sluice/pool/pool.h"
#include "sluice/pool/sqlite/sqlite_load_internal.h"
#include "sluice/pool/sqlite/sqlite_nested_internal.h"
#include "sluice/pool/sqlite/type_map_internal.h"

namespace sluice::pool {
namespace sqlite {
namespace {

// Rows a Query may return: the result is materialised as strings for the CLI, so an
// unbounded SELECT on a large table must fail with advice instead of exhausting memory.
constexpr size_t kMaxQueryRows = 1'000'000;

constexpr const char* kMetaSchema =
    "CREATE TABLE IF NOT EXISTS _sluice_applied("
    "seq INTEGER PRIMARY KEY, table_name TEXT NOT NULL, inserted INTEGER NOT NULL, "
    "updated INTEGER NOT NULL, refused INTEGER NOT NULL, applied_at INTEGER NOT NULL, "
    "deleted INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS _sluice_columns("
    "table_name TEXT NOT NULL, column_name TEXT NOT NULL, position INTEGER NOT NULL, "
    "type_name TEXT NOT NULL, type_key TEXT NOT NULL, declared_type TEXT NOT NULL, "
    "pk_position INTEGER, PRIMARY KEY(table_name, column_name)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS _sluice_schema_history("
    "id INTEGER PRIMARY KEY, table_name TEXT NOT NULL, seq INTEGER NOT NULL, "
    "changed_at INTEGER NOT NULL, kind TEXT NOT NULL, column_name TEXT NOT NULL, "
    "old_type TEXT NOT NULL, new_type TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS _sluice_schema_history_by_table "
    "ON _sluice_schema_history(table_name, id);"
    "CREATE TABLE IF NOT EXISTS _sluice_applied_tables("
    "seq INTEGER NOT NULL, position INTEGER NOT NULL, table_name TEXT NOT NULL, "
    "inserted INTEGER NOT NULL, updated INTEGER NOT NULL, refused INTEGER NOT NULL, "
    "deleted INTEGER NOT NULL, PRIMARY KEY(seq, position)) WITHOUT ROWID;";

// How long a pool statement waits for a lock another connection holds: the writer's
// transaction spans a whole file's load, so a second process's writer (or a checkpoint) may
// hold the lock far longer than the catalog's short transactions (sqlite.h).
constexpr int kBusyTimeoutMs = 30'000;

// How a connection's commits reach the disk (PRAGMA synchronous, WAL mode).
enum class Sync {
  kNormal,  // WAL synced at checkpoints only: a power loss may lose the last commits
  kFull,    // WAL synced at every commit: a commit that returned survives a power loss
};

// Opens (creating if needed) `path` with the pool's pragmas: WAL, `sync`, a page cache of at
// most `cache_kib` KiB (allocated as pages are touched), temp_store=MEMORY, no foreign keys.
Result<std::unique_ptr<Db>> OpenPoolDb(const std::string& path, Sync sync, int cache_kib) {
  return Db::Open(path, {.label = "pool",
                         // NORMAL in WAL mode can lose the last commits on power loss but never
                         // corrupts. The writer needs FULL: the loader records a file as loaded
                         // right after the pool commit, and the ledger must never call loaded what
                         // the pool lost (docs/design/pool.md, "Durability").
                         .pragmas = std::string("PRAGMA journal_mode=WAL;") +
                                    (sync == Sync::kFull ? "PRAGMA synchronous=FULL;"
                                                         : "PRAGMA synchronous=NORMAL;") +
                                    "PRAGMA temp_store=MEMORY;"
                                    "PRAGMA foreign_keys=OFF;"
                                    "PRAGMA cache_size=-" +
                                    std::to_string(cache_kib),
                         .busy_timeout_ms = kBusyTimeoutMs});
}

// The checks BeginLoad makes of one table's spec.
Status CheckTableSpec(const TableSpec& table) {
  if (table.name.empty()) return Err(ErrorCode::kInvalidArgument, "table name is empty");
  if (AsciiLowered(table.name).rfind("_sluice_", 0) == 0 ||
      AsciiLowered(table.name).rfind("sqlite_", 0) == 0) {
    return Err(ErrorCode::kInvalidArgument, "table name '" + table.name + "' is reserved");
  }
  if (table.primary_key.empty()) {
    return Err(ErrorCode::kInvalidArgument, "table '" + table.name + "' has no primary key");
  }
  if (!table.delete_column.empty()) {
    const std::string d = AsciiLowered(table.delete_column);
    bool control_is_data = !table.age_column.empty() && AsciiLowered(table.age_column) == d;
    for (const std::string& k : table.primary_key) control_is_data |= AsciiLowered(k) == d;
    if (control_is_data) {
      return Err(ErrorCode::kInvalidArgument,
                 "table '" + table.name + "': delete column '" + table.delete_column +
                     "' is also a key or the age column; it must be a column of its own");
    }
  }
  return Status::Ok();
}

// Pools created before deletes existed lack _sluice_applied.deleted.
Status UpgradeMetaSchema(Db& db) {
  SLUICE_ASSIGN_OR_RETURN(
      Statement q,
      db.Prepare("SELECT 1 FROM pragma_table_info('_sluice_applied') WHERE name = 'deleted'"));
  int rc = sqlite3_step(q.get());
  if (rc == SQLITE_ROW) return Status::Ok();
  if (rc != SQLITE_DONE) return db.Error(rc, "reading the pool metadata");
  return db.Exec("ALTER TABLE _sluice_applied ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0");
}

std::string Hex(const void* data, int size) {
  static constexpr char kHex[] = "0123456789abcdef";
  const auto* p = static_cast<const unsigned char*>(data);
  std::string out;
  out.reserve(static_cast<size_t>(size) * 2);
  for (int i = 0; i < size; ++i) {
    out.push_back(kHex[p[i] >> 4]);
    out.push_back(kHex[p[i] & 15]);
  }
  return out;
}

std::string FormatReal(double v, const char* declared) {
  int scale = declared != nullptr ? DeclaredDecimalScale(declared) : -1;
  if (scale > 0 && scale <= 15 &&
      std::fabs(v) * std::pow(10.0, scale) < static_cast<double>(kMaxExactRealUnscaled) + 0.5) {
    // The value was bound as the double nearest to a decimal of <= 15 digits; printing it
    // with the column's scale recovers that decimal exactly, trailing zeros included.
    char buf[64];
    int n = std::snprintf(buf, sizeof(buf), "%.*f", scale, v);
    return std::string(buf, static_cast<size_t>(n));
  }
  char buf[64];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof(buf), v);  // shortest round-trip
  return std::string(buf, ptr);
}

// NUMERIC affinity stores a REAL without a fraction as INTEGER (100.00 becomes 100): a
// decimal column still prints with its scale.
std::string FormatInteger(int64_t v, const char* declared) {
  std::string out = std::to_string(v);
  int scale = declared != nullptr ? DeclaredDecimalScale(declared) : -1;
  if (scale > 0) {
    out.push_back('.');
    out.append(static_cast<size_t>(scale), '0');
  }
  return out;
}

class SqlitePool final : public Pool {
 public:
  SqlitePool(std::unique_ptr<Db> writer, std::unique_ptr<Db> reader, const Clock& clock)
      : writer_(std::move(writer)), reader_(std::move(reader)), clock_(clock) {}

  Result<std::unique_ptr<LoadTransaction>> BeginLoad(const TableSpec& table, int64_t seq) override {
    SLUICE_RETURN_IF_ERROR(CheckTableSpec(table));
    std::unique_lock<std::mutex> lock(writer_mutex_);
    WriteTransaction txn(*writer_);
    SLUICE_RETURN_IF_ERROR(txn.Begin());
    auto load = NewLoad(writer_.get(), std::move(lock), std::move(txn), table, seq, clock_);
    // From here the load owns the transaction: returning drops it and rolls back.
    SLUICE_RETURN_IF_ERROR(CheckNotApplied(seq));
    return load;
  }

  Result<std::unique_ptr<NestedLoadTransaction>> BeginNestedLoad(const NestedSpec& spec,
                                                                 int64_t seq) override {
    SLUICE_RETURN_IF_ERROR(CheckNestedSpec(spec));
    for (const DerivedTableSpec& d : spec.tables) SLUICE_RETURN_IF_ERROR(CheckTableSpec(d.table));
    std::unique_lock<std::mutex> lock(writer_mutex_);
    WriteTransaction txn(*writer_);
    SLUICE_RETURN_IF_ERROR(txn.Begin());
    auto load = NewNestedLoad(writer_.get(), std::move(lock), std::move(txn), spec, seq, clock_);
    SLUICE_RETURN_IF_ERROR(CheckNotApplied(seq));
    return load;
  }

  Result<std::optional<AppliedFile>> FindApplied(int64_t seq) override {
    MutexLock lock(&reader_mutex_);
    SLUICE_ASSIGN_OR_RETURN(Statement q,
                            reader_->Prepare("SELECT table_name, inserted, updated, refused, "
                                             "applied_at, deleted FROM _sluice_applied WHERE "
                                             "seq = ?"));
    sqlite3_bind_int64(q.get(), 1, seq);
    int rc = sqlite3_step(q.get());
    if (rc == SQLITE_DONE) return std::optional<AppliedFile>();
    if (rc != SQLITE_ROW) return reader_->Error(rc, "reading applied files");
    AppliedFile f;
    f.seq = seq;
    f.table = reinterpret_cast<const char*>(sqlite3_column_text(q.get(), 0));
    f.counts.inserted = sqlite3_column_int64(q.get(), 1);
    f.counts.updated = sqlite3_column_int64(q.get(), 2);
    f.counts.refused = sqlite3_column_int64(q.get(), 3);
    f.applied_at = sqlite3_column_int64(q.get(), 4);
    f.counts.deleted = sqlite3_column_int64(q.get(), 5);
    SLUICE_ASSIGN_OR_RETURN(
        Statement t, reader_->Prepare("SELECT table_name, inserted, updated, refused, deleted "
                                      "FROM _sluice_applied_tables WHERE seq = ? ORDER BY "
                                      "position"));
    sqlite3_bind_int64(t.get(), 1, seq);
    while ((rc = sqlite3_step(t.get())) == SQLITE_ROW) {
      TableCounts& c = f.tables.emplace_back();
      c.table = reinterpret_cast<const char*>(sqlite3_column_text(t.get(), 0));
      c.counts.inserted = sqlite3_column_int64(t.get(), 1);
      c.counts.updated = sqlite3_column_int64(t.get(), 2);
      c.counts.refused = sqlite3_column_int64(t.get(), 3);
      c.counts.deleted = sqlite3_column_int64(t.get(), 4);
    }
    if (rc != SQLITE_DONE) return reader_->Error(rc, "reading applied tables");
    return std::optional<AppliedFile>(std::move(f));
  }

  Result<std::vector<SchemaChange>> SchemaHistory(const std::string& table) override {
    MutexLock lock(&reader_mutex_);
    SLUICE_ASSIGN_OR_RETURN(
        Statement q, reader_->Prepare("SELECT seq, changed_at, kind, column_name, old_type, "
                                      "new_type FROM _sluice_schema_history WHERE table_name = ? "
                                      "ORDER BY id"));
    sqlite3_bind_text(q.get(), 1, table.c_str(), -1, SQLITE_STATIC);
    std::vector<SchemaChange> out;
    auto text = [&](int i) {
      return std::string(reinterpret_cast<const char*>(sqlite3_column_text(q.get(), i)));
    };
    int rc;
    while ((rc = sqlite3_step(q.get())) == SQLITE_ROW) {
      SchemaChange& c = out.emplace_back();
      c.table = table;
      c.seq = sqlite3_column_int64(q.get(), 0);
      c.changed_at = sqlite3_column_int64(q.get(), 1);
      const std::string kind = text(2);
      c.kind = kind == "add"     ? SchemaChangeKind::kAdd
               : kind == "widen" ? SchemaChangeKind::kWiden
                                 : SchemaChangeKind::kCreate;
      c.column = text(3);
      c.old_type = text(4);
      c.new_type = text(5);
    }
    if (rc != SQLITE_DONE) return reader_->Error(rc, "reading the schema history");
    return out;
  }

  Result<QueryResult> Query(const std::string& sql) override {
    MutexLock lock(&reader_mutex_);
    SLUICE_ASSIGN_OR_RETURN(Statement q, reader_->Prepare(sql));
    sqlite3_stmt* s = q.get();
    QueryResult out;
    int n = sqlite3_column_count(s);
    for (int i = 0; i < n; ++i) {
      const char* name = sqlite3_column_name(s, i);
      out.columns.emplace_back(name != nullptr ? name : "");
    }
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      if (out.rows.size() == kMaxQueryRows) {
        return Err(
            ErrorCode::kInvalidArgument,
            "the query returns more than " + std::to_string(kMaxQueryRows) + " rows; add a LIMIT");
      }
      std::vector<std::optional<std::string>>& row = out.rows.emplace_back();
      row.reserve(static_cast<size_t>(n));
      for (int i = 0; i < n; ++i) {
        switch (sqlite3_column_type(s, i)) {
          case SQLITE_NULL:
            row.emplace_back();
            break;
          case SQLITE_INTEGER:
            row.emplace_back(
                FormatInteger(sqlite3_column_int64(s, i), sqlite3_column_decltype(s, i)));
            break;
          case SQLITE_FLOAT:
            row.emplace_back(
                FormatReal(sqlite3_column_double(s, i), sqlite3_column_decltype(s, i)));
            break;
          case SQLITE_BLOB: {
            const void* data = sqlite3_column_blob(s, i);
            row.emplace_back(Hex(data, sqlite3_column_bytes(s, i)));
            break;
          }
          default: {
            const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
            row.emplace_back(std::string(text, static_cast<size_t>(sqlite3_column_bytes(s, i))));
            break;
          }
        }
      }
    }
    if (rc != SQLITE_DONE) return reader_->Error(rc, "running the query");
    return out;
  }

 private:
  // In the open writer transaction: kAlreadyExists when the pool holds file `seq`.
  Status CheckNotApplied(int64_t seq) {
    SLUICE_ASSIGN_OR_RETURN(Statement q,
                            writer_->Prepare("SELECT 1 FROM _sluice_applied WHERE seq = ?"));
    sqlite3_bind_int64(q.get(), 1, seq);
    int rc = sqlite3_step(q.get());
    if (rc == SQLITE_ROW) {
      return Err(ErrorCode::kAlreadyExists,
                 "file seq " + std::to_string(seq) + " is already applied to the pool");
    }
    if (rc != SQLITE_DONE) return writer_->Error(rc, "checking applied files");
    return Status::Ok();
  }

  // Held by the open LoadTransaction: BeginLoad moves its lock into the transaction, which
  // releases it when it ends. A lock handed between objects is beyond the static analysis
  // (core/thread_annotations.h), so this one stays a plain std::mutex, unannotated.
  std::mutex writer_mutex_;
  std::unique_ptr<Db> writer_;
  Mutex reader_mutex_;
  std::unique_ptr<Db> reader_ GUARDED_BY(reader_mutex_);
  const Clock& clock_;
};

}  // namespace
}  // namespace sqlite

// Page caches, in KiB. The writer's is the tuned ceiling's of PERFORMANCE.md (1 GiB): a bulk
// upsert into a large table spills pages to the WAL early with less (256 MiB cost ~24 % on a
// 5M-row load). SQLite allocates pages as they are touched, so a small pool uses little. The
// reader serves the CLI's and admin's queries.
constexpr int kWriterCacheKiB = 1024 * 1024;
constexpr int kReaderCacheKiB = 64 * 1024;

Result<std::unique_ptr<Pool>> OpenSqlitePool(const std::string& path, const Clock& clock) {
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<::sluice::sqlite::Db> writer,
                          sqlite::OpenPoolDb(path, sqlite::Sync::kFull, kWriterCacheKiB));
  SLUICE_RETURN_IF_ERROR(writer->Exec(sqlite::kMetaSchema).WithContext("creating pool metadata"));
  SLUICE_RETURN_IF_ERROR(sqlite::UpgradeMetaSchema(*writer).WithContext("upgrading pool metadata"));
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<::sluice::sqlite::Db> reader,
                          sqlite::OpenPoolDb(path, sqlite::Sync::kNormal, kReaderCacheKiB));
  return std::unique_ptr<Pool>(
      std::make_unique<sqlite::SqlitePool>(std::move(writer), std::move(reader), clock));
}

}  // namespace sluice::pool
