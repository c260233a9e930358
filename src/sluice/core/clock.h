#pragma once
// The clock seam (STYLE.md rule 9): SigV4 skew and expiry, ledger timestamps and retention
// read time through a Clock so that tests can pin it.
//
// Thread-safety: SystemClock and FakeClock are safe to call from any thread.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

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

// "2026-11-27T02:33:36.123456Z" (UTC, microseconds).
std::string FormatIsoMicros(int64_t micros);
// RFC 1123 "Fri, 27 Nov 2026 02:33:36 GMT", for HTTP Date and Last-Modified.
std::string FormatHttpDate(int64_t seconds);
// Days since 1970-01-01 -> civil date (proleptic Gregorian), Howard Hinnant's algorithm.
void CivilFromDays(int64_t days, int64_t* year, unsigned* month, unsigned* day);
// Civil date -> days since 1970-01-01.
int64_t DaysFromCivil(int64_t year, unsigned month, unsigned day);

}  // namespace sluice
