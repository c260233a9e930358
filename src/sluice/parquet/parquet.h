#pragma once
// parquet: sluice's own Parquet reader (no library is available on the target machines).
// Reads a file through the RandomAccessFile seam and yields columnar batch::Batches; it knows
// nothing of SQL, tables or keys.
//
// Supported:
//   - physical types: BOOLEAN, INT32, INT64, INT96 (as a microsecond TIMESTAMP), FLOAT, DOUBLE,
//     BYTE_ARRAY, FIXED_LEN_BYTE_ARRAY;
//   - annotations (LogicalType, else the legacy ConvertedType), mapped as DuckDB does (see
//     schema.h): STRING/UTF8, ENUM, JSON, BSON (binary), UUID, DATE, TIME and TIMESTAMP in
//     MILLIS/MICROS/NANOS with and without isAdjustedToUTC, DECIMAL on INT32/INT64/
//     FIXED_LEN_BYTE_ARRAY(<= 16)/BYTE_ARRAY with precision <= 38, INT/UINT of 8, 16, 32 and
//     64 bits, FLOAT16, INTERVAL, UNKNOWN (every value null); an unknown LogicalType id falls
//     back to the physical type;
//   - nesting: STRUCT (groups), LIST (3-level, legacy 2-level, and repeated fields without a
//     LIST annotation), MAP and MAP_KEY_VALUE (a map without a value field reads as the list
//     of its keys), to any depth (kMaxSchemaDepth), with nulls at every level and empty lists,
//     in the batch layout of batch.h (assembly.h);
//   - encodings: PLAIN, PLAIN_DICTIONARY / RLE_DICTIONARY, RLE (levels and booleans),
//     BIT_PACKED (levels), DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY (on
//     BYTE_ARRAY and FIXED_LEN_BYTE_ARRAY), BYTE_STREAM_SPLIT;
//   - codecs UNCOMPRESSED, SNAPPY, GZIP, BROTLI, ZSTD, LZ4_RAW and LZ4 (Hadoop framing or raw);
//   - data pages v1 and v2, dictionary pages; index pages, page indexes and bloom filters are
//     skipped; page CRCs are checked when ReaderOptions::verify_page_crc is set;
//   - PARQUET-816 files (parquet-mr < 1.2.9 under-reporting chunk sizes) are read leniently.
// Refused with kUnsupportedFormat naming the feature and the column: encryption (both the
// encrypted-footer and the plaintext-footer forms: "encrypted parquet is not supported"),
// DECIMAL beyond precision 38, LZO, column data in external files, annotations on physical
// types they do not fit (e.g. TIME(MILLIS) on INT64).
//
// Streaming: a reader yields batches of at most batch::kBatchRows rows and about
// ReaderOptions::limits.batch_bytes bytes (fewer at the end of a row group), decoding each
// selected leaf column page by page. It holds one decoded page (and the dictionary) per
// selected leaf column plus the batch being built; what it holds is checked against
// limits.buffer_bytes from each page header before the page is read, and a batch is cut by
// its bytes, each value sized before it is copied (batch/limits.h). A row too large for a
// batch, or pages too large to hold at once, is kLimitExceeded naming the row group, column
// and row or page; decompressed or decoded bytes far past the file's (limits.h) are
// kCorruptFile. Only the selected columns' pages are read.
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
#include "sluice/batch/limits.h"
#include "sluice/core/core.h"

namespace sluice::parquet {

struct ReaderOptions {
  // Top-level columns to read, by name; empty reads all. Unknown names fail with kNotFound.
  std::vector<std::string> columns;
  // Check the CRC-32 of every page that carries one; a mismatch is kCorruptFile. Off by
  // default (as in DuckDB and arrow): it costs a pass over every page's bytes.
  bool verify_page_crc = false;
  // The byte budgets of batches and held pages.
  batch::ReadLimits limits;
};

// Opens `file` and reads its footer. The returned reader yields batches of at most
// batch::kBatchRows rows, in file order, never spanning row groups; batches own their data.
Result<std::unique_ptr<batch::BatchReader>> OpenParquet(std::unique_ptr<RandomAccessFile> file,
                                                        const ReaderOptions& options = {});

// `sluice schema FILE`: a JSON document describing the file: num_rows, num_row_groups,
// created_by, and the top-level columns with their type (batch::TypeName), physical type
// ("GROUP" for groups), repetition and annotation; a group lists its `children` the same way
// (recursively), and every leaf gives max_definition_level and max_repetition_level.
// Pretty-printed, ends with a newline.
Result<std::string> DescribeSchema(std::unique_ptr<RandomAccessFile> file);

}  // namespace sluice::parquet
