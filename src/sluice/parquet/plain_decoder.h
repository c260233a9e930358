#pragma once
// PLAIN encoding (parquet-format Encodings.md, "Plain: (PLAIN = 0)"):
//
//   BOOLEAN               1 bit per value, packed LSB first
//   INT32 / FLOAT         4 bytes little-endian      INT64 / DOUBLE   8 bytes little-endian
//   INT96                 12 bytes: nanoseconds of the day (LE int64), then Julian day (LE int32)
//   BYTE_ARRAY            length (LE uint32) followed by that many bytes
//   FIXED_LEN_BYTE_ARRAY  type_length bytes
//
// Worked example: INT32 values 1, -2 are 01 00 00 00 fe ff ff ff; BYTE_ARRAY "ab", "" is
// 02 00 00 00 61 62 00 00 00 00; BOOLEAN true, false, true is the single byte 0x05.
//
// Only non-null values are stored; the caller places them into rows (column_builder.h). The
// decoder converts each physical value into the batch layout chosen by the schema
// (Conversion): widening, decimals from big-endian two's complement, INT96 to microseconds,
// FLOAT16 to float. PLAIN fixed-width values whose batch width equals the physical width are
// copied with one memcpy.

#include <cstdint>

#include "sluice/batch/batch.h"
#include "sluice/core/core.h"
#include "sluice/parquet/schema.h"

namespace sluice::parquet {

// Decodes `n` values from the front of `data` and appends them to `out` (dense); advances
// `data`. kCorruptFile when the bytes end early or a value is malformed.
Status DecodePlain(const LeafColumn& column, Cursor* data, int64_t n, batch::Column* out);

// Half-precision (IEEE 754 binary16) to float, exact.
float HalfToFloat(uint16_t half);

}  // namespace sluice::parquet
