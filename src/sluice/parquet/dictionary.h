#pragma once
// Dictionary encoding (parquet-format Encodings.md, "Dictionary Encoding (PLAIN_DICTIONARY = 2
// and RLE_DICTIONARY = 8)"):
//
//   dictionary page := PLAIN values (num_values of them)
//   data page values := bit_width:uint8  indices:rle-bit-packed-hybrid(bit_width)
//
// Worked example: bytes 02 03 e4 are bit width 2, then a bit-packed run of one group whose
// byte 0xe4 = 0b11100100 holds the indices 0 1 2 3 (and four padding values never read).
//
// The dictionary is decoded once per column chunk into a batch::Column of the column's batch
// type; data pages decode their indices in bulk, validate them once per page against the
// dictionary size, and gather.

#include <cstdint>
#include <vector>

#include "sluice/batch/batch.h"
#include "sluice/core/core.h"

namespace sluice::parquet {

// Decodes `n` indices from a dictionary-encoded data page's value section into `indices`
// and checks each is < `dictionary_size` (kCorruptFile naming the first bad index).
Status DecodeDictionaryIndices(ByteView data, int64_t n, int64_t dictionary_size,
                               std::vector<uint32_t>* indices);

// Appends dictionary[indices[i]] for i < n to `out` (dense). Indices must be validated.
void GatherDictionary(const batch::Column& dictionary, const uint32_t* indices, int64_t n,
                      batch::Column* out);

}  // namespace sluice::parquet
