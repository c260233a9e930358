#pragma once
// Private to pool/postgres: the PostgreSQL pool's pieces. How logical types are stored and
// copied (pg_types.cc), a table's schema work (pg_schema.cc), the load of one file's batches
// into one table through a staging table (pg_load.cc) and the pool itself (pg_pool.cc). The
// rules are docs/design/pool.md's; "PostgreSQL storage" there says how they map to PostgreSQL.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sluice/batch/batch.h"
#include "sluice/core/core.h"
#include "sluice/core/text.h"
#include "sluice/pool/pool.h"
#include "sluice/pool/rules_internal.h"
#include "sluice/postgres/postgres.h"

namespace sluice::pool::postgres {

using ::sluice::postgres::Conn;
using ::sluice::postgres::CopyWriter;
using ::sluice::postgres::Params;
using ::sluice::postgres::QuoteIdent;
using ::sluice::postgres::QuoteLiteral;
using ::sluice::postgres::Rows;
using ::sluice::postgres::Transaction;

// The schema that holds the pool's bookkeeping and the tombstone tables.
inline constexpr std::string_view kMetaSchema = "_sluice";
// The tombstone table's age column (docs/design/pool.md, "Deletes").
inline constexpr std::string_view kTombstoneAge = "_sluice_age";

// --- Types (pg_types.cc) ---------------------------------------------------------------------

// The PostgreSQL type a logical type is stored as: "boolean"; "smallint", "integer" or
// "bigint" (the narrowest that holds the integer type); "numeric(20,0)" for UBIGINT; "real",
// "double precision"; "numeric(p,s)"; "text" (VARCHAR, and an all-null column until a file
// gives it a type); "jsonb" (JSON, and LIST, STRUCT, MAP as canonical JSON); "bytea"; "uuid";
// "date"; "time"; "timestamp", or "timestamptz" when adjusted to UTC; "interval".
std::string PgType(const batch::DataType& type);

// How a file's column type relates to a stored column (docs/design/pool.md, "Schema"): the
// logical rules of the SQLite pool (one contract), except that a decimal's precision may grow
// at the same scale without limit (numeric has no storage classes). On kWiden, `*widened` is
// the new type key and `*pg_type` its PostgreSQL type.
enum class Change { kFits, kWiden, kIncompatible };
Change Classify(std::string_view stored_key, const batch::DataType& file, bool key_column,
                std::string* widened, std::string* pg_type, std::string* reason);
// The logical type key (TypeKey of the SQLite pool: the same keys in both pools).
std::string KeyOf(const batch::DataType& type);

// The SQL identifier for `name`: itself when PostgreSQL keeps it whole (<= 63 bytes), else its
// first bytes (cut on a UTF-8 boundary), '_' and 16 hex digits of a hash of the whole name:
// deterministic, so every node and every load derive the same one; recorded in the metadata.
std::string SqlName(std::string_view name);

// How one batch column goes into its staging column.
enum class Enc : uint8_t {
  kNull,
  kBool,
  kInt2,
  kInt4,
  kInt8,
  kIntAsFloat8,  // an integer into a double precision column
  kIntAsNumeric,
  kUInt64AsNumeric,
  kUInt64AsFloat8,
  kFloat4,
  kFloatAsFloat8,
  kFloat8,
  kDecimal,
  kText,  // VARCHAR (no NUL bytes)
  kBytea,
  kJsonb,  // JSON text
  kUuid,
  kDate,
  kDateAsTimestamp,
  kTime,
  kTimestamp,
  kInterval,
  kCanonicalJsonb,  // LIST, STRUCT, MAP
};

struct Encoder {
  const batch::Column* column = nullptr;
  Enc kind = Enc::kNull;
  std::string name;     // the column's name, for errors
  std::string scratch;  // canonical JSON
};

// The encoder of `column` into a staging column of PostgreSQL type `pg_type`.
Encoder MakeEncoder(const batch::Column& column, std::string name, std::string_view pg_type);
// Appends row `row` of the encoder's column to the COPY tuple. Values PostgreSQL cannot hold
// fail with SCHEMA_MISMATCH naming `table`, the column and `file_row`: text with a NUL byte,
// timestamps and times with sub-microsecond digits.
Status EncodeValue(CopyWriter& copy, Encoder& e, int64_t row, int64_t file_row,
                   std::string_view table);

// --- Sessions ---------------------------------------------------------------------------------

// One connection of the pool and what it has created in its session: the staging tables by
// column layout (TEMP, ON COMMIT DELETE ROWS: created once per connection and layout, emptied
// by every commit) and the plan table.
struct Session {
  std::unique_ptr<Conn> conn;
  std::map<std::string, std::string> staging;  // layout -> table name
  int next_staging = 0;
  bool plan_table = false;
  // What this transaction has put in staging tables (emptied before their next use).
  std::vector<std::string> dirty;
  // Schemas this connection has made sure exist (BeginLoad, outside the load's transaction).
  std::vector<std::string> schemas;

  // A rolled-back transaction takes the tables it created with it: forget them all.
  void ForgetTempTables() {
    staging.clear();
    plan_table = false;
    dirty.clear();
  }
};

// --- The table writer (pg_schema.cc, pg_load.cc) ----------------------------------------------

struct StoredColumn {
  std::string name;      // as first seen in a file
  std::string sql_name;  // the PostgreSQL identifier (SqlName)
  std::string type_name;
  std::string type_key;
  std::string pg_type;
  int pk_position = -1;
};

// Whether a stored column holds a file column of `type` as it is (EvolveTable changes
// nothing for it): the same type key, an all-null file column, or a type that fits.
bool Holds(const StoredColumn& stored, const batch::DataType& type);

struct TableState {
  bool exists = false;
  std::string sql_name;
  std::string tomb_sql_name;  // empty: no tombstone table yet
  bool has_tombstones = false;
  std::vector<StoredColumn> columns;
  std::unordered_map<std::string, size_t> by_folded_name;

  void Add(StoredColumn c) {
    by_folded_name[AsciiLowered(c.name)] = columns.size();
    columns.push_back(std::move(c));
  }
  StoredColumn* Find(std::string_view name) {
    auto it = by_folded_name.find(AsciiLowered(name));
    return it == by_folded_name.end() ? nullptr : &columns[it->second];
  }
  const StoredColumn* Find(std::string_view name) const {
    auto it = by_folded_name.find(AsciiLowered(name));
    return it == by_folded_name.end() ? nullptr : &columns[it->second];
  }
};

// Writes the batches of one file into one table, inside the transaction its load holds.
class TableWriter {
 public:
  TableWriter(Session* session, TableSpec spec, int64_t seq, const Clock& clock)
      : session_(session), spec_(std::move(spec)), seq_(seq), clock_(clock) {}

  // Checks, creates or evolves the table, stages the batch, applies it; counts accumulate.
  Status ApplyBatch(const batch::Batch& batch);

  // The reads that learn the stored table (for a pipeline with the load's BEGIN): its
  // fingerprint (StateGuard), its row in _sluice.tables, its columns. UseState takes the
  // last two; without them the first batch reads them itself.
  std::vector<::sluice::postgres::Statement> StateReads() const;
  Status UseState(const Rows& table, const Rows& columns);
  // Takes the stored table as an earlier load read it (the pool's cache) instead.
  void UseCachedState(TableState state);
  // The one-round-trip form of a batch: true when `batch` applies by one statement against
  // the state known already (UseCachedState), changing nothing of the table (no new or
  // retyped column, no delete, no tombstone to consult, no repeated key, at most
  // kSmallBatchRows rows); `*upsert` is then that statement, "INSERT ... RETURNING (t.xmax =
  // 0) AS inserted", with the rows as binary parameters (no SQL for a batch of no rows).
  // Neither the counts nor the rows seen move. False: nothing was done, and the batch goes
  // the ordinary way. An error is the batch's (as ApplyBatch would report it).
  Result<bool> Defer(const batch::Batch& batch, ::sluice::postgres::Statement* upsert);
  // Whether this load created the table or changed its layout (a column, a tombstone table).
  bool layout_changed() const { return layout_changed_; }

  const TableSpec& spec() const { return spec_; }
  const ApplyCounts& counts() const { return counts_; }
  ApplyCounts& mutable_counts() { return counts_; }
  // The table as SQL: "schema"."table".
  std::string Qualified() const;
  TableState& state() { return state_; }
  int64_t rows_seen() const { return rows_seen_; }

  // Prepares `batch` (checks, schema, staging) without applying it; Stage fills the staging
  // table. Used by the nested load, which decides per row what applies.
  Status Prepare(const batch::Batch& batch, std::vector<int>* stored, std::vector<uint8_t>* deletes,
                 bool* any_delete);
  // Prepare's checks of the batch alone (names, keys, delete flags), which need no state.
  Status Validate(const batch::Batch& batch, std::vector<int>* stored,
                  std::vector<uint8_t>* deletes, bool* any_delete);
  // `tag` keeps the staging tables of a nested load's tables apart (each needs its rows until
  // the batch is done); `indexed` gives the staging table a primary key on _sluice_row, for
  // the nested load's statements that read one staged row each.
  Status Stage(const batch::Batch& batch, const std::vector<int>& stored,
               const std::vector<uint8_t>& deletes, const std::string& tag, bool indexed,
               std::string* staging, bool* duplicate_keys);
  // Applies the staged batch: the fast statement when it is exact, else (or when
  // `force_plan`) the plan; counts it.
  Status ApplyStaged(const batch::Batch& batch, const std::vector<int>& stored,
                     const std::string& staging, bool any_delete, bool duplicate_keys,
                     bool force_plan = false);
  // Sends the INSERT that stages a small batch, when Stage left one (the nested load's child
  // tables, which read their staged rows one statement at a time).
  Status FlushSmallStage();
  // After a planned apply: each staged row's outcome, in row order.
  Result<std::vector<RowOutcome>> PlannedOutcomes(int64_t rows);
  void Advance(int64_t rows) { rows_seen_ += rows; }

 private:
  Status LoadState();
  Status CreateTable(const batch::Batch& batch, const std::vector<int>& stored,
                     const std::vector<int>& pk_index);
  Status EvolveTable(const batch::Batch& batch, const std::vector<int>& stored);
  Status Retype(StoredColumn& stored, const std::string& type_name, const std::string& type_key,
                const std::string& pg_type, const std::string& using_expr);
  Status EnsureTombstoneTable();
  Status AddColumnRecord(const batch::Field& field, int position, int pk_position);
  Status RecordChange(SchemaChangeKind kind, const std::string& column, const std::string& old_type,
                      const std::string& new_type);
  Result<std::string> StagingTable(const std::vector<std::string>& pg_types, const std::string& tag,
                                   bool indexed);
  Status FastApply(const batch::Batch& batch, const std::vector<int>& stored,
                   const std::string& staging);
  // "INSERT INTO <table> AS t(<the file's columns>) <rows> ON CONFLICT (<key>) DO UPDATE SET
  // <the file's other columns> [WHERE <age rule>] RETURNING (t.xmax = 0) AS inserted", where
  // `rows` yields the batch's stored columns in order: exact when no key repeats and there
  // is no delete and no tombstone to consult.
  std::string UpsertSql(const batch::Batch& batch, const std::vector<int>& stored,
                        const std::string& rows) const;
  Status PlannedApply(const batch::Batch& batch, const std::vector<int>& stored,
                      const std::string& staging);
  std::string TombQualified() const;
  Status NameStagingColumn(Status st, const batch::Batch& batch,
                           const std::vector<int>& stored) const;

  // A batch of at most kSmallBatchRows is staged by one INSERT with binary parameters, sent in
  // one pipeline with the statement that applies it (Stage leaves it here).
  static constexpr int64_t kSmallBatchRows = 64;
  std::optional<::sluice::postgres::Statement> small_stage_;

  Session* session_;
  TableSpec spec_;
  int64_t seq_;
  const Clock& clock_;
  ApplyCounts counts_;
  bool state_loaded_ = false;
  bool layout_changed_ = false;
  TableState state_;
  int64_t rows_seen_ = 0;
};

// A stored table as a load read it, kept by the pool for the table's next load (whose small
// file then needs no reads: the one-round-trip path), with its fingerprint.
struct CachedTable {
  std::string fingerprint;
  TableState state;
};

// The statement that fails the transaction (_sluice.refuse) unless table `table` of `schema`
// still has `fingerprint` (the first of TableWriter::StateReads): what the one-round-trip
// path sends ahead of its rows, as it writes without reading the table first.
::sluice::postgres::Statement StateGuard(const std::string& schema, const std::string& table,
                                         const std::string& fingerprint);

// Opens the load's transaction and checks in the same round trip that file `seq` is not
// applied yet (kAlreadyExists).
Status BeginLoadTransaction(Transaction& txn, int64_t seq);
// The query of file `seq`'s counts as _sluice.applied holds them: the `counts` an
// InTransactionWrite reads.
std::string CountsQuery(int64_t seq);
// Ends a load in one round trip: `record` (RecordAppliedSql), the caller's `write` (may be
// empty) and COMMIT. A second applier of `seq` fails with kAlreadyExists; any failure rolls
// back.
Status CommitLoad(Transaction& txn, Session& session, int64_t seq, const std::string& record,
                  const InTransactionWrite& write);

// Hands a load's session back to the pool when the load ends.
using ReleaseSession = std::function<void(std::unique_ptr<Session>)>;

// The nested load (pg_nested.cc) on `session`, whose schema exists.
Result<std::unique_ptr<NestedLoadTransaction>> BeginNestedLoad(std::unique_ptr<Session> session,
                                                               ReleaseSession release,
                                                               const NestedSpec& spec, int64_t seq,
                                                               const Clock& clock);

// The metadata DDL (run once at open, under an advisory lock).
extern const char* const kMetaDdl;

// The statement that records file `seq` (and, for a nested load, every table's counts).
std::string RecordAppliedSql(int64_t seq, const std::string& schema, const std::string& table,
                             const ApplyCounts& counts, int64_t applied_at,
                             const std::vector<TableCounts>& tables);

}  // namespace sluice::pool::postgres
