// The schema half of the SQLite load transaction (sqlite_load_internal.h): reading the stored
// schema, creating, extending and widening the table, the tombstone table, and the schema history.

#include <algorithm>

#include "sluice/pool/sqlite/sqlite_load_internal.h"

namespace sluice::pool::sqlite {

Status TableWriter::LoadState() {
  SLUICE_ASSIGN_OR_RETURN(Statement q,
                          db_->Prepare("SELECT column_name, type_name, type_key, declared_type, "
                                       "pk_position FROM _sluice_columns WHERE table_name = ? "
                                       "ORDER BY position"));
  sqlite3_bind_text(q.get(), 1, spec_.name.data(), static_cast<int>(spec_.name.size()),
                    SQLITE_STATIC);
  int rc;
  while ((rc = sqlite3_step(q.get())) == SQLITE_ROW) {
    StoredColumn c;
    c.name = reinterpret_cast<const char*>(sqlite3_column_text(q.get(), 0));
    c.type_name = reinterpret_cast<const char*>(sqlite3_column_text(q.get(), 1));
    c.type_key = reinterpret_cast<const char*>(sqlite3_column_text(q.get(), 2));
    c.declared = reinterpret_cast<const char*>(sqlite3_column_text(q.get(), 3));
    c.pk_position =
        sqlite3_column_type(q.get(), 4) == SQLITE_NULL ? -1 : sqlite3_column_int(q.get(), 4);
    state_.Add(std::move(c));
  }
  if (rc != SQLITE_DONE) return db_->Error(rc, "reading the pool schema");
  state_.exists = !state_.columns.empty();
  if (state_.exists) {
    std::vector<KeyColumn> key_columns;
    for (const StoredColumn& c : state_.columns) key_columns.push_back({c.name, c.pk_position});
    SLUICE_RETURN_IF_ERROR(CheckStoredKey(spec_.name, spec_.primary_key, key_columns));
    if (spec_.primary_key.size() == 1) {
      const std::string& key = state_.Find(spec_.primary_key[0])->type_key;
      state_.rowid_key = key == "TINYINT" || key == "SMALLINT" || key == "INTEGER" ||
                         key == "BIGINT" || key == "UTINYINT" || key == "USMALLINT" ||
                         key == "UINTEGER" || key == "UBIGINT";
    }
    SLUICE_ASSIGN_OR_RETURN(
        Statement t, db_->Prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ? "
                                  "COLLATE NOCASE"));
    std::string tomb = TombstoneTable(spec_.name);
    sqlite3_bind_text(t.get(), 1, tomb.c_str(), -1, SQLITE_STATIC);
    rc = sqlite3_step(t.get());
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
      return db_->Error(rc, "looking for the tombstones of '" + spec_.name + "'");
    }
    state_.tombstone_table = rc == SQLITE_ROW;
    if (state_.tombstone_table) {
      SLUICE_ASSIGN_OR_RETURN(Statement any,
                              db_->Prepare("SELECT 1 FROM " + QuoteIdent(tomb) + " LIMIT 1"));
      rc = sqlite3_step(any.get());
      if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        return db_->Error(rc, "reading the tombstones of '" + spec_.name + "'");
      }
      state_.has_tombstones = rc == SQLITE_ROW;
    }
  }
  state_loaded_ = true;
  return Status::Ok();
}

Status TableWriter::RecordChange(SchemaChangeKind kind, const std::string& column,
                                 const std::string& old_type, const std::string& new_type) {
  if (!history_) {
    SLUICE_ASSIGN_OR_RETURN(
        history_,
        db_->Prepare("INSERT INTO _sluice_schema_history(table_name, seq, changed_at, kind, "
                     "column_name, old_type, new_type) VALUES(?, ?, ?, ?, ?, ?, ?)"));
  }
  sqlite3_stmt* s = history_.get();
  sqlite3_bind_text(s, 1, spec_.name.c_str(), -1, SQLITE_STATIC);
  sqlite3_bind_int64(s, 2, seq_);
  sqlite3_bind_int64(s, 3, clock_.NowMicros());
  sqlite3_bind_text(s, 4, SchemaChangeKindName(kind), -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 5, column.c_str(), -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 6, old_type.c_str(), -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 7, new_type.c_str(), -1, SQLITE_STATIC);
  Status st = history_.Run("recording the schema change of column '" + column + "'");
  sqlite3_clear_bindings(s);
  return st;
}

Status TableWriter::AddColumnRecord(const std::string& name, const batch::DataType& type,
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
  SLUICE_RETURN_IF_ERROR(ins.Run("recording column '" + name + "'"));
  state_.Add(StoredColumn{name, std::move(type_name), std::move(type_key), declared, pk_position});
  return Status::Ok();
}

Status TableWriter::CreateTable(const batch::Batch& batch, const std::vector<int>& stored,
                                const std::vector<int>& pk_index) {
  const auto& fields = batch.schema->fields;
  bool rowid_key = pk_index.size() == 1 && batch::IsInteger(fields[pk_index[0]].type.id);
  std::string sql = "CREATE TABLE " + QuoteIdent(spec_.name) + "(";
  for (size_t j = 0; j < stored.size(); ++j) {
    const int i = stored[j];
    if (j > 0) sql += ", ";
    sql += QuoteIdent(fields[i].name);
    if (rowid_key && i == pk_index[0]) {
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
  for (size_t j = 0; j < stored.size(); ++j) {
    const int i = stored[j];
    auto it = std::find(pk_index.begin(), pk_index.end(), i);
    int pk_position = it == pk_index.end() ? -1 : static_cast<int>(it - pk_index.begin());
    std::string declared =
        rowid_key && pk_position == 0 ? std::string("INTEGER") : DeclaredType(fields[i].type);
    SLUICE_RETURN_IF_ERROR(AddColumnRecord(fields[i].name, fields[i].type, declared,
                                           static_cast<int>(j), pk_position));
    SLUICE_RETURN_IF_ERROR(RecordChange(SchemaChangeKind::kCreate, fields[i].name, "",
                                        batch::TypeName(fields[i].type)));
  }
  state_.exists = true;
  state_.rowid_key = rowid_key;
  return Status::Ok();
}

Status TableWriter::Retype(StoredColumn& stored, std::string type_name, std::string type_key) {
  SLUICE_ASSIGN_OR_RETURN(Statement up, db_->Prepare("UPDATE _sluice_columns SET type_name = ?, "
                                                     "type_key = ? WHERE table_name = ? AND "
                                                     "column_name = ?"));
  sqlite3_bind_text(up.get(), 1, type_name.c_str(), -1, SQLITE_STATIC);
  sqlite3_bind_text(up.get(), 2, type_key.c_str(), -1, SQLITE_STATIC);
  sqlite3_bind_text(up.get(), 3, spec_.name.c_str(), -1, SQLITE_STATIC);
  sqlite3_bind_text(up.get(), 4, stored.name.c_str(), -1, SQLITE_STATIC);
  SLUICE_RETURN_IF_ERROR(up.Run("retyping column '" + stored.name + "' as " + type_name));
  SLUICE_RETURN_IF_ERROR(
      RecordChange(SchemaChangeKind::kWiden, stored.name, stored.type_name, type_name));
  stored.type_name = std::move(type_name);
  stored.type_key = std::move(type_key);
  return Status::Ok();
}

Status TableWriter::RewriteDatesAsTimestamps(const StoredColumn& column) {
  // Only digits, 'T', ':', '.' and 'Z': safe as a literal. Dates were bound as text; the
  // typeof guard leaves anything else a user wrote by hand alone.
  const std::string suffix = "'" + MidnightSuffix(column.type_key) + "'";
  auto rewrite = [&](const std::string& table, const std::string& col) {
    const std::string c = QuoteIdent(col);
    return db_->Exec("UPDATE " + QuoteIdent(table) + " SET " + c + " = " + c + " || " + suffix +
                     " WHERE typeof(" + c + ") = 'text'");
  };
  SLUICE_RETURN_IF_ERROR(
      rewrite(spec_.name, column.name)
          .WithContext("rewriting the dates of column '" + column.name + "' as timestamps"));
  if (!state_.tombstone_table) return Status::Ok();
  const bool is_age =
      !spec_.age_column.empty() && AsciiLowered(column.name) == AsciiLowered(spec_.age_column);
  if (column.pk_position < 0 && !is_age) return Status::Ok();
  return rewrite(TombstoneTable(spec_.name), is_age ? std::string(kTombstoneAge) : column.name)
      .WithContext("rewriting the tombstones of column '" + column.name + "' as timestamps");
}

Status TableWriter::EvolveTable(const batch::Batch& batch, const std::vector<int>& stored_fields) {
  for (int i : stored_fields) {
    const batch::Field& f = batch.schema->fields[static_cast<size_t>(i)];
    auto it = state_.by_folded_name.find(AsciiLowered(f.name));
    if (it == state_.by_folded_name.end()) {
      std::string declared = DeclaredType(f.type);
      std::string sql = "ALTER TABLE " + QuoteIdent(spec_.name) + " ADD COLUMN " +
                        QuoteIdent(f.name) + (declared.empty() ? "" : " " + declared);
      SLUICE_RETURN_IF_ERROR(
          db_->Exec(sql).WithContext("adding column '" + f.name + "' to '" + spec_.name + "'"));
      SLUICE_RETURN_IF_ERROR(
          AddColumnRecord(f.name, f.type, declared, static_cast<int>(state_.columns.size()), -1));
      SLUICE_RETURN_IF_ERROR(
          RecordChange(SchemaChangeKind::kAdd, f.name, "", batch::TypeName(f.type)));
      continue;
    }
    StoredColumn& stored = state_.columns[it->second];
    std::string key = TypeKey(f.type);
    if (key == stored.type_key || f.type.id == batch::TypeId::kNull) continue;
    if (stored.type_key == "\"NULL\"") {
      // The column so far held only nulls (an all-null column of an earlier file): the
      // first typed file decides its logical type. Its declared type has no affinity.
      SLUICE_RETURN_IF_ERROR(Retype(stored, batch::TypeName(f.type), key));
      continue;
    }
    std::string widened, reason;
    switch (
        ClassifyTypeChange(stored.type_key, f.type, stored.pk_position >= 0, &widened, &reason)) {
      case TypeChange::kFits:
        continue;
      case TypeChange::kWiden: {
        const bool dates = stored.type_key == "DATE";
        // Widening to the file's own type keeps its name (TIMESTAMP WITH TIME ZONE); a third
        // type (two integers meeting in a wider one) is named by its key.
        SLUICE_RETURN_IF_ERROR(
            Retype(stored, widened == key ? batch::TypeName(f.type) : widened, widened));
        if (dates) SLUICE_RETURN_IF_ERROR(RewriteDatesAsTimestamps(stored));
        continue;
      }
      case TypeChange::kIncompatible:
        break;
    }
    std::string file_type = batch::TypeName(f.type);
    if (file_type == stored.type_name) file_type = key;  // same name, different storage
    return Err(ErrorCode::kSchemaMismatch, "column '" + f.name + "' of table '" + spec_.name +
                                               "' is stored as " + stored.type_name +
                                               ", the file has " + file_type + ": " +
                                               (reason.empty() ? "not a safe widening" : reason));
  }
  return Status::Ok();
}

Status TableWriter::EnsureTombstoneTable() {
  if (state_.tombstone_table) return Status::Ok();
  // Same names and declared types as the table, so keys and ages compare as they do there.
  std::string cols, pk;
  for (const std::string& k : spec_.primary_key) {
    const StoredColumn& c = *state_.Find(k);
    cols +=
        QuoteIdent(c.name) + (state_.rowid_key ? " INTEGER PRIMARY KEY" : " " + c.declared) + ", ";
    pk += (pk.empty() ? "" : ", ") + QuoteIdent(c.name);
  }
  const StoredColumn& age = *state_.Find(spec_.age_column);
  cols += QuoteIdent(kTombstoneAge) + " " + age.declared;
  if (!state_.rowid_key) cols += ", PRIMARY KEY(" + pk + ")";
  SLUICE_RETURN_IF_ERROR(
      db_->Exec("CREATE TABLE " + QuoteIdent(TombstoneTable(spec_.name)) + "(" + cols + ")")
          .WithContext("creating the tombstone table of '" + spec_.name + "'"));
  state_.tombstone_table = true;
  return Status::Ok();
}

}  // namespace sluice::pool::sqlite
