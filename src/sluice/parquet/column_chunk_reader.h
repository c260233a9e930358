#pragma once
// Streams the pages of one column chunk (one leaf column of one row group), a run of rows at a
// time, as levels and dense values.
//
//   column chunk := [dictionary page] data-page+        (index pages are skipped)
//   page         := PageHeader (thrift compact) body (compressed_page_size bytes)
//   v1 body      := compressed( [rep levels] [def levels] values )
//   v2 body      := rep levels, def levels (uncompressed, lengths in the header),
//                   then values (compressed when is_compressed)
//
// Only one page is held at a time: its header and body are read from the file when the
// previous page is used up, so memory is bounded by the largest page (and the dictionary),
// not by the row group. The chunk's byte range comes from ColumnMetaData and is checked against
// the file; every page size is checked against the chunk and kMaxPageBytes before it is read.
//
// Levels: v1 pages store them with RLE (length-prefixed hybrid) or the deprecated BIT_PACKED
// encoding (levels.h); every level is checked against the column's maxima once per page.
// Values: PLAIN, dictionary, RLE (booleans), BYTE_STREAM_SPLIT and the DELTA_* encodings; the
// last two are rewritten to PLAIN layout first (an extra copy of the page). PLAIN values and
// dictionary indices are decoded a batch at a time straight into the output column.
//
// Memory: every reader of one file shares a ReaderMemory. What a reader holds between calls
// (page, levels, dictionary) counts against limits.buffer_bytes, checked from the page header
// before the page is read or decompressed; ReadRows cuts its rows at a byte budget, sizing
// each value (a dictionary index is decoded and sized before its value is gathered) before
// copying it. Decompressed page bytes pass an InflationGuard.
//
// With ReaderOptions::verify_page_crc, a page whose header carries a crc is checked (CRC-32
// of the page's bytes as stored) and a mismatch is kCorruptFile.

#include <cstdint>
#include <optional>
#include <vector>

#include "sluice/batch/batch.h"
#include "sluice/batch/limits.h"
#include "sluice/core/core.h"
#include "sluice/parquet/metadata.h"
#include "sluice/parquet/rle_hybrid.h"
#include "sluice/parquet/schema.h"

namespace sluice::parquet {

// Levels and dense values of a run of rows of one leaf column.
struct LeafBatch {
  std::vector<uint8_t> rep;  // one per entry; empty when the column's max repetition is 0
  std::vector<uint8_t> def;  // one per entry; empty when the column's max definition is 0
  batch::Column values;      // dense: one value per entry whose def is the maximum
  int64_t entries = 0;
  int64_t rows = 0;

  void Reset(const batch::DataType& type);
  // Bytes of the levels and values.
  uint64_t Bytes() const;
  // Moves the rows after the first `keep` into `tail` (Reset to the same type first).
  void SplitRows(int64_t keep, int max_def, LeafBatch* tail);
};

// The budgets of one file's readers and what they hold; one per file reader (one thread).
struct ReaderMemory {
  explicit ReaderMemory(const batch::ReadLimits& read_limits);

  batch::ReadLimits limits;
  uint64_t held = 0;  // sum of the column readers' HeldBytes()
  batch::InflationGuard decompressed;
};

class ColumnChunkReader {
 public:
  ColumnChunkReader(const LeafColumn& leaf, bool verify_crc, ReaderMemory* memory);
  ~ColumnChunkReader();
  ColumnChunkReader(const ColumnChunkReader&) = delete;
  ColumnChunkReader& operator=(const ColumnChunkReader&) = delete;

  // Positions the reader at the start of `chunk` (row group `row_group`, `num_rows` rows) of
  // `file`, whose column data ends at `data_end`. `file` must outlive the reader's use.
  // `legacy_dictionary_size`: the writer is parquet-mr before 1.2.9, whose chunk sizes leave
  // out part of the dictionary page header (PARQUET-816); such chunks are read up to
  // kParquet816Padding bytes further (within the file's data), as parquet-mr and arrow do.
  Status Open(const RandomAccessFile* file, uint64_t data_end, const ColumnChunk& chunk,
              int row_group, int64_t num_rows, bool legacy_dictionary_size = false);

  // Appends up to `rows` whole rows (at most the rows left in the chunk) to `out`, stopping
  // before the bytes it appends would pass `max_bytes`; returns the rows appended, which may
  // be 0 when the next row alone is larger. A row begun on an earlier page is always
  // finished; one larger than limits.batch_bytes is kLimitExceeded.
  Result<int64_t> ReadRows(int64_t rows, uint64_t max_bytes, LeafBatch* out);

  // Bytes of page, level, value and dictionary buffers the reader holds (capacity).
  size_t BufferedBytes() const;

 private:
  Result<int64_t> ReadRowsImpl(int64_t rows, uint64_t max_bytes, LeafBatch* out);
  // Output bytes of the next `n` values (n <= what the page holds), one per value in sizes_
  // when values differ in size; their sum.
  Result<uint64_t> PeekValueBytes(int64_t n);
  // An upper bound of PeekValueBytes(n), without reading the values.
  uint64_t ValueBytesBound(int64_t n) const;
  // Decodes dictionary indices until `n` wait in indices_ (checked against the dictionary).
  Status EnsureIndices(int64_t n);
  // Makes room for a page that needs `need` bytes held: kLimitExceeded past buffer_bytes.
  Status Reserve(uint64_t need, const std::string& what);
  // Frees the page buffers (not the dictionary).
  void ReleaseBuffers();
  // Brings memory_->held up to date with BufferedBytes().
  void UpdateHeld();
  // Reads pages until a data page with entries is loaded; kCorruptFile at the chunk's end.
  Status NextDataPage();
  Status ReadDictionaryPage(const PageHeader& header, ByteView body, int32_t codec);
  Status ReadDataPage(const PageHeader& header, ByteView body);
  Status DecodeLevels(int32_t encoding, bool v1, ByteView* section, int max_level, int64_t n,
                      std::vector<uint8_t>* levels, const char* what);
  // Prepares the page's `present` values of `encoding` to be taken batch by batch.
  Status DecodeValues(int32_t encoding, ByteView values, int64_t present);
  // Appends the page's next `n` values to `out`.
  Status TakeValues(int64_t n, batch::Column* out);
  // The page bytes decompressed (or, for an uncompressed page, `in` itself: no copy).
  Result<ByteView> PageBytes(int32_t codec, ByteView in, size_t uncompressed_size);
  // Rewrites BYTE_STREAM_SPLIT / DELTA_* values into PLAIN layout in plain_.
  Status ToPlain(int32_t encoding, ByteView values, int64_t n);
  // Appends page values [from, from + n) to `out`.
  void AppendValues(int64_t from, int64_t n, batch::Column* out) const;

  const LeafColumn& leaf_;
  const bool verify_crc_;
  ReaderMemory* const memory_;
  uint64_t held_ = 0;      // this reader's share of memory_->held
  const bool var_length_;  // values have offsets (strings, binary)
  const size_t width_;     // output bytes of a fixed-width value
  const RandomAccessFile* file_ = nullptr;
  std::string where_;
  int32_t codec_ = 0;
  uint64_t pos_ = 0;  // file offset of the next page header
  uint64_t end_ = 0;  // end of the chunk
  int page_index_ = 0;
  int64_t num_rows_ = 0;
  int64_t rows_started_ = 0;  // rows begun so far in this chunk

  batch::Column dictionary_;
  bool has_dictionary_ = false;
  uint64_t dictionary_longest_ = 0;  // bytes of the longest dictionary value

  // The current data page: levels decoded for every entry; values decoded as they are taken
  // (PLAIN through a cursor, dictionary indices through a running hybrid decoder), except
  // RLE booleans, decoded whole into page_values_. So a large page costs its bytes, one byte
  // per level and the batch, not a decoded copy.
  enum class ValueSource : uint8_t { kPlain, kDictionary, kDense };
  int64_t page_entries_ = 0;
  int64_t entry_pos_ = 0;
  int64_t value_pos_ = 0;
  ValueSource source_ = ValueSource::kPlain;
  ByteView plain_left_;  // kPlain: the values not yet taken
  std::optional<RleBitPackedDecoder> indices_decoder_;
  std::vector<uint8_t> rep_;
  std::vector<uint8_t> def_;
  std::vector<uint32_t> indices_;  // decoded, not yet taken: [indices_head_, size())
  size_t indices_head_ = 0;
  std::vector<uint32_t> sizes_;  // PeekValueBytes: per-value output bytes
  batch::Column page_values_;

  // Scratch reused across pages.
  std::vector<uint8_t> header_bytes_;
  std::vector<uint8_t> body_bytes_;
  std::vector<uint8_t> page_bytes_;
  std::vector<uint32_t> scratch_;
  std::vector<uint8_t> plain_;
  std::vector<int64_t> deltas_;
};

}  // namespace sluice::parquet
