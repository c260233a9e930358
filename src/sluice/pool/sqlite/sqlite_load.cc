// The rows half of the SQLite load transaction (sqlite_load_internal.h): Apply, upserts, deletes,
// tombstone checks and Commit.
//
// Row loop cost: a batch without a true delete, of a table without tombstones, runs the same
// loop as before deletes existed (AllRows<false, false>: one upsert step per row). Deletes
// and tombstone checks are template parameters, so only the batches that need them branch.
// With tombstones present, an inserted row costs one more index probe (is there a tombstone
// for this key?); updates cost nothing more, since a key never has a row and a tombstone.

#include <algorithm>
#include <limits>
#include <optional>
#include <unordered_map>
#include <vector>

#include "sluice/batch/keys.h"
#include "sluice/pool/sqlite/sqlite_load_internal.h"
#include "sluice/pool/sqlite/type_map_internal.h"

namespace sluice::pool::sqlite {

std::string TombstoneTable(std::string_view table) {
  return "_sluice_tombstones_" + std::string(table);
}

namespace {

// "stored IS NULL OR (incoming IS NOT NULL AND incoming >= stored)": the age rule.
std::string AgeRule(const std::string& stored, const std::string& incoming) {
  return "(" + stored + " IS NULL OR (" + incoming + " IS NOT NULL AND " + incoming +
         " >= " + stored + "))";
}

}  // namespace

Status RecordApplied(Db* db, int64_t seq, const std::string& table, const ApplyCounts& counts,
                     int64_t applied_at) {
  SLUICE_ASSIGN_OR_RETURN(
      Statement insert,
      db->Prepare("INSERT INTO _sluice_applied(seq, table_name, inserted, updated, refused, "
                  "deleted, applied_at) VALUES(?, ?, ?, ?, ?, ?, ?)"));
  sqlite3_stmt* s = insert.get();
  sqlite3_bind_int64(s, 1, seq);
  sqlite3_bind_text(s, 2, table.data(), static_cast<int>(table.size()), SQLITE_TRANSIENT);
  sqlite3_bind_int64(s, 3, counts.inserted);
  sqlite3_bind_int64(s, 4, counts.updated);
  sqlite3_bind_int64(s, 5, counts.refused);
  sqlite3_bind_int64(s, 6, counts.deleted);
  sqlite3_bind_int64(s, 7, applied_at);
  Status st = insert.Run("recording applied file");
  if (st.code() == ErrorCode::kAlreadyExists) {
    st = Err(ErrorCode::kAlreadyExists,
             "file seq " + std::to_string(seq) + " is already applied to the pool");
  }
  return st;
}

Status SqliteLoad::Commit(int64_t applied_at) {
  if (!failed_.ok()) return failed_;
  if (committed_) return Err(ErrorCode::kInvalidArgument, "the load is already committed");
  Status st = RecordApplied(db_, seq_, writer_.spec().name, writer_.counts(), applied_at);
  if (st.ok()) st = txn_.Commit();
  if (!st.ok()) {
    failed_ = st;
    return st;
  }
  committed_ = true;
  writer_.ReleaseStatements();
  lock_.unlock();
  return Status::Ok();
}

void TableWriter::CountSkipped(RowOutcome as, int64_t rows) { AddOutcome(&counts_, as, rows); }

void TableWriter::ReleaseStatements() {
  statements_.clear();
  for (Statement* s : {&delete_row_, &delete_key_, &row_exists_, &tomb_check_, &tomb_remove_,
                       &tomb_put_, &history_}) {
    *s = Statement();
  }
}

std::string TableWriter::KeyWhere() const {
  std::string out;
  for (size_t k = 0; k < spec_.primary_key.size(); ++k) {
    out += (k ? " AND " : "") + QuoteIdent(spec_.primary_key[k]) + " = ?" + std::to_string(k + 1);
  }
  return out;
}

Status TableWriter::PrepareRowStatements(bool deletes, bool tombstones) {
  const std::string table = QuoteIdent(spec_.name);
  const std::string tomb = QuoteIdent(TombstoneTable(spec_.name));
  const std::string where = KeyWhere();
  const std::string age_param = "?" + std::to_string(spec_.primary_key.size() + 1);
  const bool age = !spec_.age_column.empty();
  if (!delete_key_) {
    SLUICE_ASSIGN_OR_RETURN(delete_key_, db_->Prepare("DELETE FROM " + table + " WHERE " + where));
  }
  if (deletes && !delete_row_) {
    std::string sql = "DELETE FROM " + table + " WHERE " + where;
    if (age) sql += " AND " + AgeRule(QuoteIdent(spec_.age_column), age_param);
    SLUICE_ASSIGN_OR_RETURN(delete_row_, db_->Prepare(sql));
  }
  if (deletes && age && !row_exists_) {
    SLUICE_ASSIGN_OR_RETURN(row_exists_,
                            db_->Prepare("SELECT 1 FROM " + table + " WHERE " + where));
  }
  if (tombstones && !tomb_check_) {
    const std::string tomb_age = QuoteIdent(kTombstoneAge);
    SLUICE_ASSIGN_OR_RETURN(tomb_check_, db_->Prepare("SELECT " + AgeRule(tomb_age, age_param) +
                                                      " FROM " + tomb + " WHERE " + where));
    SLUICE_ASSIGN_OR_RETURN(tomb_remove_, db_->Prepare("DELETE FROM " + tomb + " WHERE " + where));
    std::string cols, params, conflict;
    for (size_t k = 0; k < spec_.primary_key.size(); ++k) {
      cols += QuoteIdent(spec_.primary_key[k]) + ", ";
      params += "?" + std::to_string(k + 1) + ", ";
      conflict += (k ? ", " : "") + QuoteIdent(spec_.primary_key[k]);
    }
    SLUICE_ASSIGN_OR_RETURN(
        tomb_put_,
        db_->Prepare("INSERT INTO " + tomb + "(" + cols + tomb_age + ") VALUES(" + params +
                     age_param + ") ON CONFLICT(" + conflict + ") DO UPDATE SET " + tomb_age +
                     " = excluded." + tomb_age + " WHERE " +
                     AgeRule(tomb + "." + tomb_age, "excluded." + tomb_age)));
  }
  return Status::Ok();
}

Status TableWriter::BindKey(sqlite3_stmt* stmt, int64_t row, bool with_age) {
  for (ColumnBinder& b : key_binders_) {
    int rc = BindRow(stmt, b, row);
    if (rc != SQLITE_OK) {
      return db_->Error(rc, "binding key row " + std::to_string(rows_seen_ + row));
    }
  }
  if (!with_age) return Status::Ok();
  int rc = BindRow(stmt, *age_binder_, row);
  if (rc != SQLITE_OK) {
    return db_->Error(rc, "binding age row " + std::to_string(rows_seen_ + row));
  }
  return Status::Ok();
}

Status TableWriter::StepRow(sqlite3_stmt* stmt, const char* action, int64_t row) {
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
  }
  if (rc == SQLITE_DONE) {
    sqlite3_reset(stmt);
    return Status::Ok();
  }
  Status st = db_->Error(rc, std::string(action) + " row " + std::to_string(rows_seen_ + row) +
                                 " of '" + spec_.name + "'");
  sqlite3_reset(stmt);
  return st;
}

void TableWriter::ClearRowBindings() {
  // Text parameters point into the batch (SQLITE_STATIC): drop them before it goes away.
  for (Statement* s :
       {&delete_row_, &delete_key_, &row_exists_, &tomb_check_, &tomb_remove_, &tomb_put_}) {
    if (*s) sqlite3_clear_bindings(s->get());
  }
}

Status TableWriter::DeleteRow(int64_t row, RowOutcome* outcome) {
  const bool age = age_binder_.has_value();
  SLUICE_RETURN_IF_ERROR(BindKey(delete_row_.get(), row, age));
  SLUICE_RETURN_IF_ERROR(StepRow(delete_row_.get(), "deleting", row));
  if (!age) {
    ++counts_.deleted;
    *outcome = RowOutcome::kDeleted;
    return Status::Ok();
  }
  const bool removed = sqlite3_changes64(db_->get()) > 0;
  if (!removed) {
    // Nothing removed: either the stored row is newer (refused), or there is no row and the
    // delete is judged against the key's tombstone, if any.
    SLUICE_RETURN_IF_ERROR(BindKey(row_exists_.get(), row, false));
    int rc = sqlite3_step(row_exists_.get());
    sqlite3_reset(row_exists_.get());
    if (rc == SQLITE_ROW) {
      ++counts_.refused;
      *outcome = RowOutcome::kRefused;
      return Status::Ok();
    }
    if (rc != SQLITE_DONE) {
      return db_->Error(rc, "looking up row " + std::to_string(rows_seen_ + row));
    }
  }
  SLUICE_RETURN_IF_ERROR(BindKey(tomb_put_.get(), row, true));
  SLUICE_RETURN_IF_ERROR(StepRow(tomb_put_.get(), "recording the tombstone of", row));
  if (removed || sqlite3_changes64(db_->get()) > 0) {
    ++counts_.deleted;
    *outcome = RowOutcome::kDeleted;
    state_.has_tombstones = true;
  } else {
    ++counts_.refused;
    *outcome = RowOutcome::kRefused;
  }
  return Status::Ok();
}

Status TableWriter::CheckTombstone(int64_t row, bool* keep) {
  sqlite3_stmt* s = tomb_check_.get();
  SLUICE_RETURN_IF_ERROR(BindKey(s, row, true));
  int rc = sqlite3_step(s);
  const bool applies = rc == SQLITE_ROW && sqlite3_column_int(s, 0) != 0;
  sqlite3_reset(s);
  *keep = true;
  if (rc == SQLITE_DONE) return Status::Ok();
  if (rc != SQLITE_ROW) {
    return db_->Error(rc, "reading the tombstone of row " + std::to_string(rows_seen_ + row));
  }
  if (applies) {
    SLUICE_RETURN_IF_ERROR(BindKey(tomb_remove_.get(), row, false));
    return StepRow(tomb_remove_.get(), "removing the tombstone of", row);
  }
  // Older than the key's tombstone: take the row back out.
  *keep = false;
  SLUICE_RETURN_IF_ERROR(BindKey(delete_key_.get(), row, false));
  return StepRow(delete_key_.get(), "undoing the stale insert of", row);
}

std::string TableWriter::StoredKeyOf(const batch::Field& f) const {
  if (f.type.id != batch::TypeId::kDate) return {};
  const StoredColumn* c = state_.Find(f.name);
  return c != nullptr ? c->type_key : std::string();
}

Result<sqlite3_stmt*> TableWriter::UpsertStatement(const batch::Batch& batch,
                                                   const std::vector<int>& stored) {
  const auto& fields = batch.schema->fields;
  std::string cache_key;
  for (int i : stored) {
    cache_key += fields[static_cast<size_t>(i)].name;
    cache_key.push_back('\0');
  }
  auto it = statements_.find(cache_key);
  if (it != statements_.end()) return it->second.get();

  std::vector<bool> is_pk(fields.size(), false);
  for (const std::string& k : spec_.primary_key) is_pk[FindColumn(*batch.schema, k)] = true;
  std::string table = QuoteIdent(spec_.name);
  std::string cols, params, sets;
  for (size_t j = 0; j < stored.size(); ++j) {
    const size_t i = static_cast<size_t>(stored[j]);
    std::string col = QuoteIdent(fields[i].name);
    cols += (j ? ", " : "") + col;
    params += j ? ", ?" : "?";
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
    sql += " WHERE " + AgeRule(table + "." + age, "excluded." + age);
  }
  SLUICE_ASSIGN_OR_RETURN(Statement stmt, db_->Prepare(sql));
  sqlite3_stmt* raw = stmt.get();
  statements_.emplace(std::move(cache_key), std::move(stmt));
  return raw;
}

Status TableWriter::ApplyBatch(const batch::Batch& batch) {
  SLUICE_RETURN_IF_ERROR(Begin(batch));
  Status st;
  if (any_delete_) {
    st = tombstones_ ? AllRows<true, true>() : AllRows<true, false>();
  } else {
    st = tombstones_ ? AllRows<false, true>() : AllRows<false, false>();
  }
  End();
  return st;
}

Status TableWriter::Begin(const batch::Batch& batch) {
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
  }
  // The checks shape made before the load (batch/keys.h), made again: the pool writes only
  // what they pass, whoever hands it the batch.
  SLUICE_RETURN_IF_ERROR(batch::CheckKeyColumns(*batch.schema, spec_.primary_key, spec_.age_column,
                                                batch::NameMatch::kIgnoreCase));
  SLUICE_RETURN_IF_ERROR(
      batch::CheckKeyValues(batch, spec_.primary_key, rows_seen_, batch::NameMatch::kIgnoreCase));
  std::vector<int> pk_index;
  for (const std::string& k : spec_.primary_key) pk_index.push_back(FindColumn(*batch.schema, k));
  const bool has_age = !spec_.age_column.empty();
  const int age_index = has_age ? FindColumn(*batch.schema, spec_.age_column) : -1;
  // The delete column is a control column: every other column is stored.
  const int delete_index =
      spec_.delete_column.empty() ? -1 : FindColumn(*batch.schema, spec_.delete_column);
  std::vector<int> stored;
  stored.reserve(fields.size());
  for (size_t i = 0; i < fields.size(); ++i) {
    if (static_cast<int>(i) == delete_index) continue;
    stored.push_back(static_cast<int>(i));
    SLUICE_RETURN_IF_ERROR(CheckStorable(batch.columns[i], fields[i].name, rows_seen_));
  }
  std::vector<uint8_t> deletes;
  bool any_delete = false;
  if (delete_index >= 0) {
    SLUICE_RETURN_IF_ERROR(ReadDeleteFlags(batch.columns[static_cast<size_t>(delete_index)],
                                           fields[static_cast<size_t>(delete_index)].name, &deletes,
                                           &any_delete));
  }

  if (!state_loaded_) SLUICE_RETURN_IF_ERROR(LoadState());
  if (!state_.exists) {
    SLUICE_RETURN_IF_ERROR(CreateTable(batch, stored, pk_index));
  } else {
    SLUICE_RETURN_IF_ERROR(EvolveTable(batch, stored));
  }
  batch_ = &batch;
  stored_ = std::move(stored);
  deletes_ = std::move(deletes);
  any_delete_ = any_delete;
  upsert_ = nullptr;
  binders_.clear();
  if (batch.num_rows == 0) return Status::Ok();

  SLUICE_ASSIGN_OR_RETURN(upsert_, UpsertStatement(batch, stored_));
  binders_.reserve(stored_.size());
  for (size_t j = 0; j < stored_.size(); ++j) {
    const size_t i = static_cast<size_t>(stored_[j]);
    binders_.push_back(
        MakeBinder(batch.columns[i], static_cast<int>(j) + 1, StoredKeyOf(fields[i])));
  }
  tombstones_ = has_age && (any_delete || state_.has_tombstones);
  if (any_delete || tombstones_) {
    if (tombstones_) SLUICE_RETURN_IF_ERROR(EnsureTombstoneTable());
    SLUICE_RETURN_IF_ERROR(PrepareRowStatements(any_delete, tombstones_));
    key_binders_.clear();
    for (size_t k = 0; k < pk_index.size(); ++k) {
      const size_t i = static_cast<size_t>(pk_index[k]);
      key_binders_.push_back(
          MakeBinder(batch.columns[i], static_cast<int>(k) + 1, StoredKeyOf(fields[i])));
    }
    age_binder_.reset();
    if (has_age) {
      const size_t i = static_cast<size_t>(age_index);
      age_binder_ = MakeBinder(batch.columns[i], static_cast<int>(pk_index.size()) + 1,
                               StoredKeyOf(fields[i]));
    }
  }
  rowid_column_ = state_.rowid_key ? &batch.columns[static_cast<size_t>(pk_index[0])] : nullptr;
  return Status::Ok();
}

void TableWriter::End() {
  // Text parameters point into the batch (SQLITE_STATIC): drop them before it goes away.
  if (upsert_ != nullptr) sqlite3_clear_bindings(upsert_);
  ClearRowBindings();
  if (batch_ != nullptr) rows_seen_ += batch_->num_rows;
  batch_ = nullptr;
  upsert_ = nullptr;
  binders_.clear();
  key_binders_.clear();
  age_binder_.reset();
}

Status TableWriter::Row(int64_t row, RowOutcome* outcome) {
  if (any_delete_) {
    return tombstones_ ? RowStep<true, true>(row, outcome) : RowStep<true, false>(row, outcome);
  }
  return tombstones_ ? RowStep<false, true>(row, outcome) : RowStep<false, false>(row, outcome);
}

template <bool kDeletes, bool kTombstones>
Status TableWriter::AllRows() {
  RowOutcome outcome;
  for (int64_t row = 0; row < batch_->num_rows; ++row) {
    SLUICE_RETURN_IF_ERROR((RowStep<kDeletes, kTombstones>(row, &outcome)));
  }
  return Status::Ok();
}

template <bool kDeletes, bool kTombstones>
Status TableWriter::RowStep(int64_t row, RowOutcome* outcome) {
  sqlite3* db = db_->get();
  sqlite3_stmt* stmt = upsert_;
  if constexpr (kDeletes) {
    if (deletes_[static_cast<size_t>(row)] != 0) return DeleteRow(row, outcome);
  }
  for (ColumnBinder& b : binders_) {
    int rc = BindRow(stmt, b, row);
    if (rc != SQLITE_OK) {
      sqlite3_reset(stmt);
      return db_->Error(rc,
                        "binding column '" +
                            batch_->schema->fields[static_cast<size_t>(stored_[b.param - 1])].name +
                            "' row " + std::to_string(rows_seen_ + row));
    }
  }
  // Insert vs update: an INSERT sets last_insert_rowid to the new row's rowid; the DO UPDATE
  // branch leaves it alone. Before each step it is set to a sentinel no inserted row can
  // have: auto-assigned rowids are positive, and a rowid-alias key is the row's own key.
  constexpr int64_t kSentinel = std::numeric_limits<int64_t>::min();
  int64_t sentinel = kSentinel;
  if (rowid_column_ != nullptr && rowid_column_->Value<int64_t>(row) == kSentinel) sentinel = 0;
  sqlite3_set_last_insert_rowid(db, sentinel);
  int rc = sqlite3_step(stmt);
  if (rc != SQLITE_DONE) {
    Status st = db_->Error(
        rc, "upserting row " + std::to_string(rows_seen_ + row) + " into '" + spec_.name + "'");
    sqlite3_reset(stmt);
    return st;
  }
  sqlite3_reset(stmt);
  if (sqlite3_changes64(db) == 0) {
    ++counts_.refused;
    *outcome = RowOutcome::kRefused;
  } else if (sqlite3_last_insert_rowid(db) != sentinel) {
    if constexpr (kTombstones) {
      bool keep = true;
      SLUICE_RETURN_IF_ERROR(CheckTombstone(row, &keep));
      if (!keep) {
        ++counts_.refused;
        *outcome = RowOutcome::kRefused;
        return Status::Ok();
      }
    }
    ++counts_.inserted;
    *outcome = RowOutcome::kInserted;
  } else {
    ++counts_.updated;
    *outcome = RowOutcome::kUpdated;
  }
  return Status::Ok();
}

std::unique_ptr<LoadTransaction> NewLoad(Db* db, std::unique_lock<std::mutex> lock,
                                         WriteTransaction txn, TableSpec spec, int64_t seq,
                                         const Clock& clock) {
  return std::make_unique<SqliteLoad>(db, std::move(lock), std::move(txn), std::move(spec), seq,
                                      clock);
}

}  // namespace sluice::pool::sqlite
