#pragma once
// Part of store.h: a thread for the backend's periodic chores: StoreBackend::ReapExpiredUploads
// (abandoned multipart uploads do not keep their parts on disk for ever) and, when a retention
// is set, StoreBackend::PurgeRetained (landed bytes of finished files older than the
// retention). The expiry and retention rules are the backend's (testable there with a fake
// clock); this only supplies the ticks.
//
// Thread-safety: Start and Stop from one thread; the destructor stops.

#include <chrono>
#include <thread>

#include "sluice/core/clock.h"
#include "sluice/core/mutex.h"
#include "sluice/store/s3_backend.h"

namespace sluice::store {

// Expiry is counted in hours (a day by default); a few minutes of lateness do not matter, and
// each pass is one indexed query when nothing expired.
constexpr std::chrono::minutes kUploadReapInterval{10};

// Retention passes run every quarter of the retention, between these bounds: a file outlives
// its retention by at most that much, and an idle pass is one indexed query.
constexpr std::chrono::seconds kMinRetentionInterval{1};
constexpr std::chrono::seconds kMaxRetentionInterval{60};

class UploadReaper {
 public:
  // `backend` and `monotonic` (the intervals) must outlive the reaper. `retention_micros` 0:
  // no retention passes.
  UploadReaper(StoreBackend& backend, std::chrono::milliseconds interval,
               int64_t retention_micros = 0,
               const MonotonicClock& monotonic = MonotonicClock::Real());
  ~UploadReaper() { Stop(); }
  UploadReaper(const UploadReaper&) = delete;
  UploadReaper& operator=(const UploadReaper&) = delete;

  // Runs each chore once at once, then each at its interval.
  void Start();
  void Stop();

 private:
  void Loop();

  StoreBackend& backend_;
  const MonotonicClock& monotonic_;
  std::chrono::milliseconds interval_;
  int64_t retention_micros_;
  std::chrono::milliseconds retention_interval_;
  Mutex mu_;
  CondVar wake_;
  bool stopping_ GUARDED_BY(mu_) = false;
  std::thread thread_;  // touched only by the thread that calls Start and Stop
};

}  // namespace sluice::store
