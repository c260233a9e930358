// Digest schedules: each form, cron's day rule, month ends and leap years, and the exact
// message for each kind of bad input. Calendar facts used below (checked with Python's
// datetime): 2026-12-01 is a Tuesday, 2026-12-07 a Monday, 2027-01-01 a Friday.
#include "sluice/alerts/schedule.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace sluice::alerts {
namespace {

constexpr int64_t kMinute = 60'000'000;

int64_t At(std::string_view iso) {
  const std::optional<int64_t> t = ParseIsoMicros(iso);
  EXPECT_TRUE(t.has_value()) << iso;
  return t.value_or(0);
}

Schedule Parse(std::string_view text) {
  Result<Schedule> s = ParseSchedule(text);
  EXPECT_TRUE(s.ok()) << text << ": " << s.status().ToString();
  return s.ok() ? *s : Schedule();
}

// The next `n` firing times after `from`, as "YYYY-MM-DDTHH:MM".
std::vector<std::string> Fires(std::string_view text, std::string_view from, int n) {
  const Schedule s = Parse(text);
  std::vector<std::string> out;
  int64_t t = At(from);
  for (int i = 0; i < n; ++i) {
    t = NextFire(s, t);
    out.push_back(FormatIsoMicros(t).substr(0, 16));
  }
  return out;
}

std::string ErrorOf(std::string_view text) {
  Result<Schedule> s = ParseSchedule(text);
  EXPECT_FALSE(s.ok()) << text << " parsed";
  if (s.ok()) return "";
  EXPECT_EQ(s.status().code(), ErrorCode::kInvalidArgument);
  return s.status().message();
}

using Times = std::vector<std::string>;

TEST(ScheduleTest, HourlyFiresAtMinuteZeroStrictlyAfter) {
  EXPECT_EQ(Fires("hourly", "2026-12-07T10:00:00Z", 2),
            (Times{"2026-12-07T11:00", "2026-12-07T12:00"}));
  EXPECT_EQ(Fires("HOURLY", "2026-12-07T10:59:59.999999Z", 1), Times{"2026-12-07T11:00"});
  const Schedule s = Parse("hourly");
  EXPECT_EQ(NextFire(s, At("2026-12-07T10:00:00Z") - 1), At("2026-12-07T10:00:00Z"));
  EXPECT_EQ(Fires("hourly", "2026-12-31T23:30:00Z", 1), Times{"2027-01-01T00:00"});
}

TEST(ScheduleTest, DailyAtAUtcTime) {
  EXPECT_EQ(Fires("daily@08:30", "2026-12-07T08:29:59Z", 2),
            (Times{"2026-12-07T08:30", "2026-12-08T08:30"}));
  EXPECT_EQ(Fires("daily@08:30", "2026-12-07T08:30:00Z", 1), Times{"2026-12-08T08:30"});
  EXPECT_EQ(Fires(" Daily@8:05 ", "2026-02-28T09:00:00Z", 1), Times{"2026-03-01T08:05"});
  EXPECT_EQ(Parse(" Daily@8:05 ").text(), "Daily@8:05");
  EXPECT_EQ(Fires("daily@00:00", "2024-02-28T12:00:00Z", 2),
            (Times{"2024-02-29T00:00", "2024-03-01T00:00"}));
}

TEST(ScheduleTest, DailyRefusesBadTimes) {
  EXPECT_EQ(ErrorOf("daily@24:00"), "schedule \"daily@24:00\": daily@: hour 24 is not in 0-23");
  EXPECT_EQ(ErrorOf("daily@08:60"), "schedule \"daily@08:60\": daily@: minute 60 is not in 0-59");
  for (const char* bad : {"daily@0830", "daily@", "daily@8:5", "daily@123:00", "daily@-1:00"}) {
    EXPECT_EQ(ErrorOf(bad), "schedule \"" + std::string(bad) +
                                "\": daily@ needs a UTC time as HH:MM, e.g. daily@08:30");
  }
}

TEST(ScheduleTest, StepsAndRanges) {
  EXPECT_EQ(Fires("*/15 * * * *", "2026-12-07T10:07:00Z", 3),
            (Times{"2026-12-07T10:15", "2026-12-07T10:30", "2026-12-07T10:45"}));
  EXPECT_EQ(Fires("*/15 * * * *", "2026-12-07T10:45:00Z", 1), Times{"2026-12-07T11:00"});
  EXPECT_EQ(
      Fires("0 9-17/4 * * *", "2026-12-07T00:00:00Z", 4),
      (Times{"2026-12-07T09:00", "2026-12-07T13:00", "2026-12-07T17:00", "2026-12-08T09:00"}));
  EXPECT_EQ(Fires("5,10-12 3 * * *", "2026-12-07T00:00:00Z", 5),
            (Times{"2026-12-07T03:05", "2026-12-07T03:10", "2026-12-07T03:11", "2026-12-07T03:12",
                   "2026-12-08T03:05"}));
  EXPECT_EQ(Fires("30 23 * * *", "2026-12-31T23:30:00Z", 1), Times{"2027-01-01T23:30"});
}

TEST(ScheduleTest, MonthAndDayNamesIgnoreCase) {
  // Weekdays of January and July: 2027-01-01 is a Friday, then Monday the 4th.
  EXPECT_EQ(Fires("0 0 * JAN,jul mon-FRI", "2026-12-01T00:00:00Z", 3),
            (Times{"2027-01-01T00:00", "2027-01-04T00:00", "2027-01-05T00:00"}));
  EXPECT_EQ(Fires("0 0 1 feb-mar/1 *", "2026-12-01T00:00:00Z", 3),
            (Times{"2027-02-01T00:00", "2027-03-01T00:00", "2028-02-01T00:00"}));
}

TEST(ScheduleTest, SundayIsZeroOrSeven) {
  const Times sundays = {"2026-12-13T12:00", "2026-12-20T12:00"};
  EXPECT_EQ(Fires("0 12 * * 0", "2026-12-07T00:00:00Z", 2), sundays);
  EXPECT_EQ(Fires("0 12 * * 7", "2026-12-07T00:00:00Z", 2), sundays);
  EXPECT_EQ(Fires("0 12 * * SUN", "2026-12-07T00:00:00Z", 2), sundays);
  // 5-7 is Friday, Saturday, Sunday.
  EXPECT_EQ(Fires("0 12 * * 5-7", "2026-12-07T00:00:00Z", 3),
            (Times{"2026-12-11T12:00", "2026-12-12T12:00", "2026-12-13T12:00"}));
}

TEST(ScheduleTest, BothDayFieldsRestrictedMeansEither) {
  // The 13th (a Sunday in December 2026) and every Friday.
  EXPECT_EQ(Fires("0 0 13 * FRI", "2026-12-01T00:00:00Z", 5),
            (Times{"2026-12-04T00:00", "2026-12-11T00:00", "2026-12-13T00:00", "2026-12-18T00:00",
                   "2026-12-25T00:00"}));
}

TEST(ScheduleTest, ADayFieldStartingWithStarMeansBoth) {
  // Vixie cron: "*/2" does not restrict, so the days must be odd AND Mondays.
  EXPECT_EQ(
      Fires("0 0 */2 * MON", "2026-12-01T00:00:00Z", 4),
      (Times{"2026-12-07T00:00", "2026-12-21T00:00", "2027-01-11T00:00", "2027-01-25T00:00"}));
  // Only the weekday restricts: every Monday.
  EXPECT_EQ(Fires("0 0 * * 1", "2026-12-01T00:00:00Z", 2),
            (Times{"2026-12-07T00:00", "2026-12-14T00:00"}));
}

TEST(ScheduleTest, MonthEnds) {
  EXPECT_EQ(Fires("0 0 31 * *", "2027-01-31T00:00:00Z", 3),
            (Times{"2027-03-31T00:00", "2027-05-31T00:00", "2027-07-31T00:00"}));
  EXPECT_EQ(Fires("0 0 30 * *", "2027-01-30T00:00:00Z", 2),
            (Times{"2027-03-30T00:00", "2027-04-30T00:00"}));
  EXPECT_EQ(Fires("59 23 28-31 2 *", "2027-02-28T00:00:00Z", 2),
            (Times{"2027-02-28T23:59", "2028-02-28T23:59"}));
}

TEST(ScheduleTest, February29WaitsForALeapYearAndSkips2100) {
  EXPECT_EQ(Fires("0 0 29 2 *", "2024-03-01T00:00:00Z", 2),
            (Times{"2028-02-29T00:00", "2032-02-29T00:00"}));
  EXPECT_EQ(Fires("0 0 29 2 *", "2096-03-01T00:00:00Z", 1), Times{"2104-02-29T00:00"});
  EXPECT_EQ(Fires("0 0 29 2 *", "2399-01-01T00:00:00Z", 1), Times{"2400-02-29T00:00"});
}

TEST(ScheduleTest, FiresAtAgreesWithAMinuteByMinuteWalk) {
  // NextFire skips months, days and hours; a plain walk over FiresAt must land on the same
  // minutes.
  std::mt19937_64 rng(7);
  for (const char* text : {"*/15 * * * *", "0 9-17/4 * * 1-5", "7 0 13 * FRI", "0 0 */2 * MON",
                           "59 23 31 * *", "30 2 * JAN,JUN *"}) {
    const Schedule s = Parse(text);
    for (int i = 0; i < 20; ++i) {
      const int64_t after = At("2026-01-01T00:00:00Z") +
                            static_cast<int64_t>(rng() % (3ULL * 365 * 24 * 60)) * kMinute +
                            static_cast<int64_t>(rng() % kMinute);
      const int64_t next = NextFire(s, after);
      ASSERT_GT(next, after) << text;
      ASSERT_EQ(next % kMinute, 0) << text;
      EXPECT_TRUE(s.FiresAt(next)) << text << " at " << FormatIsoMicros(next);
      // No firing minute between: walk at most 70 days back from `next`.
      const int64_t first = (after / kMinute + 1) * kMinute;
      for (int64_t t = std::max<int64_t>(first, next - int64_t{70} * 1440 * kMinute); t < next;
           t += kMinute) {
        ASSERT_FALSE(s.FiresAt(t))
            << text << " fires at " << FormatIsoMicros(t) << " before " << FormatIsoMicros(next);
      }
    }
  }
}

TEST(ScheduleTest, RefusesSchedulesThatNeverFire) {
  for (const char* text : {"0 0 30 2 *", "0 0 31 4,6,9,11 *", "0 0 30,31 FEB *"}) {
    EXPECT_EQ(ErrorOf(text), "schedule \"" + std::string(text) +
                                 "\": never fires: no listed month has a listed day-of-month");
  }
  // A weekday makes these fire (either field matching is enough), as does a leap day.
  EXPECT_TRUE(ParseSchedule("0 0 30 2 MON").ok());
  EXPECT_TRUE(ParseSchedule("0 0 29 2 *").ok());
}

TEST(ScheduleTest, ErrorsNameTheFieldAndWhy) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "empty (expected hourly, daily@HH:MM or 5 cron fields)"},
      {"weekly", "expected hourly, daily@HH:MM or five cron fields"},
      {"* * * *", "expected five cron fields (minute hour day-of-month month day-of-week), got 4"},
      {"* * * * * *",
       "expected five cron fields (minute hour day-of-month month day-of-week), got 6"},
      {"60 * * * *", "minute: 60 is out of range 0-59"},
      {"0 24 * * *", "hour: 24 is out of range 0-23"},
      {"0 0 0 * *", "day-of-month: 0 is out of range 1-31"},
      {"0 0 32 * *", "day-of-month: 32 is out of range 1-31"},
      {"0 0 * 13 *", "month: 13 is out of range 1-12"},
      {"0 0 * * 8", "day-of-week: 8 is out of range 0-7"},
      {"5-3 * * * *", "minute: range 5-3 runs backwards"},
      {"0 0 * * FRI-MON", "day-of-week: range FRI-MON runs backwards"},
      {"*/0 * * * *", "minute: step 0 is not in 1-59"},
      {"*/60 * * * *", "minute: step 60 is not in 1-59"},
      {"*/x * * * *", "minute: step \"x\" is not a number"},
      {"5/15 * * * *", "minute: a step needs \"*\" or a range before it (write 5-59/15)"},
      {"1,,2 * * * *", "minute: an empty item in a list"},
      {"1, * * * *", "minute: an empty item in a list"},
      {"-5 * * * *", "minute: a value is missing"},
      {"0 0 * FOO *", "month: \"FOO\" is not a number or a name (JAN-DEC)"},
      {"0 0 * * MONDAY", "day-of-week: \"MONDAY\" is not a number or a name (SUN-SAT)"},
      {"MON * * * *", "minute: \"MON\" is not a number"},
      {"0 0 1x * *", "day-of-month: \"1x\" is not a number"},
      {"0 0 12345 * *", "day-of-month: \"12345\" is not a value in range 1-31"},
  };
  for (const auto& [text, why] : cases) {
    EXPECT_EQ(ErrorOf(text), "schedule \"" + text + "\": " + why);
  }
  EXPECT_EQ(ErrorOf(std::string(kMaxScheduleText + 1, '*')),
            "schedule is 257 bytes, more than the 256 allowed");
  // Control characters in the quoted text are escaped, not echoed.
  EXPECT_EQ(ErrorOf("0 0 * * \x01"),
            "schedule \"0 0 * * \\x01\": day-of-week: \"\\x01\" is not a number");
}

TEST(ScheduleTest, DefaultScheduleNeverFires) {
  EXPECT_EQ(NextFire(Schedule(), At("2026-01-01T00:00:00Z")), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(NextFire(Parse("hourly"), std::numeric_limits<int64_t>::max()),
            std::numeric_limits<int64_t>::max());
}

}  // namespace
}  // namespace sluice::alerts
