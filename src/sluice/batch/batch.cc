#include "sluice/batch/batch.h"

#include <algorithm>

namespace sluice::batch {

bool DataType::operator==(const DataType& other) const {
  return id == other.id && precision == other.precision && scale == other.scale &&
         unit == other.unit && utc == other.utc && children == other.children;
}

DataType DataType::Decimal(int32_t precision, int32_t scale) {
  DataType t(TypeId::kDecimal);
  t.precision = precision;
  t.scale = scale;
  return t;
}

DataType DataType::Timestamp(TimeUnit unit, bool utc) {
  DataType t(TypeId::kTimestamp);
  t.unit = unit;
  t.utc = utc;
  return t;
}

DataType DataType::Time(TimeUnit unit, bool utc) {
  DataType t(TypeId::kTime);
  t.unit = unit;
  t.utc = utc;
  return t;
}

DataType DataType::List(Field element) {
  DataType t(TypeId::kList);
  t.children.push_back(std::move(element));
  return t;
}

DataType DataType::Struct(std::vector<Field> fields) {
  DataType t(TypeId::kStruct);
  t.children = std::move(fields);
  return t;
}

int Schema::FieldIndex(std::string_view name) const {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

bool Column::HasNulls() const {
  return !validity.empty() &&
         std::find(validity.begin(), validity.end(), uint8_t{0}) != validity.end();
}

Column MakeColumn(const DataType& type) {
  Column c;
  c.type = type;
  if (HasOffsets(type.id)) c.offsets.push_back(0);
  if (type.id == TypeId::kList || type.id == TypeId::kStruct) {
    for (const Field& f : type.children) c.children.push_back(MakeColumn(f.type));
  } else if (type.id == TypeId::kMap) {
    DataType entry;
    entry.id = TypeId::kStruct;
    entry.children = type.children;
    c.children.push_back(MakeColumn(entry));
  }
  return c;
}

namespace {

std::string UnitSuffix(const DataType& t) { return t.unit == TimeUnit::kNanos ? "_NS" : ""; }

}  // namespace

std::string TypeName(const DataType& t) {
  switch (t.id) {
    case TypeId::kNull:
      return "\"NULL\"";
    case TypeId::kBool:
      return "BOOLEAN";
    case TypeId::kInt8:
      return "TINYINT";
    case TypeId::kInt16:
      return "SMALLINT";
    case TypeId::kInt32:
      return "INTEGER";
    case TypeId::kInt64:
      return "BIGINT";
    case TypeId::kUInt8:
      return "UTINYINT";
    case TypeId::kUInt16:
      return "USMALLINT";
    case TypeId::kUInt32:
      return "UINTEGER";
    case TypeId::kUInt64:
      return "UBIGINT";
    case TypeId::kFloat:
      return "FLOAT";
    case TypeId::kDouble:
      return "DOUBLE";
    case TypeId::kDecimal:
      return "DECIMAL(" + std::to_string(t.precision) + "," + std::to_string(t.scale) + ")";
    case TypeId::kString:
      return "VARCHAR";
    case TypeId::kJson:
      return "JSON";
    case TypeId::kBinary:
      return "BLOB";
    case TypeId::kUuid:
      return "UUID";
    case TypeId::kDate:
      return "DATE";
    case TypeId::kTime:
      if (t.unit == TimeUnit::kNanos) return "TIME_NS";
      return t.utc ? "TIME WITH TIME ZONE" : "TIME";
    case TypeId::kTimestamp:
      if (t.unit == TimeUnit::kNanos) return "TIMESTAMP_NS";
      return t.utc ? "TIMESTAMP WITH TIME ZONE" : "TIMESTAMP" + UnitSuffix(t);
    case TypeId::kInterval:
      return "INTERVAL";
    case TypeId::kList:
      return (t.children.empty() ? std::string("\"NULL\"") : TypeName(t.children[0].type)) + "[]";
    case TypeId::kStruct: {
      std::string out = "STRUCT(";
      for (size_t i = 0; i < t.children.size(); ++i) {
        if (i) out += ", ";
        out += t.children[i].name + " " + TypeName(t.children[i].type);
      }
      return out + ")";
    }
    case TypeId::kMap:
      if (t.children.size() != 2) return "MAP";
      return "MAP(" + TypeName(t.children[0].type) + ", " + TypeName(t.children[1].type) + ")";
  }
  return "?";
}

}  // namespace sluice::batch
