#pragma once
// pool: the sink. Writes shaped batches into the SQL data pool and answers queries. It knows
// SQL and nothing of Parquet or S3: input arrives as batch::Batch. Every load is one pool
// transaction that also records the file's sequence (_sluice_applied), so that the loader can
// ask after a crash which files the pool holds and never apply one twice.
//
// The rules a load follows (upsert and the age rule, deletes and tombstones, schema evolution
// and history, durability, counts, how each type is stored in SQLite, nested loads, Query's
// text) are in docs/design/pool.md, under the section names the code cites.
//
// Namespaces: every table lives in a schema named after its connection (TableSpec::schema), so
// two connections may both have `orders`; SQL reads it as `demo.orders` (docs/design/pool.md,
// "Namespaces").
//
// Thread-safety: a Pool is safe to share; a LoadTransaction belongs to one thread. One load
// transaction per table at a time (the loader guarantees it). The SQLite pool has one writer
// connection per schema: loads of different schemas run in parallel, and BeginLoad blocks
// while another LoadTransaction of the same schema is open (so a thread must not hold one
// while beginning another), and every
// LoadTransaction must be destroyed before its Pool. After an Apply error the transaction
// is unusable (Apply and Commit repeat the error): destroy it to roll back.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/batch/batch.h"
#include "sluice/core/core.h"

namespace sluice::pool {

// A write the caller commits with a load's rows (catalog::Ledger::LoadedInPool: the file's
// ledger outcome, when the ledger lives in the pool's database): one SQL statement without
// parameters, run on the load's connection inside its transaction after the pool recorded
// the file and just before COMMIT, in the same round trip. The pool calls it with `counts`,
// a parenthesised query of one row (inserted, updated, refused, deleted) holding the load's
// counts, which the statement reads: a small file's counts are known to the server only, as
// its whole load is one round trip. To refuse, the statement raises an error; the load then
// rolls back with the error's code.
using InTransactionWrite = std::function<std::string(std::string_view counts)>;

struct TableSpec {
  // The table's namespace: its connection's id ([a-z0-9-], see catalog's names). SQLite: one
  // database file per schema; PostgreSQL: a schema of that name. Never empty.
  std::string schema;
  std::string name;                      // SQL table name, unique within its schema
  std::vector<std::string> primary_key;  // column names, present in every batch
  std::string age_column;                // empty: none
  std::string delete_column;             // empty: none (a true value deletes the row)
};

struct ApplyCounts {
  int64_t inserted = 0;
  int64_t updated = 0;
  int64_t refused = 0;  // refused as stale by the age rule
  int64_t deleted = 0;  // rows deleted by the delete column
};

enum class SchemaChangeKind { kCreate, kAdd, kWiden };

constexpr const char* SchemaChangeKindName(SchemaChangeKind kind) {
  switch (kind) {
    case SchemaChangeKind::kCreate:
      return "create";
    case SchemaChangeKind::kAdd:
      return "add";
    case SchemaChangeKind::kWiden:
      return "widen";
  }
  return "?";
}

// One row of a table's schema history.
struct SchemaChange {
  std::string table;
  int64_t seq = 0;         // the file that caused the change
  int64_t changed_at = 0;  // micros, the pool clock during that file's load
  SchemaChangeKind kind = SchemaChangeKind::kCreate;
  std::string column;
  std::string old_type;  // logical type (batch::TypeName); empty for create and add
  std::string new_type;
};

struct TableCounts {
  std::string table;
  ApplyCounts counts;
};

struct AppliedFile {
  int64_t seq = 0;
  std::string table;
  ApplyCounts counts;
  int64_t applied_at = 0;           // micros
  std::vector<TableCounts> tables;  // a nested load: every derived table, root first; else empty
};

// A query result as text (NULL as nullopt), for the CLI and the admin API's SQL console.
struct QueryResult {
  std::vector<std::string> columns;
  std::vector<std::vector<std::optional<std::string>>> rows;
  bool truncated = false;  // ReadQuery: max_rows were returned and more rows were there
};

// Limits of a query from the admin API's SQL console (Pool::ReadQuery).
struct QueryLimits {
  // The most max_rows may be: the result is held as strings, and PostgreSQL's FETCH counts in
  // 32 bits.
  static constexpr size_t kMaxRows = 1'000'000;
  // The longest timeout_ms: PostgreSQL's statement_timeout is a 32-bit count of milliseconds.
  static constexpr int64_t kMaxTimeoutMs = 2'147'483'647;

  size_t max_rows = 1000;     // rows returned; the result says when more were there
  int64_t timeout_ms = 5000;  // wall-clock limit of the statement; 0: none
};

// kInvalidArgument when `limits` are out of range (max_rows above kMaxRows, a timeout
// negative or above kMaxTimeoutMs).
inline Status CheckQueryLimits(const QueryLimits& limits) {
  if (limits.max_rows > QueryLimits::kMaxRows) {
    return Err(ErrorCode::kInvalidArgument, "a query may return at most " +
                                                std::to_string(QueryLimits::kMaxRows) +
                                                " rows, not " + std::to_string(limits.max_rows));
  }
  if (limits.timeout_ms < 0 || limits.timeout_ms > QueryLimits::kMaxTimeoutMs) {
    return Err(ErrorCode::kInvalidArgument, "a query's timeout must be 0 to " +
                                                std::to_string(QueryLimits::kMaxTimeoutMs) +
                                                " ms, not " + std::to_string(limits.timeout_ms));
  }
  return Status::Ok();
}

class LoadTransaction {
 public:
  // Destruction without Commit rolls back.
  virtual ~LoadTransaction() = default;
  // Upserts one batch; creates or extends the table as needed. Counts accumulate.
  virtual Status Apply(const batch::Batch& batch) = 0;
  // The counts so far; final once Commit returned. A pool may know them only then (the
  // PostgreSQL pool's one-round-trip path counts a small file on the server as it commits).
  virtual const ApplyCounts& counts() const = 0;
  // Records the file's sequence with the counts and commits; the file is then applied.
  virtual Status Commit(int64_t applied_at) = 0;
  // Commit, with `write` in the same transaction (PostgreSQL; other pools kNotImplemented).
  virtual Status CommitWith(int64_t /*applied_at*/, const InTransactionWrite& /*write*/) {
    return Err(ErrorCode::kNotImplemented, "this pool holds no ledger: commit the file alone");
  }
};

// How a child table's rows replace earlier ones under one parent row (see "Nested loads").
enum class ChildMode {
  kUpsert,   // upsert on the child key; stored children the file lacks stay
  kReplace,  // delete the parent's stored children (and theirs) first, then insert
};

struct DerivedTableSpec {
  TableSpec table;  // name and key; age and delete columns on the root only
  int parent = -1;  // index of the parent in NestedSpec::tables (an earlier one); -1: the root
  std::vector<std::string> foreign_key;  // columns of this table referencing the parent...
  std::vector<std::string> parent_key;   // ...the parent's key columns, in the same order
  ChildMode mode = ChildMode::kUpsert;   // unused for the root
};

struct NestedSpec {
  // tables[0] is the root; parents before children. All in one schema.
  std::vector<DerivedTableSpec> tables;
};

// One derived table's share of a batch of records. Borrowed for the Apply call.
struct DerivedBatch {
  const batch::Batch* rows = nullptr;
  // Per row of `rows`: the row of the parent's DerivedBatch it belongs to. Empty for the root.
  std::span<const int64_t> parent_row;
};

class NestedLoadTransaction {
 public:
  // Destruction without Commit rolls back.
  virtual ~NestedLoadTransaction() = default;
  // Applies one batch of records: one DerivedBatch per derived table, in NestedSpec order.
  // Creates or extends the tables as needed. Counts accumulate.
  virtual Status Apply(std::span<const DerivedBatch> batches) = 0;
  // Per derived table, in NestedSpec order.
  virtual const std::vector<ApplyCounts>& counts() const = 0;
  // Records the file's sequence (the root's counts, and every table's) and commits.
  virtual Status Commit(int64_t applied_at) = 0;
  // Commit, with `write` in the same transaction (as LoadTransaction::CommitWith).
  virtual Status CommitWith(int64_t /*applied_at*/, const InTransactionWrite& /*write*/) {
    return Err(ErrorCode::kNotImplemented, "this pool holds no ledger: commit the file alone");
  }
};

class Pool {
 public:
  virtual ~Pool() = default;
  // Starts the transaction that applies file `seq` to `table`.
  virtual Result<std::unique_ptr<LoadTransaction>> BeginLoad(const TableSpec& table,
                                                             int64_t seq) = 0;
  // Starts the transaction that applies file `seq` to the nested table `spec` (its root's
  // name is the table's). Same locking and failure rules as BeginLoad.
  virtual Result<std::unique_ptr<NestedLoadTransaction>> BeginNestedLoad(const NestedSpec& spec,
                                                                         int64_t seq) = 0;
  // The applied record of file `seq` of a table in `schema`, if the pool holds it.
  virtual Result<std::optional<AppliedFile>> FindApplied(const std::string& schema,
                                                         int64_t seq) = 0;
  // The schema changes of `table` (its name as in TableSpec) in `schema`, oldest first; empty
  // when the pool holds no such table.
  virtual Result<std::vector<SchemaChange>> SchemaHistory(const std::string& schema,
                                                          const std::string& table) = 0;
  // Runs one SQL statement (read-only use is the CLI's business) and returns its rows. Tables
  // are named `schema.table`; an unqualified name resolves in `default_schema` when it is not
  // empty (else only schema-qualified names resolve).
  virtual Result<QueryResult> Query(const std::string& sql, const std::string& default_schema) = 0;
  // Runs one read-only statement from an untrusted user (the admin API's SQL console): a
  // SELECT, WITH ... SELECT, VALUES or EXPLAIN (PostgreSQL also TABLE). Anything that would
  // write, create, attach, change settings or control transactions is refused with
  // kInvalidArgument naming why, and so is a second statement; a statement the engine refuses
  // (syntax, unknown names, bad values) is kInvalidArgument with the engine's message. Names
  // resolve as for Query. Returns at most limits.max_rows rows (`truncated` set when more were
  // there), reading no further than that. A statement running past limits.timeout_ms is
  // cancelled and fails with kLimitExceeded ("the query ran longer than 5000 ms").
  //
  // What the engines check: SQLite refuses, while it compiles the statement, every action but
  // reading (its authorizer); the limit is checked between virtual machine instructions, so
  // one long instruction (a large sort, a huge blob) finishes first. PostgreSQL runs the
  // statement as a cursor in a READ ONLY transaction that is rolled back, with
  // statement_timeout (planning and reading each get the limit). Functions that act outside
  // the transaction (lo_export, pg_terminate_backend, dblink ...) are bounded only by the
  // pool's role: connect the PostgreSQL pool as a role that is not a superuser. The size of one
  // value is not limited here.
  virtual Result<QueryResult> ReadQuery(const std::string& sql, const std::string& default_schema,
                                        const QueryLimits& limits) = 0;
};

// Whether `schema` may name a namespace: a connection id's alphabet ([a-z0-9-], 1..63
// bytes, starting with a letter or digit; so never PostgreSQL's `pg_*`, `information_schema`
// or sluice's own `_sluice*`), and not a name the engines reserve (SQLite's `main` and `temp`,
// PostgreSQL's `public`). kInvalidArgument naming the rule otherwise.
Status CheckSchemaName(std::string_view schema);

// The embedded default: one SQLite database file per schema, `<dir>/<schema>.db` (WAL,
// synchronous=FULL on the writers, large page cache), created by the schema's first load.
// `dir` is created if missing. `monotonic` times ReadQuery's limit.
Result<std::unique_ptr<Pool>> OpenSqlitePool(
    const std::string& dir, const Clock& clock,
    const MonotonicClock& monotonic = MonotonicClock::Real());

// The PostgreSQL pool (docs/design/pool.md, "PostgreSQL storage"): each schema is a PostgreSQL
// schema of that name; the pool's own bookkeeping (applied files, column types, schema
// history, tombstones) lives in the schema `_sluice`. `conninfo` is a libpq connection string
// (key=value or postgresql://); no error repeats its password. Loads run on connections of
// their own (kept for reuse), so loads of different tables commit in parallel; a thread may
// hold several LoadTransactions. Every LoadTransaction must be destroyed before its Pool.
Result<std::unique_ptr<Pool>> OpenPostgresPool(const std::string& conninfo, const Clock& clock);

}  // namespace sluice::pool
