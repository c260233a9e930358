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

}  // namespace

Status ColumnChunkReader::Read(const RandomAccessFile& file, uint64_t data_end,
                               const ColumnChunk& chunk, int row_group, int64_t num_rows,
                               batch::Column* out) {
  const std::string where =
      "row group " + std::to_string(row_group) + ", column '" + column_.name + "'";
  if (!chunk.file_path.empty()) {
    return Unsupported(where + ": column data in another file (" + chunk.file_path + ")");
  }
  if (chunk.encrypted)
    return Unsupported(where + ": encrypted column (parquet modular encryption)");
  if (!chunk.has_meta_data) return Corrupt(where + ": column chunk without metadata");
  const ColumnMetaData& meta = chunk.meta_data;
  if (meta.type != static_cast<int32_t>(column_.physical)) {
    return Corrupt(where + ": chunk physical type " + std::to_string(meta.type) +
                   " differs from the schema's " + PhysicalTypeName(column_.physical));
  }
  if (!CodecSupported(meta.codec)) {
    return Unsupported(where + ": compression codec " + CodecName(meta.codec));
  }
  // Where the chunk starts: its dictionary page when there is one. Some writers record a
  // dictionary_page_offset of 0 (or past the data page) for chunks without a dictionary.
  int64_t start = meta.data_page_offset;
  if (meta.dictionary_page_offset && *meta.dictionary_page_offset > 0 &&
      *meta.dictionary_page_offset < start) {
    start = *meta.dictionary_page_offset;
  }
  *out = batch::MakeColumn(column_.type);
  if (num_rows == 0) return Status::Ok();  // empty row groups may carry placeholder offsets
  const int64_t length = meta.total_compressed_size;
  if (start < 4 || length <= 0 || static_cast<uint64_t>(start) >= data_end ||
      static_cast<uint64_t>(length) > data_end - static_cast<uint64_t>(start)) {
    return Corrupt(where + ": column chunk at offset " + std::to_string(start) + " of " +
                   std::to_string(length) + " bytes lies outside the file's data (which ends at " +
                   std::to_string(data_end) + ")");
  }
  SLUICE_RETURN_IF_ERROR(
      file.ReadAt(static_cast<uint64_t>(start), static_cast<size_t>(length), &chunk_bytes_));

  ClearColumn(&dictionary_);
  dictionary_ = batch::MakeColumn(column_.type);
  has_dictionary_ = false;
  Status st =
      ReadPages(ByteView(chunk_bytes_.data(), chunk_bytes_.size()), meta.codec, num_rows, out);
  if (!st.ok()) return st.WithContext(where);
  return Status::Ok();
}

Status ColumnChunkReader::ReadPages(ByteView bytes, int32_t codec, int64_t num_rows,
                                    batch::Column* out) {
  size_t pos = 0;
  int64_t rows = 0;
  for (int page = 0; rows < num_rows; ++page) {
    const std::string at =
        "page " + std::to_string(page) + " (chunk offset " + std::to_string(pos) + ")";
    if (pos >= bytes.size()) {
      return Corrupt("column chunk ends after " + std::to_string(rows) + " of " +
                     std::to_string(num_rows) + " rows");
    }
    size_t header_size = 0;
    const size_t header_window = std::min<size_t>(bytes.size() - pos, kMaxPageHeaderBytes);
    auto header = ParsePageHeader(bytes.subspan(pos, header_window), &header_size);
    if (!header.ok()) return header.status().WithContext(at + " header");
    const PageHeader& h = *header;
    pos += header_size;
    if (h.compressed_page_size < 0 ||
        static_cast<size_t>(h.compressed_page_size) > bytes.size() - pos) {
      return Corrupt(at + ": compressed size " + std::to_string(h.compressed_page_size) +
                     " passes the end of the column chunk (" + std::to_string(bytes.size() - pos) +
                     " bytes left)");
    }
    if (h.uncompressed_page_size < 0 ||
        static_cast<uint32_t>(h.uncompressed_page_size) > kMaxPageBytes) {
      return Corrupt(at + ": uncompressed size " + std::to_string(h.uncompressed_page_size) +
                     " is negative or exceeds kMaxPageBytes");
    }
    const ByteView body = bytes.subspan(pos, static_cast<size_t>(h.compressed_page_size));
    pos += body.size();
    Status st;
    switch (static_cast<PageType>(h.type)) {
      case PageType::kDictionaryPage:
        if (has_dictionary_ || rows > 0) {
          st = Corrupt("a second dictionary page, or one after data pages");
        } else {
          st = ReadDictionaryPage(h, body, codec);
        }
        break;
      case PageType::kDataPage:
      case PageType::kDataPageV2: {
        int64_t page_rows = 0;
        st = ReadDataPage(h, body, codec, num_rows - rows, out, &page_rows);
        rows += page_rows;
        break;
      }
      default:
        break;  // index pages and unknown page types carry no values for us
    }
    if (!st.ok()) return st.WithContext(at);
  }
  return Status::Ok();
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
  Status st = DecodePlain(column_, &cursor, d.num_values, &dictionary_);
  if (!st.ok()) return st.WithContext("dictionary page");
  has_dictionary_ = true;
  return Status::Ok();
}

Status ColumnChunkReader::ReadDataPage(const PageHeader& h, ByteView body, int32_t codec,
                                       int64_t rows_left, batch::Column* out, int64_t* rows_read) {
  const bool optional = column_.max_definition_level > 0;
  int64_t num_values = 0;
  int32_t encoding = 0;
  ByteView values;
  ByteView def_levels;
  if (static_cast<PageType>(h.type) == PageType::kDataPage) {
    if (!h.data_page) return Corrupt("data page without a DataPageHeader");
    const DataPageHeader& d = *h.data_page;
    num_values = d.num_values;
    encoding = d.encoding;
    if (num_values < 0 || num_values > rows_left) {
      return Corrupt(std::to_string(num_values) + " values where " + std::to_string(rows_left) +
                     " rows remain in the row group");
    }
    SLUICE_RETURN_IF_ERROR(
        Decompress(codec, body, static_cast<size_t>(h.uncompressed_page_size), &page_bytes_));
    Cursor cursor(ByteView(page_bytes_.data(), page_bytes_.size()));
    if (optional) {
      if (d.definition_level_encoding != static_cast<int32_t>(Encoding::kRle)) {
        return Unsupported("definition level encoding " +
                           EncodingName(d.definition_level_encoding));
      }
      SLUICE_ASSIGN_OR_RETURN(uint32_t length, cursor.ReadLE<uint32_t>("definition levels length"));
      SLUICE_ASSIGN_OR_RETURN(def_levels, cursor.Take(length, "definition levels"));
    }
    values = ByteView(page_bytes_.data() + cursor.position(), cursor.remaining());
  } else {
    if (!h.data_page_v2) return Corrupt("data page v2 without a DataPageHeaderV2");
    const DataPageHeaderV2& d = *h.data_page_v2;
    num_values = d.num_values;
    encoding = d.encoding;
    if (num_values < 0 || num_values > rows_left || d.num_rows != d.num_values) {
      return Corrupt(std::to_string(num_values) + " values / " + std::to_string(d.num_rows) +
                     " rows where " + std::to_string(rows_left) + " rows remain");
    }
    // A flat column has no repetition levels; some writers still emit an (empty-valued)
    // section, which is skipped.
    const int64_t rep_length = d.repetition_levels_byte_length;
    const int64_t def_length = d.definition_levels_byte_length;
    if (rep_length < 0 || def_length < 0 ||
        rep_length + def_length > static_cast<int64_t>(body.size()) ||
        rep_length + def_length > h.uncompressed_page_size) {
      return Corrupt("levels of " + std::to_string(rep_length) + " + " +
                     std::to_string(def_length) + " bytes exceed the page");
    }
    def_levels = body.subspan(static_cast<size_t>(rep_length), static_cast<size_t>(def_length));
    const ByteView compressed = body.subspan(static_cast<size_t>(rep_length + def_length));
    const size_t values_size =
        static_cast<size_t>(h.uncompressed_page_size - rep_length - def_length);
    if (d.is_compressed) {
      SLUICE_RETURN_IF_ERROR(Decompress(codec, compressed, values_size, &page_bytes_));
    } else {
      SLUICE_RETURN_IF_ERROR(Decompress(static_cast<int32_t>(Codec::kUncompressed), compressed,
                                        values_size, &page_bytes_));
    }
    values = ByteView(page_bytes_.data(), page_bytes_.size());
    if (!optional && d.num_nulls != 0) return Corrupt("nulls in a REQUIRED column");
  }

  int64_t present = num_values;
  const uint8_t* valid = nullptr;
  if (optional) {
    SLUICE_ASSIGN_OR_RETURN(present,
                            DecodeFlatDefinitionLevels(def_levels, num_values, &levels_, &valid_));
    valid = valid_.data();
  }
  SLUICE_RETURN_IF_ERROR(DecodeValues(encoding, values, num_values, present, valid, out));
  *rows_read = num_values;
  return Status::Ok();
}

Status ColumnChunkReader::DecodeValues(int32_t encoding, ByteView values, int64_t num_values,
                                       int64_t present, const uint8_t* valid, batch::Column* out) {
  if (present == 0) {
    AppendNulls(num_values, out);
    return Status::Ok();
  }
  // A page without nulls decodes straight into the output; otherwise into a dense scratch
  // column that is then spread over the valid rows.
  const bool direct = present == num_values;
  batch::Column* target = out;
  const bool out_had_validity = !out->validity.empty();
  if (!direct) {
    if (dense_.type.id != column_.type.id || dense_.type != column_.type) {
      dense_ = batch::MakeColumn(column_.type);
    }
    ClearColumn(&dense_);
    target = &dense_;
  }
  switch (static_cast<Encoding>(encoding)) {
    case Encoding::kPlain: {
      Cursor cursor(values);
      SLUICE_RETURN_IF_ERROR(DecodePlain(column_, &cursor, present, target));
      break;
    }
    case Encoding::kPlainDictionary:
    case Encoding::kRleDictionary:
      if (!has_dictionary_) return Corrupt("dictionary-encoded page without a dictionary page");
      SLUICE_RETURN_IF_ERROR(
          DecodeDictionaryIndices(values, present, dictionary_.length, &indices_));
      GatherDictionary(dictionary_, indices_.data(), present, target);
      break;
    case Encoding::kRle:
      if (column_.physical != PhysicalType::kBoolean) {
        return Unsupported("RLE value encoding on " + PhysicalTypeName(column_.physical));
      }
      SLUICE_RETURN_IF_ERROR(DecodeRleBooleans(values, present, &indices_, target));
      break;
    case Encoding::kByteStreamSplit:
    case Encoding::kDeltaBinaryPacked:
    case Encoding::kDeltaLengthByteArray:
    case Encoding::kDeltaByteArray: {
      SLUICE_RETURN_IF_ERROR(ToPlain(encoding, values, present));
      Cursor cursor(ByteView(plain_.data(), plain_.size()));
      SLUICE_RETURN_IF_ERROR(DecodePlain(column_, &cursor, present, target));
      break;
    }
    default:
      return Unsupported("value encoding " + EncodingName(encoding));
  }
  if (direct) {
    if (out_had_validity) out->validity.insert(out->validity.end(), num_values, 1);
  } else {
    AppendWithNulls(dense_, valid, num_values, out);
  }
  return Status::Ok();
}

Status ColumnChunkReader::ToPlain(int32_t encoding, ByteView values, int64_t n) {
  const PhysicalType physical = column_.physical;
  const std::string name = EncodingName(encoding);
  switch (static_cast<Encoding>(encoding)) {
    case Encoding::kByteStreamSplit: {
      size_t width = 0;
      if (physical == PhysicalType::kFloat || physical == PhysicalType::kInt32) width = 4;
      if (physical == PhysicalType::kDouble || physical == PhysicalType::kInt64) width = 8;
      if (physical == PhysicalType::kFixedLenByteArray) {
        width = static_cast<size_t>(column_.type_length);
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
    case Encoding::kDeltaByteArray:
      if (physical != PhysicalType::kByteArray) {
        return Unsupported(name + " on " + PhysicalTypeName(physical));
      }
      if (static_cast<Encoding>(encoding) == Encoding::kDeltaLengthByteArray) {
        return DecodeDeltaLengthByteArray(values, n, &plain_);
      }
      return DecodeDeltaByteArray(values, n, &plain_);
    default:
      return Unsupported("value encoding " + name);
  }
}

}  // namespace sluice::parquet
