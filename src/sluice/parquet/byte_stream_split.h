#pragma once
// BYTE_STREAM_SPLIT (parquet-format Encodings.md, "Byte Stream Split: (BYTE_STREAM_SPLIT = 9)"):
// the K bytes of N fixed-width values are stored as K streams of N bytes: stream k holds byte
// k of every value.
//
//   page := stream[0] ... stream[K-1]        stream[k][i] = byte k of value i
//
// Worked example: FLOAT values 1.0f (00 00 80 3f) and 2.0f (00 00 00 40) are stored as
// 00 00 | 00 00 | 80 00 | 3f 40.
//
// The decoder reassembles the values into PLAIN layout so that the PLAIN decoder converts them
// (FLOAT, DOUBLE, INT32, INT64, FIXED_LEN_BYTE_ARRAY).

#include <cstdint>
#include <vector>

#include "sluice/core/core.h"

namespace sluice::parquet {

// Writes the first `n` values (each `width` bytes) of the split streams in `data` to `plain`.
// The stream length is data.size() / width; kCorruptFile if it is not whole or shorter than n.
Status UnsplitByteStreams(ByteView data, int64_t n, size_t width, std::vector<uint8_t>* plain);

}  // namespace sluice::parquet
