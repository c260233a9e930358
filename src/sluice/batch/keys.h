#pragma once
// batch/keys.h: the checks a keyed table makes of a file's columns and key values, in the one
// place both of their users can reach. shape decides with them before a load
// (shape::CheckSchema, shape::CheckKeys); the pool, handed batches by the loader or by its own
// tests, re-checks with the same functions before it writes.
//
// Two columns whose names differ only in ASCII case are an error of their own, because SQL
// (the pool) cannot tell them apart. Configured names are then looked up by the caller's rule:
// shape matches them exactly, the pool as SQL does (ignoring ASCII case).
// Pure functions; thread-safe.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/batch/batch.h"
#include "sluice/core/core.h"

namespace sluice::batch {

enum class NameMatch : uint8_t { kExact, kIgnoreCase };

// The index of the top-level field `name` under `match`, or -1 (the first, if several).
int FindField(const Schema& schema, std::string_view name, NameMatch match);

// kSchemaMismatch when two columns differ only in case; kPkNotFound / kAgeColumnNotFound
// naming the missing column and the columns the file has. An empty `age_column` is none.
Status CheckKeyColumns(const Schema& schema, const std::vector<std::string>& primary_key,
                       const std::string& age_column, NameMatch match);

// kPkNotFound when a key column is missing; kPkNull naming the column and the file row of the
// first null key (`first_row` is the file row of the batch's row 0).
Status CheckKeyValues(const Batch& batch, const std::vector<std::string>& primary_key,
                      int64_t first_row, NameMatch match);

}  // namespace sluice::batch
