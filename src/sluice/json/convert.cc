#include <limits>

#include "sluice/core/text.h"
#include "sluice/json/convert_internal.h"

namespace sluice::json {
namespace {

bool Digits(std::string_view s, size_t at, size_t n, int* out) {
  if (at + n > s.size()) return false;
  int v = 0;
  for (size_t i = at; i < at + n; ++i) {
    const char c = s[i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

// Howard Hinnant's days_from_civil.
int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

// YYYY-MM-DD at the start of `s`.
bool DatePart(std::string_view s, int64_t* days) {
  int y, m, d;
  if (s.size() < 10 || s[4] != '-' || s[7] != '-') return false;
  if (!Digits(s, 0, 4, &y) || !Digits(s, 5, 2, &m) || !Digits(s, 8, 2, &d)) return false;
  if (m < 1 || m > 12 || d < 1 || d > DaysInMonth(y, m)) return false;
  *days = DaysFromCivil(y, m, d);
  return true;
}

// HH:MM[:SS[.f{1,9}]] at the start of `s`; returns the characters used, 0 when none.
size_t TimePart(std::string_view s, int64_t* seconds, int32_t* nanos, int* fraction_digits) {
  int h, mi, sec = 0;
  if (s.size() < 5 || s[2] != ':' || !Digits(s, 0, 2, &h) || !Digits(s, 3, 2, &mi)) return 0;
  if (h > 23 || mi > 59) return 0;
  size_t at = 5;
  *nanos = 0;
  *fraction_digits = 0;
  if (at < s.size() && s[at] == ':') {
    if (!Digits(s, at + 1, 2, &sec) || sec > 59) return 0;
    at += 3;
    if (at < s.size() && s[at] == '.') {
      ++at;
      int32_t frac = 0;
      int n = 0;
      while (at < s.size() && s[at] >= '0' && s[at] <= '9') {
        if (n == 9) return 0;  // beyond nanoseconds
        frac = frac * 10 + (s[at] - '0');
        ++n;
        ++at;
      }
      if (n == 0) return 0;
      for (int i = n; i < 9; ++i) frac *= 10;
      *nanos = frac;
      *fraction_digits = n;
    }
  }
  *seconds = h * 3600 + mi * 60 + sec;
  return at;
}

}  // namespace

std::optional<int32_t> ParseDate(std::string_view s) {
  int64_t days;
  if (s.size() != 10 || !DatePart(s, &days)) return std::nullopt;
  return static_cast<int32_t>(days);
}

std::optional<ParsedTimestamp> ParseTimestamp(std::string_view s) {
  ParsedTimestamp ts;
  int64_t days;
  if (!DatePart(s, &days)) return std::nullopt;
  if (s.size() == 10) {
    ts.seconds = days * 86400;
    ts.date_only = true;
    return ts;
  }
  const char sep = s[10];
  if (sep != 'T' && sep != 't' && sep != ' ') return std::nullopt;
  std::string_view rest = s.substr(11);
  int64_t secs;
  const size_t used = TimePart(rest, &secs, &ts.nanos, &ts.fraction_digits);
  if (used == 0) return std::nullopt;
  rest.remove_prefix(used);
  int64_t offset = 0;
  if (!rest.empty()) {
    if (rest == "Z" || rest == "z") {
      ts.has_zone = true;
    } else if (rest[0] == '+' || rest[0] == '-') {
      int oh, om;
      const bool colon = rest.size() == 6 && rest[3] == ':';
      if (!(colon || rest.size() == 5) || !Digits(rest, 1, 2, &oh) ||
          !Digits(rest, colon ? 4 : 3, 2, &om) || oh > 23 || om > 59) {
        return std::nullopt;
      }
      offset = (oh * 3600 + om * 60) * (rest[0] == '-' ? -1 : 1);
      ts.has_zone = true;
    } else {
      return std::nullopt;
    }
  }
  ts.seconds = days * 86400 + secs - offset;
  return ts;
}

std::optional<int64_t> TimestampIn(const ParsedTimestamp& ts, batch::TimeUnit unit) {
  int64_t per_second, sub;
  switch (unit) {
    case batch::TimeUnit::kMillis:
      per_second = 1000;
      if (ts.nanos % 1000000 != 0) return std::nullopt;
      sub = ts.nanos / 1000000;
      break;
    case batch::TimeUnit::kMicros:
      per_second = 1000000;
      if (ts.nanos % 1000 != 0) return std::nullopt;
      sub = ts.nanos / 1000;
      break;
    default:
      per_second = 1000000000;
      sub = ts.nanos;
      break;
  }
  int64_t v;
  if (__builtin_mul_overflow(ts.seconds, per_second, &v) || __builtin_add_overflow(v, sub, &v)) {
    return std::nullopt;
  }
  return v;
}

std::optional<int64_t> ParseTime(std::string_view s, batch::TimeUnit unit) {
  int64_t secs;
  ParsedTimestamp ts;
  if (TimePart(s, &secs, &ts.nanos, &ts.fraction_digits) != s.size()) return std::nullopt;
  ts.seconds = secs;
  return TimestampIn(ts, unit);
}

DecimalError ParseDecimal(std::string_view s, int32_t precision, int32_t scale, __int128* out) {
  size_t i = 0;
  bool negative = false;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) negative = s[i++] == '-';
  // Collect the significant digits and where the point sits among them.
  __int128 mantissa = 0;
  int mantissa_digits = 0;  // significant digits taken into `mantissa`
  int64_t exponent = 0;     // value = mantissa * 10^exponent, plus dropped digits
  bool dropped_nonzero = false;
  bool any_digit = false;
  bool in_fraction = false;
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '.') {
      if (in_fraction) return DecimalError::kNotANumber;
      in_fraction = true;
      continue;
    }
    if (c < '0' || c > '9') break;
    any_digit = true;
    if (mantissa_digits < 38) {
      if (mantissa != 0 || c != '0') {
        mantissa = mantissa * 10 + (c - '0');
        ++mantissa_digits;
      }
      if (in_fraction) --exponent;
    } else {
      // Beyond 38 significant digits: integer digits overflow, fraction digits must be 0.
      if (!in_fraction) {
        ++exponent;
      } else if (c != '0') {
        dropped_nonzero = true;
      }
    }
  }
  if (!any_digit) return DecimalError::kNotANumber;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    bool eneg = false;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) eneg = s[i++] == '-';
    int64_t e = 0;
    bool edigit = false;
    for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
      edigit = true;
      if (e < 100000) e = e * 10 + (s[i] - '0');
    }
    if (!edigit) return DecimalError::kNotANumber;
    exponent += eneg ? -e : e;
  }
  if (i != s.size()) return DecimalError::kNotANumber;
  if (dropped_nonzero) return DecimalError::kFractionLost;
  // Scale: unscaled = mantissa * 10^(exponent + scale).
  __int128 limit = 1;  // 10^precision; precision <= 38 keeps it below 2^127
  for (int k = 0; k < precision && k < 38; ++k) limit *= 10;
  int64_t shift = exponent + scale;
  __int128 v = mantissa;
  if (v == 0) shift = 0;
  for (; shift < 0; ++shift) {
    if (v % 10 != 0) return DecimalError::kFractionLost;
    v /= 10;
  }
  for (; shift > 0; --shift) {
    if (v >= limit / 10) return DecimalError::kOverflow;  // v * 10 >= limit
    v *= 10;
  }
  if (v >= limit) return DecimalError::kOverflow;
  *out = negative ? -v : v;
  return DecimalError::kNone;
}

bool ParseUuid(std::string_view s, uint8_t out[16]) {
  if (s.size() != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-') return false;
  int n = 0;
  int hi = -1;
  for (const char c : s) {
    if (c == '-') continue;
    const int v = HexDigitValue(c);
    if (v < 0) return false;
    if (hi < 0) {
      hi = v;
    } else {
      out[n++] = static_cast<uint8_t>(hi << 4 | v);
      hi = -1;
    }
  }
  return n == 16;
}

std::optional<IntegerText> ClassifyInteger(std::string_view s) {
  IntegerText t;
  size_t i = 0;
  if (!s.empty() && s[0] == '-') {
    t.negative = true;
    i = 1;
  }
  if (i == s.size()) return std::nullopt;
  bool leading = true;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    if (leading && s[i] == '0') continue;
    leading = false;
    ++t.digits;
  }
  return t;
}

std::optional<uint64_t> ParseUInt64(std::string_view s) {
  if (s.empty()) return std::nullopt;
  uint64_t v = 0;
  for (const char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, c - '0', &v)) {
      return std::nullopt;
    }
  }
  return v;
}

std::optional<int64_t> ParseInt64(std::string_view s) {
  const bool negative = !s.empty() && s[0] == '-';
  const auto mag = ParseUInt64(negative ? s.substr(1) : s);
  if (!mag) return std::nullopt;
  if (negative) {
    if (*mag > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) + 1) return std::nullopt;
    return static_cast<int64_t>(0 - *mag);
  }
  if (*mag > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
  return static_cast<int64_t>(*mag);
}

}  // namespace sluice::json
