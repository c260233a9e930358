#include <gtest/gtest.h>

#include "sluice/json/convert_internal.h"

namespace sluice::json {
namespace {

std::string Dec(std::string_view s, int p, int sc) {
  __int128 v = 0;
  const DecimalError e = ParseDecimal(s, p, sc, &v);
  if (e != DecimalError::kNone) return "error " + std::to_string(static_cast<int>(e));
  return batch::FormatDecimal(v, sc);
}

TEST(Convert, DecimalsAreExactAtTheColumnScale) {
  EXPECT_EQ(Dec("12.5", 9, 2), "12.50");
  EXPECT_EQ(Dec("-0.5", 9, 2), "-0.50");
  EXPECT_EQ(Dec("597", 9, 2), "597.00");
  EXPECT_EQ(Dec("1.2e2", 9, 2), "120.00");
  EXPECT_EQ(Dec("125e-3", 9, 3), "0.125");
  EXPECT_EQ(Dec("0.30000000000000004", 38, 17), "0.30000000000000004");
  EXPECT_EQ(Dec("12.500", 9, 2), "12.50");  // trailing zeros beyond the scale are fine
  EXPECT_EQ(Dec("99999999999999999999999999999999999999", 38, 0),
            "99999999999999999999999999999999999999");
  EXPECT_EQ(Dec("-12345678901234567890123456.7890123456", 38, 10),
            "-12345678901234567890123456.7890123456");
  EXPECT_EQ(Dec("0", 9, 2), "0.00");
  EXPECT_EQ(Dec("0e999", 9, 2), "0.00");
}

TEST(Convert, DecimalsRefuseRoundingOverflowAndJunk) {
  EXPECT_EQ(Dec("12.345", 9, 2), "error 2");  // kFractionLost
  EXPECT_EQ(Dec("1000", 3, 0), "error 3");    // kOverflow
  EXPECT_EQ(Dec("100000000000000000000000000000000000000", 38, 0), "error 3");
  EXPECT_EQ(Dec("1e40", 38, 0), "error 3");
  EXPECT_EQ(Dec("abc", 9, 2), "error 1");
  EXPECT_EQ(Dec("1.2.3", 9, 2), "error 1");
  EXPECT_EQ(Dec("", 9, 2), "error 1");
  EXPECT_EQ(Dec("1e", 9, 2), "error 1");
}

TEST(Convert, DatesAndTimestamps) {
  EXPECT_EQ(ParseDate("1970-01-01"), 0);
  EXPECT_EQ(ParseDate("2024-02-29"), 19782);
  EXPECT_FALSE(ParseDate("2023-02-29"));
  EXPECT_FALSE(ParseDate("2024-13-01"));
  EXPECT_FALSE(ParseDate("2024-1-01"));
  EXPECT_EQ(ParseDate("1969-12-31"), -1);

  auto ts = ParseTimestamp("2021-01-01T00:00:00.000001");
  ASSERT_TRUE(ts);
  EXPECT_FALSE(ts->has_zone);
  EXPECT_EQ(TimestampIn(*ts, batch::TimeUnit::kMicros), 1609459200000001);
  EXPECT_FALSE(TimestampIn(*ts, batch::TimeUnit::kMillis));  // precision would be lost
  ts = ParseTimestamp("2021-01-01 01:30:00+01:30");
  ASSERT_TRUE(ts);
  EXPECT_TRUE(ts->has_zone);
  EXPECT_EQ(TimestampIn(*ts, batch::TimeUnit::kMicros), 1609459200000000);
  ts = ParseTimestamp("1969-12-31T23:59:59.999999999Z");
  ASSERT_TRUE(ts);
  EXPECT_EQ(ts->fraction_digits, 9);
  EXPECT_EQ(TimestampIn(*ts, batch::TimeUnit::kNanos), -1);
  ts = ParseTimestamp("2024-05-01");
  ASSERT_TRUE(ts);
  EXPECT_TRUE(ts->date_only);
  EXPECT_FALSE(ParseTimestamp("2024-05-01T25:00:00"));
  EXPECT_FALSE(ParseTimestamp("2024-05-01Tnoon"));
  EXPECT_FALSE(ParseTimestamp("2024-05-01T10:00:00+5"));
  EXPECT_EQ(ParseTime("23:59:59.5", batch::TimeUnit::kMicros), 86399500000);
  EXPECT_FALSE(ParseTime("24:00:00", batch::TimeUnit::kMicros));
}

TEST(Convert, IntegersAndUuids) {
  EXPECT_EQ(ParseInt64("-9223372036854775808"), INT64_MIN);
  EXPECT_FALSE(ParseInt64("9223372036854775808"));
  EXPECT_EQ(ParseUInt64("18446744073709551615"), UINT64_MAX);
  EXPECT_FALSE(ParseUInt64("18446744073709551616"));
  EXPECT_FALSE(ParseInt64("1.0"));
  auto c = ClassifyInteger("-000123");
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->negative);
  EXPECT_EQ(c->digits, 3);
  uint8_t u[16];
  ASSERT_TRUE(ParseUuid("CFCD2084-95d5-65ef-66e7-dff9f98764da", u));
  EXPECT_EQ(u[0], 0xcf);
  EXPECT_EQ(u[15], 0xda);
  EXPECT_FALSE(ParseUuid("cfcd208495d565ef66e7dff9f98764da", u));
}

}  // namespace
}  // namespace sluice::json
