#include "sluice/alerts/schedule.h"

#include <array>
#include <limits>
#include <vector>

namespace sluice::alerts {
namespace {

constexpr int64_t kMicrosPerMinute = 60'000'000;
constexpr int64_t kMinutesPerDay = 1440;
// NextFire's walk visits at most a few hundred months, days and hours for any schedule that
// fires (the longest gap is "0 0 29 2 *" across 2100, eight years of skipped months); the cap
// only guards a default-constructed Schedule, which matches nothing.
constexpr int kMaxSearchSteps = 200'000;
// A cron value has at most two digits; four leave room to say "100 is out of range" rather
// than "not a number", and cannot overflow.
constexpr size_t kMaxValueDigits = 4;

constexpr std::array<std::string_view, 12> kMonthNames = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                                          "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr std::array<std::string_view, 7> kDayNames = {"SUN", "MON", "TUE", "WED",
                                                       "THU", "FRI", "SAT"};

struct FieldSpec {
  std::string_view name;
  int lo;
  int hi;
  const std::string_view* names;  // value lo + i is names[i]; nullptr for numbers only
  size_t name_count;
};

constexpr FieldSpec kFields[5] = {
    {"minute", 0, 59, nullptr, 0},
    {"hour", 0, 23, nullptr, 0},
    {"day-of-month", 1, 31, nullptr, 0},
    {"month", 1, 12, kMonthNames.data(), kMonthNames.size()},
    {"day-of-week", 0, 7, kDayNames.data(), kDayNames.size()},
};

Status Invalid(std::string_view text, std::string_view why) {
  return Err(ErrorCode::kInvalidArgument,
             "schedule \"" + EscapeForLog(text, kMaxScheduleText) + "\": " + std::string(why));
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// 0 = Sunday; 1970-01-01 (day 0) was a Thursday.
unsigned Weekday(int64_t days) { return static_cast<unsigned>(((days % 7) + 7 + 4) % 7); }

// The longest a month can be in any year (February counts its 29th).
unsigned MaxDaysInMonth(unsigned month) {
  static constexpr unsigned kDays[13] = {0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return kDays[month];
}

// One value of a field: a number or, for month and day-of-week, a three-letter name.
Result<int> ParseValue(std::string_view text, std::string_view token, const FieldSpec& spec) {
  const std::string field(spec.name);
  if (token.empty()) return Invalid(text, field + ": a value is missing");
  if (IsAsciiAlpha(token.front())) {
    for (size_t i = 0; i < spec.name_count; ++i) {
      if (EqualsIgnoreCase(token, spec.names[i])) return spec.lo + static_cast<int>(i);
    }
    return Invalid(text,
                   field + ": \"" + EscapeForLog(token, 16) + "\" is not " +
                       (spec.names ? "a number or a name (" + std::string(spec.names[0]) + "-" +
                                         std::string(spec.names[spec.name_count - 1]) + ")"
                                   : std::string("a number")));
  }
  if (token.size() > kMaxValueDigits) {
    return Invalid(text, field + ": \"" + EscapeForLog(token, 16) + "\" is not a value in range " +
                             std::to_string(spec.lo) + "-" + std::to_string(spec.hi));
  }
  int v = 0;
  for (char c : token) {
    if (!IsAsciiDigit(c)) {
      return Invalid(text, field + ": \"" + EscapeForLog(token, 16) + "\" is not a number");
    }
    v = v * 10 + (c - '0');
  }
  if (v < spec.lo || v > spec.hi) {
    return Invalid(text, field + ": " + std::to_string(v) + " is out of range " +
                             std::to_string(spec.lo) + "-" + std::to_string(spec.hi));
  }
  return v;
}

// One field (a comma list of items) into a bit mask of its values (bit v for value v).
Result<uint64_t> ParseField(std::string_view text, std::string_view field_text,
                            const FieldSpec& spec) {
  const std::string field(spec.name);
  uint64_t bits = 0;
  size_t start = 0;
  while (true) {
    const size_t comma = field_text.find(',', start);
    const std::string_view item = field_text.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (item.empty()) return Invalid(text, field + ": an empty item in a list");
    int lo = spec.lo;
    int hi = spec.hi;
    int step = 1;
    const size_t slash = item.find('/');
    const std::string_view range = item.substr(0, slash);
    if (slash != std::string_view::npos) {
      const std::string_view step_text = item.substr(slash + 1);
      if (step_text.empty() || step_text.size() > kMaxValueDigits ||
          step_text.find_first_not_of("0123456789") != std::string_view::npos) {
        return Invalid(text,
                       field + ": step \"" + EscapeForLog(step_text, 16) + "\" is not a number");
      }
      step = std::stoi(std::string(step_text));
      if (step < 1 || step > spec.hi - spec.lo) {
        return Invalid(text, field + ": step " + std::to_string(step) + " is not in 1-" +
                                 std::to_string(spec.hi - spec.lo));
      }
    }
    if (range != "*") {
      const size_t dash = range.find('-');
      SLUICE_ASSIGN_OR_RETURN(lo, ParseValue(text, range.substr(0, dash), spec));
      if (dash == std::string_view::npos) {
        if (slash != std::string_view::npos) {
          return Invalid(text, field + ": a step needs \"*\" or a range before it (write " +
                                   std::string(range) + "-" + std::to_string(spec.hi) + "/" +
                                   std::to_string(step) + ")");
        }
        hi = lo;
      } else {
        SLUICE_ASSIGN_OR_RETURN(hi, ParseValue(text, range.substr(dash + 1), spec));
        if (hi < lo) {
          return Invalid(text, field + ": range " + std::string(range) + " runs backwards");
        }
      }
    }
    for (int v = lo; v <= hi; v += step) bits |= uint64_t{1} << v;
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return bits;
}

// "HH:MM" after "daily@": H or HH, then exactly MM.
Result<std::pair<int, int>> ParseDailyTime(std::string_view text, std::string_view hhmm) {
  const size_t colon = hhmm.find(':');
  const std::string_view h = hhmm.substr(0, colon);
  const std::string_view m = colon == std::string_view::npos ? "" : hhmm.substr(colon + 1);
  const auto digits = [](std::string_view s) {
    return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
  };
  if (!digits(h) || h.size() > 2 || !digits(m) || m.size() != 2) {
    return Invalid(text, "daily@ needs a UTC time as HH:MM, e.g. daily@08:30");
  }
  const int hour = std::stoi(std::string(h));
  const int minute = std::stoi(std::string(m));
  if (hour > 23) return Invalid(text, "daily@: hour " + std::to_string(hour) + " is not in 0-23");
  if (minute > 59) {
    return Invalid(text, "daily@: minute " + std::to_string(minute) + " is not in 0-59");
  }
  return std::make_pair(hour, minute);
}

}  // namespace

bool Schedule::DayMatches(int64_t days_since_epoch, unsigned day, unsigned month) const {
  if (!months_[month]) return false;
  const bool dom = days_[day];
  const bool dow = weekdays_[Weekday(days_since_epoch)];
  if (days_restricted_ && weekdays_restricted_) return dom || dow;
  return dom && dow;
}

bool Schedule::FiresAt(int64_t micros) const {
  const int64_t minute = FloorDiv(micros, kMicrosPerMinute);
  const int64_t days = FloorDiv(minute, kMinutesPerDay);
  const int64_t in_day = minute - days * kMinutesPerDay;
  int64_t y;
  unsigned m;
  unsigned d;
  CivilFromDays(days, &y, &m, &d);
  return DayMatches(days, d, m) && hours_[in_day / 60] && minutes_[in_day % 60];
}

Result<Schedule> ParseSchedule(std::string_view input) {
  if (input.size() > kMaxScheduleText) {
    return Err(ErrorCode::kInvalidArgument, "schedule is " + std::to_string(input.size()) +
                                                " bytes, more than the " +
                                                std::to_string(kMaxScheduleText) + " allowed");
  }
  const std::string_view text = TrimAscii(input);
  Schedule s;
  s.text_ = std::string(text);
  if (text.empty()) return Invalid(text, "empty (expected hourly, daily@HH:MM or 5 cron fields)");

  constexpr std::string_view kDaily = "daily@";
  const bool hourly = EqualsIgnoreCase(text, "hourly");
  if (hourly || StartsWithIgnoreCase(text, kDaily)) {
    s.days_.set();
    s.months_.set();
    s.weekdays_.set();
    if (hourly) {
      s.hours_.set();
      s.minutes_.set(0);
    } else {
      SLUICE_ASSIGN_OR_RETURN(auto hm, ParseDailyTime(text, text.substr(kDaily.size())));
      s.hours_.set(hm.first);
      s.minutes_.set(hm.second);
    }
    return s;
  }

  std::vector<std::string_view> fields;
  for (size_t i = 0; i < text.size();) {
    if (IsAsciiSpace(text[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < text.size() && !IsAsciiSpace(text[j])) ++j;
    fields.push_back(text.substr(i, j - i));
    i = j;
  }
  if (fields.size() != 5) {
    return Invalid(text, fields.size() == 1
                             ? "expected hourly, daily@HH:MM or five cron fields"
                             : "expected five cron fields (minute hour day-of-month month "
                               "day-of-week), got " +
                                   std::to_string(fields.size()));
  }
  uint64_t masks[5];
  for (int f = 0; f < 5; ++f) {
    SLUICE_ASSIGN_OR_RETURN(masks[f], ParseField(text, fields[f], kFields[f]));
  }
  if (masks[4] & (uint64_t{1} << 7)) masks[4] = (masks[4] | 1) & ~(uint64_t{1} << 7);  // 7 is 0
  s.minutes_ = std::bitset<60>(masks[0]);
  s.hours_ = std::bitset<24>(masks[1]);
  s.days_ = std::bitset<32>(masks[2]);
  s.months_ = std::bitset<13>(masks[3]);
  s.weekdays_ = std::bitset<7>(masks[4]);
  // Vixie cron's rule: a day field that starts with '*' does not restrict (even "*/2").
  s.days_restricted_ = fields[2].front() != '*';
  s.weekdays_restricted_ = fields[4].front() != '*';

  // With both day fields restricted any listed weekday fires. Otherwise a listed day must exist
  // in a listed month; it then falls on every weekday in some year, so it fires eventually.
  if (!(s.days_restricted_ && s.weekdays_restricted_)) {
    bool fires = false;
    for (unsigned m = 1; m <= 12 && !fires; ++m) {
      if (!s.months_[m]) continue;
      for (unsigned d = 1; d <= MaxDaysInMonth(m) && !fires; ++d) fires = s.days_[d];
    }
    if (!fires) return Invalid(text, "never fires: no listed month has a listed day-of-month");
  }
  return s;
}

int64_t NextFire(const Schedule& s, int64_t after_micros) {
  constexpr int64_t kNever = std::numeric_limits<int64_t>::max();
  // Minutes stay far from overflow: a few hundred million years either way.
  if (after_micros >= kNever - 400 * 366 * kMinutesPerDay * kMicrosPerMinute) return kNever;
  int64_t minute = FloorDiv(after_micros, kMicrosPerMinute) + 1;
  for (int step = 0; step < kMaxSearchSteps; ++step) {
    const int64_t days = FloorDiv(minute, kMinutesPerDay);
    const int64_t in_day = minute - days * kMinutesPerDay;
    int64_t y;
    unsigned m;
    unsigned d;
    CivilFromDays(days, &y, &m, &d);
    if (!s.months_[m]) {  // to the first day of the next month
      minute = DaysFromCivil(m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1) * kMinutesPerDay;
      continue;
    }
    if (!s.DayMatches(days, d, m)) {
      minute = (days + 1) * kMinutesPerDay;
      continue;
    }
    auto hour = static_cast<size_t>(in_day / 60);
    auto min = static_cast<size_t>(in_day % 60);
    while (hour < 24 && !s.hours_[hour]) {
      ++hour;
      min = 0;
    }
    if (hour == 24) {
      minute = (days + 1) * kMinutesPerDay;
      continue;
    }
    while (min < 60 && !s.minutes_[min]) ++min;
    if (min == 60) {
      minute = days * kMinutesPerDay + static_cast<int64_t>(hour + 1) * 60;
      continue;
    }
    return (days * kMinutesPerDay + static_cast<int64_t>(hour * 60 + min)) * kMicrosPerMinute;
  }
  return kNever;
}

}  // namespace sluice::alerts
