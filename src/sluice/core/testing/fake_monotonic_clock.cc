#include "sluice/core/testing/fake_monotonic_clock.h"

namespace sluice::testing {

MonotonicClock::TimePoint FakeMonotonicClock::Now() const {
  MutexLock lock(&mu_);
  return now_;
}

bool FakeMonotonicClock::WaitUntil(CondVar* cv, Mutex* mu, TimePoint deadline) const {
  std::multimap<CondVar*, TimePoint>::iterator me;
  {
    MutexLock lock(&mu_);
    if (now_ >= deadline) return false;
    me = sleepers_.emplace(cv, deadline);
    changed_.SignalAll();
  }
  // One real wait of at most kRecheck: woken by a signal (the caller's or Advance's) or not,
  // the caller re-checks its condition and calls again, which re-checks the time.
  cv->WaitFor(mu, kRecheck);
  MutexLock lock(&mu_);
  sleepers_.erase(me);
  changed_.SignalAll();
  return now_ < deadline;
}

void FakeMonotonicClock::Advance(Duration d) {
  MutexLock lock(&mu_);
  now_ += d;
  for (auto& [cv, deadline] : sleepers_) cv->SignalAll();
  changed_.SignalAll();
}

size_t FakeMonotonicClock::SleepersAheadLocked() const {
  size_t n = 0;
  for (const auto& [cv, deadline] : sleepers_) n += deadline > now_ ? 1 : 0;
  return n;
}

bool FakeMonotonicClock::AwaitSleepers(size_t n, std::chrono::milliseconds limit) const {
  const auto give_up = std::chrono::steady_clock::now() + limit;
  MutexLock lock(&mu_);
  while (SleepersAheadLocked() < n) {
    if (!changed_.WaitUntil(&mu_, give_up) && SleepersAheadLocked() < n) return false;
  }
  return true;
}

}  // namespace sluice::testing
