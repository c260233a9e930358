#pragma once
// From Parquet's flattened schema (a depth-first list of SchemaElements) to batch::Schema,
// following DuckDB's mapping (shared/parquet/README.md, "How DuckDB maps Parquet types"):
//
//   physical              annotation (LogicalType, else legacy ConvertedType)   batch type
//   BOOLEAN               -                                                     kBool
//   INT32                 INT(8|16|32, signed) / INT_8.. ; UINT_8..            kInt8.. / kUInt8..
//   INT32                 DATE / DECIMAL(p,s) / TIME(MILLIS)                   kDate / kDecimal /
//   kTime INT64                 INT(64) / UINT_64 / DECIMAL / TIME(MICROS|NANOS)     kInt64 /
//   kUInt64 / ... INT64                 TIMESTAMP(unit, utc) / TIMESTAMP_MILLIS|MICROS kTimestamp
//   INT96                 -                                                     kTimestamp (micros)
//   FLOAT / DOUBLE        -                                                     kFloat / kDouble
//   BYTE_ARRAY            STRING / UTF8 / ENUM ; JSON ; DECIMAL ; none, BSON   kString ; kJson ;
//   kDecimal ; kBinary FIXED_LEN_BYTE_ARRAY  UUID(16) ; DECIMAL ; FLOAT16(2) ; INTERVAL(12) ; none
//   kUuid ; kDecimal ; kFloat ; kInterval ; kBinary any                   UNKNOWN (NullType) kNull
//   any                   an unknown LogicalType id                             the physical type's
//   default
//
// Groups map to STRUCT, LIST/MAP annotations (and legacy 2-level lists, bare repeated fields,
// MAP_KEY_VALUE) to kList / kMap, so that `sluice schema` describes nested files; this cut
// reads only flat leaf columns (no repeated and no group ancestor).

#include <string>
#include <vector>

#include "sluice/batch/batch.h"
#include "sluice/parquet/metadata.h"

namespace sluice::parquet {

// How a leaf's physical values become the batch layout (chosen once per column).
enum class Conversion : uint8_t {
  kBool,            // BOOLEAN bits -> uint8_t
  kInt32Signed,     // INT32 -> int64_t (sign-extended)
  kInt32Unsigned,   // INT32 -> int64_t (zero-extended)
  kInt32Date,       // INT32 -> int32_t days
  kInt32Decimal,    // INT32 -> __int128
  kInt64Copy,       // INT64 -> int64_t / uint64_t
  kInt64Decimal,    // INT64 -> __int128
  kInt96Timestamp,  // INT96 (nanos of day, julian day) -> int64_t micros
  kFloatCopy,       // FLOAT -> float
  kDoubleCopy,      // DOUBLE -> double
  kBytes,           // BYTE_ARRAY -> offsets + chars
  kBytesDecimal,    // BYTE_ARRAY big-endian two's complement -> __int128
  kFixedBytes,      // FIXED_LEN_BYTE_ARRAY -> offsets + chars
  kFixedCopy,       // FIXED_LEN_BYTE_ARRAY -> fixed slot of the same width (UUID, INTERVAL)
  kFixedDecimal,    // FIXED_LEN_BYTE_ARRAY big-endian two's complement -> __int128
  kFloat16,         // FIXED_LEN_BYTE_ARRAY(2) half -> float
  kNull,            // UNKNOWN logical type: every value null
};

// One top-level column of the file.
struct TopColumn {
  std::string name;
  batch::DataType type;
  int schema_index = 0;  // its element in FileMetaData::schema
  int first_leaf = 0;    // index of its first leaf among the row group's column chunks
  int num_leaves = 0;
  // Flat leaf columns only (readable in this cut); otherwise `unsupported` says why.
  std::string unsupported;
  PhysicalType physical = PhysicalType::kInt32;
  int32_t type_length = 0;
  int16_t max_definition_level = 0;
  Conversion conversion = Conversion::kInt64Copy;
};

struct FileSchema {
  batch::Schema schema;
  std::vector<TopColumn> columns;  // parallel to schema.fields
  int num_leaves = 0;
};

// Builds the schema; kCorruptFile when the element tree is malformed (bad child counts),
// kUnsupportedFormat for a leaf whose type cannot be represented (e.g. DECIMAL(50,2)).
Result<FileSchema> BuildFileSchema(const std::vector<SchemaElement>& elements);

// "STRING", "DECIMAL(9,2)", "TIMESTAMP(MICROS,true)", ... or "" when not annotated.
std::string LogicalTypeText(const LogicalType& logical);

}  // namespace sluice::parquet
