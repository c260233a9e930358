#pragma once
// The clock seams (STYLE.md rule 9).
//
// Clock is the wall clock: SigV4 skew and expiry, ledger timestamps and retention read time
// through it so that tests can pin it.
//
// MonotonicClock is the timers' clock: deadlines, refresh and poll intervals, rate-limit
// windows. A timer thread both reads the time and sleeps through it (WaitUntil), so that a
// test's fake (core/testing/fake_monotonic_clock.h) can move time forward and wake the sleeper
// instead of the test sleeping for real. Code with a timer takes a `const MonotonicClock&`
// (defaulting to MonotonicClock::Real()) and never reads std::chrono::steady_clock itself.
// The exception is http/, whose timers are Asio's; their rules take the time as an argument
// (http/body_watch_internal.h) so that tests give it. docs/design/test-kit.md has the picture.
//
// Thread-safety: every clock here is safe to call from any thread.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sluice/core/mutex.h"

namespace sluice {

class Clock {
 public:
  virtual ~Clock() = default;
  // Microseconds since the Unix epoch (UTC).
  virtual int64_t NowMicros() const = 0;
  int64_t NowSeconds() const { return NowMicros() / 1'000'000; }
};

class SystemClock final : public Clock {
 public:
  int64_t NowMicros() const override;
  static const SystemClock& Instance();
};

class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t micros = 0) : now_(micros) {}
  int64_t NowMicros() const override { return now_.load(); }
  void Set(int64_t micros) { now_.store(micros); }
  void Advance(int64_t micros) { now_.fetch_add(micros); }

 private:
  std::atomic<int64_t> now_;
};

class MonotonicClock {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  using Duration = std::chrono::steady_clock::duration;

  virtual ~MonotonicClock() = default;
  virtual TimePoint Now() const = 0;
  // Waits on `cv` (with `mu` held, as CondVar::WaitUntil) until it is signalled or this clock
  // reaches `deadline`; false when the deadline passed. May wake spuriously: wait in a loop
  // that re-checks its condition and calls again with the same deadline.
  virtual bool WaitUntil(CondVar* cv, Mutex* mu, TimePoint deadline) const REQUIRES(mu) = 0;

  // std::chrono::steady_clock, process-wide.
  static const MonotonicClock& Real();
};

// "2026-11-27T02:33:36.123456Z" (UTC, microseconds).
std::string FormatIsoMicros(int64_t micros);
// FormatIsoMicros' inverse, more leniently: "2026-11-27T02:33:36Z" with a fraction of 0 to 6
// digits, or a date "2026-11-27" (its midnight UTC). Micros since the epoch; nullopt for
// anything else, an impossible date (2026-02-30) or a time before 1970.
std::optional<int64_t> ParseIsoMicros(std::string_view text);
// RFC 1123 "Fri, 27 Nov 2026 02:33:36 GMT", for HTTP Date and Last-Modified.
std::string FormatHttpDate(int64_t seconds);
// An HTTP date in any of the three forms RFC 9110 §5.6.7 says a recipient accepts: IMF-fixdate
// ("Fri, 27 Nov 2026 02:33:36 GMT"), RFC 850 ("Friday, 27-Nov-26 02:33:36 GMT") and asctime
// ("Fri Nov 27 02:33:36 2026"). Seconds since the epoch; nullopt for anything else.
std::optional<int64_t> ParseHttpDate(std::string_view text);
// Days since 1970-01-01 -> civil date (proleptic Gregorian), Howard Hinnant's algorithm.
void CivilFromDays(int64_t days, int64_t* year, unsigned* month, unsigned* day);
// Civil date -> days since 1970-01-01.
int64_t DaysFromCivil(int64_t year, unsigned month, unsigned day);

}  // namespace sluice
