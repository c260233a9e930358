#pragma once
// Private to pool/sqlite: the SQLite load transaction, one file applied to one table. A
// TableWriter creates and evolves a table (recording each change in _sluice_schema_history),
// upserts rows under the age rule, applies delete rows and keeps their tombstones
// (docs/design/pool.md); a SqliteLoad holds the writer's transaction and mutex for its lifetime
// around one writer (a nested load, sqlite_nested_internal.h, around one per derived table). Schema
// work is in sqlite_schema.cc, row work in sqlite_load.cc.

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sluice/core/core.h"
#include "sluice/core/text.h"
#include "sluice/pool/pool.h"
#include "sluice/pool/rules_internal.h"
#include "sluice/pool/sqlite/type_map_internal.h"
#include "sluice/sqlite/sqlite.h"

namespace sluice::pool::sqlite {

// The shared SQLite layer (sluice/sqlite), under the names this folder has always used.
using ::sluice::sqlite::Db;
using ::sluice::sqlite::QuoteIdent;
using ::sluice::sqlite::Statement;
using ::sluice::sqlite::WriteTransaction;

// SQLite compares identifiers ASCII-case-insensitively; so must the schema bookkeeping.

// The hidden table holding the tombstones of `table` (docs/design/pool.md, "Deletes").
std::string TombstoneTable(std::string_view table);

// The tombstone table's age column: a fixed name, so renaming the configured age column does
// not orphan the tombstones.
inline constexpr std::string_view kTombstoneAge = "_sluice_age";

struct StoredColumn {
  std::string name;
  std::string type_name;
  std::string type_key;
  std::string declared;
  int pk_position = -1;
};

// The pool's view of one table, read from _sluice_columns inside the load transaction.
struct TableState {
  bool exists = false;
  std::vector<StoredColumn> columns;
  std::unordered_map<std::string, size_t> by_folded_name;
  bool rowid_key = false;        // single integer key declared INTEGER PRIMARY KEY
  bool tombstone_table = false;  // _sluice_tombstones_<table> exists
  bool has_tombstones = false;   // ... and may hold rows

  void Add(StoredColumn c) {
    by_folded_name[AsciiLowered(c.name)] = columns.size();
    columns.push_back(std::move(c));
  }
  const StoredColumn* Find(std::string_view name) const {
    auto it = by_folded_name.find(AsciiLowered(name));
    return it == by_folded_name.end() ? nullptr : &columns[it->second];
  }
};

// Writes the rows of one table inside a transaction someone else holds (a SqliteLoad for a
// flat table, a nested load for each derived table). Per batch: Begin (checks, creates or
// evolves the table, prepares the row statements and binders), then either every row at once
// (ApplyBatch's loop) or row by row (Row, for a nested load that interleaves a parent row
// with its children), then End. Counts accumulate over the load.
class TableWriter {
 public:
  TableWriter(Db* db, TableSpec spec, int64_t seq, const Clock& clock)
      : db_(db), spec_(std::move(spec)), seq_(seq), clock_(clock) {}
  ~TableWriter() { ReleaseStatements(); }
  TableWriter(const TableWriter&) = delete;
  TableWriter& operator=(const TableWriter&) = delete;

  // Begin, every row in batch order, End.
  Status ApplyBatch(const batch::Batch& batch);
  // Prepares `batch` (kept borrowed until End) for Row.
  Status Begin(const batch::Batch& batch);
  // Applies row `row` of the begun batch and counts it.
  Status Row(int64_t row, RowOutcome* outcome);
  // Drops the bindings into the batch (text is bound in place) and advances the file row.
  void End();

  const TableSpec& spec() const { return spec_; }
  const ApplyCounts& counts() const { return counts_; }
  // Rows of this table a nested load did not write because of their parent (docs/design/pool.md,
  // "Nested loads").
  void CountSkipped(RowOutcome as, int64_t rows);
  // Whether the table exists in the pool (after Begin of a batch: always).
  bool exists() const { return state_.exists; }
  // The file row of the begun batch's row 0.
  int64_t rows_seen() const { return rows_seen_; }
  void ReleaseStatements();

 private:
  template <bool kDeletes, bool kTombstones>
  Status RowStep(int64_t row, RowOutcome* outcome);
  template <bool kDeletes, bool kTombstones>
  Status AllRows();
  Status DeleteRow(int64_t row, RowOutcome* outcome);
  Status CheckTombstone(int64_t row, bool* keep);
  Status PrepareRowStatements(bool deletes, bool tombstones);
  Status BindKey(sqlite3_stmt* stmt, int64_t row, bool with_age);
  Status StepRow(sqlite3_stmt* stmt, const char* action, int64_t row);
  void ClearRowBindings();

  Status LoadState();
  Status CreateTable(const batch::Batch& batch, const std::vector<int>& stored,
                     const std::vector<int>& pk_index);
  Status EvolveTable(const batch::Batch& batch, const std::vector<int>& stored);
  Status Retype(StoredColumn& stored, std::string type_name, std::string type_key);
  Status RewriteDatesAsTimestamps(const StoredColumn& column);
  Status EnsureTombstoneTable();
  Status AddColumnRecord(const std::string& name, const batch::DataType& type,
                         const std::string& declared, int position, int pk_position);
  Status RecordChange(SchemaChangeKind kind, const std::string& column, const std::string& old_type,
                      const std::string& new_type);
  Result<sqlite3_stmt*> UpsertStatement(const batch::Batch& batch, const std::vector<int>& stored);
  std::string KeyWhere() const;
  std::string StoredKeyOf(const batch::Field& f) const;

  Db* db_;
  TableSpec spec_;
  int64_t seq_;
  const Clock& clock_;
  ApplyCounts counts_;
  bool state_loaded_ = false;
  TableState state_;
  int64_t rows_seen_ = 0;
  // The begun batch (Begin..End).
  const batch::Batch* batch_ = nullptr;
  std::vector<int> stored_;  // batch columns written (all but the delete column)
  sqlite3_stmt* upsert_ = nullptr;
  std::vector<ColumnBinder> binders_;
  std::vector<uint8_t> deletes_;
  bool any_delete_ = false;
  bool tombstones_ = false;
  const batch::Column* rowid_column_ = nullptr;
  // Upsert statements by the batch's column list: one file's batches share one.
  std::unordered_map<std::string, Statement> statements_;
  // Prepared on first use, for the rest of the load. Keys bind ?1..?K, the age ?K+1.
  Statement delete_row_;   // DELETE of the key (with an age column: under the age rule)
  Statement delete_key_;   // DELETE of the key, unconditionally (undoes a refused insert)
  Statement row_exists_;   // SELECT 1 for the key
  Statement tomb_check_;   // SELECT <age rule vs the tombstone> for the key, if one exists
  Statement tomb_remove_;  // DELETE the key's tombstone
  Statement tomb_put_;     // INSERT or, under the age rule, UPDATE the key's tombstone
  Statement history_;      // INSERT INTO _sluice_schema_history
  // Binders of the current batch's key columns (params 1..K) and age column (K+1).
  std::vector<ColumnBinder> key_binders_;
  std::optional<ColumnBinder> age_binder_;
};

// Records file `seq` in _sluice_applied with `counts` under `table`, in the open transaction.
Status RecordApplied(Db* db, int64_t seq, const std::string& table, const ApplyCounts& counts,
                     int64_t applied_at);

// The flat load: one TableWriter in the writer's transaction.
class SqliteLoad final : public LoadTransaction {
 public:
  SqliteLoad(Db* db, std::unique_lock<std::mutex> lock, WriteTransaction txn, TableSpec spec,
             int64_t seq, const Clock& clock)
      : db_(db),
        lock_(std::move(lock)),
        txn_(std::move(txn)),
        seq_(seq),
        writer_(db, std::move(spec), seq, clock) {}

  // The statements go first, then the transaction rolls back (unless committed), then the
  // writer mutex is released: members are destroyed in reverse order.
  ~SqliteLoad() override { writer_.ReleaseStatements(); }

  Status Apply(const batch::Batch& batch) override {
    if (!failed_.ok()) return failed_;
    Status st = writer_.ApplyBatch(batch);
    if (!st.ok()) failed_ = st;
    return st;
  }

  const ApplyCounts& counts() const override { return writer_.counts(); }

  Status Commit(int64_t applied_at) override;

 private:
  Db* db_;
  std::unique_lock<std::mutex> lock_;
  WriteTransaction txn_;
  int64_t seq_;
  TableWriter writer_;
  Status failed_;
  bool committed_ = false;
};

// The caller holds `lock` (the writer mutex) and has begun `txn` on `db`; the load takes both
// over: Commit commits and unlocks, destruction without Commit rolls back.
std::unique_ptr<LoadTransaction> NewLoad(Db* db, std::unique_lock<std::mutex> lock,
                                         WriteTransaction txn, TableSpec spec, int64_t seq,
                                         const Clock& clock);

}  // namespace sluice::pool::sqlite
