#include "sluice/shape/shape.h"

#include "sluice/batch/keys.h"
#include "sluice/core/text.h"

namespace sluice::shape {

Status CheckSchema(const FlatTable& table, const batch::Schema& schema) {
  return batch::CheckKeyColumns(schema, table.primary_key, table.age_column,
                                batch::NameMatch::kExact);
}

Status CheckKeys(const FlatTable& table, const batch::Batch& batch, int64_t first_row) {
  return batch::CheckKeyValues(batch, table.primary_key, first_row, batch::NameMatch::kExact);
}

}  // namespace sluice::shape
