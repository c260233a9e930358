#include <utility>

#include "sluice/core/mutex.h"
#include "sluice/http/connection_limiter_internal.h"

namespace sluice::http::internal {

ConnectionLimiter::Slot::Slot(Slot&& other) noexcept
    : limiter_(std::move(other.limiter_)), address_(std::move(other.address_)) {
  other.limiter_.reset();
}

ConnectionLimiter::Slot& ConnectionLimiter::Slot::operator=(Slot&& other) noexcept {
  if (this != &other) {
    if (limiter_) limiter_->Release(address_);
    limiter_ = std::move(other.limiter_);
    address_ = std::move(other.address_);
    other.limiter_.reset();
  }
  return *this;
}

ConnectionLimiter::Slot::~Slot() {
  if (limiter_) limiter_->Release(address_);
}

std::shared_ptr<ConnectionLimiter> ConnectionLimiter::Create(uint32_t max_total,
                                                             uint32_t max_per_client) {
  return std::make_shared<ConnectionLimiter>(max_total, max_per_client);
}

ConnectionLimiter::Slot ConnectionLimiter::TryAcquire(const std::string& address, Refusal* why) {
  MutexLock lock(&mu_);
  if (total_ >= max_total_) {
    *why = Refusal::kTotal;
    return Slot();
  }
  if (max_per_client_ != 0) {
    auto it = per_client_.find(address);
    if (it != per_client_.end() && it->second >= max_per_client_) {
      *why = Refusal::kPerClient;
      return Slot();
    }
  }
  ++total_;
  ++per_client_[address];
  *why = Refusal::kNone;
  return Slot(shared_from_this(), address);
}

void ConnectionLimiter::Release(const std::string& address) {
  MutexLock lock(&mu_);
  --total_;
  auto it = per_client_.find(address);
  if (it != per_client_.end() && --it->second == 0) per_client_.erase(it);
}

bool ConnectionLimiter::ShouldLog(const std::string& address, TimePoint now, uint64_t* refused) {
  MutexLock lock(&mu_);
  auto it = logged_.find(address);
  if (it == logged_.end()) {
    if (logged_.size() >= kMaxLogEntries) {
      // Forget what is past its interval; if every entry is fresh, forget them all: a few
      // extra log lines are the price of a bounded table.
      for (auto e = logged_.begin(); e != logged_.end();) {
        e = now - e->second.last_logged >= kLogInterval ? logged_.erase(e) : std::next(e);
      }
      if (logged_.size() >= kMaxLogEntries) logged_.clear();
    }
    logged_.emplace(address, LogEntry{now, 0});
    *refused = 1;
    return true;
  }
  LogEntry& entry = it->second;
  ++entry.refused_since;
  if (now - entry.last_logged < kLogInterval) return false;
  *refused = entry.refused_since;
  entry.refused_since = 0;
  entry.last_logged = now;
  return true;
}

uint32_t ConnectionLimiter::total() const {
  MutexLock lock(&mu_);
  return total_;
}

uint32_t ConnectionLimiter::ForClient(const std::string& address) const {
  MutexLock lock(&mu_);
  auto it = per_client_.find(address);
  return it == per_client_.end() ? 0 : it->second;
}

std::string_view RefusalName(ConnectionLimiter::Refusal why) {
  switch (why) {
    case ConnectionLimiter::Refusal::kNone:
      return "none";
    case ConnectionLimiter::Refusal::kTotal:
      return "total";
    case ConnectionLimiter::Refusal::kPerClient:
      return "per-client";
  }
  return "unknown";
}

}  // namespace sluice::http::internal
