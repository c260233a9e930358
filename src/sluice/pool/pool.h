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
// The first batch creates the table with mapped SQL types; a later batch may add columns.
// A column whose type differs from the stored one fails with kSchemaMismatch naming the
// column, the stored type and the file's type (widening is a later cut).
//
// Thread-safety: a Pool is safe to share; a LoadTransaction belongs to one thread. One load
// transaction per table at a time (the loader guarantees it); SQLite serialises all writers.
// The SQLite pool has one writer connection: BeginLoad blocks while another LoadTransaction
// is open (so a thread must not hold one while beginning another), and every
// LoadTransaction must be destroyed before its Pool. After an Apply error the transaction
// is unusable (Apply and Commit repeat the error): destroy it to roll back.
//
// Counts are exact per row: a row is `inserted` (new key), `updated` (existing key, written)
// or `refused` (existing key, the age rule said older). A key repeated within a file counts
// once per row (first inserted, then updated).
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
// `sqlite_` are reserved.
//
// Query runs on a separate read connection and prints values as text: NULL as nullopt,
// INTEGER in decimal, REAL with the shortest round-trip digits (decimal columns with their
// scale), BLOB as lower-case hex. At most 1,000,000 rows (then an error asking for a LIMIT).

#include <cstdint>
#include <memory>
#include <optional>
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

struct AppliedFile {
  int64_t seq = 0;
  std::string table;
  ApplyCounts counts;
  int64_t applied_at = 0;  // micros
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

class Pool {
 public:
  virtual ~Pool() = default;
  // Starts the transaction that applies file `seq` to `table`.
  virtual Result<std::unique_ptr<LoadTransaction>> BeginLoad(const TableSpec& table,
                                                             int64_t seq) = 0;
  // The applied record of `seq`, if the pool holds it.
  virtual Result<std::optional<AppliedFile>> FindApplied(int64_t seq) = 0;
  // Runs one SQL statement (read-only use is the CLI's business) and returns its rows.
  virtual Result<QueryResult> Query(const std::string& sql) = 0;
};

// The embedded default: one SQLite file (WAL, synchronous=NORMAL, large page cache).
Result<std::unique_ptr<Pool>> OpenSqlitePool(const std::string& path, const Clock& clock);

}  // namespace sluice::pool
