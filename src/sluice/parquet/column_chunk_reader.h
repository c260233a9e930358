#pragma once
// Reads the pages of one column chunk (one column of one row group) into a batch::Column.
//
//   column chunk := [dictionary page] data-page+        (index pages are skipped)
//   page         := PageHeader (thrift compact) body (compressed_page_size bytes)
//   v1 body      := compressed( [rep levels] [def levels] values )
//   v2 body      := rep levels, def levels (uncompressed, lengths in the header),
//                   then values (compressed when is_compressed)
//
// The chunk's byte range comes from ColumnMetaData (dictionary_page_offset or
// data_page_offset, total_compressed_size) and is checked against the file before it is read.
// Every page size is checked against the chunk and kMaxPageBytes before decompression.
// This cut reads flat columns (max repetition 0, max definition 0 or 1) with PLAIN,
// dictionary, RLE (booleans), BYTE_STREAM_SPLIT and the DELTA_* encodings; the last two are
// rewritten to PLAIN layout first (an extra copy, not yet measured against DuckDB).

#include <cstdint>
#include <vector>

#include "sluice/batch/batch.h"
#include "sluice/core/core.h"
#include "sluice/parquet/metadata.h"
#include "sluice/parquet/schema.h"

namespace sluice::parquet {

class ColumnChunkReader {
 public:
  explicit ColumnChunkReader(const TopColumn& column) : column_(column) {}

  // Reads `num_rows` rows of `chunk` (row group `row_group`) from `file`, whose column data
  // ends at `data_end` (the start of the footer), into `out` (replaced).
  Status Read(const RandomAccessFile& file, uint64_t data_end, const ColumnChunk& chunk,
              int row_group, int64_t num_rows, batch::Column* out);

 private:
  Status ReadPages(ByteView bytes, int32_t codec, int64_t num_rows, batch::Column* out);
  Status ReadDictionaryPage(const PageHeader& header, ByteView body, int32_t codec);
  Status ReadDataPage(const PageHeader& header, ByteView body, int32_t codec, int64_t rows_left,
                      batch::Column* out, int64_t* rows_read);
  // Decodes `present` values of `encoding` from `values` into rows per `valid` (null when
  // `valid` is null: every row present).
  Status DecodeValues(int32_t encoding, ByteView values, int64_t num_values, int64_t present,
                      const uint8_t* valid, batch::Column* out);

  // Rewrites BYTE_STREAM_SPLIT / DELTA_* values into PLAIN layout in plain_.
  Status ToPlain(int32_t encoding, ByteView values, int64_t n);

  const TopColumn& column_;
  batch::Column dictionary_;
  bool has_dictionary_ = false;
  // Scratch reused across pages and row groups.
  std::vector<uint8_t> chunk_bytes_;
  std::vector<uint8_t> page_bytes_;
  std::vector<uint32_t> levels_;
  std::vector<uint8_t> valid_;
  std::vector<uint32_t> indices_;
  batch::Column dense_;
  std::vector<uint8_t> plain_;
  std::vector<int64_t> deltas_;
};

}  // namespace sluice::parquet
