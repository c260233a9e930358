#pragma once
// shape: maps a file's batches onto a configured table (DESIGN.md, "Ingestion semantics").
// This header is the flat table: the key and age columns must be present, key values non-null
// (the checks themselves are batch/keys.h, which the pool repeats before it writes). Nested
// tables, a record unnested into a root table and its child tables, are nested.h. Schema
// evolution (adding and widening columns) is the pool's (docs/design/pool.md, "Schema").
//
// Pure functions; thread-safe.

#include <string>
#include <vector>

#include "sluice/batch/batch.h"
#include "sluice/core/core.h"

namespace sluice::shape {

struct FlatTable {
  std::vector<std::string> primary_key;
  std::string age_column;  // empty: none
};

// kPkNotFound / kAgeColumnNotFound naming the missing column and the columns the file has;
// kSchemaMismatch when two columns differ only in case (the pool cannot tell them apart).
Status CheckSchema(const FlatTable& table, const batch::Schema& schema);

// kPkNull naming the column and the 0-based row in the file (`first_row` is the file row of
// the batch's row 0).
Status CheckKeys(const FlatTable& table, const batch::Batch& batch, int64_t first_row);

}  // namespace sluice::shape
