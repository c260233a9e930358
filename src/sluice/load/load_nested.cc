// The loader's nested path (load.h, Loader::ApplyNested): a nested table's file is planned
// from its own schema (shape::PlanNested: a file may bring fields the example lacked), each
// batch of records is unnested into one batch per derived table (shape::Unnest) and applied
// through the pool's nested load, in the file's one transaction.
//
// Failures, as for flat tables: a root or child key missing from the file is PK_NOT_FOUND, the
// age column AGE_COLUMN_NOT_FOUND, a null key PK_NULL, a column that does not fit its derived
// table (or a name collision the file's fields cause) SCHEMA_MISMATCH; each message names the
// derived table and column. A stored configuration that no longer parses is INTERNAL (not
// the file's fault).

#include <string>
#include <vector>

#include "sluice/load/load.h"
#include "sluice/load/load_internal.h"
#include "sluice/shape/nested.h"

namespace sluice::load {
namespace {

pool::NestedSpec ToPoolSpec(const std::string& schema, const shape::NestedPlan& plan) {
  pool::NestedSpec spec;
  for (const shape::DerivedTable& t : plan.tables) {
    pool::DerivedTableSpec& d = spec.tables.emplace_back();
    d.table = pool::TableSpec{schema, t.name, t.primary_key, t.age_column, t.delete_column};
    d.parent = t.parent;
    d.foreign_key = t.foreign_key;
    d.parent_key = t.parent_key;
    d.mode =
        t.mode == shape::ChildMode::kReplace ? pool::ChildMode::kReplace : pool::ChildMode::kUpsert;
  }
  return spec;
}

std::string CountsText(const pool::ApplyCounts& c) {
  return std::to_string(c.inserted) + " inserted, " + std::to_string(c.updated) + " updated, " +
         std::to_string(c.deleted) + " deleted, " + std::to_string(c.refused) + " refused";
}

}  // namespace

Status Loader::ApplyNested(batch::BatchReader& reader, const catalog::FileRecord& file,
                           const catalog::TableConfig& table, pool::ApplyCounts* counts,
                           bool* recorded) {
  const std::string& key = file.key;
  auto config = shape::NestedConfigFromJson(table.nested_json);
  if (!config.ok()) {
    return Blame(config.status(), {},
                 "reading the nested configuration of table '" + table.name + "'");
  }
  // SQLite has no identifier limit; a PostgreSQL pool will pass its 63 bytes.
  constexpr size_t kIdentifierLimit = 0;
  auto plan = shape::PlanNested(*config, reader.schema(), kIdentifierLimit);
  if (!plan.ok()) {
    return Blame(
        Status(plan.status().code(), key + ": " + plan.status().message()),
        {ErrorCode::kPkNotFound, ErrorCode::kAgeColumnNotFound, ErrorCode::kSchemaMismatch},
        "planning the tables of " + key);
  }
  auto tx = pool_.BeginNestedLoad(ToPoolSpec(file.connection_id, *plan), file.seq);
  if (!tx.ok()) return Blame(tx.status(), kWriteErrors, "starting the load of " + key);
  batch::Batch records;
  std::vector<pool::DerivedBatch> parts;
  int64_t first_row = 0;
  while (true) {
    auto more = reader.Next(&records);
    if (!more.ok()) {
      const Status& st = more.status();
      return Blame(Status(st.code(), ReadFailure(key, st.message(), first_row)), kReadErrors,
                   "reading " + key);
    }
    if (!*more) break;
    auto unnested = shape::Unnest(*plan, records, first_row);
    if (!unnested.ok()) {
      return Blame(unnested.status(),
                   {ErrorCode::kPkNull, ErrorCode::kSchemaMismatch, ErrorCode::kLimitExceeded},
                   "unnesting " + key);
    }
    parts.clear();
    for (const shape::UnnestedBatch& u : *unnested) parts.push_back({&u.rows, u.parent_row});
    SLUICE_RETURN_IF_ERROR(
        Blame((*tx)->Apply(parts), kWriteErrors, "writing " + key + " to the pool"));
    CrashPoint("load.mid_load");
    first_row += records.num_rows;
  }
  const std::vector<pool::ApplyCounts>& per_table = (*tx)->counts();
  SLUICE_RETURN_IF_ERROR(Blame(CommitFile(**tx, catalog_, file.seq, clock_.NowMicros(), recorded),
                               {}, "committing " + key + " to the pool"));
  CrashPoint("load.after_pool_commit");
  *counts = per_table[0];
  std::string line;
  for (size_t i = 0; i < per_table.size(); ++i) {
    line += (i ? "; " : "") + plan->tables[i].name + ": " + CountsText(per_table[i]);
  }
  LogInfo("load", FileForLog(file.seq, table.connection_id, key) + " unnested into " +
                      std::to_string(per_table.size()) + " tables: " + line);
  return Status::Ok();
}

}  // namespace sluice::load
