#pragma once
// FakeMonotonicClock: a MonotonicClock that moves only when the test says so (Advance), so that
// a test drives a timer thread (a refresh loop, a wait's deadline, a poll interval) through
// time without sleeping and checks behaviour, not wall-clock windows:
//
//   FakeMonotonicClock ticks;
//   LoadWaits waits(catalog, ticks);                // the timer code takes the clock
//   waits.Start();
//   ... hold a response for 1 s ...
//   ASSERT_TRUE(ticks.AwaitSleepers(1));            // the thread sleeps towards its deadline
//   ticks.Advance(999ms);  ASSERT_TRUE(ticks.AwaitSleepers(1));  EXPECT_FALSE(answered);
//   ticks.Advance(1ms);    ... answered ...
//
// How a sleeper is woken: WaitUntil registers the condition variable and waits on it; Advance
// moves the time and signals every registered one; the sleeper sees its deadline passed and
// returns false. A signal can slip in between a sleeper's registration and its wait (Advance
// does not hold the sleeper's mutex; taking it would order the two mutexes both ways), and so
// can the caller's own signal, so one WaitUntil waits at most kRecheck of real time and then
// returns true, a spurious wake-up its caller's loop already handles (re-check the condition,
// wait again). The time it reports is only ever the fake one.
//
// Thread-safety: every member is safe to call from any thread.

#include <chrono>
#include <cstddef>
#include <map>

#include "sluice/core/clock.h"
#include "sluice/core/mutex.h"

namespace sluice::testing {

class FakeMonotonicClock final : public MonotonicClock {
 public:
  static constexpr std::chrono::milliseconds kRecheck{5};

  // Starts an hour past the steady clock's epoch, so that `Now() - interval` stays positive.
  explicit FakeMonotonicClock(TimePoint start = TimePoint() + std::chrono::hours(1))
      : now_(start) {}

  TimePoint Now() const override;
  bool WaitUntil(CondVar* cv, Mutex* mu, TimePoint deadline) const override REQUIRES(mu);

  // Moves the time forward by `d` and wakes every sleeper.
  void Advance(Duration d);
  // Blocks until at least `n` threads sleep in WaitUntil towards a deadline still ahead of
  // Now(): the timer threads have caught up with the last Advance and wait for the next.
  // False if that does not happen within `limit` of real time (a safety net for a broken
  // timer, not a timing assertion).
  bool AwaitSleepers(size_t n = 1,
                     std::chrono::milliseconds limit = std::chrono::seconds(30)) const;

 private:
  size_t SleepersAheadLocked() const REQUIRES(mu_);

  mutable Mutex mu_;
  mutable CondVar changed_;  // a sleeper came or went, or the time moved
  TimePoint now_ GUARDED_BY(mu_);
  // Each sleeper's condition variable and deadline.
  mutable std::multimap<CondVar*, TimePoint> sleepers_ GUARDED_BY(mu_);
};

}  // namespace sluice::testing
