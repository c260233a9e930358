#include "sluice/s3/digest_worker.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace sluice::s3 {

DigestWorker::DigestWorker(std::vector<auth::Digest*> digests) : digests_(std::move(digests)) {
  filling_.reserve(kBufferBytes);
  allocated_ = 1;
  thread_ = std::thread([this] { Run(); });
}

DigestWorker::~DigestWorker() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    closing_ = true;
    full_.clear();  // dropped without Drain: the digests are not wanted any more
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void DigestWorker::Update(ByteView data) {
  while (!data.empty()) {
    const size_t n = std::min(data.size(), kBufferBytes - filling_.size());
    filling_.insert(filling_.end(), data.data(), data.data() + n);
    data = data.subspan(n);
    if (filling_.size() == kBufferBytes) {
      Hand(std::move(filling_));
      std::unique_lock<std::mutex> lock(mu_);
      if (free_.empty() && allocated_ < kBuffers) {
        ++allocated_;
        lock.unlock();
        filling_ = std::vector<uint8_t>();
        filling_.reserve(kBufferBytes);
        continue;
      }
      cv_.wait(lock, [&] { return !free_.empty(); });
      filling_ = std::move(free_.back());
      free_.pop_back();
      filling_.clear();
    }
  }
}

void DigestWorker::Hand(std::vector<uint8_t> buffer) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    full_.push_back(std::move(buffer));
  }
  cv_.notify_all();
}

void DigestWorker::Drain() {
  if (!filling_.empty()) Hand(std::move(filling_));
  filling_ = std::vector<uint8_t>();
  {
    std::unique_lock<std::mutex> lock(mu_);
    closing_ = true;
    cv_.notify_all();
    cv_.wait(lock, [&] { return done_; });
  }
  if (thread_.joinable()) thread_.join();
}

void DigestWorker::Run() {
  while (true) {
    std::vector<uint8_t> buffer;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return !full_.empty() || closing_; });
      if (full_.empty()) break;  // closing, and everything handed over is hashed
      buffer = std::move(full_.front());
      full_.pop_front();
    }
    const ByteView view(buffer.data(), buffer.size());
    for (auth::Digest* d : digests_) d->Update(view);
    {
      std::lock_guard<std::mutex> lock(mu_);
      free_.push_back(std::move(buffer));
    }
    cv_.notify_all();
  }
  std::lock_guard<std::mutex> lock(mu_);
  done_ = true;
  cv_.notify_all();
}

}  // namespace sluice::s3
