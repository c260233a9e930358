#include "sluice/shape/shape.h"

#include <algorithm>
#include <cctype>
#include <map>

#include "sluice/core/text.h"

namespace sluice::shape {
namespace {

std::string ColumnList(const batch::Schema& schema) {
  std::string out;
  for (const auto& f : schema.fields) {
    if (!out.empty()) out += ", ";
    out += f.name;
  }
  return out.empty() ? "(none)" : out;
}

}  // namespace

Status CheckSchema(const FlatTable& table, const batch::Schema& schema) {
  // The pool's column names compare case-insensitively (as SQL's do): "ID" and "id" would be
  // one column.
  std::map<std::string, std::string> seen;
  for (const auto& f : schema.fields) {
    std::string folded = AsciiLowered(f.name);
    auto [it, inserted] = seen.emplace(folded, f.name);
    if (!inserted) {
      return Err(ErrorCode::kSchemaMismatch,
                 "the file has two columns named '" + it->second + "' and '" + f.name +
                     "'; column names compare case-insensitively, so a table cannot hold both");
    }
  }
  for (const auto& pk : table.primary_key) {
    if (schema.FieldIndex(pk) < 0) {
      return Err(ErrorCode::kPkNotFound,
                 "primary key column '" + pk +
                     "' is not in the file; its columns are: " + ColumnList(schema));
    }
  }
  if (!table.age_column.empty() && schema.FieldIndex(table.age_column) < 0) {
    return Err(ErrorCode::kAgeColumnNotFound,
               "age column '" + table.age_column +
                   "' is not in the file; its columns are: " + ColumnList(schema));
  }
  return Status::Ok();
}

Status CheckKeys(const FlatTable& table, const batch::Batch& batch, int64_t first_row) {
  for (const auto& pk : table.primary_key) {
    const int idx = batch.schema->FieldIndex(pk);
    if (idx < 0) return Err(ErrorCode::kPkNotFound, "primary key column '" + pk + "' is missing");
    const batch::Column& col = batch.columns[static_cast<size_t>(idx)];
    if (col.type.id == batch::TypeId::kNull && batch.num_rows > 0) {
      return Err(ErrorCode::kPkNull,
                 "primary key column '" + pk + "' is null in row " + std::to_string(first_row));
    }
    if (!col.HasNulls()) continue;
    for (int64_t r = 0; r < batch.num_rows; ++r) {
      if (!col.IsValid(r)) {
        return Err(ErrorCode::kPkNull, "primary key column '" + pk + "' is null in row " +
                                           std::to_string(first_row + r));
      }
    }
  }
  return Status::Ok();
}

}  // namespace sluice::shape
