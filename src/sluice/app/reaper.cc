#include "sluice/app/reaper.h"

namespace sluice::app {

void UploadReaper::Start() {
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void UploadReaper::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void UploadReaper::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    lock.unlock();
    auto reaped = backend_.ReapExpiredUploads();
    if (!reaped.ok()) {
      LogWarn("app", "expiring abandoned multipart uploads: " + reaped.status().ToString());
    }
    lock.lock();
    wake_.wait_for(lock, interval_, [this] { return stopping_; });
  }
}

}  // namespace sluice::app
