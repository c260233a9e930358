#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <limits>

#include "sluice/pool/sqlite/type_map_internal.h"

namespace sluice::pool::sqlite {
namespace {

using batch::DataType;
using batch::TypeId;

// Powers of ten exactly representable in binary64 (10^22 is the largest).
constexpr double kExactPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                  1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                  1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
constexpr int32_t kMaxExactPow10 = 22;

// True when every value of the decimal type is stored numerically and exactly (INTEGER or
// REAL), so the column can take NUMERIC affinity without SQLite ever converting text.
bool DecimalAlwaysNumeric(const DataType& t) {
  return (t.scale == 0 && t.precision <= 18) || t.precision <= 15;
}

std::string UnitKey(const DataType& t) {
  std::string key = t.unit == batch::TimeUnit::kNanos ? "_NS" : "";
  if (t.utc) key += " UTC";
  return key;
}

// Writes `v` as exactly `width` digits (v < 10^width) ending at `end`.
void PutDigits(char* end, uint64_t v, int width) {
  for (int i = 0; i < width; ++i) {
    *--end = static_cast<char>('0' + v % 10);
    v /= 10;
  }
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

}  // namespace

int FormatTimestampFast(int64_t value, batch::TimeUnit unit, bool utc, char* out) {
  const int64_t per_second = unit == batch::TimeUnit::kNanos    ? 1'000'000'000
                             : unit == batch::TimeUnit::kMicros ? 1'000'000
                                                                : 1'000;
  const int64_t per_day = per_second * 86'400;
  int64_t days = FloorDiv(value, per_day);
  int64_t year;
  unsigned month, day;
  CivilFromDays(days, &year, &month, &day);
  if (year < 0 || year > 9999) return -1;
  int64_t units = value - days * per_day;
  int64_t seconds = units / per_second;
  uint64_t fraction = static_cast<uint64_t>(units - seconds * per_second);
  int digits = 6;
  if (unit == batch::TimeUnit::kNanos) {
    digits = 9;
  } else if (unit == batch::TimeUnit::kMillis) {
    fraction *= 1000;
  }
  PutDigits(out + 4, static_cast<uint64_t>(year), 4);
  out[4] = '-';
  PutDigits(out + 7, month, 2);
  out[7] = '-';
  PutDigits(out + 10, day, 2);
  out[10] = 'T';
  PutDigits(out + 13, static_cast<uint64_t>(seconds / 3600), 2);
  out[13] = ':';
  PutDigits(out + 16, static_cast<uint64_t>(seconds / 60 % 60), 2);
  out[16] = ':';
  PutDigits(out + 19, static_cast<uint64_t>(seconds % 60), 2);
  out[19] = '.';
  PutDigits(out + 20 + digits, fraction, digits);
  int n = 20 + digits;
  if (utc) out[n++] = 'Z';
  return n;
}

std::string DeclaredType(const DataType& t) {
  if (t.id == TypeId::kBool || batch::IsInteger(t.id) || batch::IsFloating(t.id)) {
    return batch::TypeName(t);  // INTEGER (…INT…, BOOLEAN) or REAL (FLOAT, DOUBLE) affinity
  }
  switch (t.id) {
    case TypeId::kNull:
      return "";  // no affinity: stores whatever a later file binds
    case TypeId::kDecimal: {
      std::string suffix = "(" + std::to_string(t.precision) + "," + std::to_string(t.scale) + ")";
      // NUMERIC affinity would turn a long decimal's text into a rounded REAL; BLOB affinity
      // stores each value with the class it was bound with.
      return (DecimalAlwaysNumeric(t) ? "DECIMAL" : "DECIMAL_BLOB") + suffix;
    }
    case TypeId::kDate:
      return "DATE";  // NUMERIC affinity, but 'YYYY-MM-DD' is not a number: stays TEXT
    case TypeId::kTime:
      return "TIME";
    case TypeId::kTimestamp:
      return "TIMESTAMP";
    case TypeId::kBinary:
      return "BLOB";
    case TypeId::kString:
    case TypeId::kJson:  // TEXT affinity: a JSON document "12" must not become an integer
    case TypeId::kUuid:
    case TypeId::kInterval:
    case TypeId::kList:
    case TypeId::kStruct:
    case TypeId::kMap:
      return "TEXT";
    default:
      return "";  // the numeric types, above
  }
}

std::string TypeKey(const DataType& t) {
  switch (t.id) {
    case TypeId::kTimestamp:
      return "TIMESTAMP" + UnitKey(t);
    case TypeId::kTime:
      return "TIME" + UnitKey(t);
    default:
      return batch::TypeName(t);
  }
}

namespace {

struct IntRange {
  __int128 min;
  __int128 max;
  std::string_view name;
};

// Integer types by increasing width; the first that contains a range is the widening target.
constexpr IntRange kIntRanges[] = {
    {-128, 127, "TINYINT"},
    {0, 255, "UTINYINT"},
    {-32768, 32767, "SMALLINT"},
    {0, 65535, "USMALLINT"},
    {INT32_MIN, INT32_MAX, "INTEGER"},
    {0, UINT32_MAX, "UINTEGER"},
    {INT64_MIN, INT64_MAX, "BIGINT"},
    {0, static_cast<__int128>(UINT64_MAX), "UBIGINT"},
};

const IntRange* FindIntRange(std::string_view name) {
  for (const IntRange& r : kIntRanges) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

bool ParseDecimalKey(std::string_view key, int32_t* p, int32_t* s) {
  return std::sscanf(std::string(key).c_str(), "DECIMAL(%d,%d)", p, s) == 2;
}

}  // namespace

bool IsTimestampKey(std::string_view key) { return key.substr(0, 9) == "TIMESTAMP"; }

std::string MidnightSuffix(std::string_view timestamp_key) {
  std::string out = "T00:00:00.000000";
  if (timestamp_key.find("_NS") != std::string_view::npos) out += "000";
  if (timestamp_key.find(" UTC") != std::string_view::npos) out += "Z";
  return out;
}

TypeChange ClassifyTypeChange(std::string_view stored_key, const batch::DataType& file,
                              bool key_column, std::string* widened, std::string* reason) {
  const std::string file_key = TypeKey(file);
  if (file_key == stored_key) return TypeChange::kFits;
  const IntRange* stored_int = FindIntRange(stored_key);
  const IntRange* file_int = FindIntRange(file_key);
  if (stored_int && file_int) {
    if (file_int->min >= stored_int->min && file_int->max <= stored_int->max) {
      return TypeChange::kFits;
    }
    for (const IntRange& r : kIntRanges) {
      if (r.min <= std::min(stored_int->min, file_int->min) &&
          r.max >= std::max(stored_int->max, file_int->max)) {
        *widened = std::string(r.name);
        return TypeChange::kWiden;
      }
    }
    *reason = "no 64-bit integer holds both ranges";
    return TypeChange::kIncompatible;
  }
  const bool file_float = batch::IsFloating(file.id);
  if ((stored_int || stored_key == "FLOAT") && (file_int || file_float)) {
    if (stored_key == "FLOAT" && file.id == TypeId::kFloat) return TypeChange::kFits;
    if (key_column) {
      *reason = "a key column cannot become floating point";
      return TypeChange::kIncompatible;
    }
    *widened = "DOUBLE";
    return TypeChange::kWiden;
  }
  if (stored_key == "DOUBLE" && (file_int || file_float)) return TypeChange::kFits;
  int32_t sp = 0, ss = 0;
  if (file.id == TypeId::kDecimal && ParseDecimalKey(stored_key, &sp, &ss)) {
    if (ss != file.scale) {
      *reason = "a decimal's scale cannot change";
      return TypeChange::kIncompatible;
    }
    if (file.precision <= sp) return TypeChange::kFits;
    if (DecimalAlwaysNumeric(DataType::Decimal(sp, ss)) == DecimalAlwaysNumeric(file)) {
      *widened = file_key;
      return TypeChange::kWiden;
    }
    *reason = "values past 15 digits are stored as exact text, a different storage class";
    return TypeChange::kIncompatible;
  }
  if (file.id == TypeId::kDate && IsTimestampKey(stored_key)) return TypeChange::kFits;
  if (stored_key == "DATE" && file.id == TypeId::kTimestamp) {
    *widened = file_key;
    return TypeChange::kWiden;
  }
  if (IsTimestampKey(stored_key) && file.id == TypeId::kTimestamp) {
    *reason = "timestamps of another unit or time zone are stored as different text";
  }
  return TypeChange::kIncompatible;
}

Status CheckStorable(const batch::Column& column, std::string_view name, int64_t first_row) {
  if (column.type.id != TypeId::kUInt64) return Status::Ok();
  constexpr uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  for (int64_t row = 0; row < column.length; ++row) {
    uint64_t v = column.Value<uint64_t>(row);
    if (v > kMax && column.IsValid(row)) {
      return Err(ErrorCode::kSchemaMismatch, "column '" + std::string(name) + "' row " +
                                                 std::to_string(first_row + row) +
                                                 ": UBIGINT value " + std::to_string(v) +
                                                 " does not fit the pool's signed 64-bit INTEGER");
    }
  }
  return Status::Ok();
}

ColumnBinder MakeBinder(const batch::Column& column, int param, std::string_view stored_key) {
  ColumnBinder b;
  b.column = &column;
  b.param = param;
  if (batch::IsInt64Stored(column.type.id)) {
    b.kind = BindKind::kInt64;
    return b;
  }
  switch (column.type.id) {
    case TypeId::kNull:
      b.kind = BindKind::kNull;
      break;
    case TypeId::kBool:
      b.kind = BindKind::kBool;
      break;
    case TypeId::kUInt64:
      b.kind = BindKind::kUInt64;
      break;
    case TypeId::kFloat:
      b.kind = BindKind::kFloat;
      break;
    case TypeId::kDouble:
      b.kind = BindKind::kDouble;
      break;
    case TypeId::kDecimal:
      b.kind = BindKind::kDecimal;
      break;
    case TypeId::kString:
    case TypeId::kJson:
      b.kind = BindKind::kText;
      break;
    case TypeId::kBinary:
      b.kind = BindKind::kBlob;
      break;
    case TypeId::kUuid:
      b.kind = BindKind::kUuid;
      break;
    case TypeId::kDate:
      b.kind = BindKind::kDate;
      if (IsTimestampKey(stored_key)) {
        b.kind = BindKind::kDateAsTimestamp;
        b.suffix = MidnightSuffix(stored_key);
      }
      break;
    case TypeId::kTime:
      b.kind = BindKind::kTime;
      break;
    case TypeId::kTimestamp:
      b.kind = BindKind::kTimestamp;
      break;
    case TypeId::kInterval:
    case TypeId::kList:
    case TypeId::kStruct:
    case TypeId::kMap:
      b.kind = BindKind::kCanonicalJson;
      break;
    default:
      break;  // the integers held as int64_t, above
  }
  return b;
}

int BindDecimal(sqlite3_stmt* stmt, int param, __int128 unscaled, int32_t scale,
                std::string* scratch) {
  constexpr __int128 kInt64Max = std::numeric_limits<int64_t>::max();
  constexpr __int128 kInt64Min = std::numeric_limits<int64_t>::min();
  if (scale == 0 && unscaled <= kInt64Max && unscaled >= kInt64Min) {
    return sqlite3_bind_int64(stmt, param, static_cast<int64_t>(unscaled));
  }
  if (unscaled <= kMaxExactRealUnscaled && unscaled >= -kMaxExactRealUnscaled) {
    if (scale >= 0 && scale <= kMaxExactPow10) {
      // Both operands are exact in binary64 (|unscaled| < 2^53), and IEEE division rounds
      // correctly: the result is the double nearest to the decimal.
      return sqlite3_bind_double(
          stmt, param, static_cast<double>(static_cast<int64_t>(unscaled)) / kExactPow10[scale]);
    }
    *scratch = batch::FormatDecimal(unscaled, scale);
    return sqlite3_bind_double(stmt, param, std::strtod(scratch->c_str(), nullptr));
  }
  *scratch = batch::FormatDecimal(unscaled, scale);
  return sqlite3_bind_text(stmt, param, scratch->data(), static_cast<int>(scratch->size()),
                           SQLITE_TRANSIENT);
}

int BindRow(sqlite3_stmt* stmt, ColumnBinder& b, int64_t row) {
  const batch::Column& c = *b.column;
  if (!c.IsValid(row)) return sqlite3_bind_null(stmt, b.param);
  switch (b.kind) {
    case BindKind::kNull:
      return sqlite3_bind_null(stmt, b.param);
    case BindKind::kBool:
      return sqlite3_bind_int(stmt, b.param, c.fixed[static_cast<size_t>(row)] != 0 ? 1 : 0);
    case BindKind::kInt64:
      return sqlite3_bind_int64(stmt, b.param, c.Value<int64_t>(row));
    case BindKind::kUInt64:  // CheckStorable ran: the value fits
      return sqlite3_bind_int64(stmt, b.param, static_cast<int64_t>(c.Value<uint64_t>(row)));
    case BindKind::kFloat:
      return sqlite3_bind_double(stmt, b.param, static_cast<double>(c.Value<float>(row)));
    case BindKind::kDouble:
      return sqlite3_bind_double(stmt, b.param, c.Value<double>(row));
    case BindKind::kDecimal:
      return BindDecimal(stmt, b.param, c.Value<__int128>(row), c.type.scale, &b.scratch);
    case BindKind::kText: {
      std::string_view s = c.StringAt(row);
      // The batch outlives the step that reads the parameter: no copy.
      // An empty view may carry a null pointer, which SQLite would store as NULL.
      return sqlite3_bind_text64(stmt, b.param, s.empty() ? "" : s.data(), s.size(), SQLITE_STATIC,
                                 SQLITE_UTF8);
    }
    case BindKind::kBlob: {
      std::string_view s = c.StringAt(row);
      return sqlite3_bind_blob64(stmt, b.param, s.empty() ? "" : s.data(), s.size(), SQLITE_STATIC);
    }
    case BindKind::kUuid: {
      static constexpr char kHex[] = "0123456789abcdef";
      const uint8_t* u = c.fixed.data() + static_cast<size_t>(row) * 16;
      char text[36];
      int pos = 0;
      for (int i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) text[pos++] = '-';
        text[pos++] = kHex[u[i] >> 4];
        text[pos++] = kHex[u[i] & 15];
      }
      return sqlite3_bind_text(stmt, b.param, text, 36, SQLITE_TRANSIENT);
    }
    case BindKind::kDate:
      b.scratch = batch::FormatDate(c.Value<int32_t>(row));
      break;
    case BindKind::kDateAsTimestamp:
      b.scratch = batch::FormatDate(c.Value<int32_t>(row));
      b.scratch += b.suffix;
      break;
    case BindKind::kTime:
      b.scratch = batch::FormatTime(c.Value<int64_t>(row), c.type.unit, c.type.utc);
      break;
    case BindKind::kTimestamp: {
      // The hot textual type of most tables: formatted on the stack, no allocation.
      char text[kMaxTimestampChars];
      int n = FormatTimestampFast(c.Value<int64_t>(row), c.type.unit, c.type.utc, text);
      if (n >= 0) return sqlite3_bind_text(stmt, b.param, text, n, SQLITE_TRANSIENT);
      b.scratch = batch::FormatTimestamp(c.Value<int64_t>(row), c.type.unit, c.type.utc);
      break;
    }
    case BindKind::kCanonicalJson:
      b.scratch.clear();
      batch::AppendCanonicalValue(c, row, &b.scratch);
      break;
  }
  return sqlite3_bind_text(stmt, b.param, b.scratch.data(), static_cast<int>(b.scratch.size()),
                           SQLITE_TRANSIENT);
}

int DeclaredDecimalScale(std::string_view declared) {
  if (declared.substr(0, 7) != "DECIMAL") return -1;
  size_t comma = declared.find(',');
  size_t close = declared.find(')');
  if (comma == std::string_view::npos || close == std::string_view::npos || close < comma) {
    return -1;
  }
  int scale = -1;
  auto [ptr, ec] = std::from_chars(declared.data() + comma + 1, declared.data() + close, scale);
  if (ec != std::errc() || ptr != declared.data() + close) return -1;
  return scale;
}

}  // namespace sluice::pool::sqlite
