#pragma once
// Private to app: a thread that calls StoreBackend::ReapExpiredUploads periodically, so that
// abandoned multipart uploads do not keep their parts on disk for ever. The expiry itself is
// the backend's (and testable there with a fake clock); this only supplies the ticks.
//
// Thread-safety: Start and Stop from one thread; the destructor stops.

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "sluice/app/s3_backend.h"

namespace sluice::app {

// Expiry is counted in hours (a day by default); a few minutes of lateness do not matter, and
// each pass is one indexed query when nothing expired.
constexpr std::chrono::minutes kUploadReapInterval{10};

class UploadReaper {
 public:
  // `backend` must outlive the reaper.
  UploadReaper(StoreBackend& backend, std::chrono::milliseconds interval)
      : backend_(backend), interval_(interval) {}
  ~UploadReaper() { Stop(); }
  UploadReaper(const UploadReaper&) = delete;
  UploadReaper& operator=(const UploadReaper&) = delete;

  // Reaps once at once, then every interval.
  void Start();
  void Stop();

 private:
  void Loop();

  StoreBackend& backend_;
  std::chrono::milliseconds interval_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace sluice::app
