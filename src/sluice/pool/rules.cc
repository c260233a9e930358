// The engine-independent rules of the pool (rules_internal.h).

#include <unordered_set>

#include "sluice/batch/keys.h"
#include "sluice/core/text.h"
#include "sluice/pool/rules_internal.h"

namespace sluice::pool {
namespace {

// docs/design/pool.md, "Deletes": the exact set of text values that mean true.
bool TextMeansTrue(std::string_view s) {
  std::string folded = AsciiLowered(s);
  return folded == "true" || folded == "t" || folded == "1" || folded == "yes";
}

}  // namespace

int FindColumn(const batch::Schema& schema, std::string_view name) {
  return batch::FindField(schema, name, batch::NameMatch::kIgnoreCase);
}

Status CheckTableSpec(const TableSpec& table) {
  if (table.name.empty()) return Err(ErrorCode::kInvalidArgument, "table name is empty");
  if (AsciiLowered(table.name).rfind("_sluice_", 0) == 0 ||
      AsciiLowered(table.name).rfind("sqlite_", 0) == 0) {
    return Err(ErrorCode::kInvalidArgument, "table name '" + table.name + "' is reserved");
  }
  if (table.primary_key.empty()) {
    return Err(ErrorCode::kInvalidArgument, "table '" + table.name + "' has no primary key");
  }
  if (!table.delete_column.empty()) {
    const std::string d = AsciiLowered(table.delete_column);
    bool control_is_data = !table.age_column.empty() && AsciiLowered(table.age_column) == d;
    for (const std::string& k : table.primary_key) control_is_data |= AsciiLowered(k) == d;
    if (control_is_data) {
      return Err(ErrorCode::kInvalidArgument,
                 "table '" + table.name + "': delete column '" + table.delete_column +
                     "' is also a key or the age column; it must be a column of its own");
    }
  }
  return Status::Ok();
}

Status CheckNestedSpec(const NestedSpec& spec) {
  if (spec.tables.empty()) return Err(ErrorCode::kInvalidArgument, "a nested plan has no tables");
  std::unordered_set<std::string> names;
  for (size_t i = 0; i < spec.tables.size(); ++i) {
    const DerivedTableSpec& d = spec.tables[i];
    const std::string& name = d.table.name;
    const std::string folded = AsciiLowered(name);
    if (name.empty()) return Err(ErrorCode::kInvalidArgument, "a derived table has no name");
    if (folded.rfind("_sluice_", 0) == 0 || folded.rfind("sqlite_", 0) == 0) {
      return Err(ErrorCode::kInvalidArgument, "table name '" + name + "' is reserved");
    }
    if (!names.insert(folded).second) {
      return Err(ErrorCode::kInvalidArgument, "the nested plan names table '" + name + "' twice");
    }
    if (d.table.schema != spec.tables[0].table.schema) {
      return Err(ErrorCode::kInvalidArgument,
                 "table '" + name + "' is in schema '" + d.table.schema + "', its root in '" +
                     spec.tables[0].table.schema + "': a nested plan lives in one schema");
    }
    if (d.table.primary_key.empty()) {
      return Err(ErrorCode::kInvalidArgument, "table '" + name + "' has no primary key");
    }
    if (i == 0) {
      if (d.parent != -1) {
        return Err(ErrorCode::kInvalidArgument, "the nested plan's first table must be the root");
      }
      continue;
    }
    if (d.parent < 0 || static_cast<size_t>(d.parent) >= i) {
      return Err(ErrorCode::kInvalidArgument,
                 "table '" + name + "' must come after its parent in the nested plan");
    }
    if (d.foreign_key.empty() || d.foreign_key.size() != d.parent_key.size()) {
      return Err(ErrorCode::kInvalidArgument,
                 "table '" + name + "' needs one foreign-key column per parent key column");
    }
    if (!d.table.age_column.empty() || !d.table.delete_column.empty()) {
      return Err(ErrorCode::kInvalidArgument,
                 "table '" + name + "': age and delete columns belong to the root table");
    }
  }
  return Status::Ok();
}

Status CheckNestedBatches(const NestedSpec& spec, std::span<const DerivedBatch> batches) {
  if (batches.size() != spec.tables.size()) {
    return Err(ErrorCode::kInvalidArgument, "a nested batch has " + std::to_string(batches.size()) +
                                                " derived batches, the plan " +
                                                std::to_string(spec.tables.size()) + " tables");
  }
  for (size_t i = 0; i < batches.size(); ++i) {
    const DerivedTableSpec& d = spec.tables[i];
    const DerivedBatch& b = batches[i];
    if (b.rows == nullptr) {
      return Err(ErrorCode::kInvalidArgument, "no batch for table '" + d.table.name + "'");
    }
    if (d.parent < 0) {
      if (!b.parent_row.empty()) {
        return Err(ErrorCode::kInvalidArgument, "the root batch has parent rows");
      }
      continue;
    }
    if (static_cast<int64_t>(b.parent_row.size()) != b.rows->num_rows) {
      return Err(ErrorCode::kInvalidArgument,
                 "table '" + d.table.name + "': " + std::to_string(b.parent_row.size()) +
                     " parent rows for " + std::to_string(b.rows->num_rows) + " rows");
    }
    const int64_t parents = batches[static_cast<size_t>(d.parent)].rows->num_rows;
    for (int64_t p : b.parent_row) {
      if (p < 0 || p >= parents) {
        return Err(ErrorCode::kInvalidArgument, "table '" + d.table.name + "': parent row " +
                                                    std::to_string(p) + " is outside the " +
                                                    std::to_string(parents) + " parent rows");
      }
    }
  }
  return Status::Ok();
}

Status ReadDeleteFlags(const batch::Column& c, const std::string& name, std::vector<uint8_t>* flags,
                       bool* any) {
  flags->assign(static_cast<size_t>(c.length), 0);
  *any = false;
  const bool integer = batch::IsInteger(c.type.id);
  if (c.type.id != batch::TypeId::kBool && !integer && c.type.id != batch::TypeId::kString &&
      c.type.id != batch::TypeId::kNull) {
    return Err(ErrorCode::kSchemaMismatch, "delete column '" + name + "' has type " +
                                               batch::TypeName(c.type) +
                                               "; it must be BOOLEAN, an integer or VARCHAR");
  }
  if (c.type.id == batch::TypeId::kNull) return Status::Ok();
  for (int64_t row = 0; row < c.length; ++row) {
    bool set;
    if (c.type.id == batch::TypeId::kBool) {
      set = c.fixed[static_cast<size_t>(row)] != 0;
    } else if (integer) {
      set = c.Value<int64_t>(row) != 0;  // every integer is 8 bytes in a batch
    } else {
      set = TextMeansTrue(c.StringAt(row));
    }
    set = set && c.IsValid(row);
    (*flags)[static_cast<size_t>(row)] = set ? 1 : 0;
    *any |= set;
  }
  return Status::Ok();
}

void AddOutcome(ApplyCounts* counts, RowOutcome outcome, int64_t rows) {
  switch (outcome) {
    case RowOutcome::kRefused:
      counts->refused += rows;
      break;
    case RowOutcome::kInserted:
      counts->inserted += rows;
      break;
    case RowOutcome::kUpdated:
      counts->updated += rows;
      break;
    case RowOutcome::kDeleted:
      counts->deleted += rows;
      break;
  }
}

Status CheckStoredKey(const std::string& table, const std::vector<std::string>& configured,
                      const std::vector<KeyColumn>& stored) {
  std::vector<std::string> stored_pk(configured.size());
  size_t pk_count = 0;
  for (const KeyColumn& c : stored) {
    if (c.pk_position < 0) continue;
    ++pk_count;
    if (static_cast<size_t>(c.pk_position) < stored_pk.size()) {
      stored_pk[static_cast<size_t>(c.pk_position)] = AsciiLowered(c.name);
    }
  }
  bool same = pk_count == configured.size();
  for (size_t i = 0; same && i < stored_pk.size(); ++i) {
    same = stored_pk[i] == AsciiLowered(configured[i]);
  }
  if (same) return Status::Ok();
  std::string names;
  for (const KeyColumn& c : stored) {
    if (c.pk_position >= 0) names += (names.empty() ? "" : ", ") + c.name;
  }
  return Err(ErrorCode::kSchemaMismatch, "table '" + table + "' has primary key (" + names +
                                             "), which differs from the configured key");
}

}  // namespace sluice::pool
