// How logical types are stored in PostgreSQL and copied into staging tables
// (docs/design/pool.md, "PostgreSQL storage").

#include <cstdio>
#include <cstring>

#include "sluice/pool/postgres/pg_internal.h"
#include "sluice/pool/sqlite/type_map_internal.h"

namespace sluice::pool::postgres {
namespace {

using batch::DataType;
using batch::TimeUnit;
using batch::TypeId;

bool ParseDecimalKey(std::string_view key, int32_t* p, int32_t* s) {
  return std::sscanf(std::string(key).c_str(), "DECIMAL(%d,%d)", p, s) == 2;
}

std::string Numeric(int32_t p, int32_t s) {
  return "numeric(" + std::to_string(p) + "," + std::to_string(s) + ")";
}

// The PostgreSQL type of a type key that names a type of its own (the integers, DOUBLE,
// DECIMAL(p,s)); empty for the others.
std::string PgTypeOfKey(std::string_view key) {
  static const std::pair<std::string_view, TypeId> kNamed[] = {
      {"TINYINT", TypeId::kInt8},    {"SMALLINT", TypeId::kInt16}, {"INTEGER", TypeId::kInt32},
      {"BIGINT", TypeId::kInt64},    {"UTINYINT", TypeId::kUInt8}, {"USMALLINT", TypeId::kUInt16},
      {"UINTEGER", TypeId::kUInt32}, {"UBIGINT", TypeId::kUInt64}, {"DOUBLE", TypeId::kDouble},
      {"FLOAT", TypeId::kFloat},
  };
  for (const auto& [name, id] : kNamed) {
    if (key == name) return PgType(DataType(id));
  }
  int32_t p = 0, s = 0;
  if (ParseDecimalKey(key, &p, &s)) return Numeric(p, s);
  return {};
}

uint64_t Fnv1a(std::string_view s) {
  uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

int64_t MicrosOf(int64_t v, TimeUnit unit) {
  switch (unit) {
    case TimeUnit::kMillis:
      return v * 1000;
    case TimeUnit::kMicros:
      return v;
    case TimeUnit::kNanos:
      return v / 1000;  // exact: EncodeValue refuses sub-microsecond digits first
  }
  return v;
}

}  // namespace

std::string PgType(const DataType& t) {
  switch (t.id) {
    case TypeId::kNull:
      return "text";
    case TypeId::kBool:
      return "boolean";
    case TypeId::kInt8:
    case TypeId::kInt16:
    case TypeId::kUInt8:
      return "smallint";
    case TypeId::kInt32:
    case TypeId::kUInt16:
      return "integer";
    case TypeId::kInt64:
    case TypeId::kUInt32:
      return "bigint";
    case TypeId::kUInt64:
      return "numeric(20,0)";
    case TypeId::kFloat:
      return "real";
    case TypeId::kDouble:
      return "double precision";
    case TypeId::kDecimal:
      return Numeric(t.precision, t.scale);
    case TypeId::kString:
      return "text";
    case TypeId::kJson:
    case TypeId::kList:
    case TypeId::kStruct:
    case TypeId::kMap:
      return "jsonb";
    case TypeId::kBinary:
      return "bytea";
    case TypeId::kUuid:
      return "uuid";
    case TypeId::kDate:
      return "date";
    case TypeId::kTime:
      return "time";
    case TypeId::kTimestamp:
      return t.utc ? "timestamptz" : "timestamp";
    case TypeId::kInterval:
      return "interval";
  }
  return "text";
}

std::string KeyOf(const DataType& type) { return sqlite::TypeKey(type); }

Change Classify(std::string_view stored_key, const DataType& file, bool key_column,
                std::string* widened, std::string* pg_type, std::string* reason) {
  int32_t sp = 0, ss = 0;
  if (file.id == TypeId::kDecimal && ParseDecimalKey(stored_key, &sp, &ss)) {
    if (ss != file.scale) {
      *reason = "a decimal's scale cannot change";
      return Change::kIncompatible;
    }
    if (file.precision <= sp) return Change::kFits;
    *widened = KeyOf(file);
    *pg_type = PgType(file);
    return Change::kWiden;
  }
  switch (sqlite::ClassifyTypeChange(stored_key, file, key_column, widened, reason)) {
    case sqlite::TypeChange::kFits:
      return Change::kFits;
    case sqlite::TypeChange::kIncompatible:
      // The SQLite pool's reason for timestamps is about its text; here they are typed.
      if (batch::IsTemporal(file.id) && sqlite::IsTimestampKey(stored_key)) {
        *reason = "timestamps of another unit or time zone are a different type";
      }
      return Change::kIncompatible;
    case sqlite::TypeChange::kWiden:
      break;
  }
  *pg_type = *widened == KeyOf(file) ? PgType(file) : PgTypeOfKey(*widened);
  return pg_type->empty() ? Change::kIncompatible : Change::kWiden;
}

std::string SqlName(std::string_view name) {
  if (name.size() <= ::sluice::postgres::kMaxIdentifierBytes) return std::string(name);
  constexpr size_t kHashChars = 16;
  size_t cut = ::sluice::postgres::kMaxIdentifierBytes - 1 - kHashChars;
  // Back up to the start of a UTF-8 sequence (continuation bytes are 10xxxxxx).
  while (cut > 0 && (static_cast<unsigned char>(name[cut]) & 0xC0) == 0x80) --cut;
  char hash[kHashChars + 1];
  std::snprintf(hash, sizeof(hash), "%016llx", static_cast<unsigned long long>(Fnv1a(name)));
  return std::string(name.substr(0, cut)) + "_" + hash;
}

Encoder MakeEncoder(const batch::Column& column, std::string name, std::string_view pg_type) {
  Encoder e;
  e.column = &column;
  e.name = std::move(name);
  const TypeId id = column.type.id;
  const bool to_double = pg_type == "double precision";
  const bool to_numeric = pg_type.substr(0, 7) == "numeric";
  if (batch::IsInt64Stored(id)) {
    e.kind = to_double               ? Enc::kIntAsFloat8
             : to_numeric            ? Enc::kIntAsNumeric
             : pg_type == "smallint" ? Enc::kInt2
             : pg_type == "integer"  ? Enc::kInt4
                                     : Enc::kInt8;
    return e;
  }
  switch (id) {
    case TypeId::kNull:
      e.kind = Enc::kNull;
      break;
    case TypeId::kBool:
      e.kind = Enc::kBool;
      break;
    case TypeId::kUInt64:
      e.kind = to_double ? Enc::kUInt64AsFloat8 : Enc::kUInt64AsNumeric;
      break;
    case TypeId::kFloat:
      e.kind = to_double ? Enc::kFloatAsFloat8 : Enc::kFloat4;
      break;
    case TypeId::kDouble:
      e.kind = Enc::kFloat8;
      break;
    case TypeId::kDecimal:
      e.kind = Enc::kDecimal;
      break;
    case TypeId::kString:
      e.kind = Enc::kText;
      break;
    case TypeId::kJson:
      e.kind = Enc::kJsonb;
      break;
    case TypeId::kBinary:
      e.kind = Enc::kBytea;
      break;
    case TypeId::kUuid:
      e.kind = Enc::kUuid;
      break;
    case TypeId::kDate:
      e.kind = pg_type == "date" ? Enc::kDate : Enc::kDateAsTimestamp;
      break;
    case TypeId::kTime:
      e.kind = Enc::kTime;
      break;
    case TypeId::kTimestamp:
      e.kind = Enc::kTimestamp;
      break;
    case TypeId::kInterval:
      e.kind = Enc::kInterval;
      break;
    default:
      e.kind = Enc::kCanonicalJsonb;
      break;
  }
  return e;
}

namespace {

Status Unstorable(std::string_view table, const Encoder& e, int64_t file_row,
                  const std::string& what) {
  return Err(ErrorCode::kSchemaMismatch, "table '" + std::string(table) + "' column '" + e.name +
                                             "' row " + std::to_string(file_row) + ": " + what);
}

}  // namespace

Status EncodeValue(CopyWriter& copy, Encoder& e, int64_t row, int64_t file_row,
                   std::string_view table) {
  const batch::Column& c = *e.column;
  if (e.kind == Enc::kNull || !c.IsValid(row)) {
    copy.Null();
    return Status::Ok();
  }
  switch (e.kind) {
    case Enc::kNull:
      break;
    case Enc::kBool:
      copy.Bool(c.fixed[static_cast<size_t>(row)] != 0);
      break;
    case Enc::kInt2:
      copy.Int2(static_cast<int16_t>(c.Value<int64_t>(row)));
      break;
    case Enc::kInt4:
      copy.Int4(static_cast<int32_t>(c.Value<int64_t>(row)));
      break;
    case Enc::kInt8:
      copy.Int8(c.Value<int64_t>(row));
      break;
    case Enc::kIntAsFloat8:
      copy.Float8(static_cast<double>(c.Value<int64_t>(row)));
      break;
    case Enc::kIntAsNumeric:
      copy.Numeric(c.Value<int64_t>(row), 0);
      break;
    case Enc::kUInt64AsNumeric:
      copy.Numeric(static_cast<__int128>(c.Value<uint64_t>(row)), 0);
      break;
    case Enc::kUInt64AsFloat8:
      copy.Float8(static_cast<double>(c.Value<uint64_t>(row)));
      break;
    case Enc::kFloat4:
      copy.Float4(c.Value<float>(row));
      break;
    case Enc::kFloatAsFloat8:
      copy.Float8(static_cast<double>(c.Value<float>(row)));
      break;
    case Enc::kFloat8:
      copy.Float8(c.Value<double>(row));
      break;
    case Enc::kDecimal:
      copy.Numeric(c.Value<__int128>(row), c.type.scale);
      break;
    case Enc::kText:
    case Enc::kJsonb: {
      const std::string_view text = c.StringAt(row);
      if (std::memchr(text.data(), '\0', text.size()) != nullptr) {
        return Unstorable(table, e, file_row,
                          "the text holds a NUL byte, which PostgreSQL text cannot store");
      }
      if (e.kind == Enc::kText) {
        copy.Text(text);
      } else {
        copy.Jsonb(text);
      }
      break;
    }
    case Enc::kBytea:
      copy.Text(c.StringAt(row));
      break;
    case Enc::kUuid:
      copy.Uuid(c.fixed.data() + static_cast<size_t>(row) * 16);
      break;
    case Enc::kDate:
      copy.Date(c.Value<int32_t>(row));
      break;
    case Enc::kDateAsTimestamp:
      copy.Timestamp(int64_t{c.Value<int32_t>(row)} * 86'400'000'000);
      break;
    case Enc::kTime:
    case Enc::kTimestamp: {
      const int64_t v = c.Value<int64_t>(row);
      if (c.type.unit == TimeUnit::kNanos && v % 1000 != 0) {
        return Unstorable(table, e, file_row,
                          "the value has nanoseconds; PostgreSQL keeps microseconds, and the "
                          "pool does not round");
      }
      if (e.kind == Enc::kTime) {
        copy.Time(MicrosOf(v, c.type.unit));
      } else {
        copy.Timestamp(MicrosOf(v, c.type.unit));
      }
      break;
    }
    case Enc::kInterval: {
      uint32_t parts[3];
      std::memcpy(parts, c.fixed.data() + static_cast<size_t>(row) * 12, 12);
      copy.Interval(static_cast<int32_t>(parts[0]), static_cast<int32_t>(parts[1]),
                    int64_t{parts[2]} * 1000);
      break;
    }
    case Enc::kCanonicalJsonb:
      e.scratch.clear();
      batch::AppendCanonicalValue(c, row, &e.scratch);
      if (e.scratch.find("\\u0000") != std::string::npos) {
        return Unstorable(table, e, file_row,
                          "the value holds a NUL character, which PostgreSQL jsonb cannot store");
      }
      copy.Jsonb(e.scratch);
      break;
  }
  return Status::Ok();
}

}  // namespace sluice::pool::postgres
