// The canonical JSON rendering of batch values, normative in ../shared/parquet/README.md
// ("Canonical form of X.jsonl"). Every byte matters: the conformance corpus is compared byte
// for byte, so each rule below names the README rule it implements.

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>

#include "sluice/batch/batch.h"

namespace sluice::batch {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";
// Integers whose magnitude exceeds 2^53 - 1 are written as JSON strings (README, integers).
constexpr int64_t kMaxSafeInteger = (int64_t{1} << 53) - 1;

void AppendSigned(int64_t v, std::string* out) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  bool quote = v > kMaxSafeInteger || v < -kMaxSafeInteger;
  if (quote) out->push_back('"');
  out->append(buf, r.ptr);
  if (quote) out->push_back('"');
}

void AppendUnsigned(uint64_t v, std::string* out) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  bool quote = v > static_cast<uint64_t>(kMaxSafeInteger);
  if (quote) out->push_back('"');
  out->append(buf, r.ptr);
  if (quote) out->push_back('"');
}

// Shortest round-trip digits laid out as ECMAScript Number.prototype.toString (README,
// "Floating point"); F is float or double so that FLOAT keeps binary32 shortest digits.
template <class F>
void AppendFloat(F v, std::string* out) {
  if (std::isnan(v)) {
    out->append("\"NaN\"");
    return;
  }
  if (std::isinf(v)) {
    out->append(v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
    return;
  }
  if (v == 0) {
    out->append(std::signbit(v) ? "-0.0" : "0.0");
    return;
  }
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  const char* p = buf;
  if (*p == '-') {
    out->push_back('-');
    ++p;
  }
  // Scientific form: d[.ddd]e[+-]xx
  char digits[32];
  int k = 0;
  while (p < r.ptr && *p != 'e') {
    if (*p != '.') digits[k++] = *p;
    ++p;
  }
  int e = 0;
  std::from_chars(p + 1 + (p[1] == '+' ? 1 : 0), r.ptr, e);
  int n = e + 1;
  if (k <= n && n <= 21) {
    out->append(digits, k);
    out->append(static_cast<size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out->append(digits, n);
    out->push_back('.');
    out->append(digits + n, k - n);
  } else if (-6 < n && n <= 0) {
    out->append("0.");
    out->append(static_cast<size_t>(-n), '0');
    out->append(digits, k);
  } else {
    out->push_back(digits[0]);
    if (k > 1) {
      out->push_back('.');
      out->append(digits + 1, k - 1);
    }
    out->append(e >= 0 ? "e+" : "e-");
    out->append(std::to_string(e < 0 ? -e : e));
  }
}

void AppendHexString(std::string_view bytes, std::string* out) {
  out->push_back('"');
  for (unsigned char c : bytes) {
    out->push_back(kHexDigits[c >> 4]);
    out->push_back(kHexDigits[c & 15]);
  }
  out->push_back('"');
}

void AppendUuid(const uint8_t* b, std::string* out) {
  out->push_back('"');
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out->push_back('-');
    out->push_back(kHexDigits[b[i] >> 4]);
    out->push_back(kHexDigits[b[i] & 15]);
  }
  out->push_back('"');
}

void AppendQuoted(const std::string& text, std::string* out) {
  out->push_back('"');
  out->append(text);
  out->push_back('"');
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

void AppendPadded(uint64_t v, int width, std::string* out) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  int len = static_cast<int>(r.ptr - buf);
  if (len < width) out->append(static_cast<size_t>(width - len), '0');
  out->append(buf, r.ptr);
}

// Year rule: 4 digits for 0..9999, "+" and all digits after 9999, "-" and at least 4 digits
// before year 0 (astronomical numbering).
void AppendDateText(int64_t days, std::string* out) {
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  if (y > 9999) {
    out->push_back('+');
    AppendPadded(static_cast<uint64_t>(y), 4, out);
  } else if (y < 0) {
    out->push_back('-');
    AppendPadded(static_cast<uint64_t>(-y), 4, out);
  } else {
    AppendPadded(static_cast<uint64_t>(y), 4, out);
  }
  out->push_back('-');
  AppendPadded(m, 2, out);
  out->push_back('-');
  AppendPadded(d, 2, out);
}

// Units per second and the number of fraction digits printed for `unit` (MILLIS is printed
// with 6 digits like MICROS: the README renders every non-nanosecond value as microseconds).
int64_t UnitsPerSecond(TimeUnit unit) {
  switch (unit) {
    case TimeUnit::kMillis:
      return 1000;
    case TimeUnit::kMicros:
      return 1000000;
    case TimeUnit::kNanos:
      return 1000000000;
  }
  return 1000000;
}

// hh:mm:ss.ffffff[fff] for `units` (0 <= units < one day in most cases; larger values keep
// counting hours).
void AppendTimeOfDay(int64_t units, TimeUnit unit, std::string* out) {
  const int64_t per_second = UnitsPerSecond(unit);
  int64_t seconds = FloorDiv(units, per_second);
  int64_t fraction = units - seconds * per_second;
  int64_t hours = FloorDiv(seconds, 3600);
  int64_t rest = seconds - hours * 3600;
  if (hours < 0) {
    out->push_back('-');
    hours = -hours;
  }
  AppendPadded(static_cast<uint64_t>(hours), 2, out);
  out->push_back(':');
  AppendPadded(static_cast<uint64_t>(rest / 60), 2, out);
  out->push_back(':');
  AppendPadded(static_cast<uint64_t>(rest % 60), 2, out);
  out->push_back('.');
  if (unit == TimeUnit::kNanos) {
    AppendPadded(static_cast<uint64_t>(fraction), 9, out);
  } else if (unit == TimeUnit::kMillis) {
    AppendPadded(static_cast<uint64_t>(fraction) * 1000, 6, out);
  } else {
    AppendPadded(static_cast<uint64_t>(fraction), 6, out);
  }
}

void AppendInterval(const Column& column, int64_t row, std::string* out) {
  uint32_t parts[3];
  std::memcpy(parts, column.fixed.data() + static_cast<size_t>(row) * 12, 12);
  out->append("{\"months\":");
  AppendUnsigned(parts[0], out);
  out->append(",\"days\":");
  AppendUnsigned(parts[1], out);
  out->append(",\"micros\":");
  AppendUnsigned(uint64_t{parts[2]} * 1000, out);
  out->push_back('}');
}

}  // namespace

void AppendJsonString(std::string_view text, std::string* out) {
  out->push_back('"');
  size_t run_start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out->append(text.data() + run_start, i - run_start);
    run_start = i + 1;
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        out->append("\\u00");
        out->push_back(kHexDigits[c >> 4]);
        out->push_back(kHexDigits[c & 15]);
    }
  }
  out->append(text.data() + run_start, text.size() - run_start);
  out->push_back('"');
}

std::string FormatDecimal(__int128 unscaled, int32_t scale) {
  const bool negative = unscaled < 0;
  unsigned __int128 magnitude = negative ? ~static_cast<unsigned __int128>(unscaled) + 1
                                         : static_cast<unsigned __int128>(unscaled);
  char digits[48];
  int k = 0;
  do {
    digits[k++] = static_cast<char>('0' + static_cast<int>(magnitude % 10));
    magnitude /= 10;
  } while (magnitude != 0);
  if (scale < 0) scale = 0;
  while (k < scale + 1) digits[k++] = '0';
  std::string out;
  out.reserve(static_cast<size_t>(k) + 2);
  if (negative) out.push_back('-');
  for (int i = k - 1; i >= 0; --i) {
    out.push_back(digits[i]);
    if (i == scale && scale > 0) out.push_back('.');
  }
  return out;
}

std::string FormatDate(int32_t days) {
  std::string out;
  AppendDateText(days, &out);
  return out;
}

std::string FormatTimestamp(int64_t value, TimeUnit unit, bool utc) {
  const int64_t per_day = UnitsPerSecond(unit) * 86400;
  // The floor quotient and the remainder from / and %: `value - days * per_day` overflows for
  // values within a day of the int64 limits (UBSan caught it).
  int64_t days = value / per_day;
  int64_t in_day = value % per_day;
  if (in_day < 0) {
    in_day += per_day;
    --days;
  }
  std::string out;
  AppendDateText(days, &out);
  out.push_back('T');
  AppendTimeOfDay(in_day, unit, &out);
  if (utc) out.push_back('Z');
  return out;
}

std::string FormatTime(int64_t value, TimeUnit unit, bool utc) {
  std::string out;
  AppendTimeOfDay(value, unit, &out);
  if (utc) out.push_back('Z');
  return out;
}

void AppendCanonicalValue(const Column& column, int64_t row, std::string* out) {
  if (!column.IsValid(row)) {
    out->append("null");
    return;
  }
  const DataType& type = column.type;
  if (IsInt64Stored(type.id)) {
    AppendSigned(column.Value<int64_t>(row), out);
    return;
  }
  switch (type.id) {
    case TypeId::kNull:
      out->append("null");
      return;
    case TypeId::kBool:
      out->append(column.fixed[static_cast<size_t>(row)] ? "true" : "false");
      return;
    case TypeId::kUInt64:
      AppendUnsigned(column.Value<uint64_t>(row), out);
      return;
    case TypeId::kFloat:
      AppendFloat(column.Value<float>(row), out);
      return;
    case TypeId::kDouble:
      AppendFloat(column.Value<double>(row), out);
      return;
    case TypeId::kDecimal:
      AppendQuoted(FormatDecimal(column.Value<__int128>(row), type.scale), out);
      return;
    case TypeId::kString:
    case TypeId::kJson:
      AppendJsonString(column.StringAt(row), out);
      return;
    case TypeId::kBinary:
      AppendHexString(column.StringAt(row), out);
      return;
    case TypeId::kUuid:
      AppendUuid(column.fixed.data() + static_cast<size_t>(row) * 16, out);
      return;
    case TypeId::kDate:
      AppendQuoted(FormatDate(column.Value<int32_t>(row)), out);
      return;
    case TypeId::kTime:
      AppendQuoted(FormatTime(column.Value<int64_t>(row), type.unit, type.utc), out);
      return;
    case TypeId::kTimestamp:
      AppendQuoted(FormatTimestamp(column.Value<int64_t>(row), type.unit, type.utc), out);
      return;
    case TypeId::kInterval:
      AppendInterval(column, row, out);
      return;
    case TypeId::kList: {
      out->push_back('[');
      for (int64_t i = column.offsets[row]; i < column.offsets[row + 1]; ++i) {
        if (i != column.offsets[row]) out->push_back(',');
        AppendCanonicalValue(column.children[0], i, out);
      }
      out->push_back(']');
      return;
    }
    case TypeId::kMap: {
      const Column& entries = column.children[0];
      out->push_back('[');
      for (int64_t i = column.offsets[row]; i < column.offsets[row + 1]; ++i) {
        if (i != column.offsets[row]) out->push_back(',');
        out->append("{\"key\":");
        AppendCanonicalValue(entries.children[0], i, out);
        out->append(",\"value\":");
        AppendCanonicalValue(entries.children[1], i, out);
        out->push_back('}');
      }
      out->push_back(']');
      return;
    }
    case TypeId::kStruct: {
      out->push_back('{');
      for (size_t f = 0; f < column.children.size(); ++f) {
        if (f) out->push_back(',');
        AppendJsonString(type.children[f].name, out);
        out->push_back(':');
        AppendCanonicalValue(column.children[f], row, out);
      }
      out->push_back('}');
      return;
    }
    default:
      return;  // the integers held as int64_t, above
  }
}

void AppendCanonicalJsonl(const Batch& batch, std::string* out) {
  // Keys are the same on every row: render them once.
  std::vector<std::string> keys;
  keys.reserve(batch.columns.size());
  for (size_t c = 0; c < batch.columns.size(); ++c) {
    std::string key;
    AppendJsonString(batch.schema->fields[c].name, &key);
    key.push_back(':');
    keys.push_back(std::move(key));
  }
  for (int64_t row = 0; row < batch.num_rows; ++row) {
    out->push_back('{');
    for (size_t c = 0; c < batch.columns.size(); ++c) {
      if (c) out->push_back(',');
      out->append(keys[c]);
      AppendCanonicalValue(batch.columns[c], row, out);
    }
    out->append("}\n");
  }
}

}  // namespace sluice::batch
