#pragma once
// The flow control around PUTs (part of store.h).
//
// Backpressure decides, before a body is read, whether a connection may send more: the files
// and bytes it has pending (queued or loading) against its limits, and the free space of the
// landing file system against a floor. Past any of them the upload is refused with kSlowDown
// (503 SlowDown, which S3 clients retry); nothing already accepted is affected.
//
// Cost per request: a map lookup under a mutex and one statvfs. The pending counts are a
// snapshot of the ledger (one grouped query over the unfinished-files index, refreshed by a
// background thread every refresh interval) plus the changes this process made since: +1 for
// each accepted file, -1 for each file the loader finished. The refresh corrects what the
// local changes cannot see (a retry or skip from the CLI, another process); between refreshes
// a file accepted while the query ran may be counted twice or not at all, an error of a few
// files that lasts one interval at most.
//
// LoadWaits holds the response of a PUT (or CompleteMultipartUpload) carrying
// x-amz-meta-sluice-wait: N until the file's load finished or N seconds passed, without
// holding an I/O thread (http::DeferredResponse). Loads of this process wake the waiters at
// once (LoadObserver); a status changed by another process (a CLI skip, another node's load)
// is noticed by a poll of the waiters' files every poll interval, or within kMinPollGap when
// the ledger says another process changed it (LoadObserver::OnLedgerChanged: the PostgreSQL
// catalog's notifications). On stop (or when the HTTP runtime stops) every
// waiter is answered with the state so far.
//
// Thread-safety: both classes are safe to call from any thread.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "sluice/catalog/catalog.h"
#include "sluice/core/clock.h"
#include "sluice/core/mutex.h"
#include "sluice/http/http.h"
#include "sluice/landing/landing.h"
#include "sluice/load/load.h"

namespace sluice::store {

class UploadObserver;

struct FlowLimits {
  uint64_t max_pending_files = 100'000;
  uint64_t max_pending_bytes = uint64_t{64} << 30;  // 64 GiB
  uint64_t min_free_disk = uint64_t{1} << 30;       // 1 GiB
};

class Backpressure final : public load::LoadObserver {
 public:
  static constexpr std::chrono::milliseconds kRefreshInterval{1000};

  // The references (and `metrics`, when not null) must outlive this object. `monotonic` times
  // the refresh thread.
  Backpressure(catalog::Ledger& catalog, const landing::Store& store, FlowLimits limits,
               UploadObserver* metrics = nullptr,
               const MonotonicClock& monotonic = MonotonicClock::Real());
  ~Backpressure() override;
  Backpressure(const Backpressure&) = delete;
  Backpressure& operator=(const Backpressure&) = delete;

  // Reloads the pending counts from the ledger (also done by Start and its thread).
  Status Refresh();
  // Refreshes now and then every kRefreshInterval on a thread of its own.
  void Start();
  void Stop();

  // OK, or kSlowDown naming the limit that was reached and the connection.
  Status Admit(const std::string& connection);
  // A file of `bytes` was queued (it counts as pending until the loader finishes it).
  void OnQueued(const std::string& connection, uint64_t bytes);
  void OnFileFinished(const load::LoadEvent& event) override;

  struct Pending {
    int64_t files = 0;
    int64_t bytes = 0;
  };
  Pending PendingOf(const std::string& connection);

 private:
  void Loop();

  catalog::Ledger& catalog_;
  const landing::Store& store_;
  const FlowLimits limits_;
  UploadObserver* const metrics_;
  const MonotonicClock& monotonic_;
  Mutex mu_;
  std::map<std::string, Pending> pending_ GUARDED_BY(mu_);
  CondVar wake_;
  bool stopping_ GUARDED_BY(mu_) = false;
  std::thread thread_;  // touched only by the thread that calls Start and Stop
};

// The largest x-amz-meta-sluice-wait honoured: longer waits are cut to this. A quarter of an
// hour covers any single load sluice is meant for, and bounds how long a connection is held.
inline constexpr int kMaxWaitSeconds = 900;

// The wait a request asked for in its metadata (x-amz-meta-sluice-wait: whole seconds,
// 0..kMaxWaitSeconds, larger values capped); 0 when absent; kInvalidArgument otherwise.
Result<int> WaitSecondsOf(const std::vector<std::pair<std::string, std::string>>& metadata);

class LoadWaits final : public load::LoadObserver {
 public:
  static constexpr std::chrono::milliseconds kPollInterval{500};
  static constexpr std::chrono::milliseconds kMinPollGap{10};

  // `catalog` and `monotonic` (the waits' deadlines and the poll) must outlive this object.
  explicit LoadWaits(catalog::Ledger& catalog,
                     const MonotonicClock& monotonic = MonotonicClock::Real())
      : catalog_(catalog), monotonic_(monotonic) {}
  ~LoadWaits() override;
  LoadWaits(const LoadWaits&) = delete;
  LoadWaits& operator=(const LoadWaits&) = delete;

  void Start();
  // Answers every waiter with the state so far, then joins the thread.
  void Stop();

  // `response` (a complete success response) with the file's x-amz-meta-sluice-* status
  // headers, sent once file `seq` finished (loaded, failed or skipped) or after `seconds`:
  // returned at once when the file has already finished, deferred otherwise.
  http::Response Hold(int64_t seq, int seconds, http::Response response);
  void OnFileFinished(const load::LoadEvent& event) override;
  void OnLedgerChanged() override;
  size_t waiting();

 private:
  struct Waiter {
    int64_t seq = 0;
    MonotonicClock::TimePoint deadline;
    http::Response response;
    std::shared_ptr<http::DeferredResponse> deferred;
  };
  void Loop();
  // Sends the waiter's response with `file`'s status headers.
  static void Answer(Waiter& waiter, const catalog::FileRecord& file);
  // Cuts the waiter's deadline to now (the runtime is stopping).
  void Expire(const std::weak_ptr<Waiter>& waiter);

  catalog::Ledger& catalog_;
  const MonotonicClock& monotonic_;
  Mutex mu_;
  CondVar wake_;
  // By seq. A Waiter's `deadline` is guarded by mu_ too (Expire cuts it).
  std::multimap<int64_t, std::shared_ptr<Waiter>> waiters_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
  bool started_ GUARDED_BY(mu_) = false;
  bool poll_soon_ GUARDED_BY(mu_) = false;  // another process changed the ledger
  std::thread thread_;                      // started under mu_; joined by Stop
};

}  // namespace sluice::store
