// The body timeout rules on given times: exactly when a stalled or a too slow body times out.
// (http_test and http_limits_test show the same end to end, over sockets, without timing.)
#include <gtest/gtest.h>

#include "sluice/http/body_watch_internal.h"

namespace sluice::http::internal {
namespace {

using namespace std::chrono_literals;
using Verdict = BodyWatch::Verdict;

const BodyWatch::TimePoint kT0 = BodyWatch::TimePoint() + 1h;

// A body that stops after its first 10 bytes times out body_timeout after that read, not
// before (StalledBodyFinishesWithRequestTimeout over a socket).
TEST(BodyWatchTest, AStallTimesOutOneTimeoutAfterTheLastProgress) {
  BodyWatch watch(1s, 0);
  watch.Start(kT0);
  watch.OnProgress(kT0 + 5ms, 10);
  EXPECT_EQ(watch.NextCheck(), kT0 + 1s);  // the window's end comes first
  EXPECT_EQ(watch.Check(kT0 + 1s), Verdict::kWatching);
  EXPECT_EQ(watch.NextCheck(), kT0 + 5ms + 1s);
  EXPECT_EQ(watch.Check(kT0 + 5ms + 1s - 1ns), Verdict::kWatching);
  EXPECT_EQ(watch.Check(kT0 + 5ms + 1s), Verdict::kStalled);
  EXPECT_EQ(watch.received(), 10u);
}

// 10 bytes every 50 ms (200 B/s) against a minimum of 1000 B/s times out at the end of the
// first one-second window, not before (BodyBelowTheMinimumRateEndsRequestTimeout).
TEST(BodyWatchTest, ATrickleBelowTheMinimumRateTimesOutAtTheWindowsEnd) {
  BodyWatch watch(1s, 1000);
  watch.Start(kT0);
  uint64_t received = 0;
  BodyWatch::TimePoint t = kT0;
  for (int i = 0; i < 19; ++i) {
    t += 50ms;
    received += 10;
    watch.OnProgress(t, received);
    EXPECT_EQ(watch.Check(t), Verdict::kWatching) << t - kT0;
  }
  EXPECT_EQ(watch.NextCheck(), kT0 + 1s);
  EXPECT_EQ(watch.Check(kT0 + 1s - 1ns), Verdict::kWatching);
  EXPECT_EQ(watch.Check(kT0 + 1s), Verdict::kTooSlow);
  EXPECT_EQ(watch.slow_window_bytes(), 190u);
  EXPECT_EQ(watch.slow_window_length(), 1s);
}

// 400 bytes every 100 ms (4,000 B/s) passes window after window.
TEST(BodyWatchTest, ABodyAboveTheMinimumRatePassesEveryWindow) {
  BodyWatch watch(1s, 1000);
  watch.Start(kT0);
  uint64_t received = 0;
  for (int i = 1; i <= 25; ++i) {
    const auto t = kT0 + i * 100ms;
    received += 400;
    watch.OnProgress(t, received);
    ASSERT_EQ(watch.Check(t), Verdict::kWatching) << i;
  }
  EXPECT_EQ(watch.NextCheck(), kT0 + 3s);  // the window that began at 2 s
}

// The handler's time is not the client's: 150 bytes in the 100 ms the handler left it pass
// a 1000 B/s minimum, though they are 150 B/s over the whole second.
TEST(BodyWatchTest, TheHandlersTimeIsTakenOutOfTheWindow) {
  BodyWatch watch(1s, 1000);
  watch.Start(kT0);
  watch.OnProgress(kT0 + 50ms, 150);
  watch.AddBusy(900ms);
  watch.OnProgress(kT0 + 950ms, 150);
  EXPECT_EQ(watch.Check(kT0 + 1s), Verdict::kWatching);
  // The next window has no busy time: 0 bytes in it is too slow.
  watch.OnProgress(kT0 + 1500ms, 150);
  EXPECT_EQ(watch.Check(kT0 + 2s), Verdict::kTooSlow);
  EXPECT_EQ(watch.slow_window_bytes(), 0u);
}

}  // namespace
}  // namespace sluice::http::internal
