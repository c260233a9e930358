#include <algorithm>
#include <cstring>
#include <utility>

#include "sluice/core/mutex.h"
#include "sluice/s3/digest_worker_internal.h"

namespace sluice::s3 {

DigestWorker::DigestWorker(std::vector<auth::Digest*> digests) : digests_(std::move(digests)) {
  filling_.reserve(kBufferBytes);
  allocated_ = 1;
  thread_ = std::thread([this] { Run(); });
}

DigestWorker::~DigestWorker() {
  {
    MutexLock lock(&mu_);
    closing_ = true;
    full_.clear();  // dropped without Drain: the digests are not wanted any more
  }
  cv_.SignalAll();
  if (thread_.joinable()) thread_.join();
}

void DigestWorker::Update(ByteView data) {
  while (!data.empty()) {
    const size_t n = std::min(data.size(), kBufferBytes - filling_.size());
    filling_.insert(filling_.end(), data.data(), data.data() + n);
    data = data.subspan(n);
    if (filling_.size() == kBufferBytes) {
      Hand(std::move(filling_));
      MutexLock lock(&mu_);
      if (free_.empty() && allocated_ < kBuffers) {
        ++allocated_;
        lock.Unlock();
        filling_ = std::vector<uint8_t>();
        filling_.reserve(kBufferBytes);
        continue;
      }
      while (free_.empty()) cv_.Wait(&mu_);
      filling_ = std::move(free_.back());
      free_.pop_back();
      filling_.clear();
    }
  }
}

void DigestWorker::Hand(std::vector<uint8_t> buffer) {
  {
    MutexLock lock(&mu_);
    full_.push_back(std::move(buffer));
  }
  cv_.SignalAll();
}

void DigestWorker::Drain() {
  if (!filling_.empty()) Hand(std::move(filling_));
  filling_ = std::vector<uint8_t>();
  {
    MutexLock lock(&mu_);
    closing_ = true;
    cv_.SignalAll();
    while (!done_) cv_.Wait(&mu_);
  }
  if (thread_.joinable()) thread_.join();
}

void DigestWorker::Run() {
  while (true) {
    std::vector<uint8_t> buffer;
    {
      MutexLock lock(&mu_);
      while (full_.empty() && !closing_) cv_.Wait(&mu_);
      if (full_.empty()) break;  // closing, and everything handed over is hashed
      buffer = std::move(full_.front());
      full_.pop_front();
    }
    const ByteView view(buffer.data(), buffer.size());
    for (auth::Digest* d : digests_) d->Update(view);
    {
      MutexLock lock(&mu_);
      free_.push_back(std::move(buffer));
    }
    cv_.SignalAll();
  }
  MutexLock lock(&mu_);
  done_ = true;
  cv_.SignalAll();
}

}  // namespace sluice::s3
