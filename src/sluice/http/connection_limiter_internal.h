#pragma once
// Private to http/: caps on the connections one listener holds at once, in total and per client
// address, so that one client (or a flood of them) cannot take every socket, file descriptor and
// per-connection buffer the server has. A connection over a cap is accepted and closed at once
// (the kernel's backlog would otherwise fill and time out everyone's connects).
//
// A connection holds a Slot from accept to close; the slot gives its place back when destroyed.
// Refusals are logged at most once per address per kLogInterval, so a flood cannot flood the
// log too: ShouldLog says when, and how many refusals the line covers.
//
// Thread-safety: every member is safe to call from any thread; a Slot may be destroyed on any
// thread. The limiter is held by shared_ptr and each slot keeps it alive.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "sluice/core/clock.h"
#include "sluice/core/mutex.h"

namespace sluice::http::internal {

class ConnectionLimiter : public std::enable_shared_from_this<ConnectionLimiter> {
 public:
  using TimePoint = MonotonicClock::TimePoint;
  // One log line per refused address per interval.
  static constexpr auto kLogInterval = std::chrono::seconds(60);
  // Addresses remembered for log rate limiting; past this the oldest-logged are forgotten (a
  // spoofed-source flood cannot grow the table without bound).
  static constexpr size_t kMaxLogEntries = 4096;

  enum class Refusal { kNone, kTotal, kPerClient };

  // A place taken; empty (default-constructed or moved from) holds nothing.
  class Slot {
   public:
    Slot() = default;
    Slot(Slot&& other) noexcept;
    Slot& operator=(Slot&& other) noexcept;
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    ~Slot();
    explicit operator bool() const { return limiter_ != nullptr; }

   private:
    friend class ConnectionLimiter;
    Slot(std::shared_ptr<ConnectionLimiter> limiter, std::string address)
        : limiter_(std::move(limiter)), address_(std::move(address)) {}
    std::shared_ptr<ConnectionLimiter> limiter_;
    std::string address_;
  };

  // `max_total` >= 1; `max_per_client` 0 turns the per-address cap off.
  static std::shared_ptr<ConnectionLimiter> Create(uint32_t max_total, uint32_t max_per_client);
  ConnectionLimiter(uint32_t max_total, uint32_t max_per_client)
      : max_total_(max_total), max_per_client_(max_per_client) {}

  // A slot for a connection from `address`, or an empty one and why not (`*why`).
  Slot TryAcquire(const std::string& address, Refusal* why);

  // Whether a refusal of `address` at `now` should be logged; `*refused` is then how many
  // refusals of that address the line covers (this one included).
  bool ShouldLog(const std::string& address, TimePoint now, uint64_t* refused);

  uint32_t total() const;
  uint32_t ForClient(const std::string& address) const;
  uint32_t max_total() const { return max_total_; }
  uint32_t max_per_client() const { return max_per_client_; }

 private:
  void Release(const std::string& address);

  struct LogEntry {
    TimePoint last_logged;
    uint64_t refused_since = 0;  // refusals not yet reported
  };

  const uint32_t max_total_;
  const uint32_t max_per_client_;
  mutable Mutex mu_;
  uint32_t total_ GUARDED_BY(mu_) = 0;
  std::unordered_map<std::string, uint32_t> per_client_ GUARDED_BY(mu_);  // no zero entries
  std::unordered_map<std::string, LogEntry> logged_ GUARDED_BY(mu_);
};

// "total" / "per client" for log lines.
std::string_view RefusalName(ConnectionLimiter::Refusal why);

}  // namespace sluice::http::internal
