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
};

struct ApplyCounts {
  int64_t inserted = 0;
  int64_t updated = 0;
  int64_t refused = 0;  // refused as stale by the age rule
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
