#pragma once
// DELTA_LENGTH_BYTE_ARRAY and DELTA_BYTE_ARRAY (parquet-format Encodings.md, encodings 6 and 7):
//
//   delta-length-byte-array := lengths:DELTA_BINARY_PACKED(n) bytes:(sum of lengths)
//   delta-byte-array        := prefix_lengths:DELTA_BINARY_PACKED(n)
//                              suffixes:delta-length-byte-array(n)
//   value[i] = value[i-1][0 : prefix_length[i]] + suffix[i]     (value[-1] = "")
//
// Worked example (DELTA_BYTE_ARRAY): "axis", "axle" -> prefix lengths 0 2, suffixes "axis" "le".
//
// Both decode into PLAIN BYTE_ARRAY layout (length:uint32-LE bytes) so that the PLAIN decoder
// does the conversion to the batch type.

#include <cstdint>
#include <vector>

#include "sluice/core/core.h"

namespace sluice::parquet {

Status DecodeDeltaLengthByteArray(ByteView data, int64_t n, std::vector<uint8_t>* plain);
Status DecodeDeltaByteArray(ByteView data, int64_t n, std::vector<uint8_t>* plain);

}  // namespace sluice::parquet
