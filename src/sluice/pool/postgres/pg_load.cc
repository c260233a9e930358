// The rows half of the PostgreSQL table writer (pg_internal.h). Per batch:
//
//  1. Stage: binary COPY of the batch into a TEMP staging table of its column layout
//     (_sluice_row = the file row, one column per stored file column in the pool column's
//     type, _sluice_del = the delete flag). While encoding, the keys are hashed to learn
//     whether a key repeats within the batch.
//  2. Apply, by one of two statements whose results are the same as applying the rows one by
//     one in file order (docs/design/pool.md, "Delta semantics", "Deletes", "Counts"):
//     - fast: no delete row, no tombstones to consult, no repeated key. Every staged row is a
//       key of its own, so one INSERT ... ON CONFLICT DO UPDATE ... WHERE <age rule> is the
//       row-by-row result; RETURNING (xmax = 0) tells inserted rows from updated ones, and the
//       rows it did not return were refused.
//     - planned: everything else. A window query over the staged rows, the stored rows and
//       the tombstones decides each row's outcome into the plan table, then at most four
//       set statements write each key's final state. The rule that makes this exact: under
//       the age rule the age a row is judged against (the stored row's, or the tombstone's,
//       after every earlier row of the file) is the greatest non-null age among the stored
//       row or tombstone and the earlier rows of that key, since a row that applies carries
//       an age >= it and a refused one changes nothing. A row that applies is a delete, an
//       update (the key had a row just before: its last applied earlier row was an upsert,
//       or there was none and the key was stored) or an insert. Per key only the last applied
//       row decides what is written: a delete removes the row (and with an age column leaves
//       its tombstone); an upsert after an applied delete replaces the row whole (columns the
//       file lacks are null again), otherwise it is an ordinary upsert.
//     Both run in one round trip.

#include <limits>
#include <unordered_set>

#include "sluice/batch/keys.h"
#include "sluice/pool/postgres/pg_internal.h"

namespace sluice::pool::postgres {
namespace {

// A 64-bit hash of row `row`'s key values. Equal keys hash equal; a collision of different
// keys only sends the batch down the planned path, which is exact for any batch.
uint64_t KeyHash(const batch::Batch& b, const std::vector<int>& key_index, int64_t row) {
  uint64_t h = 14695981039346656037ULL;
  auto mix = [&h](const void* data, size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (size_t i = 0; i < n; ++i) {
      h ^= p[i];
      h *= 1099511628211ULL;
    }
    h ^= 0xff;  // separates the columns
    h *= 1099511628211ULL;
  };
  for (int k : key_index) {
    const batch::Column& c = b.columns[static_cast<size_t>(k)];
    if (batch::IsStringLike(c.type.id)) {
      const std::string_view s = c.StringAt(row);
      mix(s.data(), s.size());
    } else {
      const size_t w = batch::FixedWidth(c.type.id);
      mix(c.fixed.data() + static_cast<size_t>(row) * w, w);
    }
  }
  return h;
}

std::string StageCol(size_t j) { return "c" + std::to_string(j); }

// Unframes `rows` COPY tuples (CopyWriter::TakeBuffer: per tuple an int16 field count, then
// per field an int32 length, -1 for NULL, and the bytes, which are the field's value as a
// binary parameter) into `params`, appending their placeholders to `sql` as "($1, $2), ($3,
// $4)". casts[f], when given, follows field f's placeholder ("::bigint").
void AppendValues(const std::string& tuples, int64_t rows, int fields,
                  const std::vector<std::string>& casts, std::string* sql, Params* params) {
  size_t at = 0;
  int param = params->size();
  for (int64_t row = 0; row < rows; ++row) {
    at += 2;
    *sql += row ? ", (" : "(";
    for (int f = 0; f < fields; ++f) {
      uint32_t len = 0;
      for (int i = 0; i < 4; ++i) len = (len << 8) | static_cast<uint8_t>(tuples[at + i]);
      at += 4;
      *sql += (f ? ", $" : "$") + std::to_string(++param);
      if (!casts.empty()) *sql += casts[static_cast<size_t>(f)];
      if (len == 0xFFFFFFFF) {
        params->Null();
        continue;
      }
      params->Binary(0, tuples.substr(at, len));
      at += len;
    }
    *sql += ")";
  }
}

// "stored IS NULL OR (incoming IS NOT NULL AND incoming >= stored)": the age rule.
std::string AgeRule(const std::string& stored, const std::string& incoming) {
  return "(" + stored + " IS NULL OR (" + incoming + " IS NOT NULL AND " + incoming +
         " >= " + stored + "))";
}

}  // namespace

// PostgreSQL names a bad value's place in the staging table ("COPY _sluice_stage_0, line 3,
// column c2: ..."): say which of the file's columns c2 is.
Status TableWriter::NameStagingColumn(Status st, const batch::Batch& batch,
                                      const std::vector<int>& stored) const {
  if (st.ok()) return st;
  const std::string& m = st.message();
  const size_t at = m.find("column c");
  if (at == std::string::npos) return st;
  size_t j = 0, i = at + 8;
  if (i >= m.size() || !IsAsciiDigit(m[i])) return st;
  for (; i < m.size() && IsAsciiDigit(m[i]); ++i) j = j * 10 + static_cast<size_t>(m[i] - '0');
  if (j >= stored.size()) return st;
  return Status(st.code(), m + " (c" + std::to_string(j) + " is column '" +
                               batch.schema->fields[static_cast<size_t>(stored[j])].name +
                               "' of table '" + spec_.name + "'; line N is file row " +
                               std::to_string(rows_seen_) + " + N - 1)");
}

Status TableWriter::ApplyBatch(const batch::Batch& batch) {
  std::vector<int> stored;
  std::vector<uint8_t> deletes;
  bool any_delete = false;
  SLUICE_RETURN_IF_ERROR(Prepare(batch, &stored, &deletes, &any_delete));
  if (batch.num_rows == 0) return Status::Ok();
  std::string staging;
  bool duplicate_keys = false;
  SLUICE_RETURN_IF_ERROR(
      Stage(batch, stored, deletes, /*tag=*/"", /*indexed=*/false, &staging, &duplicate_keys));
  SLUICE_RETURN_IF_ERROR(ApplyStaged(batch, stored, staging, any_delete, duplicate_keys));
  Advance(batch.num_rows);
  return Status::Ok();
}

Status TableWriter::Prepare(const batch::Batch& batch, std::vector<int>* stored,
                            std::vector<uint8_t>* deletes, bool* any_delete) {
  SLUICE_RETURN_IF_ERROR(Validate(batch, stored, deletes, any_delete));
  std::vector<int> pk_index;
  for (const std::string& k : spec_.primary_key) pk_index.push_back(FindColumn(*batch.schema, k));
  if (!state_loaded_) SLUICE_RETURN_IF_ERROR(LoadState());
  if (!state_.exists) {
    SLUICE_RETURN_IF_ERROR(CreateTable(batch, *stored, pk_index));
  } else {
    SLUICE_RETURN_IF_ERROR(EvolveTable(batch, *stored));
  }
  if (*any_delete && !spec_.age_column.empty()) SLUICE_RETURN_IF_ERROR(EnsureTombstoneTable());
  return Status::Ok();
}

Status TableWriter::Validate(const batch::Batch& batch, std::vector<int>* stored,
                             std::vector<uint8_t>* deletes, bool* any_delete) {
  if (batch.schema == nullptr || batch.columns.size() != batch.schema->fields.size()) {
    return Err(ErrorCode::kInvalidArgument, "batch columns do not match its schema");
  }
  const auto& fields = batch.schema->fields;
  std::unordered_set<std::string> folded_names;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (batch.columns[i].length != batch.num_rows) {
      return Err(ErrorCode::kInvalidArgument, "batch column '" + fields[i].name + "' has " +
                                                  std::to_string(batch.columns[i].length) +
                                                  " rows, the batch " +
                                                  std::to_string(batch.num_rows));
    }
    if (fields[i].name.find('\0') != std::string::npos) {
      return Err(ErrorCode::kSchemaMismatch,
                 "a column name of table '" + spec_.name + "' holds a NUL byte");
    }
    // Names compare ignoring ASCII case (as in the SQLite pool): "ID" and "id" are one column.
    if (!folded_names.insert(AsciiLowered(fields[i].name)).second) {
      return Err(ErrorCode::kSchemaMismatch,
                 "table '" + spec_.name + "': duplicate column name " + fields[i].name);
    }
  }
  SLUICE_RETURN_IF_ERROR(batch::CheckKeyColumns(*batch.schema, spec_.primary_key, spec_.age_column,
                                                batch::NameMatch::kIgnoreCase));
  SLUICE_RETURN_IF_ERROR(
      batch::CheckKeyValues(batch, spec_.primary_key, rows_seen_, batch::NameMatch::kIgnoreCase));
  const int delete_index =
      spec_.delete_column.empty() ? -1 : FindColumn(*batch.schema, spec_.delete_column);
  stored->clear();
  for (size_t i = 0; i < fields.size(); ++i) {
    if (static_cast<int>(i) != delete_index) stored->push_back(static_cast<int>(i));
  }
  deletes->assign(static_cast<size_t>(batch.num_rows), 0);
  *any_delete = false;
  if (delete_index >= 0) {
    SLUICE_RETURN_IF_ERROR(ReadDeleteFlags(batch.columns[static_cast<size_t>(delete_index)],
                                           fields[static_cast<size_t>(delete_index)].name, deletes,
                                           any_delete));
  }
  return Status::Ok();
}

Result<std::string> TableWriter::StagingTable(const std::vector<std::string>& pg_types,
                                              const std::string& tag, bool indexed) {
  std::string layout = tag + (indexed ? "+" : "-");
  for (const std::string& t : pg_types) layout += t + ",";
  auto it = session_->staging.find(layout);
  std::string name;
  if (it != session_->staging.end()) {
    name = it->second;
  } else {
    name = "_sluice_stage_" + std::to_string(session_->next_staging++);
    std::string sql =
        "CREATE TEMP TABLE " + name + "(_sluice_row bigint" + (indexed ? " PRIMARY KEY" : "");
    for (size_t j = 0; j < pg_types.size(); ++j) sql += ", " + StageCol(j) + " " + pg_types[j];
    sql += ", _sluice_del boolean) ON COMMIT DELETE ROWS";
    SLUICE_RETURN_IF_ERROR(session_->conn->Exec(sql).WithContext("creating a staging table"));
    session_->staging.emplace(layout, name);
  }
  // Emptied by every commit; within a transaction, by us before its next batch.
  for (const std::string& d : session_->dirty) {
    if (d == name) {
      SLUICE_RETURN_IF_ERROR(session_->conn->Exec("TRUNCATE pg_temp." + name));
      break;
    }
  }
  session_->dirty.push_back(name);
  return "pg_temp." + name;
}

Status TableWriter::Stage(const batch::Batch& batch, const std::vector<int>& stored,
                          const std::vector<uint8_t>& deletes, const std::string& tag, bool indexed,
                          std::string* staging, bool* duplicate_keys) {
  const auto& fields = batch.schema->fields;
  std::vector<std::string> types;
  std::vector<Encoder> encoders;
  types.reserve(stored.size());
  encoders.reserve(stored.size());
  for (int i : stored) {
    const batch::Field& f = fields[static_cast<size_t>(i)];
    const StoredColumn* c = state_.Find(f.name);
    types.push_back(c->pg_type);
    encoders.push_back(MakeEncoder(batch.columns[static_cast<size_t>(i)], f.name, c->pg_type));
  }
  SLUICE_ASSIGN_OR_RETURN(*staging, StagingTable(types, tag, indexed));
  std::vector<int> key_index;
  for (const std::string& k : spec_.primary_key) key_index.push_back(FindColumn(*batch.schema, k));

  const auto fields_per_tuple = static_cast<int16_t>(stored.size() + 2);
  // A few rows: one INSERT with binary parameters, sent with the apply (ApplyStaged).
  const bool small = batch.num_rows > 0 && batch.num_rows <= kSmallBatchRows &&
                     batch.num_rows * fields_per_tuple <= std::numeric_limits<int16_t>::max();
  CopyWriter copy(*session_->conn);
  if (!small) {
    SLUICE_RETURN_IF_ERROR(copy.Begin("COPY " + *staging + " FROM STDIN (FORMAT binary)"));
  }
  std::unordered_set<uint64_t> keys;
  keys.reserve(static_cast<size_t>(batch.num_rows));
  *duplicate_keys = false;
  for (int64_t row = 0; row < batch.num_rows; ++row) {
    const int64_t file_row = rows_seen_ + row;
    copy.BeginTuple(fields_per_tuple);
    copy.Int8(file_row);
    for (Encoder& e : encoders) {
      SLUICE_RETURN_IF_ERROR(EncodeValue(copy, e, row, file_row, spec_.name));
    }
    copy.Bool(deletes[static_cast<size_t>(row)] != 0);
    SLUICE_RETURN_IF_ERROR(copy.EndTuple());
    if (!*duplicate_keys && !keys.insert(KeyHash(batch, key_index, row)).second) {
      *duplicate_keys = true;
    }
  }
  if (!small) return NameStagingColumn(copy.Finish().status(), batch, stored);
  ::sluice::postgres::Statement insert{"INSERT INTO " + *staging + " VALUES ", {}};
  AppendValues(copy.TakeBuffer(), batch.num_rows, fields_per_tuple, {}, &insert.sql,
               &insert.params);
  small_stage_ = std::move(insert);
  return Status::Ok();
}

Result<bool> TableWriter::Defer(const batch::Batch& batch, ::sluice::postgres::Statement* upsert) {
  if (!state_loaded_ || !state_.exists || batch.num_rows > kSmallBatchRows) return false;
  std::vector<int> stored;
  std::vector<uint8_t> deletes;
  bool any_delete = false;
  SLUICE_RETURN_IF_ERROR(Validate(batch, &stored, &deletes, &any_delete));
  if (any_delete || (!spec_.age_column.empty() && !state_.tomb_sql_name.empty())) return false;
  if (batch.num_rows * static_cast<int64_t>(stored.size()) > std::numeric_limits<int16_t>::max()) {
    return false;
  }
  // Every column must be stored already in a type that holds the file's (EvolveTable would
  // change nothing).
  const auto& fields = batch.schema->fields;
  std::vector<Encoder> encoders;
  std::vector<std::string> casts;
  for (int i : stored) {
    const batch::Field& f = fields[static_cast<size_t>(i)];
    const StoredColumn* c = state_.Find(f.name);
    if (c == nullptr || !Holds(*c, f.type)) return false;
    encoders.push_back(MakeEncoder(batch.columns[static_cast<size_t>(i)], f.name, c->pg_type));
    // The binary value is the stored type's: the cast names it (and still converts, should
    // another node have widened the column meanwhile).
    casts.push_back("::" + c->pg_type);
  }
  std::vector<int> key_index;
  for (const std::string& k : spec_.primary_key) key_index.push_back(FindColumn(*batch.schema, k));
  std::unordered_set<uint64_t> keys;
  keys.reserve(static_cast<size_t>(batch.num_rows));
  CopyWriter encoded(*session_->conn);  // encodes only: never begun
  for (int64_t row = 0; row < batch.num_rows; ++row) {
    if (!keys.insert(KeyHash(batch, key_index, row)).second) return false;
    encoded.BeginTuple(static_cast<int16_t>(encoders.size()));
    for (Encoder& e : encoders) {
      SLUICE_RETURN_IF_ERROR(EncodeValue(encoded, e, row, rows_seen_ + row, spec_.name));
    }
    SLUICE_RETURN_IF_ERROR(encoded.EndTuple());
  }
  *upsert = {};
  if (batch.num_rows == 0) return true;  // nothing to write
  std::string values = "VALUES ";
  AppendValues(encoded.TakeBuffer(), batch.num_rows, static_cast<int>(encoders.size()), casts,
               &values, &upsert->params);
  upsert->sql = UpsertSql(batch, stored, values);
  return true;
}

Status TableWriter::ApplyStaged(const batch::Batch& batch, const std::vector<int>& stored,
                                const std::string& staging, bool any_delete, bool duplicate_keys,
                                bool force_plan) {
  const bool age = !spec_.age_column.empty();
  if (!force_plan && !any_delete && !duplicate_keys && !(age && state_.has_tombstones)) {
    return FastApply(batch, stored, staging);
  }
  SLUICE_RETURN_IF_ERROR(FlushSmallStage());
  SLUICE_RETURN_IF_ERROR(PlannedApply(batch, stored, staging));
  if (any_delete && age) state_.has_tombstones = true;
  return Status::Ok();
}

Status TableWriter::FlushSmallStage() {
  if (!small_stage_) return Status::Ok();
  ::sluice::postgres::Statement insert = std::move(*small_stage_);
  small_stage_.reset();
  return session_->conn
      ->Query(insert.sql, insert.params, "staging the rows of '" + spec_.name + "'")
      .status();
}

Result<std::vector<RowOutcome>> TableWriter::PlannedOutcomes(int64_t rows) {
  SLUICE_ASSIGN_OR_RETURN(
      Rows plan,
      session_->conn->Run("SELECT outcome FROM pg_temp._sluice_plan ORDER BY _sluice_row"));
  if (plan.size() != rows) {
    return Err(ErrorCode::kInternal, "the plan of '" + spec_.name + "' has " +
                                         std::to_string(plan.size()) + " rows, the batch " +
                                         std::to_string(rows));
  }
  std::vector<RowOutcome> out(static_cast<size_t>(rows));
  for (int r = 0; r < plan.size(); ++r) {
    SLUICE_ASSIGN_OR_RETURN(int64_t v, plan.Int(r, 0));
    out[static_cast<size_t>(r)] = static_cast<RowOutcome>(v);
  }
  return out;
}

std::string TableWriter::UpsertSql(const batch::Batch& batch, const std::vector<int>& stored,
                                   const std::string& rows) const {
  const auto& fields = batch.schema->fields;
  std::string cols, sets, conflict;
  for (int i : stored) {
    const StoredColumn& c = *state_.Find(fields[static_cast<size_t>(i)].name);
    const std::string col = QuoteIdent(c.sql_name);
    cols += (cols.empty() ? "" : ", ") + col;
    if (c.pk_position < 0) sets += (sets.empty() ? "" : ", ") + col + " = EXCLUDED." + col;
  }
  for (const std::string& k : spec_.primary_key) {
    conflict += (conflict.empty() ? "" : ", ") + QuoteIdent(state_.Find(k)->sql_name);
  }
  if (sets.empty()) {
    // Only key columns: an existing key is "updated" to itself so it counts as updated.
    const std::string first = QuoteIdent(state_.Find(spec_.primary_key[0])->sql_name);
    sets = first + " = EXCLUDED." + first;
  }
  std::string sql = "INSERT INTO " + Qualified() + " AS t(" + cols + ") " + rows +
                    " ON CONFLICT (" + conflict + ") DO UPDATE SET " + sets;
  if (!spec_.age_column.empty()) {
    const std::string a = QuoteIdent(state_.Find(spec_.age_column)->sql_name);
    sql += " WHERE " + AgeRule("t." + a, "EXCLUDED." + a);
  }
  // xmax is 0 on a freshly inserted row version and set (to this transaction, which holds
  // the row's lock) on the version ON CONFLICT DO UPDATE wrote.
  return sql + " RETURNING (t.xmax = 0) AS inserted";
}

Status TableWriter::FastApply(const batch::Batch& batch, const std::vector<int>& stored,
                              const std::string& staging) {
  std::string select;
  for (size_t j = 0; j < stored.size(); ++j) select += (j ? ", " : "") + StageCol(j);
  const std::string sql = "WITH u AS (" +
                          UpsertSql(batch, stored, "SELECT " + select + " FROM " + staging) +
                          ") SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT "
                          "inserted) FROM u";
  Rows rows;
  if (small_stage_) {
    std::vector<::sluice::postgres::Statement> both;
    both.push_back(std::move(*small_stage_));
    small_stage_.reset();
    both.push_back({sql, {}});
    SLUICE_ASSIGN_OR_RETURN(std::vector<Rows> results, session_->conn->Pipeline(both));
    rows = std::move(results[1]);
  } else {
    SLUICE_ASSIGN_OR_RETURN(rows, session_->conn->Run(sql));
  }
  SLUICE_ASSIGN_OR_RETURN(int64_t inserted, rows.Int(0, 0));
  SLUICE_ASSIGN_OR_RETURN(int64_t updated, rows.Int(0, 1));
  counts_.inserted += inserted;
  counts_.updated += updated;
  counts_.refused += batch.num_rows - inserted - updated;
  return Status::Ok();
}

Status TableWriter::PlannedApply(const batch::Batch& batch, const std::vector<int>& stored,
                                 const std::string& staging) {
  const auto& fields = batch.schema->fields;
  const bool age = !spec_.age_column.empty();
  const bool tomb = age && !state_.tomb_sql_name.empty();
  // Staging column of each stored file column, by folded name.
  auto stage_of = [&](std::string_view name) {
    for (size_t j = 0; j < stored.size(); ++j) {
      if (AsciiLowered(fields[static_cast<size_t>(stored[j])].name) == AsciiLowered(name)) {
        return StageCol(j);
      }
    }
    return std::string();
  };
  std::string part_k, part_s, key_sel, join_t, join_b, match_t, match_b;
  for (size_t k = 0; k < spec_.primary_key.size(); ++k) {
    const std::string& name = spec_.primary_key[k];
    const std::string sc = "s." + stage_of(name);
    const std::string col = QuoteIdent(state_.Find(name)->sql_name);
    const std::string kk = "k" + std::to_string(k);
    part_k += (k ? ", " : "") + kk;
    part_s += (k ? ", " : "") + sc;
    key_sel += ", " + sc + " AS " + kk;
    join_t += (k ? " AND " : "") + ("t." + col) + " = " + sc;
    join_b += (k ? " AND " : "") + ("b." + col) + " = " + sc;
  }
  const std::string first_key = QuoteIdent(state_.Find(spec_.primary_key[0])->sql_name);
  const std::string plan = "pg_temp._sluice_plan";
  std::string sql;
  if (!session_->plan_table) {
    sql +=
        "CREATE TEMP TABLE IF NOT EXISTS _sluice_plan(_sluice_row bigint, outcome smallint, "
        "final boolean, fresh boolean) ON COMMIT DELETE ROWS; ";
    session_->plan_table = true;
  }
  sql += "TRUNCATE " + plan + "; ";
  // 1. Each row's outcome.
  std::string inner = "SELECT s._sluice_row AS r, s._sluice_del AS del" + key_sel + ", t." +
                      first_key + " IS NOT NULL AS e";
  std::string ok = "true";
  if (age) {
    const std::string sa = "s." + stage_of(spec_.age_column);
    const std::string ta = "t." + QuoteIdent(state_.Find(spec_.age_column)->sql_name);
    inner += ", " + sa + " AS a, GREATEST(" + ta +
             (tomb ? ", b." + QuoteIdent(kTombstoneAge) : "") + ", max(" + sa +
             ") OVER (PARTITION BY " + part_s +
             " ORDER BY s._sluice_row ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)) AS m";
    ok = "(m IS NULL OR (a IS NOT NULL AND a >= m))";
  }
  inner += " FROM " + staging + " s LEFT JOIN " + Qualified() + " t ON " + join_t;
  if (tomb) inner += " LEFT JOIN " + TombQualified() + " b ON " + join_b;
  sql += "INSERT INTO " + plan +
         " SELECT r, CASE WHEN NOT ok THEN 0 WHEN del THEN 3 WHEN (CASE WHEN prev IS NULL THEN "
         "e ELSE prev % 2 = 0 END) THEN 2 ELSE 1 END, ok AND r = last_ok, ok AND (del OR "
         "coalesce(del_before, false)) FROM (SELECT r, del, e, ok, max(CASE WHEN ok THEN r * 2 "
         "+ del::int END) OVER w AS prev, bool_or(ok AND del) OVER w AS del_before, max(CASE "
         "WHEN ok THEN r END) OVER (PARTITION BY " +
         part_k + ") AS last_ok FROM (SELECT *, " + ok + " AS ok FROM (" + inner +
         ") x) y WINDOW w AS (PARTITION BY " + part_k +
         " ORDER BY r ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)) z; ";
  // 2. Each key's final state.
  const std::string from_plan =
      " FROM " + staging + " s JOIN " + plan + " p ON p._sluice_row = s._sluice_row WHERE p.final";
  sql += "DELETE FROM " + Qualified() + " t USING " + staging + " s, " + plan +
         " p WHERE p._sluice_row = s._sluice_row AND p.final AND p.fresh AND " + join_t + "; ";
  std::string cols, select, sets, conflict;
  for (size_t j = 0; j < stored.size(); ++j) {
    const StoredColumn& c = *state_.Find(fields[static_cast<size_t>(stored[j])].name);
    const std::string col = QuoteIdent(c.sql_name);
    cols += (j ? ", " : "") + col;
    select += (j ? ", " : "") + ("s." + StageCol(j));
    if (c.pk_position < 0) sets += (sets.empty() ? "" : ", ") + col + " = EXCLUDED." + col;
  }
  std::string key_cols, key_select;
  for (const std::string& k : spec_.primary_key) {
    conflict += (conflict.empty() ? "" : ", ") + QuoteIdent(state_.Find(k)->sql_name);
    key_select += "s." + stage_of(k) + ", ";
  }
  if (sets.empty()) sets = first_key + " = EXCLUDED." + first_key;
  sql += "INSERT INTO " + Qualified() + " AS t(" + cols + ") SELECT " + select + from_plan +
         " AND NOT s._sluice_del ON CONFLICT (" + conflict + ") DO UPDATE SET " + sets + "; ";
  if (tomb) {
    sql += "DELETE FROM " + TombQualified() + " b USING " + staging + " s, " + plan +
           " p WHERE p._sluice_row = s._sluice_row AND p.final AND NOT s._sluice_del AND " +
           join_b + "; ";
    sql += "INSERT INTO " + TombQualified() + "(" + conflict + ", " + QuoteIdent(kTombstoneAge) +
           ") SELECT " + key_select + "s." + stage_of(spec_.age_column) + from_plan +
           " AND s._sluice_del ON CONFLICT (" + conflict + ") DO UPDATE SET " +
           QuoteIdent(kTombstoneAge) + " = EXCLUDED." + QuoteIdent(kTombstoneAge) + "; ";
  }
  // 3. The counts.
  sql += "SELECT outcome, count(*) FROM " + plan + " GROUP BY outcome";
  SLUICE_ASSIGN_OR_RETURN(Rows rows, session_->conn->Run(sql));
  for (int r = 0; r < rows.size(); ++r) {
    SLUICE_ASSIGN_OR_RETURN(int64_t outcome, rows.Int(r, 0));
    SLUICE_ASSIGN_OR_RETURN(int64_t n, rows.Int(r, 1));
    AddOutcome(&counts_, static_cast<RowOutcome>(outcome), n);
  }
  return Status::Ok();
}

}  // namespace sluice::pool::postgres
