#pragma once
// Private to pool/sqlite: the SQLite load transaction, one file applied to one table. It
// creates and evolves the table (recording each change in _sluice_schema_history), upserts
// rows under the age rule, applies delete rows and keeps their tombstones (pool.h). It holds
// the writer's transaction and mutex for its lifetime. Schema work is in sqlite_schema.cc,
// row work in sqlite_load.cc.

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sluice/core/core.h"
#include "sluice/pool/pool.h"
#include "sluice/pool/sqlite/sqlite_db.h"
#include "sluice/pool/sqlite/type_map.h"

namespace sluice::pool::sqlite {

// SQLite compares identifiers ASCII-case-insensitively; so must the schema bookkeeping.
std::string Fold(std::string_view name);

// The hidden table holding the tombstones of `table` (pool.h, "Deletes").
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
    by_folded_name[Fold(c.name)] = columns.size();
    columns.push_back(std::move(c));
  }
  const StoredColumn* Find(std::string_view name) const {
    auto it = by_folded_name.find(Fold(name));
    return it == by_folded_name.end() ? nullptr : &columns[it->second];
  }
};

class SqliteLoad final : public LoadTransaction {
 public:
  SqliteLoad(Connection* db, std::unique_lock<std::mutex> lock, TableSpec spec, int64_t seq,
             const Clock& clock)
      : db_(db), lock_(std::move(lock)), spec_(std::move(spec)), seq_(seq), clock_(clock) {}

  ~SqliteLoad() override {
    ReleaseStatements();
    if (!committed_) db_->Exec("ROLLBACK").IgnoreError();
  }

  Status Apply(const batch::Batch& batch) override {
    if (!failed_.ok()) return failed_;
    Status st = ApplyImpl(batch);
    if (!st.ok()) failed_ = st;
    return st;
  }

  const ApplyCounts& counts() const override { return counts_; }

  Status Commit(int64_t applied_at) override;

 private:
  Status ApplyImpl(const batch::Batch& batch);
  template <bool kDeletes, bool kTombstones>
  Status ApplyRows(const batch::Batch& batch, const std::vector<int>& stored, sqlite3_stmt* stmt,
                   std::vector<ColumnBinder>& binders, const std::vector<uint8_t>& deletes,
                   const batch::Column* rowid_column);
  Status DeleteRow(int64_t row);
  Status CheckTombstone(int64_t row, bool* keep);
  Status PrepareRowStatements(bool deletes, bool tombstones);
  Status BindKey(sqlite3_stmt* stmt, int64_t row, bool with_age);
  Status StepRow(sqlite3_stmt* stmt, const char* action, int64_t row);
  void ClearRowBindings();
  void ReleaseStatements();

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

  Connection* db_;
  std::unique_lock<std::mutex> lock_;
  TableSpec spec_;
  int64_t seq_;
  const Clock& clock_;
  ApplyCounts counts_;
  Status failed_;
  bool committed_ = false;
  bool state_loaded_ = false;
  TableState state_;
  int64_t rows_seen_ = 0;
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

// The caller holds `lock` (the writer mutex) and has run BEGIN IMMEDIATE on `db`; the load
// takes both over: Commit commits and unlocks, destruction without Commit rolls back.
std::unique_ptr<LoadTransaction> NewLoad(Connection* db, std::unique_lock<std::mutex> lock,
                                         TableSpec spec, int64_t seq, const Clock& clock);

}  // namespace sluice::pool::sqlite
