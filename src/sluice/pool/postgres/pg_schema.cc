// The schema half of the PostgreSQL table writer (pg_internal.h): reading the stored schema
// from _sluice.columns, creating, extending and widening the table, the tombstone table, and
// the schema history. All of it runs in the load's transaction (PostgreSQL's DDL is
// transactional), so a failed file leaves no trace.

#include <algorithm>

#include "sluice/pool/postgres/pg_internal.h"

namespace sluice::pool::postgres {

std::string TableWriter::Qualified() const {
  return QuoteIdent(spec_.schema) + "." + QuoteIdent(state_.sql_name);
}

std::string TableWriter::TombQualified() const {
  return QuoteIdent(kMetaSchema) + "." + QuoteIdent(state_.tomb_sql_name);
}

namespace {

// A digest of the table's rows in _sluice.tables and _sluice.columns ($1 schema, $2 table):
// whatever changes the table's layout (a table created, a column added or retyped, a
// tombstone table) changes it.
constexpr const char* kFingerprint =
    "encode(sha256(convert_to(coalesce((SELECT sql_name || '/' || coalesce(tomb_sql_name, '') "
    "FROM _sluice.tables WHERE schema_name = $1 AND table_name = $2), '') || '|' || "
    "coalesce((SELECT string_agg(concat_ws('/', column_name, sql_name, type_name, type_key, "
    "pg_type, pk_position), '|' ORDER BY position) FROM _sluice.columns WHERE schema_name = $1 "
    "AND table_name = $2), ''), 'UTF8')), 'hex')";

}  // namespace

::sluice::postgres::Statement StateGuard(const std::string& schema, const std::string& table,
                                         const std::string& fingerprint) {
  return {std::string("SELECT CASE WHEN ") + kFingerprint +
              " = $3 THEN true ELSE _sluice.refuse('the stored table changed since it was "
              "read') END",
          Params().Text(schema).Text(table).Text(fingerprint)};
}

std::vector<::sluice::postgres::Statement> TableWriter::StateReads() const {
  return {
      {std::string("SELECT ") + kFingerprint, Params().Text(spec_.schema).Text(spec_.name)},
      {"SELECT sql_name, coalesce(tomb_sql_name, '') FROM _sluice.tables WHERE schema_name = $1 "
       "AND table_name = $2",
       Params().Text(spec_.schema).Text(spec_.name)},
      {"SELECT column_name, sql_name, type_name, type_key, pg_type, coalesce(pk_position, -1) "
       "FROM _sluice.columns WHERE schema_name = $1 AND table_name = $2 ORDER BY position",
       Params().Text(spec_.schema).Text(spec_.name)},
  };
}

Status TableWriter::LoadState() {
  SLUICE_ASSIGN_OR_RETURN(std::vector<Rows> rows, session_->conn->Pipeline(StateReads()));
  return UseState(rows[1], rows[2]);
}

void TableWriter::UseCachedState(TableState state) {
  state_ = std::move(state);
  state_loaded_ = true;
}

Status TableWriter::UseState(const Rows& table, const Rows& cols) {
  Conn& conn = *session_->conn;
  state_ = TableState();
  state_.sql_name = SqlName(spec_.name);
  if (table.size() == 1) {
    state_.exists = true;
    state_.sql_name = std::string(table.Text(0, 0));
    state_.tomb_sql_name = std::string(table.Text(0, 1));
  }
  for (int r = 0; r < cols.size(); ++r) {
    StoredColumn c;
    c.name = std::string(cols.Text(r, 0));
    c.sql_name = std::string(cols.Text(r, 1));
    c.type_name = std::string(cols.Text(r, 2));
    c.type_key = std::string(cols.Text(r, 3));
    c.pg_type = std::string(cols.Text(r, 4));
    SLUICE_ASSIGN_OR_RETURN(int64_t pk, cols.Int(r, 5));
    c.pk_position = static_cast<int>(pk);
    state_.Add(std::move(c));
  }
  if (state_.exists) {
    std::vector<KeyColumn> key_columns;
    for (const StoredColumn& c : state_.columns) key_columns.push_back({c.name, c.pk_position});
    SLUICE_RETURN_IF_ERROR(CheckStoredKey(spec_.name, spec_.primary_key, key_columns));
    if (!state_.tomb_sql_name.empty()) {
      SLUICE_ASSIGN_OR_RETURN(int64_t any, conn.QueryInt("SELECT count(*) FROM (SELECT 1 FROM " +
                                                         TombQualified() + " LIMIT 1) x"));
      state_.has_tombstones = any > 0;
    }
  }
  state_loaded_ = true;
  return Status::Ok();
}

Status TableWriter::RecordChange(SchemaChangeKind kind, const std::string& column,
                                 const std::string& old_type, const std::string& new_type) {
  layout_changed_ = true;
  return session_->conn
      ->Query(
          "INSERT INTO _sluice.schema_history(schema_name, table_name, seq, changed_at, kind, "
          "column_name, old_type, new_type) VALUES($1, $2, $3, $4, $5, $6, $7, $8)",
          Params()
              .Text(spec_.schema)
              .Text(spec_.name)
              .Int(seq_)
              .Int(clock_.NowMicros())
              .Text(SchemaChangeKindName(kind))
              .Text(column)
              .Text(old_type)
              .Text(new_type),
          "recording the schema change of column '" + column + "'")
      .status();
}

Status TableWriter::AddColumnRecord(const batch::Field& field, int position, int pk_position) {
  StoredColumn c{field.name,        SqlName(field.name), batch::TypeName(field.type),
                 KeyOf(field.type), PgType(field.type),  pk_position};
  Params params;
  params.Text(spec_.schema).Text(spec_.name).Text(c.name).Text(c.sql_name).Int(position);
  params.Text(c.type_name).Text(c.type_key).Text(c.pg_type);
  if (pk_position >= 0) {
    params.Int(pk_position);
  } else {
    params.Null();
  }
  SLUICE_RETURN_IF_ERROR(session_->conn
                             ->Query("INSERT INTO _sluice.columns(schema_name, table_name, "
                                     "column_name, sql_name, position, type_name, type_key, "
                                     "pg_type, pk_position) VALUES($1, $2, $3, $4, $5, $6, $7, "
                                     "$8, $9::int8)",
                                     params, "recording column '" + field.name + "'")
                             .status());
  state_.Add(std::move(c));
  return Status::Ok();
}

Status TableWriter::CreateTable(const batch::Batch& batch, const std::vector<int>& stored,
                                const std::vector<int>& pk_index) {
  const auto& fields = batch.schema->fields;
  // The schema exists: BeginLoad made sure (EnsureSchema, pg_pool.cc).
  std::string sql = "CREATE TABLE " + Qualified() + "(";
  for (size_t j = 0; j < stored.size(); ++j) {
    const batch::Field& f = fields[static_cast<size_t>(stored[j])];
    sql += (j ? ", " : "") + QuoteIdent(SqlName(f.name)) + " " + PgType(f.type);
  }
  sql += ", PRIMARY KEY(";
  for (size_t k = 0; k < pk_index.size(); ++k) {
    sql += (k ? ", " : "") + QuoteIdent(SqlName(fields[static_cast<size_t>(pk_index[k])].name));
  }
  sql += ")); INSERT INTO _sluice.tables(schema_name, table_name, sql_name) VALUES(" +
         QuoteLiteral(spec_.schema) + ", " + QuoteLiteral(spec_.name) + ", " +
         QuoteLiteral(state_.sql_name) + ")";
  SLUICE_RETURN_IF_ERROR(
      session_->conn->Exec(sql).WithContext("creating table '" + spec_.name + "'"));
  for (size_t j = 0; j < stored.size(); ++j) {
    const int i = stored[j];
    auto it = std::find(pk_index.begin(), pk_index.end(), i);
    const int pk_position = it == pk_index.end() ? -1 : static_cast<int>(it - pk_index.begin());
    const batch::Field& f = fields[static_cast<size_t>(i)];
    SLUICE_RETURN_IF_ERROR(AddColumnRecord(f, static_cast<int>(j), pk_position));
    SLUICE_RETURN_IF_ERROR(
        RecordChange(SchemaChangeKind::kCreate, f.name, "", batch::TypeName(f.type)));
  }
  state_.exists = true;
  return Status::Ok();
}

Status TableWriter::Retype(StoredColumn& stored, const std::string& type_name,
                           const std::string& type_key, const std::string& pg_type,
                           const std::string& using_expr) {
  Conn& conn = *session_->conn;
  if (pg_type != stored.pg_type) {
    const std::string c = QuoteIdent(stored.sql_name);
    SLUICE_RETURN_IF_ERROR(
        conn.Exec("ALTER TABLE " + Qualified() + " ALTER COLUMN " + c + " TYPE " + pg_type +
                  " USING " + using_expr)
            .WithContext("retyping column '" + stored.name + "' as " + type_name));
    const bool is_age =
        !spec_.age_column.empty() && AsciiLowered(stored.name) == AsciiLowered(spec_.age_column);
    if (!state_.tomb_sql_name.empty() && (stored.pk_position >= 0 || is_age)) {
      // The tombstones' keys and ages compare with the table's: same types.
      const std::string t = is_age ? QuoteIdent(kTombstoneAge) : QuoteIdent(stored.sql_name);
      std::string tomb_using = using_expr;
      if (is_age && tomb_using.find(c) != std::string::npos) {
        tomb_using.replace(tomb_using.find(c), c.size(), t);
      }
      SLUICE_RETURN_IF_ERROR(
          conn.Exec("ALTER TABLE " + TombQualified() + " ALTER COLUMN " + t + " TYPE " + pg_type +
                    " USING " + tomb_using)
              .WithContext("retyping the tombstones of column '" + stored.name + "'"));
    }
  }
  SLUICE_RETURN_IF_ERROR(
      conn.Query("UPDATE _sluice.columns SET type_name = $1, type_key = $2, pg_type = $3 "
                 "WHERE schema_name = $4 AND table_name = $5 AND column_name = $6",
                 Params()
                     .Text(type_name)
                     .Text(type_key)
                     .Text(pg_type)
                     .Text(spec_.schema)
                     .Text(spec_.name)
                     .Text(stored.name),
                 "retyping column '" + stored.name + "' as " + type_name)
          .status());
  SLUICE_RETURN_IF_ERROR(
      RecordChange(SchemaChangeKind::kWiden, stored.name, stored.type_name, type_name));
  stored.type_name = type_name;
  stored.type_key = type_key;
  stored.pg_type = pg_type;
  return Status::Ok();
}

bool Holds(const StoredColumn& stored, const batch::DataType& type) {
  if (type.id == batch::TypeId::kNull || KeyOf(type) == stored.type_key) return true;
  // A column that held only nulls so far takes the first typed file's type (a change).
  if (stored.type_key == "\"NULL\"") return false;
  std::string widened, pg_type, reason;
  return Classify(stored.type_key, type, stored.pk_position >= 0, &widened, &pg_type, &reason) ==
         Change::kFits;
}

Status TableWriter::EvolveTable(const batch::Batch& batch, const std::vector<int>& stored_fields) {
  for (int i : stored_fields) {
    const batch::Field& f = batch.schema->fields[static_cast<size_t>(i)];
    StoredColumn* found = state_.Find(f.name);
    if (found == nullptr) {
      SLUICE_RETURN_IF_ERROR(
          session_->conn
              ->Exec("ALTER TABLE " + Qualified() + " ADD COLUMN " + QuoteIdent(SqlName(f.name)) +
                     " " + PgType(f.type))
              .WithContext("adding column '" + f.name + "' to '" + spec_.name + "'"));
      SLUICE_RETURN_IF_ERROR(
          AddColumnRecord(f, static_cast<int>(state_.columns.size()), /*pk_position=*/-1));
      SLUICE_RETURN_IF_ERROR(
          RecordChange(SchemaChangeKind::kAdd, f.name, "", batch::TypeName(f.type)));
      continue;
    }
    StoredColumn& stored = *found;
    if (Holds(stored, f.type)) continue;
    const std::string key = KeyOf(f.type);
    const std::string column = QuoteIdent(stored.sql_name);
    if (stored.type_key == "\"NULL\"") {
      // The column so far held only nulls: the first typed file decides its type.
      const std::string pg = PgType(f.type);
      SLUICE_RETURN_IF_ERROR(Retype(stored, batch::TypeName(f.type), key, pg, "NULL::" + pg));
      continue;
    }
    std::string widened, pg_type, reason;
    switch (
        Classify(stored.type_key, f.type, stored.pk_position >= 0, &widened, &pg_type, &reason)) {
      case Change::kFits:  // Holds said otherwise
        continue;
      case Change::kWiden:
        SLUICE_RETURN_IF_ERROR(Retype(stored, widened == key ? batch::TypeName(f.type) : widened,
                                      widened, pg_type, column + "::" + pg_type));
        continue;
      case Change::kIncompatible:
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
  if (!state_.tomb_sql_name.empty()) return Status::Ok();
  layout_changed_ = true;
  state_.tomb_sql_name = SqlName("tombstones." + spec_.schema + "." + spec_.name);
  std::string cols, pk;
  for (const std::string& k : spec_.primary_key) {
    const StoredColumn& c = *state_.Find(k);
    cols += QuoteIdent(c.sql_name) + " " + c.pg_type + ", ";
    pk += (pk.empty() ? "" : ", ") + QuoteIdent(c.sql_name);
  }
  const StoredColumn& age = *state_.Find(spec_.age_column);
  cols += QuoteIdent(kTombstoneAge) + " " + age.pg_type;
  const std::string sql =
      "CREATE TABLE " + TombQualified() + "(" + cols + ", PRIMARY KEY(" + pk +
      ")); UPDATE _sluice.tables SET tomb_sql_name = " + QuoteLiteral(state_.tomb_sql_name) +
      " WHERE schema_name = " + QuoteLiteral(spec_.schema) +
      " AND table_name = " + QuoteLiteral(spec_.name);
  return session_->conn->Exec(sql).WithContext("creating the tombstone table of '" + spec_.name +
                                               "'");
}

}  // namespace sluice::pool::postgres
