#pragma once
// alerts: when a digest is due. A schedule is parsed once from the operator's text and then
// answers one question, "when does it fire next after t", in UTC: no locale, no time zone, no
// daylight saving (a digest at 08:00 is at 08:00 UTC all year).
//
// Grammar (case-insensitive, at most kMaxScheduleText bytes, surrounding space ignored):
//
//   schedule := "hourly"                 minute 0 of every hour
//             | "daily@" HH ":" MM       every day at HH:MM UTC (H or HH, 00-23; MM 00-59)
//             | minute hour dom month dow   five cron fields, separated by spaces or tabs
//   field    := item ("," item)*
//   item     := "*" | "*/" step | value | value "-" value | value "-" value "/" step
//
//   field         range     names
//   minute        0-59
//   hour          0-23
//   day-of-month  1-31
//   month         1-12      JAN-DEC
//   day-of-week   0-7       SUN-SAT (0 and 7 are both Sunday)
//
// Example: "*/15 8-18 * * MON-FRI" fires at :00 :15 :30 :45 from 08:00 to 18:45 on weekdays;
// "0 9 1,15 * FRI" at 09:00 on the 1st, the 15th and every Friday.
//
// The day rule is Vixie cron's (cronie, the crontab(5) most operators know): when both day
// fields are restricted a day matching either fires; when either starts with "*" a day must
// match both. So "0 0 */2 * MON" fires on Mondays that fall on odd days, as it does in cron.
// A range must run upwards (no "FRI-MON"), a step needs "*" or a range before it ("5/15" is
// refused with a hint to write "5-59/15"), and a schedule that can never fire ("0 0 30 2 *",
// "0 0 31 4,6,9,11 *") is refused when it is parsed rather than found silent months later.
//
// Thread-safety: a Schedule is an immutable value; every function here is pure.

#include <bitset>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "sluice/core/core.h"

namespace sluice::alerts {

// A schedule is a line of configuration; anything longer is a mistake, not a schedule.
constexpr size_t kMaxScheduleText = 256;

class Schedule {
 public:
  // The text it was parsed from, trimmed.
  const std::string& text() const { return text_; }
  // Whether it fires at the minute that contains `micros` (unix microseconds, UTC).
  bool FiresAt(int64_t micros) const;

 private:
  friend Result<Schedule> ParseSchedule(std::string_view text);
  friend int64_t NextFire(const Schedule& s, int64_t after_micros);
  bool DayMatches(int64_t days_since_epoch, unsigned day, unsigned month) const;

  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_;     // bit 1..31
  std::bitset<13> months_;   // bit 1..12
  std::bitset<7> weekdays_;  // bit 0 = Sunday
  // Cron's day rule: when both are restricted a day matching either fires.
  bool days_restricted_ = false;
  bool weekdays_restricted_ = false;
  std::string text_;
};

// Parses `text` (grammar above). kInvalidArgument naming the field and why, e.g.
// `schedule "0 24 * * *": hour: 24 is out of range 0-23`, or that it never fires.
Result<Schedule> ParseSchedule(std::string_view text);

// The first minute boundary strictly after `after_micros` (unix microseconds) at which `s`
// fires, in unix microseconds. Skips whole months, days and hours that cannot match, so the
// cost is a few hundred steps at most even for "0 0 29 2 *" across the 2100 gap.
// A parsed schedule always fires; INT64_MAX only for a default-constructed one.
int64_t NextFire(const Schedule& s, int64_t after_micros);

}  // namespace sluice::alerts
