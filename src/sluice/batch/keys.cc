#include "sluice/batch/keys.h"

#include <map>

#include "sluice/core/text.h"

namespace sluice::batch {
namespace {

std::string ColumnList(const Schema& schema) {
  std::string out;
  for (const auto& f : schema.fields) {
    if (!out.empty()) out += ", ";
    out += f.name;
  }
  return out.empty() ? "(none)" : out;
}

}  // namespace

int FindField(const Schema& schema, std::string_view name, NameMatch match) {
  if (match == NameMatch::kExact) return schema.FieldIndex(name);
  const std::string folded = AsciiLowered(name);  // SQLite folds identifiers by ASCII case
  for (size_t i = 0; i < schema.fields.size(); ++i) {
    if (AsciiLowered(schema.fields[i].name) == folded) return static_cast<int>(i);
  }
  return -1;
}

Status CheckKeyColumns(const Schema& schema, const std::vector<std::string>& primary_key,
                       const std::string& age_column, NameMatch match) {
  // The pool's column names compare case-insensitively (as SQL's do): "ID" and "id" would be
  // one column.
  std::map<std::string, std::string> seen;
  for (const auto& f : schema.fields) {
    auto [it, inserted] = seen.emplace(AsciiLowered(f.name), f.name);
    if (!inserted) {
      return Err(ErrorCode::kSchemaMismatch,
                 "the file has two columns named '" + it->second + "' and '" + f.name +
                     "'; column names compare case-insensitively, so a table cannot hold both");
    }
  }
  for (const auto& pk : primary_key) {
    if (FindField(schema, pk, match) < 0) {
      return Err(ErrorCode::kPkNotFound,
                 "primary key column '" + pk +
                     "' is not in the file; its columns are: " + ColumnList(schema));
    }
  }
  if (!age_column.empty() && FindField(schema, age_column, match) < 0) {
    return Err(ErrorCode::kAgeColumnNotFound,
               "age column '" + age_column +
                   "' is not in the file; its columns are: " + ColumnList(schema));
  }
  return Status::Ok();
}

Status CheckKeyValues(const Batch& batch, const std::vector<std::string>& primary_key,
                      int64_t first_row, NameMatch match) {
  for (const auto& pk : primary_key) {
    const int idx = FindField(*batch.schema, pk, match);
    if (idx < 0) return Err(ErrorCode::kPkNotFound, "primary key column '" + pk + "' is missing");
    const Column& col = batch.columns[static_cast<size_t>(idx)];
    if (col.type.id == TypeId::kNull && batch.num_rows > 0) {
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

}  // namespace sluice::batch
