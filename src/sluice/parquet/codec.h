#pragma once
// Page decompression. Each codec must produce exactly the page header's uncompressed size;
// anything else is kCorruptFile. Supported: UNCOMPRESSED, SNAPPY, GZIP (zlib, concatenated
// members), BROTLI, ZSTD, LZ4_RAW, and LZ4 (Hadoop framing, falling back to a raw block as
// parquet-mr and arrow do). LZO fails with kUnsupportedFormat.

#include <cstdint>
#include <vector>

#include "sluice/core/core.h"
#include "sluice/parquet/metadata.h"

namespace sluice::parquet {

// True when Decompress knows `codec`.
bool CodecSupported(int32_t codec);

// Decompresses `in` into `out` (resized to `uncompressed_size`, which the caller has checked
// against kMaxPageBytes).
Status Decompress(int32_t codec, ByteView in, size_t uncompressed_size, std::vector<uint8_t>* out);

// CRC-32 (zlib's polynomial, as parquet-format's PageHeader.crc) of `bytes`.
uint32_t Crc32(ByteView bytes);

}  // namespace sluice::parquet
