#include "sluice/store/reaper.h"

#include <algorithm>

#include "sluice/core/mutex.h"

namespace sluice::store {

UploadReaper::UploadReaper(StoreBackend& backend, std::chrono::milliseconds interval,
                           int64_t retention_micros, const MonotonicClock& monotonic)
    : backend_(backend),
      monotonic_(monotonic),
      interval_(interval),
      retention_micros_(retention_micros),
      retention_interval_(
          std::clamp<std::chrono::milliseconds>(std::chrono::milliseconds(retention_micros / 4000),
                                                kMinRetentionInterval, kMaxRetentionInterval)) {}

void UploadReaper::Start() {
  if (thread_.joinable()) return;
  {
    MutexLock lock(&mu_);
    stopping_ = false;
  }
  thread_ = std::thread([this] { Loop(); });
}

void UploadReaper::Stop() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  wake_.SignalAll();
  if (thread_.joinable()) thread_.join();
}

void UploadReaper::Loop() {
  auto next_uploads = monotonic_.Now();
  auto next_retention = monotonic_.Now();
  MutexLock lock(&mu_);
  while (!stopping_) {
    const auto now = monotonic_.Now();
    const bool uploads_due = now >= next_uploads;
    const bool retention_due = retention_micros_ > 0 && now >= next_retention;
    lock.Unlock();
    if (uploads_due) {
      auto reaped = backend_.ReapExpiredUploads();
      if (!reaped.ok()) {
        LogWarn("store", "expiring abandoned multipart uploads: " + reaped.status().ToString());
      }
      next_uploads = monotonic_.Now() + interval_;
    }
    if (retention_due) {
      auto purged = backend_.PurgeRetained(retention_micros_);
      if (!purged.ok()) LogWarn("store", "retention: " + purged.status().ToString());
      next_retention = monotonic_.Now() + retention_interval_;
    }
    lock.Lock();
    auto until = next_uploads;
    if (retention_micros_ > 0) until = std::min(until, next_retention);
    while (!stopping_ && monotonic_.WaitUntil(&wake_, &mu_, until)) {
    }
  }
}

}  // namespace sluice::store
