#pragma once
// Private to json: bounds on what one file may make the reader do, whatever it claims. The
// memory budgets themselves (the batch and the record window) come from
// ReaderOptions::limits (batch/limits.h, set by --load-memory).

#include <cstdint>

#include "sluice/batch/batch.h"

namespace sluice::json {

// Objects and arrays nested deeper than this fail LIMIT_EXCEEDED (inference and decoding
// recurse once a level): the batch's limit on nesting, as for Parquet.
inline constexpr int kMaxDepth = batch::kMaxTypeDepth;
// Distinct field paths inference may create (each becomes a column or a child table's
// column); past it the file fails LIMIT_EXCEEDED. PostgreSQL allows 1,600 columns a table.
inline constexpr int64_t kMaxInferredFields = 4096;
// Inflated gzip data may grow to this floor plus kMaxInflationRatio x the compressed bytes
// read; past it the file fails CORRUPT_FILE as a decompression bomb. Real JSON compresses 5
// to 30 times; zeros reach deflate's ceiling of about 1,000.
inline constexpr uint64_t kInflationFloorBytes = uint64_t{256} << 20;
inline constexpr uint64_t kMaxInflationRatio = 200;
// A batch is cut when the raw JSON of its records reaches batch_bytes / kRawToBatchBytes (a
// number like `1,` becomes 8 bytes, so raw bytes bound the values within this factor). A field
// that is missing or an empty entry has no raw bytes: the reader counts those by their slots
// (batch::RowSlotBytes) against batch_bytes too.
inline constexpr uint64_t kRawToBatchBytes = 8;

}  // namespace sluice::json
