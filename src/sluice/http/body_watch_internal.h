#pragma once
// Private to http/: the request-body timeout rules of a session (session_template_internal.h), on
// times its caller gives, so that they are tested exactly and without a clock (body_watch_test.cc).
//
// A body times out when no read completed for `timeout` since the last one (a stall), or at
// the end of a `timeout`-long window in which the client sent slower than `min_rate` bytes per
// second (slowloris; 0 turns the rate off). The handler's time (OnBody) is not the client's:
// AddBusy takes it out of the window. The session's timer wakes at NextCheck() and calls Check.
//
// Thread-safety: none; a session uses its watch on its strand.

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace sluice::http::internal {

class BodyWatch {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  using Duration = std::chrono::steady_clock::duration;
  enum class Verdict { kWatching, kStalled, kTooSlow };

  BodyWatch(Duration timeout, uint64_t min_rate) : timeout_(timeout), min_rate_(min_rate) {}

  // A body begins at `now`.
  void Start(TimePoint now) {
    progress_ = now;
    received_ = 0;
    StartWindow(now);
  }
  // A read completed at `now`; `received` body bytes so far.
  void OnProgress(TimePoint now, uint64_t received) {
    progress_ = now;
    received_ = received;
  }
  // The handler held the connection for `d` (not counted against the client's rate).
  void AddBusy(Duration d) { busy_ += d; }

  // When Check has something to decide: a stall of `timeout` since the last progress, or the
  // end of the current window.
  TimePoint NextCheck() const { return std::min(progress_ + timeout_, window_start_ + timeout_); }
  // kStalled or kTooSlow when the body timed out at `now`; kWatching otherwise (and a window
  // that ended fast enough gives way to the next).
  Verdict Check(TimePoint now) {
    if (now - progress_ >= timeout_) return Verdict::kStalled;
    if (now - window_start_ >= timeout_) {
      const Duration active = (now - window_start_) - busy_;
      const double seconds = std::chrono::duration<double>(active).count();
      const uint64_t got = received_ - window_start_bytes_;
      if (min_rate_ > 0 && seconds > 0 &&
          static_cast<double>(got) < static_cast<double>(min_rate_) * seconds) {
        slow_window_bytes_ = got;
        slow_window_length_ = active;
        return Verdict::kTooSlow;
      }
      StartWindow(now);
    }
    return Verdict::kWatching;
  }

  uint64_t received() const { return received_; }
  // The window that was too slow (for the message): its bytes and its active time.
  uint64_t slow_window_bytes() const { return slow_window_bytes_; }
  Duration slow_window_length() const { return slow_window_length_; }

 private:
  void StartWindow(TimePoint now) {
    window_start_ = now;
    window_start_bytes_ = received_;
    busy_ = {};
  }

  const Duration timeout_;
  const uint64_t min_rate_;
  TimePoint progress_{};  // when the last body read completed
  uint64_t received_ = 0;
  // The current rate window: when it began, received_ then, handler time since.
  TimePoint window_start_{};
  uint64_t window_start_bytes_ = 0;
  Duration busy_{};
  uint64_t slow_window_bytes_ = 0;
  Duration slow_window_length_{};
};

}  // namespace sluice::http::internal
