#pragma once
// The subset of parquet-format's thrift structures (parquet.thrift) this reader uses, and
// their decoding from the compact protocol. Fields the reader does not use are skipped;
// fields that change how bytes must be interpreted and that this cut does not implement
// (encryption, external column files) are recorded so that the reader can refuse them.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sluice/core/core.h"

namespace sluice::parquet {

// parquet.thrift enum Type.
enum class PhysicalType : int32_t {
  kBoolean = 0,
  kInt32 = 1,
  kInt64 = 2,
  kInt96 = 3,
  kFloat = 4,
  kDouble = 5,
  kByteArray = 6,
  kFixedLenByteArray = 7,
};

enum class Repetition : int32_t { kRequired = 0, kOptional = 1, kRepeated = 2 };

// parquet.thrift enum ConvertedType (legacy annotations).
enum class ConvertedType : int32_t {
  kUtf8 = 0,
  kMap = 1,
  kMapKeyValue = 2,
  kList = 3,
  kEnum = 4,
  kDecimal = 5,
  kDate = 6,
  kTimeMillis = 7,
  kTimeMicros = 8,
  kTimestampMillis = 9,
  kTimestampMicros = 10,
  kUint8 = 11,
  kUint16 = 12,
  kUint32 = 13,
  kUint64 = 14,
  kInt8 = 15,
  kInt16 = 16,
  kInt32 = 17,
  kInt64 = 18,
  kJson = 19,
  kBson = 20,
  kInterval = 21,
};

// parquet.thrift union LogicalType, by field id.
enum class LogicalKind : int16_t {
  kNone = 0,
  kString = 1,
  kMap = 2,
  kList = 3,
  kEnum = 4,
  kDecimal = 5,
  kDate = 6,
  kTime = 7,
  kTimestamp = 8,
  kInteger = 10,
  kUnknown = 11,  // NullType: always null
  kJson = 12,
  kBson = 13,
  kUuid = 14,
  kFloat16 = 15,
  kOther = 99,  // a union member this reader does not know: falls back to the physical type
};

enum class LogicalTimeUnit : uint8_t { kMillis, kMicros, kNanos };

struct LogicalType {
  LogicalKind kind = LogicalKind::kNone;
  int16_t other_id = 0;  // the field id when kind == kOther
  int32_t scale = 0;
  int32_t precision = 0;
  bool utc = false;
  LogicalTimeUnit unit = LogicalTimeUnit::kMicros;
  int32_t bit_width = 0;
  bool is_signed = true;
};

struct SchemaElement {
  std::optional<PhysicalType> type;
  int32_t type_length = 0;
  std::optional<Repetition> repetition;
  std::string name;
  int32_t num_children = 0;
  std::optional<ConvertedType> converted_type;
  int32_t scale = 0;
  int32_t precision = 0;
  LogicalType logical;
};

enum class Codec : int32_t {
  kUncompressed = 0,
  kSnappy = 1,
  kGzip = 2,
  kLzo = 3,
  kBrotli = 4,
  kLz4 = 5,
  kZstd = 6,
  kLz4Raw = 7,
};

enum class Encoding : int32_t {
  kPlain = 0,
  kPlainDictionary = 2,
  kRle = 3,
  kBitPacked = 4,
  kDeltaBinaryPacked = 5,
  kDeltaLengthByteArray = 6,
  kDeltaByteArray = 7,
  kRleDictionary = 8,
  kByteStreamSplit = 9,
};

struct ColumnMetaData {
  int32_t type = 0;
  std::vector<std::string> path_in_schema;
  int32_t codec = 0;
  int64_t num_values = 0;
  int64_t total_uncompressed_size = 0;
  int64_t total_compressed_size = 0;
  int64_t data_page_offset = 0;
  std::optional<int64_t> dictionary_page_offset;
};

struct ColumnChunk {
  std::string file_path;  // set: the data lives in another file (unsupported)
  bool has_meta_data = false;
  bool encrypted = false;  // crypto_metadata or encrypted_column_metadata present
  ColumnMetaData meta_data;
};

struct RowGroup {
  std::vector<ColumnChunk> columns;
  int64_t num_rows = 0;
};

struct FileMetaData {
  int32_t version = 0;
  std::vector<SchemaElement> schema;
  int64_t num_rows = 0;
  std::vector<RowGroup> row_groups;
  std::string created_by;
  bool encrypted = false;  // encryption_algorithm present (plaintext-footer encryption)
};

enum class PageType : int32_t {
  kDataPage = 0,
  kIndexPage = 1,
  kDictionaryPage = 2,
  kDataPageV2 = 3,
};

struct DataPageHeader {
  int32_t num_values = 0;
  int32_t encoding = 0;
  int32_t definition_level_encoding = 0;
  int32_t repetition_level_encoding = 0;
};

struct DataPageHeaderV2 {
  int32_t num_values = 0;
  int32_t num_nulls = 0;
  int32_t num_rows = 0;
  int32_t encoding = 0;
  int32_t definition_levels_byte_length = 0;
  int32_t repetition_levels_byte_length = 0;
  bool is_compressed = true;
};

struct DictionaryPageHeader {
  int32_t num_values = 0;
  int32_t encoding = 0;
};

struct PageHeader {
  int32_t type = -1;
  int32_t uncompressed_page_size = 0;
  int32_t compressed_page_size = 0;
  std::optional<uint32_t> crc;  // CRC-32 of the page's bytes as stored (after the header)
  std::optional<DataPageHeader> data_page;
  std::optional<DictionaryPageHeader> dictionary_page;
  std::optional<DataPageHeaderV2> data_page_v2;
};

// Decodes a FileMetaData from the footer bytes (kCorruptFile on malformed thrift).
Result<FileMetaData> ParseFileMetaData(ByteView footer);

// Decodes a PageHeader at the start of `bytes`; `*header_size` receives its length.
Result<PageHeader> ParsePageHeader(ByteView bytes, size_t* header_size);

// Names for messages and `sluice schema`.
std::string PhysicalTypeName(PhysicalType type);
std::string RepetitionName(Repetition repetition);
std::string ConvertedTypeName(ConvertedType type);
std::string CodecName(int32_t codec);
std::string EncodingName(int32_t encoding);

}  // namespace sluice::parquet
