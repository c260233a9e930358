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
  // The assembler may have moved the values out; start from a fresh column.
  values = batch::MakeColumn(type);
}

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
         indices_.capacity() * sizeof(uint32_t) + column_bytes(page_values_) +
         column_bytes(dictionary_);
}

Status ColumnChunkReader::ReadRows(int64_t rows, LeafBatch* out) {
  Status st = ReadRowsImpl(rows, out);
  if (!st.ok()) return st.WithContext(where_);
  return Status::Ok();
}

Status ColumnChunkReader::ReadRowsImpl(int64_t rows, LeafBatch* out) {
  const int max_rep = leaf_.max_repetition_level;
  const int max_def = leaf_.max_definition_level;
  int64_t started = 0;
  bool first = true;
  while (true) {
    if (entry_pos_ == page_entries_) {
      if (started == rows && (max_rep == 0 || rows_started_ == num_rows_)) break;
      if (max_rep == 0 && rows_started_ == num_rows_) break;
      SLUICE_RETURN_IF_ERROR(NextDataPage());
      continue;
    }
    const int64_t begin = entry_pos_;
    int64_t i = begin;
    if (max_rep == 0) {
      i += std::min(rows - started, page_entries_ - begin);
      started += i - begin;
      rows_started_ += i - begin;
    } else {
      const uint8_t* rep = rep_.data();
      if (first && rep[i] != 0) {
        return Corrupt("page " + std::to_string(page_index_ - 1) +
                       ": the first level of a row has repetition level " + std::to_string(rep[i]) +
                       ", not 0");
      }
      for (; i < page_entries_; ++i) {
        if (rep[i] == 0) {
          if (started == rows || rows_started_ == num_rows_) break;
          ++started;
          ++rows_started_;
        }
      }
    }
    first = false;
    const int64_t n = i - begin;
    const int64_t present =
        max_def == 0 ? n : CountEqual(def_.data() + begin, n, static_cast<uint8_t>(max_def));
    if (max_rep > 0) out->rep.insert(out->rep.end(), rep_.begin() + begin, rep_.begin() + i);
    if (max_def > 0) out->def.insert(out->def.end(), def_.begin() + begin, def_.begin() + i);
    SLUICE_RETURN_IF_ERROR(TakeValues(present, &out->values));
    out->entries += n;
    entry_pos_ = i;
    if (i < page_entries_) break;  // stopped at the start of the next row
    if (max_rep == 0 && started == rows) break;
  }
  return Status::Ok();
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
      indices_.resize(static_cast<size_t>(n));
      Status st = indices_decoder_->GetBatch(indices_.data(), n);
      if (!st.ok()) return st.WithContext("dictionary indices");
      // One check per batch: the largest index against the dictionary.
      const uint32_t max_index = *std::max_element(indices_.begin(), indices_.end());
      if (static_cast<int64_t>(max_index) >= dictionary_.length) {
        return Corrupt("dictionary index " + std::to_string(max_index) +
                       " out of range (the dictionary has " + std::to_string(dictionary_.length) +
                       " values)");
      }
      GatherDictionary(dictionary_, indices_.data(), n, out);
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
      if (!st.ok()) return st.WithContext(here);
      continue;
    }
    st = ReadDataPage(h, body);
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
  if (present == 0) return Status::Ok();
  switch (static_cast<Encoding>(encoding)) {
    case Encoding::kPlain:
      plain_left_ = values;
      return Status::Ok();
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
