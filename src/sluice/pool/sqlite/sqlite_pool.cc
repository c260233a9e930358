// The SQLite pool: one writer connection (serialised by a mutex that a LoadTransaction holds
// for its lifetime) and one read connection for FindApplied and Query. In WAL mode the
// reader sees the last committed state while a load is running.

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "sluice/pool/pool.h"
#include "sluice/pool/sqlite/sqlite_db.h"
#include "sluice/pool/sqlite/type_map.h"

namespace sluice::pool {
namespace sqlite {
namespace {

// Rows a Query may return: the result is materialised as strings for the CLI, so an
// unbounded SELECT on a large table must fail with advice instead of exhausting memory.
constexpr size_t kMaxQueryRows = 1'000'000;

constexpr const char* kMetaSchema =
    "CREATE TABLE IF NOT EXISTS _sluice_applied("
    "seq INTEGER PRIMARY KEY, table_name TEXT NOT NULL, inserted INTEGER NOT NULL, "
    "updated INTEGER NOT NULL, refused INTEGER NOT NULL, applied_at INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS _sluice_columns("
    "table_name TEXT NOT NULL, column_name TEXT NOT NULL, position INTEGER NOT NULL, "
    "type_name TEXT NOT NULL, type_key TEXT NOT NULL, declared_type TEXT NOT NULL, "
    "pk_position INTEGER, PRIMARY KEY(table_name, column_name)) WITHOUT ROWID;";

// SQLite compares identifiers ASCII-case-insensitively; so must the schema bookkeeping.
std::string Fold(std::string_view name) {
  std::string out(name);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

int FindColumn(const batch::Schema& schema, std::string_view name) {
  std::string folded = Fold(name);
  for (size_t i = 0; i < schema.fields.size(); ++i) {
    if (Fold(schema.fields[i].name) == folded) return static_cast<int>(i);
  }
  return -1;
}

struct StoredColumn {
  std::string name;
  std::string type_name;
  std::string type_key;
  int pk_position = -1;
};

// The pool's view of one table, read from _sluice_columns inside the load transaction.
struct TableState {
  bool exists = false;
  std::vector<StoredColumn> columns;
  std::unordered_map<std::string, size_t> by_folded_name;
  bool rowid_key = false;  // single integer key declared INTEGER PRIMARY KEY

  void Add(StoredColumn c) {
    by_folded_name[Fold(c.name)] = columns.size();
    columns.push_back(std::move(c));
  }
};

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

class SqliteLoad final : public LoadTransaction {
 public:
  SqliteLoad(Connection* db, std::unique_lock<std::mutex> lock, TableSpec spec, int64_t seq)
      : db_(db), lock_(std::move(lock)), spec_(std::move(spec)), seq_(seq) {}

  ~SqliteLoad() override {
    statements_.clear();
    if (!committed_) db_->Exec("ROLLBACK").IgnoreError();
  }

  Status Apply(const batch::Batch& batch) override {
    if (!failed_.ok()) return failed_;
    Status st = ApplyImpl(batch);
    if (!st.ok()) failed_ = st;
    return st;
  }

  const ApplyCounts& counts() const override { return counts_; }

  Status Commit(int64_t applied_at) override {
    if (!failed_.ok()) return failed_;
    if (committed_) return Err(ErrorCode::kInvalidArgument, "the load is already committed");
    SLUICE_ASSIGN_OR_RETURN(
        Statement insert,
        db_->Prepare("INSERT INTO _sluice_applied(seq, table_name, inserted, updated, refused, "
                     "applied_at) VALUES(?, ?, ?, ?, ?, ?)"));
    sqlite3_stmt* s = insert.get();
    sqlite3_bind_int64(s, 1, seq_);
    sqlite3_bind_text(s, 2, spec_.name.data(), static_cast<int>(spec_.name.size()),
                      SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 3, counts_.inserted);
    sqlite3_bind_int64(s, 4, counts_.updated);
    sqlite3_bind_int64(s, 5, counts_.refused);
    sqlite3_bind_int64(s, 6, applied_at);
    Status st = StepDone(db_->get(), s, "recording applied file");
    if (st.code() == ErrorCode::kAlreadyExists) {
      st = Err(ErrorCode::kAlreadyExists,
               "file seq " + std::to_string(seq_) + " is already applied to the pool");
    }
    if (st.ok()) st = db_->Exec("COMMIT");
    if (!st.ok()) {
      failed_ = st;
      return st;
    }
    committed_ = true;
    statements_.clear();
    lock_.unlock();
    return Status::Ok();
  }

 private:
  Status ApplyImpl(const batch::Batch& batch);
  Status LoadState();
  Status CreateTable(const batch::Batch& batch, const std::vector<int>& pk_index);
  Status EvolveTable(const batch::Batch& batch);
  Status Retype(StoredColumn& stored, std::string type_name, std::string type_key);
  Status AddColumnRecord(const std::string& name, const batch::DataType& type,
                         const std::string& declared, int position, int pk_position);
  Result<sqlite3_stmt*> UpsertStatement(const batch::Batch& batch);

  Connection* db_;
  std::unique_lock<std::mutex> lock_;
  TableSpec spec_;
  int64_t seq_;
  ApplyCounts counts_;
  Status failed_;
  bool committed_ = false;
  bool state_loaded_ = false;
  TableState state_;
  int64_t rows_seen_ = 0;
  // Upsert statements by the batch's column list: one file's batches share one.
  std::unordered_map<std::string, Statement> statements_;
};

Status SqliteLoad::LoadState() {
  SLUICE_ASSIGN_OR_RETURN(Statement q, db_->Prepare("SELECT column_name, type_name, type_key, "
                                                    "pk_position FROM _sluice_columns WHERE "
                                                    "table_name = ? ORDER BY position"));
  sqlite3_bind_text(q.get(), 1, spec_.name.data(), static_cast<int>(spec_.name.size()),
                    SQLITE_STATIC);
  int rc;
  while ((rc = sqlite3_step(q.get())) == SQLITE_ROW) {
    StoredColumn c;
    c.name = reinterpret_cast<const char*>(sqlite3_column_text(q.get(), 0));
    c.type_name = reinterpret_cast<const char*>(sqlite3_column_text(q.get(), 1));
    c.type_key = reinterpret_cast<const char*>(sqlite3_column_text(q.get(), 2));
    c.pk_position =
        sqlite3_column_type(q.get(), 3) == SQLITE_NULL ? -1 : sqlite3_column_int(q.get(), 3);
    state_.Add(std::move(c));
  }
  if (rc != SQLITE_DONE) return SqliteError(db_->get(), rc, "reading the pool schema");
  state_.exists = !state_.columns.empty();
  if (state_.exists) {
    std::vector<std::string> stored_pk(spec_.primary_key.size());
    size_t pk_count = 0;
    for (const StoredColumn& c : state_.columns) {
      if (c.pk_position < 0) continue;
      ++pk_count;
      if (static_cast<size_t>(c.pk_position) < stored_pk.size()) {
        stored_pk[static_cast<size_t>(c.pk_position)] = Fold(c.name);
      }
    }
    bool same = pk_count == spec_.primary_key.size();
    for (size_t i = 0; same && i < stored_pk.size(); ++i) {
      same = stored_pk[i] == Fold(spec_.primary_key[i]);
    }
    if (!same) {
      std::string stored;
      for (const StoredColumn& c : state_.columns) {
        if (c.pk_position >= 0) stored += (stored.empty() ? "" : ", ") + c.name;
      }
      return Err(ErrorCode::kSchemaMismatch, "table '" + spec_.name + "' has primary key (" +
                                                 stored +
                                                 "), which differs from the configured key");
    }
    if (spec_.primary_key.size() == 1) {
      const StoredColumn& key = state_.columns[state_.by_folded_name[Fold(spec_.primary_key[0])]];
      state_.rowid_key = key.type_key == "TINYINT" || key.type_key == "SMALLINT" ||
                         key.type_key == "INTEGER" || key.type_key == "BIGINT" ||
                         key.type_key == "UTINYINT" || key.type_key == "USMALLINT" ||
                         key.type_key == "UINTEGER" || key.type_key == "UBIGINT";
    }
  }
  state_loaded_ = true;
  return Status::Ok();
}

Status SqliteLoad::AddColumnRecord(const std::string& name, const batch::DataType& type,
                                   const std::string& declared, int position, int pk_position) {
  SLUICE_ASSIGN_OR_RETURN(
      Statement ins,
      db_->Prepare("INSERT INTO _sluice_columns(table_name, column_name, position, type_name, "
                   "type_key, declared_type, pk_position) VALUES(?, ?, ?, ?, ?, ?, ?)"));
  std::string type_name = batch::TypeName(type);
  std::string type_key = TypeKey(type);
  sqlite3_stmt* s = ins.get();
  sqlite3_bind_text(s, 1, spec_.name.c_str(), -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 2, name.c_str(), -1, SQLITE_STATIC);
  sqlite3_bind_int(s, 3, position);
  sqlite3_bind_text(s, 4, type_name.c_str(), -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 5, type_key.c_str(), -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 6, declared.c_str(), -1, SQLITE_STATIC);
  if (pk_position >= 0) {
    sqlite3_bind_int(s, 7, pk_position);
  } else {
    sqlite3_bind_null(s, 7);
  }
  SLUICE_RETURN_IF_ERROR(StepDone(db_->get(), s, "recording column '" + name + "'"));
  state_.Add(StoredColumn{name, std::move(type_name), std::move(type_key), pk_position});
  return Status::Ok();
}

Status SqliteLoad::CreateTable(const batch::Batch& batch, const std::vector<int>& pk_index) {
  const auto& fields = batch.schema->fields;
  bool rowid_key = pk_index.size() == 1 && IsIntegerType(fields[pk_index[0]].type.id);
  std::string sql = "CREATE TABLE " + QuoteIdent(spec_.name) + "(";
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) sql += ", ";
    sql += QuoteIdent(fields[i].name);
    if (rowid_key && static_cast<int>(i) == pk_index[0]) {
      // The rowid alias: the key is the b-tree key, no separate unique index (~30 % faster).
      sql += " INTEGER PRIMARY KEY";
      continue;
    }
    std::string declared = DeclaredType(fields[i].type);
    if (!declared.empty()) sql += " " + declared;
  }
  if (!rowid_key) {
    sql += ", PRIMARY KEY(";
    for (size_t k = 0; k < pk_index.size(); ++k) {
      if (k > 0) sql += ", ";
      sql += QuoteIdent(fields[pk_index[k]].name);
    }
    sql += ")";
  }
  sql += ")";
  SLUICE_RETURN_IF_ERROR(db_->Exec(sql).WithContext("creating table '" + spec_.name + "'"));
  for (size_t i = 0; i < fields.size(); ++i) {
    auto it = std::find(pk_index.begin(), pk_index.end(), static_cast<int>(i));
    int pk_position = it == pk_index.end() ? -1 : static_cast<int>(it - pk_index.begin());
    std::string declared =
        rowid_key && pk_position == 0 ? std::string("INTEGER") : DeclaredType(fields[i].type);
    SLUICE_RETURN_IF_ERROR(AddColumnRecord(fields[i].name, fields[i].type, declared,
                                           static_cast<int>(i), pk_position));
  }
  state_.exists = true;
  state_.rowid_key = rowid_key;
  return Status::Ok();
}

Status SqliteLoad::Retype(StoredColumn& stored, std::string type_name, std::string type_key) {
  SLUICE_ASSIGN_OR_RETURN(Statement up, db_->Prepare("UPDATE _sluice_columns SET type_name = ?, "
                                                     "type_key = ? WHERE table_name = ? AND "
                                                     "column_name = ?"));
  sqlite3_bind_text(up.get(), 1, type_name.c_str(), -1, SQLITE_STATIC);
  sqlite3_bind_text(up.get(), 2, type_key.c_str(), -1, SQLITE_STATIC);
  sqlite3_bind_text(up.get(), 3, spec_.name.c_str(), -1, SQLITE_STATIC);
  sqlite3_bind_text(up.get(), 4, stored.name.c_str(), -1, SQLITE_STATIC);
  SLUICE_RETURN_IF_ERROR(
      StepDone(db_->get(), up.get(), "retyping column '" + stored.name + "' as " + type_name));
  stored.type_name = std::move(type_name);
  stored.type_key = std::move(type_key);
  return Status::Ok();
}

Status SqliteLoad::EvolveTable(const batch::Batch& batch) {
  for (const batch::Field& f : batch.schema->fields) {
    auto it = state_.by_folded_name.find(Fold(f.name));
    if (it == state_.by_folded_name.end()) {
      std::string declared = DeclaredType(f.type);
      std::string sql = "ALTER TABLE " + QuoteIdent(spec_.name) + " ADD COLUMN " +
                        QuoteIdent(f.name) + (declared.empty() ? "" : " " + declared);
      SLUICE_RETURN_IF_ERROR(
          db_->Exec(sql).WithContext("adding column '" + f.name + "' to '" + spec_.name + "'"));
      SLUICE_RETURN_IF_ERROR(
          AddColumnRecord(f.name, f.type, declared, static_cast<int>(state_.columns.size()), -1));
      continue;
    }
    StoredColumn& stored = state_.columns[it->second];
    std::string key = TypeKey(f.type);
    if (key == stored.type_key || f.type.id == batch::TypeId::kNull) continue;
    std::string widened;
    if (stored.type_key == "\"NULL\"") {
      // The column so far held only nulls (an all-null column of an earlier file): the
      // first typed file decides its logical type. Its declared type has no affinity.
      SLUICE_RETURN_IF_ERROR(Retype(stored, batch::TypeName(f.type), key));
      continue;
    }
    switch (ClassifyTypeChange(stored.type_key, f.type, stored.pk_position >= 0, &widened)) {
      case TypeChange::kFits:
        continue;
      case TypeChange::kWiden:
        SLUICE_RETURN_IF_ERROR(Retype(stored, widened, widened));
        continue;
      case TypeChange::kIncompatible:
        break;
    }
    std::string file_type = batch::TypeName(f.type);
    if (file_type == stored.type_name) file_type = key;  // same name, different storage
    return Err(ErrorCode::kSchemaMismatch, "column '" + f.name + "' is stored as " +
                                               stored.type_name + ", the file has " + file_type);
  }
  return Status::Ok();
}

Result<sqlite3_stmt*> SqliteLoad::UpsertStatement(const batch::Batch& batch) {
  const auto& fields = batch.schema->fields;
  std::string cache_key;
  for (const batch::Field& f : fields) {
    cache_key += f.name;
    cache_key.push_back('\0');
  }
  auto it = statements_.find(cache_key);
  if (it != statements_.end()) return it->second.get();

  std::vector<bool> is_pk(fields.size(), false);
  for (const std::string& k : spec_.primary_key) is_pk[FindColumn(*batch.schema, k)] = true;
  std::string table = QuoteIdent(spec_.name);
  std::string cols, params, sets;
  for (size_t i = 0; i < fields.size(); ++i) {
    std::string col = QuoteIdent(fields[i].name);
    cols += (i ? ", " : "") + col;
    params += i ? ", ?" : "?";
    if (!is_pk[i]) sets += (sets.empty() ? "" : ", ") + col + " = excluded." + col;
  }
  std::string conflict;
  for (size_t k = 0; k < spec_.primary_key.size(); ++k) {
    conflict +=
        (k ? ", " : "") + QuoteIdent(fields[FindColumn(*batch.schema, spec_.primary_key[k])].name);
  }
  if (sets.empty()) {
    // Only key columns: an existing key is "updated" to itself so it counts as updated.
    std::string col = QuoteIdent(fields[FindColumn(*batch.schema, spec_.primary_key[0])].name);
    sets = col + " = excluded." + col;
  }
  std::string sql = "INSERT INTO " + table + "(" + cols + ") VALUES(" + params + ") ON CONFLICT(" +
                    conflict + ") DO UPDATE SET " + sets;
  if (!spec_.age_column.empty()) {
    std::string age = QuoteIdent(fields[FindColumn(*batch.schema, spec_.age_column)].name);
    // A null incoming age is older than every value; equal ages apply.
    sql += " WHERE " + table + "." + age + " IS NULL OR (excluded." + age +
           " IS NOT NULL AND excluded." + age + " >= " + table + "." + age + ")";
  }
  SLUICE_ASSIGN_OR_RETURN(Statement stmt, db_->Prepare(sql));
  sqlite3_stmt* raw = stmt.get();
  statements_.emplace(std::move(cache_key), std::move(stmt));
  return raw;
}

Status SqliteLoad::ApplyImpl(const batch::Batch& batch) {
  if (batch.schema == nullptr || batch.columns.size() != batch.schema->fields.size()) {
    return Err(ErrorCode::kInvalidArgument, "batch columns do not match its schema");
  }
  const auto& fields = batch.schema->fields;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (batch.columns[i].length != batch.num_rows) {
      return Err(ErrorCode::kInvalidArgument, "batch column '" + fields[i].name + "' has " +
                                                  std::to_string(batch.columns[i].length) +
                                                  " rows, the batch " +
                                                  std::to_string(batch.num_rows));
    }
    if (FindColumn(*batch.schema, fields[i].name) != static_cast<int>(i)) {
      return Err(ErrorCode::kInvalidArgument, "column '" + fields[i].name +
                                                  "' appears twice in the file (names compare "
                                                  "case-insensitively)");
    }
  }
  std::vector<int> pk_index;
  for (const std::string& k : spec_.primary_key) {
    int idx = FindColumn(*batch.schema, k);
    if (idx < 0) {
      return Err(ErrorCode::kPkNotFound, "primary key column '" + k + "' is not in the file");
    }
    const batch::Column& c = batch.columns[static_cast<size_t>(idx)];
    if (c.type.id == batch::TypeId::kNull && c.length > 0) {
      return Err(ErrorCode::kPkNull,
                 "primary key column '" + k + "' is null in row " + std::to_string(rows_seen_));
    }
    if (c.HasNulls()) {
      auto pos = std::find(c.validity.begin(), c.validity.end(), uint8_t{0});
      return Err(ErrorCode::kPkNull, "primary key column '" + k + "' is null in row " +
                                         std::to_string(rows_seen_ + (pos - c.validity.begin())));
    }
    pk_index.push_back(idx);
  }
  if (!spec_.age_column.empty() && FindColumn(*batch.schema, spec_.age_column) < 0) {
    return Err(ErrorCode::kAgeColumnNotFound,
               "age column '" + spec_.age_column + "' is not in the file");
  }
  for (size_t i = 0; i < fields.size(); ++i) {
    SLUICE_RETURN_IF_ERROR(CheckStorable(batch.columns[i], fields[i].name, rows_seen_));
  }

  if (!state_loaded_) SLUICE_RETURN_IF_ERROR(LoadState());
  if (!state_.exists) {
    SLUICE_RETURN_IF_ERROR(CreateTable(batch, pk_index));
  } else {
    SLUICE_RETURN_IF_ERROR(EvolveTable(batch));
  }
  if (batch.num_rows == 0) return Status::Ok();

  SLUICE_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, UpsertStatement(batch));
  std::vector<ColumnBinder> binders;
  binders.reserve(fields.size());
  for (size_t i = 0; i < fields.size(); ++i) {
    binders.push_back(MakeBinder(batch.columns[i], static_cast<int>(i) + 1));
  }
  sqlite3* db = db_->get();
  // Insert vs update: an INSERT sets last_insert_rowid to the new row's rowid; the DO UPDATE
  // branch leaves it alone. Before each step it is set to a sentinel no inserted row can
  // have: auto-assigned rowids are positive, and a rowid-alias key is the row's own key.
  const batch::Column* rowid_column =
      state_.rowid_key ? &batch.columns[static_cast<size_t>(pk_index[0])] : nullptr;
  constexpr int64_t kSentinel = std::numeric_limits<int64_t>::min();
  for (int64_t row = 0; row < batch.num_rows; ++row) {
    for (ColumnBinder& b : binders) {
      int rc = BindRow(stmt, b, row);
      if (rc != SQLITE_OK) {
        sqlite3_reset(stmt);
        return SqliteError(db, rc,
                           "binding column '" + fields[b.param - 1].name + "' row " +
                               std::to_string(rows_seen_ + row));
      }
    }
    int64_t sentinel = kSentinel;
    if (rowid_column != nullptr && rowid_column->Value<int64_t>(row) == kSentinel) sentinel = 0;
    sqlite3_set_last_insert_rowid(db, sentinel);
    int rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE) {
      Status st = SqliteError(
          db, rc,
          "upserting row " + std::to_string(rows_seen_ + row) + " into '" + spec_.name + "'");
      sqlite3_reset(stmt);
      return st;
    }
    sqlite3_reset(stmt);
    if (sqlite3_changes64(db) == 0) {
      ++counts_.refused;
    } else if (sqlite3_last_insert_rowid(db) != sentinel) {
      ++counts_.inserted;
    } else {
      ++counts_.updated;
    }
  }
  // Text parameters point into the batch (SQLITE_STATIC): drop them before it goes away.
  sqlite3_clear_bindings(stmt);
  rows_seen_ += batch.num_rows;
  return Status::Ok();
}

class SqlitePool final : public Pool {
 public:
  SqlitePool(Connection writer, Connection reader, const Clock& clock)
      : writer_(std::move(writer)), reader_(std::move(reader)), clock_(clock) {}

  Result<std::unique_ptr<LoadTransaction>> BeginLoad(const TableSpec& table, int64_t seq) override {
    if (table.name.empty()) return Err(ErrorCode::kInvalidArgument, "table name is empty");
    if (Fold(table.name).rfind("_sluice_", 0) == 0 || Fold(table.name).rfind("sqlite_", 0) == 0) {
      return Err(ErrorCode::kInvalidArgument, "table name '" + table.name + "' is reserved");
    }
    if (table.primary_key.empty()) {
      return Err(ErrorCode::kInvalidArgument, "table '" + table.name + "' has no primary key");
    }
    std::unique_lock<std::mutex> lock(writer_mutex_);
    SLUICE_RETURN_IF_ERROR(writer_.Exec("BEGIN IMMEDIATE"));
    auto load = std::make_unique<SqliteLoad>(&writer_, std::move(lock), table, seq);
    // From here the load owns the transaction: returning drops it and rolls back.
    SLUICE_ASSIGN_OR_RETURN(Statement q,
                            writer_.Prepare("SELECT 1 FROM _sluice_applied WHERE seq = ?"));
    sqlite3_bind_int64(q.get(), 1, seq);
    int rc = sqlite3_step(q.get());
    if (rc == SQLITE_ROW) {
      return Err(ErrorCode::kAlreadyExists,
                 "file seq " + std::to_string(seq) + " is already applied to the pool");
    }
    if (rc != SQLITE_DONE) return SqliteError(writer_.get(), rc, "checking applied files");
    return std::unique_ptr<LoadTransaction>(std::move(load));
  }

  Result<std::optional<AppliedFile>> FindApplied(int64_t seq) override {
    std::lock_guard<std::mutex> lock(reader_mutex_);
    SLUICE_ASSIGN_OR_RETURN(Statement q,
                            reader_.Prepare("SELECT table_name, inserted, updated, refused, "
                                            "applied_at FROM _sluice_applied WHERE seq = ?"));
    sqlite3_bind_int64(q.get(), 1, seq);
    int rc = sqlite3_step(q.get());
    if (rc == SQLITE_DONE) return std::optional<AppliedFile>();
    if (rc != SQLITE_ROW) return SqliteError(reader_.get(), rc, "reading applied files");
    AppliedFile f;
    f.seq = seq;
    f.table = reinterpret_cast<const char*>(sqlite3_column_text(q.get(), 0));
    f.counts.inserted = sqlite3_column_int64(q.get(), 1);
    f.counts.updated = sqlite3_column_int64(q.get(), 2);
    f.counts.refused = sqlite3_column_int64(q.get(), 3);
    f.applied_at = sqlite3_column_int64(q.get(), 4);
    return std::optional<AppliedFile>(std::move(f));
  }

  Result<QueryResult> Query(const std::string& sql) override {
    std::lock_guard<std::mutex> lock(reader_mutex_);
    SLUICE_ASSIGN_OR_RETURN(Statement q, reader_.Prepare(sql));
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
    if (rc != SQLITE_DONE) return SqliteError(reader_.get(), rc, "running the query");
    return out;
  }

 private:
  std::mutex writer_mutex_;  // held by the open LoadTransaction
  Connection writer_;
  std::mutex reader_mutex_;
  Connection reader_;
  [[maybe_unused]] const Clock& clock_;
};

}  // namespace
}  // namespace sqlite

Result<std::unique_ptr<Pool>> OpenSqlitePool(const std::string& path, const Clock& clock) {
  SLUICE_ASSIGN_OR_RETURN(sqlite::Connection writer, sqlite::Connection::Open(path));
  SLUICE_RETURN_IF_ERROR(writer.Exec(sqlite::kMetaSchema).WithContext("creating pool metadata"));
  SLUICE_ASSIGN_OR_RETURN(sqlite::Connection reader, sqlite::Connection::Open(path));
  return std::unique_ptr<Pool>(
      std::make_unique<sqlite::SqlitePool>(std::move(writer), std::move(reader), clock));
}

}  // namespace sluice::pool
