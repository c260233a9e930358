#pragma once
// Definition levels of a flat column (parquet-format "Nested Encoding"; Dremel). For a
// top-level column the level table is:
//
//   repetition  max_def  def level  meaning
//   REQUIRED    0        (none)     value present (no levels are stored)
//   OPTIONAL    1        0          null
//   OPTIONAL    1        1          value present
//
// Levels are stored with the RLE/bit-packed hybrid (rle_hybrid.h) at bit width
// ceil(log2(max_def + 1)):
//   data page v1: def-levels := length:uint32-LE hybrid-bytes   (before the values)
//   data page v2: def-levels := hybrid-bytes                     (length in the page header)
// Worked example (v1 page, 4 values, the second one null): 02 00 00 00 03 0d is length 2,
// then a bit-packed run of one group whose byte 0x0d = 0b00001101 holds 1 0 1 1 (and four
// padding zeros that are never read).
//
// Nested columns (max_rep > 0 or max_def > 1 through groups) are a later cut.

#include <cstdint>
#include <vector>

#include "sluice/core/core.h"

namespace sluice::parquet {

// Bit width of levels up to `max_level`.
int LevelBitWidth(int max_level);

// Decodes `n` definition levels of a flat optional column from `data` into `valid` (1 = value
// present) and returns the number of present values. kCorruptFile for levels above 1.
Result<int64_t> DecodeFlatDefinitionLevels(ByteView data, int64_t n, std::vector<uint32_t>* scratch,
                                           std::vector<uint8_t>* valid);

}  // namespace sluice::parquet
