#pragma once
// pool: the sink. Writes shaped batches into the SQL data pool and answers queries. It knows
// SQL and nothing of Parquet or S3: input arrives as batch::Batch.
//
// Exactly once: every load runs in one pool transaction that also records the file's
// sequence number (table _sluice_applied), so after a crash the loader can ask which
// sequences the pool holds and never apply a file twice.
//
// Delta semantics (DESIGN.md, "Ingestion semantics"): rows upsert on the primary key; an
// existing row gets every column the batch carries (others keep their values); rows are
// applied in batch order so the last row of a key in a file wins; with an age column a row
// is applied only when stored age is null or incoming age is not null and >= stored age.
//
// Deletes: TableSpec::delete_column names a control column. It is never stored in the table
// (a stored column of that name, from before it was configured, keeps its old values), and it
// may not be a key or the age column. A batch without it only upserts. A row deletes its key
// when the value is: BOOLEAN true; any integer type != 0; VARCHAR exactly "true", "t", "1" or
// "yes" in any ASCII case (no trimming). Null, false, 0 and every other text are upserts; any
// other column type fails the file with SCHEMA_MISMATCH. The other columns of a delete row
// are ignored. Rows still apply in batch order: insert then delete of a key in one file
// leaves nothing, delete then insert leaves the row.
//   Without an age column a delete removes the stored row, if any; nothing else is kept.
//   With an age column a delete obeys the age rule against the stored row (or, when there is
// none, against the key's tombstone), and every applied delete leaves a tombstone (key + age)
// in the hidden table `_sluice_tombstones_<table>`, even when no row was stored (so an older
// version arriving later cannot appear). A row whose key has a tombstone is applied only by
// the age rule against the tombstone's age; applying it re-inserts the row and drops the
// tombstone. A key never has both a row and a tombstone. Tombstones are kept forever.
//
// Schema: the first batch creates the table with mapped SQL types; a later batch may add
// columns (null for old rows) and widen types along safe paths: any integer to a wider one,
// integers and FLOAT to DOUBLE (not for key columns), DECIMAL precision up at the same scale
// (within one storage class, see below), DATE to TIMESTAMP (every stored date, in the table
// and in its tombstones' keys and ages, is rewritten in the same transaction to their midnight in
// timestamp text, so text comparison stays time order; the rewrite costs one pass over the table).
// Narrower values go into a wider column as they are; a DATE into a TIMESTAMP column is stored as
// its midnight. Anything else fails with kSchemaMismatch naming the column, the table, the stored
// type and the file's type, then the reason (a specific one such as "a decimal's scale cannot
// change", else "not a safe widening").
//
// Schema history: every change (create: one row per column; add; widen, including an all-null
// column taking its first type) is recorded in `_sluice_schema_history` in the load's own
// transaction, so it commits or rolls back with the file that caused it. SchemaHistory reads
// it in the order of the changes.
//
// Durability: Commit returns after the pool's write-ahead log is on disk (the writer runs
// synchronous=FULL: one fdatasync of the WAL per commit). The loader marks the file loaded in
// the catalog right after, so a power loss must not lose a commit the ledger calls loaded;
// with synchronous=NORMAL it could (the WAL was synced only at checkpoints). An explicit
// checkpoint per load would cost more (WAL and database synced), and group commit is not
// possible with one transaction per file. Measured with pool_upsert_bench on the 2-core dev VM
// (shared disk, so real time is noisy): 1,000 one-row loads 0.09-0.12 ms per load before,
// 1.2-3.5 ms after (the fdatasync latency); 1M-row bulk loads unchanged in CPU time, and the
// one extra sync is lost in the noise of their 1-3 s real time.
//
// Thread-safety: a Pool is safe to share; a LoadTransaction belongs to one thread. One load
// transaction per table at a time (the loader guarantees it); SQLite serialises all writers.
// The SQLite pool has one writer connection: BeginLoad blocks while another LoadTransaction
// is open (so a thread must not hold one while beginning another), and every
// LoadTransaction must be destroyed before its Pool. After an Apply error the transaction
// is unusable (Apply and Commit repeat the error): destroy it to roll back.
//
// Counts are exact per row, and every row of a file is counted exactly once, so inserted +
// updated + refused + deleted equals the file's rows: `inserted` (new key, or a key whose
// tombstone it beats), `updated` (existing key, written), `deleted` (a delete row that was
// applied: the stored row removed if there was one, the tombstone written with an age
// column; a delete of a key the pool does not hold counts here too), `refused` (the age rule
// said older than the stored row or the tombstone, upserts and deletes alike). A key repeated
// within a file counts once per row (first inserted, then updated).
//
// SQLite storage (declared type -> what is stored). The exact logical type of every column
// is kept in `_sluice_columns` (type_name as batch::TypeName), because declared types lose
// information; mismatches are detected against it.
//   BOOLEAN                    BOOLEAN      INTEGER 0/1
//   TINYINT..BIGINT, UTINYINT..UBIGINT
//                              same name    INTEGER; UBIGINT above INT64_MAX fails the file
//                                           with SCHEMA_MISMATCH naming column and row
//   FLOAT, DOUBLE              FLOAT/DOUBLE REAL
//   DECIMAL(p,s)               DECIMAL(p,s) INTEGER when s = 0 and the value fits int64; else
//                                           REAL when the unscaled value has <= 15 digits
//                                           (binary64 round-trips it exactly; Query prints it
//                                           back with the column's scale: "100.50");
//                                           else TEXT with the canonical decimal. The REAL
//                                           choice keeps `WHERE amount > 100` numeric; the
//                                           TEXT fallback keeps values that no SQLite number
//                                           can hold exact (they compare as text, after all
//                                           numbers). Types that can need the fallback
//                                           (p > 15, unless s = 0 and p <= 18) are declared
//                                           DECIMAL_BLOB(p,s): NUMERIC affinity would round
//                                           the text into a REAL.
//   VARCHAR, JSON              TEXT         TEXT as given
//   BLOB                       BLOB         BLOB
//   UUID                       TEXT         8-4-4-4-12 lower-case hex
//   DATE                       DATE         TEXT 'YYYY-MM-DD'
//   TIME                       TIME         TEXT (batch::FormatTime)
//   TIMESTAMP                  TIMESTAMP    TEXT 'YYYY-MM-DDTHH:MM:SS.ffffff[fff][Z]'
//                                           (batch::FormatTimestamp): sorts in time order and
//                                           SQLite's date functions read it
//   INTERVAL, LIST, STRUCT, MAP TEXT        canonical JSON (batch::AppendCanonicalValue)
//   "NULL" (all null)          (none)       NULL; a later file may give the column a type
// A single-column integer key is declared `INTEGER PRIMARY KEY` (the rowid alias, ~30 %
// faster); other keys `PRIMARY KEY(a, b)`. Identifiers are always double-quoted; column names
// compare case-insensitively, as in SQLite. Table names starting with `_sluice_` or
// `sqlite_` are reserved. Tombstone tables hold the key columns (same names and declared
// types) and `_sluice_age` (the age column's declared type), so they compare like the table.
//
// Nested loads (DESIGN.md, "Nested tables"). A nested table is a plan of derived tables
// (NestedSpec): the root, then children, each child after its parent, each carrying foreign-key
// columns that equal its parent's key columns. A file is applied in one transaction, like a
// flat file: each batch of records arrives as one batch per derived table plus, for a child,
// the row of its parent's batch that each child row belongs to (DerivedBatch::parent_row).
// Rows apply in file order: a root row, then its children (and theirs), then the next root row.
//   - Every derived table follows the flat rules above for its own rows (upsert on its key,
//     create and extend with schema history, exact logical types, PK_NULL, SCHEMA_MISMATCH
//     naming the table). Age and delete columns exist on the root only.
//   - A parent row applied (inserted or updated): its children are written by their table's
//     mode. kUpsert: upserted on the child key; stored children the file lacks stay.
//     kReplace: the parent's stored children (and all their descendants) are deleted first, so
//     removed elements disappear and no orphan remains; an empty or null list removes them all.
//   - A parent row refused by the age rule applies none of its children nor their descendants:
//     they count as refused in their tables, and the stored ones stay untouched.
//   - A delete row (delete column true, applied) deletes the parent's stored descendants in
//     every derived table. Child rows under a delete row are not written; they count as
//     deleted (they were part of the delete). A delete refused by the age rule touches nothing.
//   - A parent repeated within a file: its rows apply in order, so under kReplace the last
//     applied one's children are the ones that remain; under kUpsert the children of every
//     occurrence are upserted in order (the last version of a child key wins).
// Counts are per derived table, exact as above: inserted + updated + refused + deleted equals
// the table's rows in the file. Stored rows removed by a cascade (replace or a deleted parent)
// are not file rows and are not counted. `_sluice_applied` holds the root's counts (the file's
// ledger counts); `_sluice_applied_tables` holds every derived table's (AppliedFile::tables).
// Foreign keys are indexed: a child whose foreign key is not a prefix of its primary key gets
// the index `_sluice_fk_<table>` on its foreign-key columns, created with the table, so the
// replace and cascade deletes are index range scans. A child table that held no rows when the
// load began cannot hold children of a parent the load inserts, so that delete is skipped
// (it is the whole cost of the replace path on a first load).
//
// Query runs on a separate read connection and prints values as text: NULL as nullopt,
// INTEGER in decimal, REAL with the shortest round-trip digits (decimal columns with their
// scale), BLOB as lower-case hex. At most 1,000,000 rows (then an error asking for a LIMIT).

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "sluice/batch/batch.h"
#include "sluice/core/core.h"

namespace sluice::pool {

struct TableSpec {
  std::string name;                      // SQL table name
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

// A query result as text (NULL as nullopt), for the CLI.
struct QueryResult {
  std::vector<std::string> columns;
  std::vector<std::vector<std::optional<std::string>>> rows;
};

class LoadTransaction {
 public:
  // Destruction without Commit rolls back.
  virtual ~LoadTransaction() = default;
  // Upserts one batch; creates or extends the table as needed. Counts accumulate.
  virtual Status Apply(const batch::Batch& batch) = 0;
  virtual const ApplyCounts& counts() const = 0;
  // Records the file's sequence with the counts and commits; the file is then applied.
  virtual Status Commit(int64_t applied_at) = 0;
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
  std::vector<DerivedTableSpec> tables;  // tables[0] is the root; parents before children
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
  // The applied record of `seq`, if the pool holds it.
  virtual Result<std::optional<AppliedFile>> FindApplied(int64_t seq) = 0;
  // The schema changes of `table` (its name as in TableSpec), oldest first; empty when the
  // pool holds no such table.
  virtual Result<std::vector<SchemaChange>> SchemaHistory(const std::string& table) = 0;
  // Runs one SQL statement (read-only use is the CLI's business) and returns its rows.
  virtual Result<QueryResult> Query(const std::string& sql) = 0;
};

// The embedded default: one SQLite file (WAL, synchronous=FULL on the writer, large page
// cache).
Result<std::unique_ptr<Pool>> OpenSqlitePool(const std::string& path, const Clock& clock);

}  // namespace sluice::pool
