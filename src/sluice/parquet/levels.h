#pragma once
// Repetition and definition levels (parquet-format "Nested Encoding"; Dremel). A leaf's
// maxima count its ancestors: max_rep = repeated ones, max_def = non-required ones (itself
// included). For a column `optional group a (LIST) { repeated group list { optional int32
// element } }` (max_rep 1, max_def 3) the level table is:
//
//   value of a          rep def   entries
//   null                 0   0    one
//   []                   0   1    one
//   [null]               0   2    one
//   [1, 2]               0   3    then 1 3 (rep 1: another element of the same list)
//
// A new row starts at every rep 0. A REQUIRED top-level column stores no levels (all at the
// maximum 0); a flat OPTIONAL one has def 0 (null) or 1 (value).
//
// Encodings, at bit width ceil(log2(max_level + 1)):
//   RLE (3):         the RLE/bit-packed hybrid (rle_hybrid.h); in data page v1 it is
//                    prefixed by its byte length (uint32-LE), in v2 the header gives it.
//   BIT_PACKED (4):  deprecated, v1 only: ceil(n * bit_width / 8) bytes, values packed from
//                    the most significant bit of each byte down (unlike the hybrid).
// Worked example (RLE, v1, 4 levels 1 0 1 1 at width 1): 02 00 00 00 03 0d is length 2, then a
// bit-packed run of one group whose byte 0x0d = 0b00001101 holds 1 0 1 1 (and four padding
// zeros that are never read). The same levels BIT_PACKED: the single byte 0b10110000 = 0xb0.

#include <cstdint>
#include <vector>

#include "sluice/core/core.h"

namespace sluice::parquet {

// Bit width of levels up to `max_level`.
int LevelBitWidth(int max_level);

// Decodes `n` hybrid-encoded levels from `data` into `levels`; kCorruptFile when the data
// ends early or a level exceeds `max_level` (0..255).
Status DecodeRleLevels(ByteView data, int max_level, int64_t n, std::vector<uint8_t>* levels);

// Decodes `n` BIT_PACKED levels from the front of `data` into `levels`; `*consumed` receives
// the bytes used. kCorruptFile when the data is short or a level exceeds `max_level`.
Status DecodeBitPackedLevels(ByteView data, int max_level, int64_t n, std::vector<uint8_t>* levels,
                             size_t* consumed);

}  // namespace sluice::parquet
