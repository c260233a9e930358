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
// Groups map to STRUCT; LIST / MAP annotations to kList / kMap, following the
// backward-compatibility rules of parquet-format LogicalTypes.md: a repeated child that is a
// primitive, a group of several fields, or a group named "array" or "<list>_tuple" is the
// element itself (legacy 2-level list); otherwise the repeated group's one field is the
// element (3-level list). A repeated field outside a LIST annotation is a required list of
// required elements. MAP and MAP_KEY_VALUE read as maps; a map without a value field gets a
// NULL-typed value (DuckDB refuses such maps, arrow-rs reads them this way).

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

// One primitive (leaf) column of the file: what the page decoders need.
struct LeafColumn {
  std::string name;  // dotted path from the top-level column, for messages
  batch::DataType type;
  PhysicalType physical = PhysicalType::kInt32;
  int32_t type_length = 0;
  int16_t max_definition_level = 0;
  int16_t max_repetition_level = 0;
  Conversion conversion = Conversion::kInt64Copy;
};

// How a batch column is assembled from the levels of its leaves (Dremel record assembly; see
// assembly.h for the level table). Every node is one batch::Column. For a node N read from
// the levels of its first leaf L:
//   an entry i of L is a slot (a row of N's column) iff rep[i] <= rep_ctx and
//   def[i] >= def_ctx; the slot is valid (not null) iff def[i] >= def_valid.
// A list's (or map's) elements are the slots of its child between two slots of the list.
enum class ShapeKind : uint8_t { kLeaf, kStruct, kList, kMap, kNullFill };

struct ShapeNode {
  ShapeKind kind = ShapeKind::kLeaf;
  batch::DataType type;
  int16_t rep_ctx = 0;
  int16_t def_ctx = 0;
  int16_t def_valid = 0;
  int first_leaf = -1;              // index into FileSchema::leaves; -1 for kNullFill (no leaf)
  std::vector<ShapeNode> children;  // kStruct: fields; kList: element; kMap: the kStruct entry
};

// One top-level column of the file.
struct TopColumn {
  std::string name;
  batch::DataType type;
  int schema_index = 0;  // its element in FileMetaData::schema
  int first_leaf = 0;    // index of its first leaf among the row group's column chunks
  int num_leaves = 0;
  ShapeNode shape;
};

struct FileSchema {
  batch::Schema schema;
  std::vector<TopColumn> columns;  // parallel to schema.fields
  std::vector<LeafColumn> leaves;  // in column-chunk order
  int num_leaves = 0;
};

// Builds the schema; kCorruptFile when the element tree is malformed (bad child counts),
// kUnsupportedFormat for a leaf whose type cannot be represented (e.g. DECIMAL(50,2)).
Result<FileSchema> BuildFileSchema(const std::vector<SchemaElement>& elements);

// "STRING", "DECIMAL(9,2)", "TIMESTAMP(MICROS,true)", ... or "" when not annotated.
std::string LogicalTypeText(const LogicalType& logical);

}  // namespace sluice::parquet
