#include "sluice/parquet/column_chunk_reader.h"

#include <algorithm>
#include <cstring>

#include "sluice/parquet/byte_stream_split.h"
#include "sluice/parquet/codec.h"
#include "sluice/parquet/column_builder.h"
#include "sluice/parquet/delta_binary_packed.h"
#include "sluice/parquet/delta_byte_array.h"
#include "sluice/parquet/dictionary.h"
#include "sluice/parquet/levels.h"
#include "sluice/parquet/limits.h"
#include "sluice/parquet/plain_decoder.h"
#include "sluice/parquet/rle_hybrid.h"

namespace sluice::parquet {
namespace {

Status Corrupt(const std::string& what) { return Err(ErrorCode::kCorruptFile, what); }
Status Unsupported(const std::string& what) { return Err(ErrorCode::kUnsupportedFormat, what); }

// Page headers are read through a window that grows until the header parses (most are a few
// dozen bytes; statistics can make them larger).
constexpr size_t kHeaderProbeBytes = 256;
// Entries ReadRows sizes at a time.
constexpr int64_t kSegmentEntries = 64 * 1024;

// RLE-encoded booleans (data page v2 writers): length:uint32-LE hybrid(bit width 1).
Status DecodeRleBooleans(ByteView data, int64_t n, std::vector<uint32_t>* scratch,
                         batch::Column* out) {
  Cursor cursor(data);
  SLUICE_ASSIGN_OR_RETURN(uint32_t length, cursor.ReadLE<uint32_t>("RLE boolean length"));
  SLUICE_ASSIGN_OR_RETURN(ByteView runs, cursor.Take(length, "RLE boolean runs"));
  scratch->resize(static_cast<size_t>(n));
  RleBitPackedDecoder decoder(runs, 1);
  SLUICE_RETURN_IF_ERROR(decoder.GetBatch(scratch->data(), n));
  const size_t start = out->fixed.size();
  out->fixed.resize(start + static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) out->fixed[start + i] = static_cast<uint8_t>((*scratch)[i]);
  out->length += n;
  return Status::Ok();
}

int64_t CountEqual(const uint8_t* levels, int64_t n, uint8_t value) {
  int64_t count = 0;
  for (int64_t i = 0; i < n; ++i) count += levels[i] == value ? 1 : 0;
  return count;
}

}  // namespace

void LeafBatch::Reset(const batch::DataType& type) {
  rep.clear();
  def.clear();
  entries = 0;
  rows = 0;
  // The assembler may have moved the values out; start from a fresh column.
  values = batch::MakeColumn(type);
}

uint64_t LeafBatch::Bytes() const { return rep.size() + def.size() + batch::ColumnBytes(values); }

void LeafBatch::SplitRows(int64_t keep, int max_def, LeafBatch* tail) {
  int64_t entry = keep;  // the entry where row `keep` begins
  if (!rep.empty()) {
    int64_t begun = 0;
    for (entry = 0; entry < entries; ++entry) {
      if (rep[static_cast<size_t>(entry)] == 0 && begun++ == keep) break;
    }
  }
  const int64_t present =
      def.empty() ? entry : CountEqual(def.data(), entry, static_cast<uint8_t>(max_def));
  if (!rep.empty()) {
    tail->rep.assign(rep.begin() + entry, rep.end());
    rep.resize(static_cast<size_t>(entry));
  }
  if (!def.empty()) {
    tail->def.assign(def.begin() + entry, def.end());
    def.resize(static_cast<size_t>(entry));
  }
  SplitDense(&values, present, &tail->values);
  tail->entries = entries - entry;
  tail->rows = rows - keep;
  entries = entry;
  rows = keep;
}

ReaderMemory::ReaderMemory(const batch::ReadLimits& read_limits)
    : limits(read_limits),
      decompressed("decompressed pages", kInflationFloorBytes, kMaxInflationRatio) {}

ColumnChunkReader::ColumnChunkReader(const LeafColumn& leaf, bool verify_crc, ReaderMemory* memory)
    : leaf_(leaf),
      verify_crc_(verify_crc),
      memory_(memory),
      var_length_(!batch::MakeColumn(leaf.type).offsets.empty()),
      width_(batch::FixedWidth(leaf.type.id)) {}

ColumnChunkReader::~ColumnChunkReader() { memory_->held -= held_; }

Status ColumnChunkReader::Open(const RandomAccessFile* file, uint64_t data_end,
                               const ColumnChunk& chunk, int row_group, int64_t num_rows,
                               bool legacy_dictionary_size) {
  file_ = file;
  where_ = "row group " + std::to_string(row_group) + ", column '" + leaf_.name + "'";
  num_rows_ = num_rows;
  rows_started_ = 0;
  page_index_ = 0;
  page_entries_ = entry_pos_ = value_pos_ = 0;
  has_dictionary_ = false;
  pos_ = end_ = 0;
  if (!chunk.file_path.empty()) {
    return Unsupported(where_ + ": column data in another file (" + chunk.file_path + ")");
  }
  if (chunk.encrypted) {
    return Unsupported(where_ + ": encrypted parquet is not supported (modular encryption)");
  }
  if (!chunk.has_meta_data) return Corrupt(where_ + ": column chunk without metadata");
  const ColumnMetaData& meta = chunk.meta_data;
  if (meta.type != static_cast<int32_t>(leaf_.physical)) {
    return Corrupt(where_ + ": chunk physical type " + std::to_string(meta.type) +
                   " differs from the schema's " + PhysicalTypeName(leaf_.physical));
  }
  if (!CodecSupported(meta.codec)) {
    return Unsupported(where_ + ": compression codec " + CodecName(meta.codec));
  }
  codec_ = meta.codec;
  // Where the chunk starts: its dictionary page when there is one. Some writers record a
  // dictionary_page_offset of 0 (or past the data page) for chunks without a dictionary.
  int64_t start = meta.data_page_offset;
  if (meta.dictionary_page_offset && *meta.dictionary_page_offset > 0 &&
      *meta.dictionary_page_offset < start) {
    start = *meta.dictionary_page_offset;
  }
  if (num_rows == 0) return Status::Ok();  // empty row groups may carry placeholder offsets
  const int64_t length = meta.total_compressed_size;
  if (start < 4 || length <= 0 || static_cast<uint64_t>(start) >= data_end ||
      static_cast<uint64_t>(length) > data_end - static_cast<uint64_t>(start)) {
    return Corrupt(where_ + ": column chunk at offset " + std::to_string(start) + " of " +
                   std::to_string(length) + " bytes lies outside the file's data (which ends at " +
                   std::to_string(data_end) + ")");
  }
  pos_ = static_cast<uint64_t>(start);
  end_ = pos_ + static_cast<uint64_t>(length);
  if (legacy_dictionary_size) {
    end_ = std::min<uint64_t>(data_end, end_ + kParquet816Padding);
  }
  ClearColumn(&dictionary_);
  if (dictionary_.type != leaf_.type) dictionary_ = batch::MakeColumn(leaf_.type);
  return Status::Ok();
}

size_t ColumnChunkReader::BufferedBytes() const {
  auto column_bytes = [](const batch::Column& c) {
    return c.fixed.capacity() + c.chars.capacity() + c.offsets.capacity() * sizeof(int64_t) +
           c.validity.capacity();
  };
  return header_bytes_.capacity() + body_bytes_.capacity() + page_bytes_.capacity() +
         scratch_.capacity() * sizeof(uint32_t) + plain_.capacity() +
         deltas_.capacity() * sizeof(int64_t) + rep_.capacity() + def_.capacity() +
         indices_.capacity() * sizeof(uint32_t) + sizes_.capacity() * sizeof(uint32_t) +
         column_bytes(page_values_) + column_bytes(dictionary_);
}

Result<int64_t> ColumnChunkReader::ReadRows(int64_t rows, uint64_t max_bytes, LeafBatch* out) {
  Result<int64_t> taken = ReadRowsImpl(rows, max_bytes, out);
  if (!taken.ok()) return taken.status().WithContext(where_);
  return taken;
}

Result<int64_t> ColumnChunkReader::ReadRowsImpl(int64_t rows, uint64_t max_bytes, LeafBatch* out) {
  const int max_rep = leaf_.max_repetition_level;
  const int max_def = leaf_.max_definition_level;
  const uint64_t level_bytes = (max_rep > 0 ? 1 : 0) + (max_def > 0 ? 1 : 0);
  // What an entry without a value becomes in the assembled column: a slot of the value's width,
  // or one more offset of a variable-length column.
  const uint64_t null_slot = var_length_ ? sizeof(int64_t) : width_;
  const uint8_t full_def = static_cast<uint8_t>(max_def);
  int64_t started = 0;  // rows begun by this call
  uint64_t bytes = 0;   // bytes appended by this call
  bool first = true;
  while (true) {
    if (entry_pos_ == page_entries_) {
      if (started == rows && (max_rep == 0 || rows_started_ == num_rows_)) break;
      if (max_rep == 0 && rows_started_ == num_rows_) break;
      SLUICE_RETURN_IF_ERROR(NextDataPage());
      continue;
    }
    const int64_t begin = entry_pos_;
    const uint8_t* rep = rep_.data();
    const uint8_t* def = def_.data();
    if (max_rep > 0 && first && rep[begin] != 0) {
      return Corrupt("page " + std::to_string(page_index_ - 1) +
                     ": the first level of a row has repetition level " +
                     std::to_string(rep[begin]) + ", not 0");
    }
    first = false;
    // The candidate segment: entries [begin, end) beginning up to rows - started rows, at most
    // kSegmentEntries of them (so sizes_ and indices_ stay small).
    int64_t end = begin;
    int64_t segment_rows = 0;  // rows beginning in [begin, end)
    if (max_rep == 0) {
      end += std::min({rows - started, page_entries_ - begin, kSegmentEntries});
      segment_rows = end - begin;
    } else {
      int64_t& begun = segment_rows;
      for (; end < page_entries_ && end - begin < kSegmentEntries; ++end) {
        if (rep[end] == 0) {
          if (started + begun == rows || rows_started_ + begun == num_rows_) break;
          ++begun;
        }
      }
    }
    // A segment that continues a row begun earlier must be taken up to that row's end.
    const bool open = max_rep > 0 && rep[begin] != 0;
    if (end == begin) break;  // at the start of a row past `rows`
    const int64_t present =
        max_def == 0 ? end - begin : CountEqual(def + begin, end - begin, full_def);
    const uint64_t level_total = static_cast<uint64_t>(end - begin) * level_bytes +
                                 static_cast<uint64_t>(end - begin - present) * null_slot;
    int64_t take = end, take_present = present, take_rows = segment_rows;
    uint64_t take_bytes = ValueBytesBound(present) + level_total;
    // Sized value by value only when the cheap bound does not fit.
    if (bytes + take_bytes > max_bytes) {
      SLUICE_ASSIGN_OR_RETURN(uint64_t value_bytes, PeekValueBytes(present));
      take_bytes = value_bytes + level_total;
    }
    // Cut at the last row start whose prefix fits the budget.
    if (bytes + take_bytes > max_bytes) {
      take = begin;
      take_present = take_rows = 0;
      take_bytes = 0;
      uint64_t cum = 0;
      int64_t v = 0, begun = 0;
      for (int64_t e = begin; e <= end; ++e) {
        const bool row_start = e == end || max_rep == 0 || rep[e] == 0;
        if (row_start && e > begin) {
          const bool fits = bytes + cum <= max_bytes;
          if (!fits && !(open && take == begin)) break;
          if (!fits && bytes + cum > memory_->limits.batch_bytes) {
            return batch::LimitExceeded("row " + std::to_string(rows_started_ - 1), bytes + cum,
                                        "batch", memory_->limits.batch_bytes);
          }
          take = e;
          take_present = v;
          take_rows = begun;
          take_bytes = cum;
        }
        if (e == end) break;
        if (row_start) ++begun;
        cum += level_bytes;
        if (max_def == 0 || def[e] == full_def) {
          cum += var_length_ ? sizes_[static_cast<size_t>(v)] : width_;
          ++v;
        } else {
          cum += null_slot;
        }
      }
    }
    if (take == begin) {
      if (started > 0 || open) break;
      return int64_t{0};  // the next row alone passes max_bytes
    }
    if (max_rep > 0) out->rep.insert(out->rep.end(), rep_.begin() + begin, rep_.begin() + take);
    if (max_def > 0) out->def.insert(out->def.end(), def_.begin() + begin, def_.begin() + take);
    SLUICE_RETURN_IF_ERROR(TakeValues(take_present, &out->values));
    out->entries += take - begin;
    out->rows += take_rows;
    started += take_rows;
    rows_started_ += take_rows;
    bytes += take_bytes;
    entry_pos_ = take;
    if (take < end) break;  // the budget is spent
  }
  return started;
}

void ColumnChunkReader::AppendValues(int64_t from, int64_t n, batch::Column* out) const {
  if (n == 0) return;
  const batch::Column& src = page_values_;
  if (!src.offsets.empty()) {
    const int64_t lo = src.offsets[from];
    const int64_t hi = src.offsets[from + n];
    const int64_t base = out->offsets.back() - lo;
    out->chars.insert(out->chars.end(), src.chars.begin() + lo, src.chars.begin() + hi);
    const size_t start = out->offsets.size();
    out->offsets.resize(start + static_cast<size_t>(n));
    int64_t* dst = out->offsets.data() + start;
    const int64_t* s = src.offsets.data() + from + 1;
    for (int64_t k = 0; k < n; ++k) dst[k] = s[k] + base;
  } else {
    const size_t width = batch::FixedWidth(src.type.id);
    out->fixed.insert(out->fixed.end(), src.fixed.begin() + from * width,
                      src.fixed.begin() + (from + n) * width);
  }
  out->length += n;
}

uint64_t ColumnChunkReader::ValueBytesBound(int64_t n) const {
  const auto count = static_cast<uint64_t>(n);
  if (!var_length_) return count * width_;
  switch (source_) {
    case ValueSource::kPlain:
      if (leaf_.physical == PhysicalType::kFixedLenByteArray) {
        return count * (static_cast<uint64_t>(leaf_.type_length) + sizeof(int64_t));
      }
      return plain_left_.size() + count * sizeof(int64_t);
    case ValueSource::kDictionary:
      return count * (dictionary_longest_ + sizeof(int64_t));
    case ValueSource::kDense:
      break;
  }
  return batch::ColumnBytes(page_values_) + count * sizeof(int64_t);
}

Result<uint64_t> ColumnChunkReader::PeekValueBytes(int64_t n) {
  if (!var_length_) return static_cast<uint64_t>(n) * width_;
  sizes_.resize(static_cast<size_t>(n));
  uint64_t total = 0;
  switch (source_) {
    case ValueSource::kPlain: {
      if (leaf_.physical == PhysicalType::kFixedLenByteArray) {
        std::fill(sizes_.begin(), sizes_.end(),
                  static_cast<uint32_t>(leaf_.type_length) + sizeof(int64_t));
        break;
      }
      // length:uint32-LE bytes, repeated; a damaged run is sized as far as it goes and left
      // for DecodePlain to report.
      size_t pos = 0;
      for (int64_t k = 0; k < n; ++k) {
        uint32_t length = 0;
        if (pos + 4 <= plain_left_.size()) {
          std::memcpy(&length, plain_left_.data() + pos, 4);
          length = static_cast<uint32_t>(std::min<uint64_t>(length, plain_left_.size() - pos - 4));
          pos += 4 + length;
        }
        sizes_[static_cast<size_t>(k)] = length + sizeof(int64_t);
      }
      break;
    }
    case ValueSource::kDictionary: {
      SLUICE_RETURN_IF_ERROR(EnsureIndices(n));
      const uint32_t* index = indices_.data() + indices_head_;
      const int64_t* offsets = dictionary_.offsets.data();
      for (int64_t k = 0; k < n; ++k) {
        sizes_[static_cast<size_t>(k)] =
            static_cast<uint32_t>(offsets[index[k] + 1] - offsets[index[k]]) + sizeof(int64_t);
      }
      break;
    }
    case ValueSource::kDense:
      std::fill(sizes_.begin(), sizes_.end(), static_cast<uint32_t>(width_));
      break;
  }
  for (uint32_t size : sizes_) total += size;
  return total;
}

Status ColumnChunkReader::EnsureIndices(int64_t n) {
  const size_t wanted = static_cast<size_t>(n);
  if (indices_.size() - indices_head_ >= wanted) return Status::Ok();
  indices_.erase(indices_.begin(), indices_.begin() + static_cast<ptrdiff_t>(indices_head_));
  indices_head_ = 0;
  const size_t have = indices_.size();
  indices_.resize(wanted);
  Status st =
      indices_decoder_->GetBatch(indices_.data() + have, static_cast<int64_t>(wanted - have));
  if (!st.ok()) return st.WithContext("dictionary indices");
  // One check per batch: the largest index against the dictionary.
  const uint32_t max_index =
      *std::max_element(indices_.begin() + static_cast<ptrdiff_t>(have), indices_.end());
  if (static_cast<int64_t>(max_index) >= dictionary_.length) {
    return Corrupt("dictionary index " + std::to_string(max_index) +
                   " out of range (the dictionary has " + std::to_string(dictionary_.length) +
                   " values)");
  }
  return Status::Ok();
}

void ColumnChunkReader::UpdateHeld() {
  const uint64_t now = BufferedBytes();
  memory_->held = memory_->held - held_ + now;
  held_ = now;
}

void ColumnChunkReader::ReleaseBuffers() {
  std::vector<uint8_t>().swap(header_bytes_);
  std::vector<uint8_t>().swap(body_bytes_);
  std::vector<uint8_t>().swap(page_bytes_);
  std::vector<uint32_t>().swap(scratch_);
  std::vector<uint8_t>().swap(plain_);
  std::vector<int64_t>().swap(deltas_);
  std::vector<uint8_t>().swap(rep_);
  std::vector<uint8_t>().swap(def_);
  std::vector<uint32_t>().swap(indices_);
  std::vector<uint32_t>().swap(sizes_);
  indices_head_ = 0;
  page_values_ = batch::MakeColumn(leaf_.type);
}

Status ColumnChunkReader::Reserve(uint64_t need, const std::string& what) {
  const uint64_t limit = memory_->limits.buffer_bytes;
  const uint64_t others = memory_->held - held_;
  if (others + std::max(need, held_) <= limit) return Status::Ok();
  ReleaseBuffers();
  UpdateHeld();
  if (others + held_ + need <= limit) return Status::Ok();
  return batch::LimitExceeded(
      what + " (with the pages and dictionaries of every column read at once)",
      others + held_ + need, "reader buffer", limit);
}

Status ColumnChunkReader::TakeValues(int64_t n, batch::Column* out) {
  if (n == 0) return Status::Ok();
  switch (source_) {
    case ValueSource::kPlain: {
      Cursor cursor(plain_left_);
      SLUICE_RETURN_IF_ERROR(DecodePlain(leaf_, &cursor, n, out));
      plain_left_ = plain_left_.subspan(cursor.position());
      break;
    }
    case ValueSource::kDictionary: {
      SLUICE_RETURN_IF_ERROR(EnsureIndices(n));
      GatherDictionary(dictionary_, indices_.data() + indices_head_, n, out);
      indices_head_ += static_cast<size_t>(n);
      break;
    }
    case ValueSource::kDense:
      if (n > page_values_.length - value_pos_) return Corrupt("more values than the page holds");
      AppendValues(value_pos_, n, out);
      break;
  }
  value_pos_ += n;
  return Status::Ok();
}

Result<ByteView> ColumnChunkReader::PageBytes(int32_t codec, ByteView in,
                                              size_t uncompressed_size) {
  if (codec == static_cast<int32_t>(Codec::kUncompressed)) {
    if (in.size() != uncompressed_size) {
      return Corrupt("uncompressed page of " + std::to_string(in.size()) +
                     " bytes where the header says " + std::to_string(uncompressed_size));
    }
    return in;
  }
  SLUICE_RETURN_IF_ERROR(Decompress(codec, in, uncompressed_size, &page_bytes_));
  return ByteView(page_bytes_.data(), page_bytes_.size());
}

Status ColumnChunkReader::NextDataPage() {
  while (true) {
    if (pos_ >= end_) {
      return Corrupt("column chunk ends after " + std::to_string(rows_started_) + " of " +
                     std::to_string(num_rows_) + " rows");
    }
    const uint64_t left = end_ - pos_;
    const std::string here =
        "page " + std::to_string(page_index_) + " (file offset " + std::to_string(pos_) + ")";
    ++page_index_;
    // Read the header through a growing window.
    size_t window = static_cast<size_t>(std::min<uint64_t>(left, kHeaderProbeBytes));
    size_t header_size = 0;
    Result<PageHeader> header = Corrupt("unreachable");
    while (true) {
      SLUICE_RETURN_IF_ERROR(file_->ReadAt(pos_, window, &header_bytes_));
      header = ParsePageHeader(ByteView(header_bytes_.data(), header_bytes_.size()), &header_size);
      const size_t limit = static_cast<size_t>(std::min<uint64_t>(left, kMaxPageHeaderBytes));
      if (header.ok() || window >= limit) break;
      window = std::min(limit, window * 16);
    }
    if (!header.ok()) return header.status().WithContext(here + " header");
    const PageHeader& h = *header;
    pos_ += header_size;
    if (h.compressed_page_size < 0 || static_cast<uint64_t>(h.compressed_page_size) > end_ - pos_) {
      return Corrupt(here + ": compressed size " + std::to_string(h.compressed_page_size) +
                     " passes the end of the column chunk (" + std::to_string(end_ - pos_) +
                     " bytes left)");
    }
    if (h.uncompressed_page_size < 0 ||
        static_cast<uint32_t>(h.uncompressed_page_size) > kMaxPageBytes ||
        static_cast<uint32_t>(h.compressed_page_size) > kMaxPageBytes) {
      return Corrupt(here + ": page size " + std::to_string(h.uncompressed_page_size) + " / " +
                     std::to_string(h.compressed_page_size) +
                     " is negative or exceeds kMaxPageBytes");
    }
    const PageType type = static_cast<PageType>(h.type);
    const bool wanted = type == PageType::kDictionaryPage || type == PageType::kDataPage ||
                        type == PageType::kDataPageV2;
    if (!wanted) {  // index pages and unknown page types carry no values for us
      pos_ += static_cast<uint64_t>(h.compressed_page_size);
      continue;
    }
    // What the page will hold: its bytes as stored and decompressed, a byte per level, and a
    // decoded dictionary (values plus an offset each) or the dictionary already held.
    const bool is_dictionary = type == PageType::kDictionaryPage;
    int64_t claimed_values = 0;
    if (is_dictionary && h.dictionary_page) claimed_values = h.dictionary_page->num_values;
    if (type == PageType::kDataPage && h.data_page) claimed_values = h.data_page->num_values;
    if (type == PageType::kDataPageV2 && h.data_page_v2) {
      claimed_values = h.data_page_v2->num_values;
    }
    claimed_values = std::clamp<int64_t>(claimed_values, 0, kMaxPageValues);
    const uint64_t page_size = static_cast<uint64_t>(h.uncompressed_page_size);
    const uint64_t level_arrays =
        (leaf_.max_repetition_level > 0 ? 1 : 0) + (leaf_.max_definition_level > 0 ? 1 : 0);
    uint64_t need = static_cast<uint64_t>(h.compressed_page_size) + page_size;
    need += is_dictionary ? page_size + static_cast<uint64_t>(claimed_values) * sizeof(int64_t)
                          : static_cast<uint64_t>(claimed_values) * level_arrays +
                                batch::ColumnBytes(dictionary_);
    SLUICE_RETURN_IF_ERROR(Reserve(need, here + " of " + std::to_string(page_size) + " bytes"));
    SLUICE_RETURN_IF_ERROR(
        memory_->decompressed.Add(static_cast<uint64_t>(h.compressed_page_size), page_size)
            .WithContext(here));
    SLUICE_RETURN_IF_ERROR(
        file_->ReadAt(pos_, static_cast<size_t>(h.compressed_page_size), &body_bytes_));
    pos_ += static_cast<uint64_t>(h.compressed_page_size);
    const ByteView body(body_bytes_.data(), body_bytes_.size());
    if (verify_crc_ && h.crc && Crc32(body) != *h.crc) {
      return Corrupt(here + ": page CRC mismatch (the page is damaged)");
    }
    Status st;
    if (type == PageType::kDictionaryPage) {
      if (has_dictionary_ || rows_started_ > 0 || page_entries_ > 0) {
        st = Corrupt("a second dictionary page, or one after data pages");
      } else {
        st = ReadDictionaryPage(h, body, codec_);
      }
      UpdateHeld();
      if (st.ok() && memory_->held > memory_->limits.buffer_bytes) {
        st = batch::LimitExceeded("the dictionary", memory_->held, "reader buffer",
                                  memory_->limits.buffer_bytes);
      }
      if (!st.ok()) return st.WithContext(here);
      continue;
    }
    st = ReadDataPage(h, body);
    UpdateHeld();
    if (st.ok() && memory_->held > memory_->limits.buffer_bytes) {
      st = batch::LimitExceeded("the decoded page", memory_->held, "reader buffer",
                                memory_->limits.buffer_bytes);
    }
    if (!st.ok()) return st.WithContext(here);
    if (page_entries_ > 0) return Status::Ok();
  }
}

Status ColumnChunkReader::ReadDictionaryPage(const PageHeader& h, ByteView body, int32_t codec) {
  if (!h.dictionary_page) return Corrupt("dictionary page without a DictionaryPageHeader");
  const DictionaryPageHeader& d = *h.dictionary_page;
  if (d.encoding != static_cast<int32_t>(Encoding::kPlain) &&
      d.encoding != static_cast<int32_t>(Encoding::kPlainDictionary)) {
    return Unsupported("dictionary page encoding " + EncodingName(d.encoding));
  }
  if (d.num_values < 0 || static_cast<int64_t>(d.num_values) > kMaxDictionaryValues) {
    return Corrupt("dictionary of " + std::to_string(d.num_values) + " values");
  }
  SLUICE_RETURN_IF_ERROR(
      Decompress(codec, body, static_cast<size_t>(h.uncompressed_page_size), &page_bytes_));
  Cursor cursor(ByteView(page_bytes_.data(), page_bytes_.size()));
  Status st = DecodePlain(leaf_, &cursor, d.num_values, &dictionary_);
  if (!st.ok()) return st.WithContext("dictionary page");
  has_dictionary_ = true;
  dictionary_longest_ = 0;
  for (int64_t k = 0; k < dictionary_.length && var_length_; ++k) {
    dictionary_longest_ = std::max<uint64_t>(
        dictionary_longest_,
        static_cast<uint64_t>(dictionary_.offsets[k + 1] - dictionary_.offsets[k]));
  }
  return Status::Ok();
}

Status ColumnChunkReader::DecodeLevels(int32_t encoding, bool v1, ByteView* section, int max_level,
                                       int64_t n, std::vector<uint8_t>* levels, const char* what) {
  Status st;
  if (!v1 || encoding == static_cast<int32_t>(Encoding::kRle)) {
    ByteView data = *section;
    if (v1) {
      Cursor cursor(*section);
      SLUICE_ASSIGN_OR_RETURN(uint32_t length, cursor.ReadLE<uint32_t>("levels length"));
      SLUICE_ASSIGN_OR_RETURN(data, cursor.Take(length, "levels"));
      *section = section->subspan(cursor.position());
    }
    st = DecodeRleLevels(data, max_level, n, levels);
  } else if (encoding == static_cast<int32_t>(Encoding::kBitPacked)) {
    size_t consumed = 0;
    st = DecodeBitPackedLevels(*section, max_level, n, levels, &consumed);
    if (st.ok()) *section = section->subspan(consumed);
  } else {
    return Unsupported(std::string(what) + " encoding " + EncodingName(encoding));
  }
  if (!st.ok()) return st.WithContext(what);
  return Status::Ok();
}

Status ColumnChunkReader::ReadDataPage(const PageHeader& h, ByteView body) {
  const int max_rep = leaf_.max_repetition_level;
  const int max_def = leaf_.max_definition_level;
  int64_t num_values = 0;
  int32_t encoding = 0;
  ByteView values;
  page_entries_ = entry_pos_ = value_pos_ = 0;
  if (static_cast<PageType>(h.type) == PageType::kDataPage) {
    if (!h.data_page) return Corrupt("data page without a DataPageHeader");
    const DataPageHeader& d = *h.data_page;
    num_values = d.num_values;
    encoding = d.encoding;
    if (num_values < 0 || num_values > kMaxPageValues ||
        (max_rep == 0 && num_values > num_rows_ - rows_started_)) {
      return Corrupt(std::to_string(num_values) + " values where " +
                     std::to_string(num_rows_ - rows_started_) + " rows remain in the row group");
    }
    SLUICE_ASSIGN_OR_RETURN(ByteView section,
                            PageBytes(codec_, body, static_cast<size_t>(h.uncompressed_page_size)));
    if (max_rep > 0) {
      SLUICE_RETURN_IF_ERROR(DecodeLevels(d.repetition_level_encoding, true, &section, max_rep,
                                          num_values, &rep_, "repetition levels"));
    }
    if (max_def > 0) {
      SLUICE_RETURN_IF_ERROR(DecodeLevels(d.definition_level_encoding, true, &section, max_def,
                                          num_values, &def_, "definition levels"));
    }
    values = section;
  } else {
    if (!h.data_page_v2) return Corrupt("data page v2 without a DataPageHeaderV2");
    const DataPageHeaderV2& d = *h.data_page_v2;
    num_values = d.num_values;
    encoding = d.encoding;
    if (num_values < 0 || num_values > kMaxPageValues || d.num_rows < 0 ||
        d.num_rows > num_rows_ - rows_started_ || (max_rep == 0 && d.num_rows != num_values)) {
      return Corrupt(std::to_string(num_values) + " values / " + std::to_string(d.num_rows) +
                     " rows where " + std::to_string(num_rows_ - rows_started_) + " rows remain");
    }
    const int64_t rep_length = d.repetition_levels_byte_length;
    const int64_t def_length = d.definition_levels_byte_length;
    if (rep_length < 0 || def_length < 0 ||
        rep_length + def_length > static_cast<int64_t>(body.size()) ||
        rep_length + def_length > h.uncompressed_page_size) {
      return Corrupt("levels of " + std::to_string(rep_length) + " + " +
                     std::to_string(def_length) + " bytes exceed the page");
    }
    // A flat column has no repetition levels; some writers still emit an (empty-valued)
    // section, which is skipped.
    if (max_rep > 0) {
      ByteView rep_section = body.subspan(0, static_cast<size_t>(rep_length));
      SLUICE_RETURN_IF_ERROR(DecodeLevels(static_cast<int32_t>(Encoding::kRle), false, &rep_section,
                                          max_rep, num_values, &rep_, "repetition levels"));
    }
    if (max_def > 0) {
      ByteView def_section =
          body.subspan(static_cast<size_t>(rep_length), static_cast<size_t>(def_length));
      SLUICE_RETURN_IF_ERROR(DecodeLevels(static_cast<int32_t>(Encoding::kRle), false, &def_section,
                                          max_def, num_values, &def_, "definition levels"));
    } else if (d.num_nulls != 0) {
      return Corrupt("nulls in a REQUIRED column");
    }
    const ByteView compressed = body.subspan(static_cast<size_t>(rep_length + def_length));
    const size_t values_size =
        static_cast<size_t>(h.uncompressed_page_size - rep_length - def_length);
    const int32_t codec = d.is_compressed ? codec_ : static_cast<int32_t>(Codec::kUncompressed);
    SLUICE_ASSIGN_OR_RETURN(values, PageBytes(codec, compressed, values_size));
  }
  const int64_t present = max_def == 0
                              ? num_values
                              : CountEqual(def_.data(), num_values, static_cast<uint8_t>(max_def));
  SLUICE_RETURN_IF_ERROR(DecodeValues(encoding, values, present));
  page_entries_ = num_values;
  return Status::Ok();
}

Status ColumnChunkReader::DecodeValues(int32_t encoding, ByteView values, int64_t present) {
  source_ = ValueSource::kPlain;
  plain_left_ = ByteView();
  indices_.clear();
  indices_head_ = 0;
  if (present == 0) return Status::Ok();
  switch (static_cast<Encoding>(encoding)) {
    case Encoding::kPlain: {
      if (leaf_.physical != PhysicalType::kBoolean) {
        plain_left_ = values;
        return Status::Ok();
      }
      // Bit-packed: a batch may end inside a byte, so the page is unpacked whole (one byte a
      // value, bounded by the page's value count).
      ClearColumn(&page_values_);
      if (page_values_.type != leaf_.type) page_values_ = batch::MakeColumn(leaf_.type);
      source_ = ValueSource::kDense;
      Cursor cursor(values);
      return DecodePlain(leaf_, &cursor, present, &page_values_);
    }
    case Encoding::kPlainDictionary:
    case Encoding::kRleDictionary: {
      if (!has_dictionary_) return Corrupt("dictionary-encoded page without a dictionary page");
      if (values.empty()) return Corrupt("dictionary indices: missing bit width");
      const int bit_width = values[0];
      if (bit_width > 32) {
        return Corrupt("dictionary indices: bit width " + std::to_string(bit_width) +
                       " exceeds 32");
      }
      indices_decoder_.emplace(values.subspan(1), bit_width);
      source_ = ValueSource::kDictionary;
      return Status::Ok();
    }
    case Encoding::kRle:
      if (leaf_.physical != PhysicalType::kBoolean) {
        return Unsupported("RLE value encoding on " + PhysicalTypeName(leaf_.physical));
      }
      ClearColumn(&page_values_);
      if (page_values_.type != leaf_.type) page_values_ = batch::MakeColumn(leaf_.type);
      source_ = ValueSource::kDense;
      return DecodeRleBooleans(values, present, &scratch_, &page_values_);
    case Encoding::kByteStreamSplit:
    case Encoding::kDeltaBinaryPacked:
    case Encoding::kDeltaLengthByteArray:
    case Encoding::kDeltaByteArray:
      SLUICE_RETURN_IF_ERROR(ToPlain(encoding, values, present));
      plain_left_ = ByteView(plain_.data(), plain_.size());
      return Status::Ok();
    default:
      return Unsupported("value encoding " + EncodingName(encoding));
  }
}

Status ColumnChunkReader::ToPlain(int32_t encoding, ByteView values, int64_t n) {
  const PhysicalType physical = leaf_.physical;
  const std::string name = EncodingName(encoding);
  switch (static_cast<Encoding>(encoding)) {
    case Encoding::kByteStreamSplit: {
      size_t width = 0;
      if (physical == PhysicalType::kFloat || physical == PhysicalType::kInt32) width = 4;
      if (physical == PhysicalType::kDouble || physical == PhysicalType::kInt64) width = 8;
      if (physical == PhysicalType::kFixedLenByteArray) {
        width = static_cast<size_t>(leaf_.type_length);
      }
      if (width == 0) return Unsupported(name + " on " + PhysicalTypeName(physical));
      return UnsplitByteStreams(values, n, width, &plain_);
    }
    case Encoding::kDeltaBinaryPacked: {
      if (physical != PhysicalType::kInt32 && physical != PhysicalType::kInt64) {
        return Unsupported(name + " on " + PhysicalTypeName(physical));
      }
      size_t consumed = 0;
      SLUICE_RETURN_IF_ERROR(DecodeDeltaBinaryPacked(values, n, &deltas_, &consumed));
      const size_t width = physical == PhysicalType::kInt32 ? 4 : 8;
      plain_.resize(static_cast<size_t>(n) * width);
      for (size_t i = 0; i < deltas_.size(); ++i) {
        // INT32 keeps the low 32 bits of the wrapping 64-bit sum (little-endian hosts).
        std::memcpy(plain_.data() + i * width, &deltas_[i], width);
      }
      return Status::Ok();
    }
    case Encoding::kDeltaLengthByteArray:
      if (physical != PhysicalType::kByteArray) {
        return Unsupported(name + " on " + PhysicalTypeName(physical));
      }
      return DecodeDeltaLengthByteArray(values, n, &plain_);
    case Encoding::kDeltaByteArray: {
      if (physical != PhysicalType::kByteArray && physical != PhysicalType::kFixedLenByteArray) {
        return Unsupported(name + " on " + PhysicalTypeName(physical));
      }
      SLUICE_RETURN_IF_ERROR(DecodeDeltaByteArray(values, n, &plain_));
      if (physical == PhysicalType::kByteArray) return Status::Ok();
      // FIXED_LEN_BYTE_ARRAY: every value must have the declared length; drop the prefixes.
      const size_t width = static_cast<size_t>(leaf_.type_length);
      size_t in = 0, out = 0;
      for (int64_t i = 0; i < n; ++i) {
        uint32_t length = 0;
        std::memcpy(&length, plain_.data() + in, 4);
        if (length != width) {
          return Corrupt(name + " value " + std::to_string(i) + " of " + std::to_string(length) +
                         " bytes in a FIXED_LEN_BYTE_ARRAY(" + std::to_string(width) + ") column");
        }
        std::memmove(plain_.data() + out, plain_.data() + in + 4, width);
        in += 4 + width;
        out += width;
      }
      plain_.resize(out);
      return Status::Ok();
    }
    default:
      return Unsupported("value encoding " + name);
  }
}

}  // namespace sluice::parquet
