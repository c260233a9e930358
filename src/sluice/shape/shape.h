#pragma once
// shape: maps a file's batches onto a configured table (DESIGN.md, "Ingestion semantics").
// This cut covers flat tables: the key and age columns must be present, key values non-null.
// Nested unnesting and schema evolution rules come in later cuts behind the same module.
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
