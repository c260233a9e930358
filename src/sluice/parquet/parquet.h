#pragma once
// parquet: sluice's own Parquet reader (no library is available on the target machines).
// Reads a file through the RandomAccessFile seam and yields columnar batch::Batches; it knows
// nothing of SQL, tables or keys.
//
// This cut: flat schemas (top-level primitive columns, REQUIRED or OPTIONAL); encodings PLAIN,
// PLAIN_DICTIONARY / RLE_DICTIONARY, RLE (booleans), BYTE_STREAM_SPLIT, DELTA_BINARY_PACKED,
// DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY; data pages v1 and v2; codecs UNCOMPRESSED,
// SNAPPY, GZIP, BROTLI, ZSTD, LZ4_RAW and LZ4 (Hadoop framing or raw); every physical type
// (INT96 as a microsecond timestamp) with the string, enum, json, uuid, date, time, timestamp,
// decimal (precision <= 38), integer, float16 and interval annotations. Anything else (nested
// or repeated columns, LZO, encryption, external column files) fails with a clear
// kUnsupportedFormat naming the feature and the column, never a crash. Page CRCs are not
// checked. Nesting is a later cut behind the same interface.
//
// Errors: a file that is not Parquet (no PAR1 magic) -> kUnsupportedFormat; a damaged one ->
// kCorruptFile with what and where (row group, column, page). Every size and offset read from
// the file is checked against the file and against named limits before use.
//
// Thread-safety: one reader per thread; different readers may run concurrently.

#include <memory>
#include <string>
#include <vector>

#include "sluice/batch/batch.h"
#include "sluice/core/core.h"

namespace sluice::parquet {

struct ReaderOptions {
  // Top-level columns to read, by name; empty reads all. Unknown names fail with kNotFound.
  std::vector<std::string> columns;
};

// Opens `file` and reads its footer. The returned reader yields one batch per row group
// (this cut), in file order; batches own their data.
Result<std::unique_ptr<batch::BatchReader>> OpenParquet(std::unique_ptr<RandomAccessFile> file,
                                                        const ReaderOptions& options = {});

// `sluice schema FILE`: a JSON document describing the file: num_rows, num_row_groups,
// created_by, and the columns with their logical type (batch::TypeName), physical type,
// repetition and annotation. Pretty-printed, ends with a newline.
Result<std::string> DescribeSchema(std::unique_ptr<RandomAccessFile> file);

}  // namespace sluice::parquet
