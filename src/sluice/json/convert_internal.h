#pragma once
// Private to json: text -> typed value conversions, exact and allocation-free.
//
//   DATE       YYYY-MM-DD                                            2024-05-01
//   TIME       HH:MM[:SS[.f{1,9}]]                                   23:59:59.5
//   TIMESTAMP  YYYY-MM-DD(T|t| )HH:MM[:SS[.f{1,9}]][Z|z|(+|-)HH[:]MM] 2024-05-01T10:00:00.25Z
//              (or a bare DATE: its midnight). An offset is applied, giving UTC.
//   DECIMAL    JSON number text [-]int[.frac][(e|E)[+|-]exp] scaled to the column's scale
//              without a binary float in between: "12.5" at scale 2 -> 1250. Digits beyond
//              the scale must be zeros (no silent rounding); the result must fit the
//              precision.
//   UUID       8-4-4-4-12 hex digits, either case.
// Years are 4 digits (0000-9999), proleptic Gregorian.

#include <cstdint>
#include <optional>
#include <string_view>

#include "sluice/batch/batch.h"

namespace sluice::json {

std::optional<int32_t> ParseDate(std::string_view s);

struct ParsedTimestamp {
  int64_t seconds = 0;  // since the epoch, UTC when has_zone
  int32_t nanos = 0;    // 0..999999999
  int fraction_digits = 0;
  bool has_zone = false;
  bool date_only = false;
};
std::optional<ParsedTimestamp> ParseTimestamp(std::string_view s);
// In `unit`; nullopt on overflow or when precision would be lost (more fraction digits than
// the unit holds, non-zero).
std::optional<int64_t> TimestampIn(const ParsedTimestamp& ts, batch::TimeUnit unit);
// Since midnight, in `unit`.
std::optional<int64_t> ParseTime(std::string_view s, batch::TimeUnit unit);

// Why a decimal did not convert.
enum class DecimalError { kNone, kNotANumber, kFractionLost, kOverflow };
DecimalError ParseDecimal(std::string_view s, int32_t precision, int32_t scale, __int128* out);

bool ParseUuid(std::string_view s, uint8_t out[16]);

// Classification of a JSON integer's text (no '.', 'e' or 'E'): sign and digit count.
struct IntegerText {
  bool negative = false;
  int digits = 0;  // significant digits (leading zeros do not count)
};
// nullopt when `s` is not an optional '-' followed by decimal digits.
std::optional<IntegerText> ClassifyInteger(std::string_view s);
// Exact integer text -> int64 / uint64, nullopt when out of range or not an integer.
std::optional<int64_t> ParseInt64(std::string_view s);
std::optional<uint64_t> ParseUInt64(std::string_view s);

}  // namespace sluice::json
