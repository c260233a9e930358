#include "sluice/core/clock.h"

#include <cstdio>
#include <vector>

namespace sluice {

int64_t SystemClock::NowMicros() const {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

const SystemClock& SystemClock::Instance() {
  static const SystemClock kClock;
  return kClock;
}

namespace {

class SteadyClock final : public MonotonicClock {
 public:
  TimePoint Now() const override { return std::chrono::steady_clock::now(); }
  bool WaitUntil(CondVar* cv, Mutex* mu, TimePoint deadline) const override REQUIRES(mu) {
    return cv->WaitUntil(mu, deadline);
  }
};

}  // namespace

const MonotonicClock& MonotonicClock::Real() {
  static const SteadyClock kClock;
  return kClock;
}

void CivilFromDays(int64_t z, int64_t* year, unsigned* month, unsigned* day) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *day = doy - (153 * mp + 2) / 5 + 1;
  *month = mp < 10 ? mp + 3 : mp - 9;
  *year = y + (*month <= 2);
}

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

namespace {

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

}  // namespace

std::optional<int64_t> ParseIsoMicros(std::string_view text) {
  // The decimal of `len` digits at `pos`.
  auto number = [&](size_t pos, size_t len) -> std::optional<int64_t> {
    if (pos + len > text.size() || len == 0) return std::nullopt;
    int64_t v = 0;
    for (char c : text.substr(pos, len)) {
      if (c < '0' || c > '9') return std::nullopt;
      v = v * 10 + (c - '0');
    }
    return v;
  };
  const std::optional<int64_t> year = number(0, 4), month = number(5, 2), day = number(8, 2);
  if (text.size() < 10 || text[4] != '-' || text[7] != '-' || !year || !month || !day ||
      *year < 1970 || *month < 1 || *month > 12 || *day < 1) {
    return std::nullopt;
  }
  const int64_t days =
      DaysFromCivil(*year, static_cast<unsigned>(*month), static_cast<unsigned>(*day));
  int64_t y = 0;
  unsigned m = 0, d = 0;
  CivilFromDays(days, &y, &m, &d);
  if (y != *year || m != *month || d != *day) return std::nullopt;  // 2026-02-30
  int64_t micros = days * 86'400'000'000;
  if (text.size() == 10) return micros;
  const std::optional<int64_t> hour = number(11, 2), minute = number(14, 2), second = number(17, 2);
  if (text.size() < 20 || text[10] != 'T' || text[13] != ':' || text[16] != ':' ||
      text.back() != 'Z' || !hour || !minute || !second || *hour > 23 || *minute > 59 ||
      *second > 59) {
    return std::nullopt;
  }
  micros += ((*hour * 60 + *minute) * 60 + *second) * 1'000'000;
  const std::string_view fraction = text.substr(19, text.size() - 20);  // ".123456" or ""
  if (fraction.empty()) return micros;
  if (fraction.size() < 2 || fraction.size() > 7 || fraction[0] != '.') return std::nullopt;
  std::optional<int64_t> sub = number(20, fraction.size() - 1);
  if (!sub) return std::nullopt;
  for (size_t i = fraction.size() - 1; i < 6; ++i) *sub *= 10;
  return micros + *sub;
}

std::string FormatIsoMicros(int64_t micros) {
  const int64_t days = FloorDiv(micros, 86'400'000'000);
  const int64_t rem = micros - days * 86'400'000'000;
  int64_t y;
  unsigned mo, d;
  CivilFromDays(days, &y, &mo, &d);
  const int64_t secs = rem / 1'000'000;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%06lldZ",
                static_cast<long long>(y), mo, d, static_cast<long long>(secs / 3600),
                static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60),
                static_cast<long long>(rem % 1'000'000));
  return buf;
}

std::optional<int64_t> ParseHttpDate(std::string_view text) {
  static constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  // Tokens split on spaces, commas, '-' and ':', the weekday dropped: what is left is day,
  // month, year, h, m, s (+ "GMT") or, asctime, month, day, h, m, s, year.
  std::vector<std::string_view> t;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() &&
           (text[i] == ' ' || text[i] == ',' || text[i] == '-' || text[i] == ':')) {
      ++i;
    }
    const size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != ',' && text[i] != '-' &&
           text[i] != ':') {
      ++i;
    }
    if (i > start) t.push_back(text.substr(start, i - start));
  }
  if (t.size() < 7) return std::nullopt;
  auto number = [](std::string_view s) -> std::optional<int64_t> {
    int64_t v = 0;
    if (s.empty() || s.size() > 4) return std::nullopt;
    for (char c : s) {
      if (c < '0' || c > '9') return std::nullopt;
      v = v * 10 + (c - '0');
    }
    return v;
  };
  auto month = [](std::string_view s) -> unsigned {
    for (unsigned m = 0; m < 12; ++m) {
      if (s == kMonths[m]) return m + 1;
    }
    return 0;
  };
  std::optional<int64_t> day, year, h, mi, sec;
  unsigned mo = 0;
  if (t.size() == 8 && t[7] == "GMT") {  // IMF-fixdate or RFC 850
    day = number(t[1]);
    mo = month(t[2]);
    year = number(t[3]);
    if (year && t[3].size() == 2) *year += *year < 70 ? 2000 : 1900;
    h = number(t[4]);
    mi = number(t[5]);
    sec = number(t[6]);
  } else if (t.size() == 7) {  // asctime
    mo = month(t[1]);
    day = number(t[2]);
    h = number(t[3]);
    mi = number(t[4]);
    sec = number(t[5]);
    year = number(t[6]);
  } else {
    return std::nullopt;
  }
  if (!day || !year || !h || !mi || !sec || mo == 0 || *day < 1 || *day > 31 || *h > 23 ||
      *mi > 59 || *sec > 60 || *year < 1970) {
    return std::nullopt;
  }
  const int64_t days = DaysFromCivil(*year, mo, static_cast<unsigned>(*day));
  int64_t y2 = 0;
  unsigned m2 = 0, d2 = 0;
  CivilFromDays(days, &y2, &m2, &d2);
  if (m2 != mo) return std::nullopt;  // 31 Feb
  return days * 86400 + *h * 3600 + *mi * 60 + *sec;
}

std::string FormatHttpDate(int64_t seconds) {
  static constexpr const char* kDays[] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const int64_t days = FloorDiv(seconds, 86400);
  const int64_t rem = seconds - days * 86400;
  int64_t y;
  unsigned mo, d;
  CivilFromDays(days, &y, &mo, &d);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02u %s %04lld %02lld:%02lld:%02lld GMT",
                kDays[((days % 7) + 7) % 7], d, kMonths[mo - 1], static_cast<long long>(y),
                static_cast<long long>(rem / 3600), static_cast<long long>(rem / 60 % 60),
                static_cast<long long>(rem % 60));
  return buf;
}

}  // namespace sluice
