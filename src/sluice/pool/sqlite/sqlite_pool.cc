// The SQLite pool: one database file per schema (docs/design/pool.md, "Namespaces"), each
// with one writer connection (serialised by a mutex that a LoadTransaction holds for its
// lifetime) and one read connection for FindApplied and SchemaHistory, and one query
// connection that attaches the schemas a statement reads (Query, and ReadQuery's untrusted
// statements under an authorizer and a deadline). In WAL mode the readers see the last
// committed state while a load is running. The load itself is in sqlite_load.cc.

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <memory>
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

// Page caches, in KiB, per schema. The writer's is the tuned ceiling's of PERFORMANCE.md
// (1 GiB): a bulk upsert into a large table spills pages to the WAL early with less (256 MiB
// cost ~24 % on a 5M-row load). SQLite allocates pages as they are touched, so a small schema
// uses little. The readers serve the loader's checks and the CLI's and admin's queries.
constexpr int kWriterCacheKiB = 1024 * 1024;
constexpr int kReaderCacheKiB = 64 * 1024;

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

// Whether `db` holds the pool metadata (created in one transaction by the first writer).
Result<bool> HasMetadata(Db& db) {
  SLUICE_ASSIGN_OR_RETURN(
      Statement q,
      db.Prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sluice_applied'"));
  int rc = sqlite3_step(q.get());
  if (rc == SQLITE_ROW) return true;
  if (rc != SQLITE_DONE) return db.Error(rc, "reading the pool metadata");
  return false;
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

// The SQLite engine's limit on attached databases (SQLITE_MAX_ATTACHED, 10 in Debian's
// build): a query reads at most this many schemas at once.
constexpr int kMaxAttached = 10;

Result<AppliedFile> AppliedFrom(const Statement& q) {
  AppliedFile f;
  f.table = q.Text(0);
  f.counts = {q.Int(1), q.Int(2), q.Int(3), q.Int(5)};
  f.applied_at = q.Int(4);
  return f;
}

Result<TableCounts> TableCountsFrom(const Statement& q) {
  return TableCounts{q.Text(0), {q.Int(1), q.Int(2), q.Int(3), q.Int(4)}};
}

Result<SchemaChange> SchemaChangeFrom(const Statement& q) {
  SchemaChange c;
  c.seq = q.Int(0);
  c.changed_at = q.Int(1);
  const std::string kind = q.Text(2);
  c.kind = kind == "add"     ? SchemaChangeKind::kAdd
           : kind == "widen" ? SchemaChangeKind::kWiden
                             : SchemaChangeKind::kCreate;
  c.column = q.Text(3);
  c.old_type = q.Text(4);
  c.new_type = q.Text(5);
  return c;
}

// The result of `s` with its column names and no rows yet.
QueryResult EmptyResult(sqlite3_stmt* s) {
  QueryResult out;
  const int n = sqlite3_column_count(s);
  for (int i = 0; i < n; ++i) {
    const char* name = sqlite3_column_name(s, i);
    out.columns.emplace_back(name != nullptr ? name : "");
  }
  return out;
}

// The current row of `s` as text, as the CLI prints it.
void AppendRow(sqlite3_stmt* s, QueryResult& out) {
  const int n = sqlite3_column_count(s);
  std::vector<std::optional<std::string>>& row = out.rows.emplace_back();
  row.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    switch (sqlite3_column_type(s, i)) {
      case SQLITE_NULL:
        row.emplace_back();
        break;
      case SQLITE_INTEGER:
        row.emplace_back(FormatInteger(sqlite3_column_int64(s, i), sqlite3_column_decltype(s, i)));
        break;
      case SQLITE_FLOAT:
        row.emplace_back(FormatReal(sqlite3_column_double(s, i), sqlite3_column_decltype(s, i)));
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

// Every row of `s` as text (Query).
Result<QueryResult> ReadAllRows(Db& db, sqlite3_stmt* s) {
  QueryResult out = EmptyResult(s);
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    if (out.rows.size() == kMaxQueryRows) {
      return Err(
          ErrorCode::kInvalidArgument,
          "the query returns more than " + std::to_string(kMaxQueryRows) + " rows; add a LIMIT");
    }
    AppendRow(s, out);
  }
  if (rc != SQLITE_DONE) return db.Error(rc, "running the query");
  return out;
}

// Virtual machine instructions between two looks at the clock: few enough that the limit is
// overshot by little, many enough that a clock read (tens of nanoseconds) costs little. Not
// measured; the timeout test sees a 200 ms limit end the statement well within a second.
constexpr int kProgressInstructions = 1000;

// Whether `table` is SQLite's table of the schema (sqlite_master and its other names).
bool IsSchemaTable(const char* table) {
  return table != nullptr &&
         (EqualsIgnoreCase(table, "sqlite_master") || EqualsIgnoreCase(table, "sqlite_schema") ||
          EqualsIgnoreCase(table, "sqlite_temp_master") ||
          EqualsIgnoreCase(table, "sqlite_temp_schema"));
}

// What an action of the authorizer would do, for the refusal's message.
std::string DescribeAction(int action, const char* a3, const char* a4) {
  const auto name = [](const char* p) { return std::string(p != nullptr ? p : "?"); };
  switch (action) {
    case SQLITE_INSERT:
    case SQLITE_UPDATE:
    case SQLITE_DELETE:
      // CREATE, DROP and ANALYZE first ask to write the schema table.
      if (IsSchemaTable(a3)) return "change the schema (CREATE, DROP, ALTER or ANALYZE)";
      break;
    default:
      break;
  }
  switch (action) {
    case SQLITE_INSERT:
      return "write (INSERT into " + name(a3) + ")";
    case SQLITE_UPDATE:
      return "write (UPDATE of " + name(a3) + ")";
    case SQLITE_DELETE:
      return "write (DELETE from " + name(a3) + ")";
    case SQLITE_CREATE_INDEX:
    case SQLITE_CREATE_TABLE:
    case SQLITE_CREATE_TEMP_INDEX:
    case SQLITE_CREATE_TEMP_TABLE:
    case SQLITE_CREATE_TEMP_TRIGGER:
    case SQLITE_CREATE_TEMP_VIEW:
    case SQLITE_CREATE_TRIGGER:
    case SQLITE_CREATE_VIEW:
    case SQLITE_CREATE_VTABLE:
      return "create " + name(a3);
    case SQLITE_DROP_INDEX:
    case SQLITE_DROP_TABLE:
    case SQLITE_DROP_TEMP_INDEX:
    case SQLITE_DROP_TEMP_TABLE:
    case SQLITE_DROP_TEMP_TRIGGER:
    case SQLITE_DROP_TEMP_VIEW:
    case SQLITE_DROP_TRIGGER:
    case SQLITE_DROP_VIEW:
    case SQLITE_DROP_VTABLE:
      return "drop " + name(a3);
    case SQLITE_ALTER_TABLE:
      return "alter table " + name(a4);
    case SQLITE_ATTACH:
      return "attach a database";
    case SQLITE_DETACH:
      return "detach a database";
    case SQLITE_PRAGMA:
      return "run PRAGMA " + name(a3);
    case SQLITE_TRANSACTION:
      return "control the transaction (" + name(a3) + ")";
    case SQLITE_SAVEPOINT:
      return "control the transaction (SAVEPOINT)";
    case SQLITE_FUNCTION:
      return "call " + name(a4) + "()";
    case SQLITE_REINDEX:
    case SQLITE_ANALYZE:
      return "write (REINDEX or ANALYZE)";
    default:
      return "do what SQLite's authorizer calls action " + std::to_string(action);
  }
}

// Functions a read-only statement may not call: they reach beyond the database.
bool IsRefusedFunction(const char* name) {
  return name != nullptr &&
         (EqualsIgnoreCase(name, "load_extension") || EqualsIgnoreCase(name, "fts3_tokenizer"));
}

// The authorizer of untrusted statements: reading and calling functions only. Everything else
// (writes, schema changes, ATTACH and DETACH, which sqlite3_stmt_readonly calls read-only,
// PRAGMA, transaction control) is denied, and the first denial is kept for the message.
int AuthorizeRead(void* refused, int action, const char* a3, const char* a4,
                  const char* /*database*/, const char* /*trigger_or_view*/) {
  switch (action) {
    case SQLITE_SELECT:
    case SQLITE_READ:
    case SQLITE_RECURSIVE:
      return SQLITE_OK;
    case SQLITE_FUNCTION:
      if (!IsRefusedFunction(a4)) return SQLITE_OK;
      break;
    case SQLITE_UPDATE:
      // The first use of an eponymous virtual table on a connection (json_each,
      // pragma_table_info) declares its schema, and SQLite asks for the UPDATE of the schema
      // table it compiles then but never runs. A real write of it is refused all the same:
      // SQLite refuses one without writable_schema (a PRAGMA, refused here), and
      // sqlite3_stmt_readonly is checked after the compile.
      if (IsSchemaTable(a3)) return SQLITE_OK;
      break;
    default:
      break;
  }
  auto* why = static_cast<std::string*>(refused);
  if (why->empty()) *why = DescribeAction(action, a3, a4);
  return SQLITE_DENY;
}

// AuthorizeRead on `db` for the lifetime of this object, which spans only the compile of the
// untrusted statement: the pool's own ATTACHes, and the PRAGMA a pragma table-valued function
// runs as it reads, stay allowed. A statement SQLite compiles again as it runs (after a load
// changed the schema) is the same text, which passed.
class ReadOnlyAuthorizer {
 public:
  explicit ReadOnlyAuthorizer(sqlite3* db) : db_(db) {
    sqlite3_set_authorizer(db_, AuthorizeRead, &refused_);
  }
  ~ReadOnlyAuthorizer() { sqlite3_set_authorizer(db_, nullptr, nullptr); }
  ReadOnlyAuthorizer(const ReadOnlyAuthorizer&) = delete;
  ReadOnlyAuthorizer& operator=(const ReadOnlyAuthorizer&) = delete;

  // What the first denied action would have done; empty when nothing was denied.
  const std::string& refused() const { return refused_; }

 private:
  sqlite3* db_;
  std::string refused_;
};

// Stops statements on `db` (SQLITE_INTERRUPT) once `monotonic` passes `timeout_ms` from now,
// and waits for another connection's lock no longer than that, for the lifetime of this
// object; 0: no limit.
class StatementDeadline {
 public:
  StatementDeadline(sqlite3* db, const MonotonicClock& monotonic, int64_t timeout_ms)
      : db_(db),
        monotonic_(monotonic),
        deadline_(monotonic.Now() + std::chrono::milliseconds(timeout_ms)) {
    if (timeout_ms == 0) return;
    active_ = true;
    sqlite3_progress_handler(db_, kProgressInstructions, &StatementDeadline::Check, this);
    sqlite3_busy_timeout(db_, static_cast<int>(std::min<int64_t>(timeout_ms, kBusyTimeoutMs)));
  }
  ~StatementDeadline() {
    if (!active_) return;
    sqlite3_progress_handler(db_, 0, nullptr, nullptr);
    sqlite3_busy_timeout(db_, kBusyTimeoutMs);
  }
  StatementDeadline(const StatementDeadline&) = delete;
  StatementDeadline& operator=(const StatementDeadline&) = delete;

  // Whether a statement was stopped for the deadline.
  bool expired() const { return expired_; }

 private:
  static int Check(void* self) {
    auto* d = static_cast<StatementDeadline*>(self);
    if (d->monotonic_.Now() < d->deadline_) return 0;
    d->expired_ = true;
    return 1;
  }

  sqlite3* db_;
  const MonotonicClock& monotonic_;
  const MonotonicClock::TimePoint deadline_;
  bool active_ = false;
  bool expired_ = false;
};

// Whether only whitespace, semicolons and comments remain in `rest` (SQLite's comments: `--`
// to the end of the line, `/* */` not nested, an unterminated one running to the end).
bool OnlyCommentsLeft(std::string_view rest) {
  size_t i = 0;
  while (i < rest.size()) {
    const char c = rest[i];
    if (IsAsciiSpace(c) || c == ';') {
      ++i;
    } else if (rest.substr(i, 2) == "--") {
      const size_t eol = rest.find('\n', i);
      i = eol == std::string_view::npos ? rest.size() : eol + 1;
    } else if (rest.substr(i, 2) == "/*") {
      const size_t end = rest.find("*/", i + 2);
      i = end == std::string_view::npos ? rest.size() : end + 2;
    } else {
      return false;
    }
  }
  return true;
}

struct FinalizeStatement {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using StatementPtr = std::unique_ptr<sqlite3_stmt, FinalizeStatement>;

// Compiles untrusted `sql` on `db` under ReadOnlyAuthorizer: kInvalidArgument for a statement
// that could change anything, for a second statement and for none. On an engine error,
// `*sqlite_message` is SQLite's message (for the attach-on-demand loop).
Result<StatementPtr> PrepareReadOnly(Db& db, const std::string& sql, std::string* sqlite_message) {
  constexpr std::string_view kRefused = "only a read-only query may run here: the statement would ";
  if (sql.size() >= static_cast<size_t>(std::numeric_limits<int>::max())) {
    return Err(ErrorCode::kLimitExceeded, "the query is too long");
  }
  sqlite3_stmt* raw = nullptr;
  const char* tail = nullptr;
  int rc;
  std::string refused;
  {
    ReadOnlyAuthorizer authorizer(db.get());
    rc = sqlite3_prepare_v3(db.get(), sql.data(), static_cast<int>(sql.size()), 0, &raw, &tail);
    refused = authorizer.refused();
  }
  StatementPtr stmt(raw);
  if (rc != SQLITE_OK) {
    if (!refused.empty()) return Err(ErrorCode::kInvalidArgument, std::string(kRefused) + refused);
    *sqlite_message = sqlite3_errmsg(db.get());
    return db.Error(rc, "the query");
  }
  if (stmt == nullptr) return Err(ErrorCode::kInvalidArgument, "the SQL holds no statement");
  if (!OnlyCommentsLeft(std::string_view(tail, sql.data() + sql.size() - tail))) {
    return Err(ErrorCode::kInvalidArgument,
               "the SQL holds more than one statement; only one may run here");
  }
  // The authorizer saw every action; this is SQLite's own verdict on the compiled program.
  if (!sqlite3_stmt_readonly(stmt.get())) {
    return Err(ErrorCode::kInvalidArgument, std::string(kRefused) + "write to the database");
  }
  return stmt;
}

// The schema a "no such table: <schema>.<table>" message names; empty for any other message.
std::string MissingSchema(std::string_view message) {
  constexpr std::string_view kPrefix = "no such table: ";
  if (!message.starts_with(kPrefix)) return "";
  message.remove_prefix(kPrefix.size());
  const size_t dot = message.find('.');
  if (dot == std::string_view::npos) return "";
  return std::string(message.substr(0, dot));
}

// One schema's database file: its writer (opened by the first load, held by a
// LoadTransaction for its lifetime) and its reader for FindApplied and SchemaHistory.
class SchemaFile {
 public:
  explicit SchemaFile(std::string path) : path_(std::move(path)) {}

  const std::string& path() const { return path_; }

  // The writer, opened (and the file created with the pool's metadata) on first use. Called
  // with writer_mutex() held.
  Result<Db*> Writer() {
    if (writer_ == nullptr) {
      // Kept only once set up: a failure here leaves the next load to try again.
      const bool created = !FileSystem::Default().Exists(path_);
      SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<Db> db,
                              OpenPoolDb(path_, Sync::kFull, kWriterCacheKiB));
      {
        // In one transaction: a process killed while it creates the file leaves either all of
        // the metadata or none of it (which readers take for an empty schema, HasMetadata).
        WriteTransaction txn(*db);
        SLUICE_RETURN_IF_ERROR(txn.Begin());
        SLUICE_RETURN_IF_ERROR(
            db->Exec(kMetaSchema).WithContext("creating pool metadata in " + path_));
        SLUICE_RETURN_IF_ERROR(
            UpgradeMetaSchema(*db).WithContext("upgrading pool metadata in " + path_));
        SLUICE_RETURN_IF_ERROR(txn.Commit());
      }
      // A load's commit is durable only if the new file's directory entry is too.
      if (created) SLUICE_RETURN_IF_ERROR(FileSystem::Default().SyncDir(DirName(path_)));
      writer_ = std::move(db);
    }
    return writer_.get();
  }
  std::mutex& writer_mutex() { return writer_mutex_; }

  // Runs `read` on the reader (opened on first use); nullopt when the file does not exist or
  // holds no metadata yet (its first writer was stopped before creating it).
  template <class T>
  Result<std::optional<T>> Read(const std::function<Result<T>(Db&)>& read) {
    MutexLock lock(&reader_mutex_);
    if (reader_ == nullptr) {
      if (!FileSystem::Default().Exists(path_)) return std::optional<T>();
      SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<Db> db,
                              OpenPoolDb(path_, Sync::kNormal, kReaderCacheKiB));
      SLUICE_ASSIGN_OR_RETURN(bool ready, HasMetadata(*db));
      if (!ready) return std::optional<T>();
      reader_ = std::move(db);
    }
    SLUICE_ASSIGN_OR_RETURN(T value, read(*reader_));
    return std::optional<T>(std::move(value));
  }

 private:
  const std::string path_;
  // Held by the open LoadTransaction: BeginLoad moves its lock into the transaction, which
  // releases it when it ends. A lock handed between objects is beyond the static analysis
  // (core/thread_annotations.h), so this one stays a plain std::mutex, unannotated.
  std::mutex writer_mutex_;
  std::unique_ptr<Db> writer_;
  Mutex reader_mutex_;
  std::unique_ptr<Db> reader_ GUARDED_BY(reader_mutex_);
};

class SqlitePool final : public Pool {
 public:
  SqlitePool(std::string dir, const Clock& clock, const MonotonicClock& monotonic)
      : dir_(std::move(dir)), clock_(clock), monotonic_(monotonic) {}

  Result<std::unique_ptr<LoadTransaction>> BeginLoad(const TableSpec& table, int64_t seq) override {
    SLUICE_RETURN_IF_ERROR(CheckTableSpec(table));
    SLUICE_ASSIGN_OR_RETURN(SchemaFile * file, File(table.schema));
    std::unique_lock<std::mutex> lock(file->writer_mutex());
    SLUICE_ASSIGN_OR_RETURN(Db * writer, file->Writer());
    WriteTransaction txn(*writer);
    SLUICE_RETURN_IF_ERROR(txn.Begin());
    auto load = NewLoad(writer, std::move(lock), std::move(txn), table, seq, clock_);
    // From here the load owns the transaction: returning drops it and rolls back.
    SLUICE_RETURN_IF_ERROR(CheckNotApplied(*writer, seq));
    return load;
  }

  Result<std::unique_ptr<NestedLoadTransaction>> BeginNestedLoad(const NestedSpec& spec,
                                                                 int64_t seq) override {
    SLUICE_RETURN_IF_ERROR(CheckNestedSpec(spec));
    for (const DerivedTableSpec& d : spec.tables) SLUICE_RETURN_IF_ERROR(CheckTableSpec(d.table));
    SLUICE_ASSIGN_OR_RETURN(SchemaFile * file, File(spec.tables[0].table.schema));
    std::unique_lock<std::mutex> lock(file->writer_mutex());
    SLUICE_ASSIGN_OR_RETURN(Db * writer, file->Writer());
    WriteTransaction txn(*writer);
    SLUICE_RETURN_IF_ERROR(txn.Begin());
    auto load = NewNestedLoad(writer, std::move(lock), std::move(txn), spec, seq, clock_);
    SLUICE_RETURN_IF_ERROR(CheckNotApplied(*writer, seq));
    return load;
  }

  Result<std::optional<AppliedFile>> FindApplied(const std::string& schema, int64_t seq) override {
    SLUICE_ASSIGN_OR_RETURN(SchemaFile * file, File(schema));
    SLUICE_ASSIGN_OR_RETURN(
        auto found,
        file->Read<std::optional<AppliedFile>>([seq](Db& db) -> Result<std::optional<AppliedFile>> {
          SLUICE_ASSIGN_OR_RETURN(Statement q, db.Prepare("SELECT table_name, inserted, updated, "
                                                          "refused, applied_at, deleted FROM "
                                                          "_sluice_applied WHERE seq = ?"));
          q.Bind(1, seq);
          SLUICE_ASSIGN_OR_RETURN(std::vector<AppliedFile> files, ReadRows(q, AppliedFrom));
          if (files.empty()) return std::optional<AppliedFile>();
          AppliedFile f = std::move(files[0]);
          f.seq = seq;
          SLUICE_ASSIGN_OR_RETURN(
              Statement t, db.Prepare("SELECT table_name, inserted, updated, refused, deleted "
                                      "FROM _sluice_applied_tables WHERE seq = ? ORDER BY "
                                      "position"));
          t.Bind(1, seq);
          SLUICE_ASSIGN_OR_RETURN(f.tables, ReadRows(t, TableCountsFrom));
          return std::optional<AppliedFile>(std::move(f));
        }));
    return found ? std::move(*found) : std::optional<AppliedFile>();
  }

  Result<std::vector<SchemaChange>> SchemaHistory(const std::string& schema,
                                                  const std::string& table) override {
    SLUICE_ASSIGN_OR_RETURN(SchemaFile * file, File(schema));
    SLUICE_ASSIGN_OR_RETURN(
        auto history,
        file->Read<std::vector<SchemaChange>>(
            [&table](Db& db) -> Result<std::vector<SchemaChange>> {
              SLUICE_ASSIGN_OR_RETURN(
                  Statement q, db.Prepare("SELECT seq, changed_at, kind, column_name, old_type, "
                                          "new_type FROM _sluice_schema_history WHERE "
                                          "table_name = ? ORDER BY id"));
              q.Bind(1, table);
              SLUICE_ASSIGN_OR_RETURN(std::vector<SchemaChange> out, ReadRows(q, SchemaChangeFrom));
              for (SchemaChange& c : out) c.table = table;
              return out;
            }));
    return history ? std::move(*history) : std::vector<SchemaChange>();
  }

  // The query connection's main database is the default schema's file (an empty in-memory
  // one without a default), so unqualified names, sqlite_master included, are the default
  // schema's; every schema a statement names is attached under its name when the statement
  // first fails to find it (docs/design/pool.md, "Namespaces").
  Result<QueryResult> Query(const std::string& sql, const std::string& default_schema) override {
    MutexLock lock(&query_mutex_);
    SLUICE_RETURN_IF_ERROR(UseQueryMain(default_schema));
    while (true) {
      Result<Statement> s = query_->Prepare(sql);
      if (s.ok()) return ReadAllRows(*query_, s->get());
      SLUICE_ASSIGN_OR_RETURN(bool attached, AttachMissing(sqlite3_errmsg(query_->get())));
      if (!attached) return s.status();
    }
  }

  // Query's connection and name resolution, with the statement compiled under an authorizer
  // that allows reading only (PrepareReadOnly) and stepped under a deadline.
  Result<QueryResult> ReadQuery(const std::string& sql, const std::string& default_schema,
                                const QueryLimits& limits) override {
    SLUICE_RETURN_IF_ERROR(CheckQueryLimits(limits));
    MutexLock lock(&query_mutex_);
    SLUICE_RETURN_IF_ERROR(UseQueryMain(default_schema));
    StatementPtr stmt;
    while (stmt == nullptr) {
      std::string sqlite_message;
      Result<StatementPtr> s = PrepareReadOnly(*query_, sql, &sqlite_message);
      if (!s.ok()) {
        SLUICE_ASSIGN_OR_RETURN(bool attached, AttachMissing(sqlite_message));
        if (!attached) return s.status();
        continue;
      }
      stmt = std::move(s).value();
    }
    StatementDeadline deadline(query_->get(), monotonic_, limits.timeout_ms);
    QueryResult out = EmptyResult(stmt.get());
    while (true) {
      const int rc = sqlite3_step(stmt.get());
      if (rc == SQLITE_DONE) return out;
      if (rc != SQLITE_ROW) {
        if (deadline.expired()) {
          return Err(ErrorCode::kLimitExceeded,
                     "the query ran longer than " + std::to_string(limits.timeout_ms) + " ms");
        }
        return query_->Error(rc, "running the query");
      }
      // One row past the limit tells that there were more; the rest is never read.
      if (out.rows.size() == limits.max_rows) {
        out.truncated = true;
        return out;
      }
      AppendRow(stmt.get(), out);
    }
  }

 private:
  // Points query_ at `default_schema`: its main database is that schema's file.
  Status UseQueryMain(const std::string& default_schema) REQUIRES(query_mutex_) {
    if (!default_schema.empty()) SLUICE_RETURN_IF_ERROR(CheckSchemaName(default_schema));
    if (query_ == nullptr || query_main_ != default_schema) {
      // A schema without a file yet has no tables: an empty main database stands in for it
      // (and the next query looks for the file again).
      std::string main = default_schema;
      if (!main.empty() && !FileSystem::Default().Exists(SchemaPath(main))) main.clear();
      query_.reset();
      attached_.clear();
      SLUICE_ASSIGN_OR_RETURN(query_, OpenPoolDb(main.empty() ? ":memory:" : SchemaPath(main),
                                                 Sync::kNormal, kReaderCacheKiB));
      query_main_ = main;
    }
    return Status::Ok();
  }

  // After a statement failed to compile with `sqlite_message`: attaches the schema a "no such
  // table: <schema>.<table>" names, when it has a file and is not attached yet. False when
  // there is none to attach (the statement's error stands).
  Result<bool> AttachMissing(std::string_view sqlite_message) REQUIRES(query_mutex_) {
    const std::string schema = MissingSchema(sqlite_message);
    // The main database's own name may be attached too, so that `demo.t` reads with
    // `demo` as the default.
    const bool attachable =
        !schema.empty() && CheckSchemaName(schema).ok() &&
        std::find(attached_.begin(), attached_.end(), schema) == attached_.end() &&
        FileSystem::Default().Exists(SchemaPath(schema));
    if (!attachable) return false;
    if (attached_.size() == kMaxAttached) {
      // Start again with the one this statement needs.
      SLUICE_RETURN_IF_ERROR(DetachAll());
    }
    SLUICE_RETURN_IF_ERROR(Attach(schema));
    return true;
  }

  std::string SchemaPath(const std::string& schema) const { return JoinPath(dir_, schema + ".db"); }

  // The schema's file entry (its database need not exist yet).
  Result<SchemaFile*> File(const std::string& schema) {
    SLUICE_RETURN_IF_ERROR(CheckSchemaName(schema));
    MutexLock lock(&files_mutex_);
    std::unique_ptr<SchemaFile>& file = files_[schema];
    if (file == nullptr) file = std::make_unique<SchemaFile>(SchemaPath(schema));
    return file.get();
  }

  Status Attach(const std::string& schema) REQUIRES(query_mutex_) {
    SLUICE_ASSIGN_OR_RETURN(Statement a,
                            query_->Prepare("ATTACH DATABASE ? AS " + QuoteIdent(schema)));
    a.Bind(1, SchemaPath(schema));
    SLUICE_RETURN_IF_ERROR(a.Run("attaching schema '" + schema + "'"));
    SLUICE_RETURN_IF_ERROR(query_->Exec("PRAGMA " + QuoteIdent(schema) + ".cache_size=-" +
                                        std::to_string(kReaderCacheKiB)));
    attached_.push_back(schema);
    return Status::Ok();
  }

  Status DetachAll() REQUIRES(query_mutex_) {
    while (!attached_.empty()) {
      SLUICE_RETURN_IF_ERROR(query_->Exec("DETACH DATABASE " + QuoteIdent(attached_.back())));
      attached_.pop_back();
    }
    return Status::Ok();
  }

  // In the open writer transaction: kAlreadyExists when the pool holds file `seq`.
  static Status CheckNotApplied(Db& writer, int64_t seq) {
    SLUICE_ASSIGN_OR_RETURN(Statement q,
                            writer.Prepare("SELECT 1 FROM _sluice_applied WHERE seq = ?"));
    q.Bind(1, seq);
    SLUICE_ASSIGN_OR_RETURN(bool applied, q.Step());
    if (applied) {
      return Err(ErrorCode::kAlreadyExists,
                 "file seq " + std::to_string(seq) + " is already applied to the pool");
    }
    return Status::Ok();
  }

  const std::string dir_;
  Mutex files_mutex_;
  std::map<std::string, std::unique_ptr<SchemaFile>> files_ GUARDED_BY(files_mutex_);
  Mutex query_mutex_;
  std::unique_ptr<Db> query_ GUARDED_BY(query_mutex_);
  std::string query_main_ GUARDED_BY(query_mutex_);  // the schema query_ opened; "": none
  std::vector<std::string> attached_ GUARDED_BY(query_mutex_);
  const Clock& clock_;
  const MonotonicClock& monotonic_;
};

}  // namespace
}  // namespace sqlite

Result<std::unique_ptr<Pool>> OpenSqlitePool(const std::string& dir, const Clock& clock,
                                             const MonotonicClock& monotonic) {
  SLUICE_RETURN_IF_ERROR(FileSystem::Default().CreateDirs(dir));
  return std::unique_ptr<Pool>(std::make_unique<sqlite::SqlitePool>(dir, clock, monotonic));
}

}  // namespace sluice::pool
