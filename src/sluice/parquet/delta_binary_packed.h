#pragma once
// DELTA_BINARY_PACKED (parquet-format Encodings.md, "Delta Encoding (DELTA_BINARY_PACKED = 5)"):
//
//   page       := header block*
//   header     := block_size:uleb128 miniblocks_per_block:uleb128 total_value_count:uleb128
//                 first_value:zigzag-uleb128
//   block      := min_delta:zigzag-uleb128 bit_widths:(miniblocks_per_block bytes) miniblock*
//   miniblock  := (block_size / miniblocks_per_block) deltas, each (delta - min_delta) packed
//                 LSB first at that miniblock's bit width
//
// value[0] = first_value; value[i] = value[i-1] + min_delta + packed[i-1], in wrapping 64-bit
// arithmetic (INT32 columns truncate the result to 32 bits, as the README requires for
// DuckDB's min_delta outside the INT32 range). Miniblocks after the last value carry no data.
// block_size is a multiple of 128 and the miniblock size a multiple of 32.
//
// Worked example: 80 01 04 03 02 | 01 00 00 00 00 | ... is block 128, 4 miniblocks, 3 values,
// first value 1; min_delta -1 (zigzag 01), bit widths 0: the values 1 0 -1.

#include <cstdint>
#include <vector>

#include "sluice/core/core.h"

namespace sluice::parquet {

// Decodes the first `n` values of the stream at the front of `data` into `out`;
// `*consumed` receives the stream's length in bytes (through the last miniblock holding
// values), so that DELTA_LENGTH_BYTE_ARRAY can find the bytes that follow. kCorruptFile when the
// stream holds fewer than `n` values or is malformed.
Status DecodeDeltaBinaryPacked(ByteView data, int64_t n, std::vector<int64_t>* out,
                               size_t* consumed);

}  // namespace sluice::parquet
