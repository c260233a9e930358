#pragma once
// Appending decoded values to a batch::Column (layout in batch/batch.h). Decoders produce
// dense values (no nulls); these helpers place them into rows, either as they are (a page
// without nulls: the values are appended in one move) or spread over the valid rows.

#include <cstdint>

#include "sluice/batch/batch.h"

namespace sluice::parquet {

// Appends every row of `dense` (which has no validity) to `out`.
void AppendDense(const batch::Column& dense, batch::Column* out);

// Appends `n` rows to `out`: row i takes the next value of `dense` when valid[i] != 0, else a
// null slot (zeroed fixed bytes / an empty string). `dense` holds exactly the valid count.
void AppendWithNulls(const batch::Column& dense, const uint8_t* valid, int64_t n,
                     batch::Column* out);

// Appends `n` null rows (a page of nulls, or a column of the NULL type).
void AppendNulls(int64_t n, batch::Column* out);

// Resets `column` to zero rows of its type, keeping its capacity.
void ClearColumn(batch::Column* column);

// Moves the dense values [keep, length) of `column` into `tail` (a fresh column of the same
// type) and truncates `column` to its first `keep` values.
void SplitDense(batch::Column* column, int64_t keep, batch::Column* tail);

}  // namespace sluice::parquet
