#pragma once
// batch: the columnar batch and the logical schema, the one place where readers (parquet,
// json, csv) and sinks (shape, pool) meet. Readers produce Batches; nothing downstream knows
// which format a batch came from, and nothing here knows SQL or Parquet.
//
// A Batch owns its columns; a Column owns its buffers. Views returned by accessors
// (StringAt) stay valid while the Column is alive and unmodified.
// Thread-safety: none; a Batch is built by one thread and may then be read from any.

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/core/core.h"

namespace sluice::batch {

// Rows per batch handed from a reader to the sinks (readers may emit fewer, e.g. at the end
// of a row group). One constant so that every hot loop works on the same unit.
inline constexpr int64_t kBatchRows = 64 * 1024;

enum class TypeId : uint8_t {
  kNull,  // every value null (Parquet UNKNOWN / NullType)
  kBool,
  kInt8,
  kInt16,
  kInt32,
  kInt64,
  kUInt8,
  kUInt16,
  kUInt32,
  kUInt64,
  kFloat,    // binary32 (also Parquet FLOAT16, widened)
  kDouble,   // binary64
  kDecimal,  // precision, scale
  kString,   // UTF-8 text (also ENUM)
  kJson,     // JSON text, passed through
  kBinary,
  kUuid,       // 16 bytes
  kDate,       // days since 1970-01-01
  kTime,       // since midnight, in `unit`; `utc` = isAdjustedToUTC
  kTimestamp,  // since the epoch, in `unit`; `utc` = isAdjustedToUTC
  kInterval,   // months, days, millis (Parquet INTERVAL)
  kList,       // children[0] = element field
  kStruct,     // children = fields
  kMap,        // children[0] = key field, children[1] = value field
};

enum class TimeUnit : uint8_t { kMillis, kMicros, kNanos };

// The largest kDecimal precision: the unscaled value is an __int128 (10^38 < 2^127).
inline constexpr int32_t kMaxDecimalPrecision = 38;
// How deep a type may nest (kList, kStruct, kMap inside each other). Real records nest a
// handful of levels; readers and shape recurse once a level, so every one of them stops here.
inline constexpr int kMaxTypeDepth = 64;

struct Field;

struct DataType {
  // Defined below, once Field is complete: a constructor that may unwind destroys
  // `children`, which needs Field's definition (clang insists).
  DataType();
  explicit DataType(TypeId type_id);
  static DataType Decimal(int32_t precision, int32_t scale);
  static DataType Timestamp(TimeUnit unit, bool utc);
  static DataType Time(TimeUnit unit, bool utc);
  static DataType List(Field element);
  static DataType Struct(std::vector<Field> fields);

  TypeId id = TypeId::kNull;
  int32_t precision = 0;              // kDecimal
  int32_t scale = 0;                  // kDecimal
  TimeUnit unit = TimeUnit::kMicros;  // kTime, kTimestamp
  bool utc = false;                   // kTime, kTimestamp
  std::vector<Field> children;        // kList, kStruct, kMap

  bool operator==(const DataType& other) const;
};

struct Field {
  std::string name;
  DataType type;
  bool nullable = true;

  bool operator==(const Field& other) const = default;
};

inline DataType::DataType() = default;
inline DataType::DataType(TypeId type_id) : id(type_id) {}

struct Schema {
  std::vector<Field> fields;

  // Index of the top-level field named `name` (exact match), or -1.
  int FieldIndex(std::string_view name) const;
};

// The DuckDB-style name of a type, used in messages, `sluice schema` and SCHEMA_MISMATCH:
// BOOLEAN, TINYINT, SMALLINT, INTEGER, BIGINT, UTINYINT, USMALLINT, UINTEGER, UBIGINT, FLOAT,
// DOUBLE, DECIMAL(18,2), VARCHAR, JSON, BLOB, UUID, DATE, TIME, TIME WITH TIME ZONE, TIME_NS,
// TIMESTAMP, TIMESTAMP WITH TIME ZONE, TIMESTAMP_NS, INTERVAL, INTEGER[], STRUCT(a INTEGER),
// MAP(VARCHAR, INTEGER), "NULL".
std::string TypeName(const DataType& type);

// Physical layout of one column of `length` rows, by type id:
//
//   kBool                         fixed: uint8_t 0/1
//   kInt8..kInt64, kUInt8..kUInt32 fixed: int64_t (widened; the type keeps the declared width)
//   kUInt64                       fixed: uint64_t
//   kFloat / kDouble              fixed: float / double
//   kDecimal                      fixed: __int128 unscaled value (value = unscaled / 10^scale)
//   kDate                         fixed: int32_t days
//   kTime, kTimestamp             fixed: int64_t in `unit`
//   kInterval                     fixed: 3 x uint32_t (months, days, millis)
//   kUuid                         fixed: 16 bytes in stored order
//   kString, kJson, kBinary       offsets: int64_t[length + 1] into chars
//   kList, kMap                   offsets: int64_t[length + 1] into children[0]'s rows
//                                 (a map's child is a kStruct column of key, value)
//   kStruct                       children: one column per field, each `length` rows
//   kNull                         nothing
//
// validity: empty means "no nulls"; otherwise `length` bytes, 1 = valid, 0 = null. The value
// slot of a null row exists (fixed width) or is empty (offsets equal) and is unspecified.
struct Column {
  DataType type;
  int64_t length = 0;
  std::vector<uint8_t> validity;
  std::vector<uint8_t> fixed;
  std::vector<int64_t> offsets;
  std::vector<char> chars;
  std::vector<Column> children;

  bool IsValid(int64_t row) const { return validity.empty() || validity[row] != 0; }
  bool HasNulls() const;

  template <class T>
  T Value(int64_t row) const {
    T v;
    std::memcpy(&v, fixed.data() + static_cast<size_t>(row) * sizeof(T), sizeof(T));
    return v;
  }
  std::string_view StringAt(int64_t row) const {
    return {chars.data() + offsets[row], static_cast<size_t>(offsets[row + 1] - offsets[row])};
  }
};

// The classification of type ids, in one place: code that treats a group of types alike asks
// these instead of listing the ids again.

// kInt8..kUInt64 (signed and unsigned, every width).
constexpr bool IsInteger(TypeId id) {
  switch (id) {
    case TypeId::kInt8:
    case TypeId::kInt16:
    case TypeId::kInt32:
    case TypeId::kInt64:
    case TypeId::kUInt8:
    case TypeId::kUInt16:
    case TypeId::kUInt32:
    case TypeId::kUInt64:
      return true;
    default:
      return false;
  }
}
// The integers Column::fixed holds as int64_t: all but kUInt64, which is uint64_t.
constexpr bool IsInt64Stored(TypeId id) { return IsInteger(id) && id != TypeId::kUInt64; }
// kFloat, kDouble.
constexpr bool IsFloating(TypeId id) { return id == TypeId::kFloat || id == TypeId::kDouble; }
// Values held as bytes in Column::chars: kString, kJson, kBinary.
constexpr bool IsStringLike(TypeId id) {
  return id == TypeId::kString || id == TypeId::kJson || id == TypeId::kBinary;
}
// kDate, kTime, kTimestamp.
constexpr bool IsTemporal(TypeId id) {
  return id == TypeId::kDate || id == TypeId::kTime || id == TypeId::kTimestamp;
}
// kList, kStruct, kMap: the types with child fields.
constexpr bool IsNested(TypeId id) {
  return id == TypeId::kList || id == TypeId::kStruct || id == TypeId::kMap;
}
// The layouts with Column::offsets: the string-like types, kList and kMap.
constexpr bool HasOffsets(TypeId id) {
  return IsStringLike(id) || id == TypeId::kList || id == TypeId::kMap;
}

// Bytes per value in Column::fixed for `id`, or 0 for types without a fixed part.
constexpr size_t FixedWidth(TypeId id) {
  if (id == TypeId::kBool) return 1;
  if (IsInteger(id)) return 8;  // widened (the layout table above)
  switch (id) {
    case TypeId::kTime:
    case TypeId::kTimestamp:
    case TypeId::kDouble:
      return 8;
    case TypeId::kFloat:
    case TypeId::kDate:
      return 4;
    case TypeId::kDecimal:
    case TypeId::kUuid:
      return 16;
    case TypeId::kInterval:
      return 12;
    default:
      return 0;
  }
}

// An empty column of `type` (offsets initialised to {0} where the layout has them; children
// created recursively).
Column MakeColumn(const DataType& type);

struct Batch {
  std::shared_ptr<const Schema> schema;
  std::vector<Column> columns;  // one per schema field, in order
  int64_t num_rows = 0;
};

// A reader of one file, in batches. Readers of every format implement it; the loader drives
// it. Errors name what is wrong and where (row group, column, page / line and path).
class BatchReader {
 public:
  virtual ~BatchReader() = default;
  virtual const Schema& schema() const = 0;
  // Total rows if known up front (Parquet footer), else -1.
  virtual int64_t num_rows() const = 0;
  // Fills `out` with the next batch; returns false at the end (out untouched).
  virtual Result<bool> Next(Batch* out) = 0;
};

// Canonical JSON rendering, normative in ../shared/parquet/README.md ("Canonical form"):
// the exact bytes the conformance corpus expects and `sluice cat` prints.
void AppendCanonicalValue(const Column& column, int64_t row, std::string* out);
// One `{...}\n` line per row of `batch`, keys in schema order.
void AppendCanonicalJsonl(const Batch& batch, std::string* out);
// Helpers shared with sinks that print values the same way.
void AppendJsonString(std::string_view text, std::string* out);
std::string FormatDecimal(__int128 unscaled, int32_t scale);
std::string FormatDate(int32_t days);
// Timestamp text "YYYY-MM-DDTHH:MM:SS.ffffff" (6 digits for millis/micros, 9 for nanos),
// plus "Z" when `utc`.
std::string FormatTimestamp(int64_t value, TimeUnit unit, bool utc);
std::string FormatTime(int64_t value, TimeUnit unit, bool utc);

}  // namespace sluice::batch
