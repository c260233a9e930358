#pragma once
// Private to pool: the rules of docs/design/pool.md that do not depend on the engine, shared by
// the SQLite pool (pool/sqlite) and the PostgreSQL pool (pool/postgres), so that both refuse and
// accept exactly the same specs and batches.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/batch/batch.h"
#include "sluice/core/core.h"
#include "sluice/pool/pool.h"

namespace sluice::pool {

// The batch column named `name`, ignoring ASCII case (as SQL compares identifiers); -1 when
// there is none.
int FindColumn(const batch::Schema& schema, std::string_view name);

// The checks BeginLoad makes of one table's spec: a name that is not reserved, a key, and a
// delete column that is neither a key nor the age column.
Status CheckTableSpec(const TableSpec& table);

// Checks a nested plan's shape (one root first, parents before children, unique and unreserved
// names in one schema, keys, foreign keys matching parent keys in number, age and delete on the
// root only).
Status CheckNestedSpec(const NestedSpec& spec);

// Checks one Apply's derived batches against the plan: one per table, the root without parent
// rows, every other row pointing at a row of its parent's batch.
Status CheckNestedBatches(const NestedSpec& spec, std::span<const DerivedBatch> batches);

// docs/design/pool.md, "Deletes": the delete flag of every row of `c` (the delete column
// `name`), and whether any is set; kSchemaMismatch for a column type that cannot say delete.
Status ReadDeleteFlags(const batch::Column& c, const std::string& name, std::vector<uint8_t>* flags,
                       bool* any);

// What one row did to its table (docs/design/pool.md, "Counts"). The values are fixed: the
// PostgreSQL pool computes them in SQL.
enum class RowOutcome : uint8_t { kRefused = 0, kInserted = 1, kUpdated = 2, kDeleted = 3 };

// Adds `rows` rows of `outcome` to `counts`.
void AddOutcome(ApplyCounts* counts, RowOutcome outcome, int64_t rows);

// A column of a stored table as far as its key goes: pk_position < 0 when not a key column.
struct KeyColumn {
  std::string name;
  int pk_position = -1;
};

// kSchemaMismatch unless the stored table's key is `configured` (ASCII case ignored), in order.
Status CheckStoredKey(const std::string& table, const std::vector<std::string>& configured,
                      const std::vector<KeyColumn>& stored);

}  // namespace sluice::pool
