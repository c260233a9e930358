#pragma once
// parquet: sluice's own Parquet reader (no library is available on the target machines).
// Reads a file through the RandomAccessFile seam and yields columnar batch::Batches; it knows
// nothing of SQL, tables or keys.
//
// This cut: flat schemas; PLAIN and dictionary (PLAIN_DICTIONARY / RLE_DICTIONARY) encodings;
// RLE/bit-packed levels; data pages v1 (and v2 when uncompressed levels make it free);
// codecs UNCOMPRESSED and SNAPPY; physical types BOOLEAN, INT32, INT64, FLOAT, DOUBLE,
// BYTE_ARRAY, FIXED_LEN_BYTE_ARRAY with string, date, timestamp (ms/us), decimal and integer
// annotations. Anything else fails with a clear kUnsupportedFormat naming the feature, never a
// crash. The whole format (nesting, every encoding and codec) is a later cut behind the same
// interface.
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
                                                        ReaderOptions options = {});

// `sluice schema FILE`: a JSON document describing the file: num_rows, num_row_groups,
// created_by, and the columns with their logical type (batch::TypeName), physical type,
// repetition and annotation. Pretty-printed, ends with a newline.
Result<std::string> DescribeSchema(std::unique_ptr<RandomAccessFile> file);

}  // namespace sluice::parquet
