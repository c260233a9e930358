#include "sluice/store/flow.h"

#include <algorithm>
#include <vector>

#include "sluice/core/mutex.h"
#include "sluice/store/backend_internal.h"
#include "sluice/store/s3_backend.h"
#include "sluice/store/upload_observer.h"

namespace sluice::store {
namespace {

constexpr std::string_view kWaitHeader = "x-amz-meta-sluice-wait";

bool Finished(catalog::FileStatus s) {
  return s == catalog::FileStatus::kLoaded || s == catalog::FileStatus::kFailed ||
         s == catalog::FileStatus::kSkipped;
}

catalog::FileRecord RecordOf(const load::LoadEvent& e) {
  catalog::FileRecord f;
  f.seq = e.seq;
  f.connection_id = e.table.connection_id;
  f.table = e.table.table;
  f.key = e.key;
  f.status = e.status;
  f.rows_inserted = e.counts.inserted;
  f.rows_updated = e.counts.updated;
  f.rows_refused = e.counts.refused;
  f.rows_deleted = e.counts.deleted;
  f.error_code = e.error_code;
  f.error_message = e.error_message;
  return f;
}

}  // namespace

// ---- Backpressure ----------------------------------------------------------------------------

Backpressure::Backpressure(catalog::Ledger& catalog, const landing::Store& store, FlowLimits limits,
                           UploadObserver* metrics, const MonotonicClock& monotonic)
    : catalog_(catalog), store_(store), limits_(limits), metrics_(metrics), monotonic_(monotonic) {}

Backpressure::~Backpressure() { Stop(); }

Status Backpressure::Refresh() {
  SLUICE_ASSIGN_OR_RETURN(auto backlog, catalog_.BacklogByTable());
  std::map<std::string, Pending> fresh;
  for (const auto& b : backlog) {
    Pending& p = fresh[b.table.connection_id];
    p.files += b.files;
    p.bytes += static_cast<int64_t>(b.bytes);
  }
  MutexLock lock(&mu_);
  pending_ = std::move(fresh);
  return Status::Ok();
}

void Backpressure::Start() {
  if (thread_.joinable()) return;
  Status st = Refresh();
  if (!st.ok()) LogWarn("store", "counting the pending files: " + st.ToString());
  {
    MutexLock lock(&mu_);
    stopping_ = false;
  }
  thread_ = std::thread([this] { Loop(); });
}

void Backpressure::Stop() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  wake_.SignalAll();
  if (thread_.joinable()) thread_.join();
}

void Backpressure::Loop() {
  MutexLock lock(&mu_);
  while (!stopping_) {
    const auto deadline = monotonic_.Now() + kRefreshInterval;
    while (!stopping_ && monotonic_.WaitUntil(&wake_, &mu_, deadline)) {
    }
    if (stopping_) break;
    lock.Unlock();
    Status st = Refresh();
    if (!st.ok()) LogWarn("store", "counting the pending files: " + st.ToString());
    lock.Lock();
  }
}

Status Backpressure::Admit(const std::string& connection) {
  const Pending p = PendingOf(connection);
  std::string_view limit;
  std::string why;
  if (limits_.max_pending_files > 0 &&
      static_cast<uint64_t>(p.files) >= limits_.max_pending_files) {
    limit = "files";
    why = std::to_string(p.files) + " files pending (queued or loading), the limit set by " +
          "--max-pending-files (" + std::to_string(limits_.max_pending_files) + ")";
  } else if (limits_.max_pending_bytes > 0 &&
             static_cast<uint64_t>(p.bytes) >= limits_.max_pending_bytes) {
    limit = "bytes";
    why = std::to_string(p.bytes) + " bytes pending (queued or loading), the limit set by " +
          "--max-pending-bytes (" + std::to_string(limits_.max_pending_bytes) + ")";
  } else if (limits_.min_free_disk > 0) {
    // A failing statvfs admits: the write itself will fail if the disk is really full.
    auto free = store_.FreeBytes();
    if (free.ok() && *free < limits_.min_free_disk) {
      limit = "disk";
      why = "only " + std::to_string(*free) +
            " bytes are free on the data directory's file system, under the floor set by "
            "--min-free-disk (" +
            std::to_string(limits_.min_free_disk) + ")";
    }
  }
  if (limit.empty()) return Status::Ok();
  if (metrics_ != nullptr) metrics_->OnRefused(connection, limit);
  return Err(ErrorCode::kSlowDown, "Please reduce your request rate: connection '" + connection +
                                       "' has " + why + "; retry once the backlog has drained");
}

void Backpressure::OnQueued(const std::string& connection, uint64_t bytes) {
  MutexLock lock(&mu_);
  Pending& p = pending_[connection];
  ++p.files;
  p.bytes += static_cast<int64_t>(bytes);
}

void Backpressure::OnFileFinished(const load::LoadEvent& event) {
  MutexLock lock(&mu_);
  auto it = pending_.find(event.table.connection_id);
  if (it == pending_.end()) return;
  it->second.files = std::max<int64_t>(0, it->second.files - 1);
  it->second.bytes = std::max<int64_t>(0, it->second.bytes - static_cast<int64_t>(event.bytes));
}

Backpressure::Pending Backpressure::PendingOf(const std::string& connection) {
  MutexLock lock(&mu_);
  auto it = pending_.find(connection);
  return it == pending_.end() ? Pending{} : it->second;
}

// ---- Waits -----------------------------------------------------------------------------------

Result<int> WaitSecondsOf(const std::vector<std::pair<std::string, std::string>>& metadata) {
  for (const auto& [name, value] : metadata) {
    if (name != kWaitHeader) continue;
    bool digits = !value.empty() && value.size() <= 12;
    for (char c : value) digits = digits && c >= '0' && c <= '9';
    if (!digits) {
      return Err(ErrorCode::kInvalidArgument,
                 "x-amz-meta-sluice-wait must be a whole number of seconds (0 to " +
                     std::to_string(kMaxWaitSeconds) + "), not '" + s3::HeaderSafe(value, 64) +
                     "'");
    }
    return static_cast<int>(std::min<int64_t>(std::stoll(value), kMaxWaitSeconds));
  }
  return 0;
}

LoadWaits::~LoadWaits() { Stop(); }

void LoadWaits::Start() {
  MutexLock lock(&mu_);
  if (started_) return;
  started_ = true;
  stopping_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void LoadWaits::Stop() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  wake_.SignalAll();
  if (thread_.joinable()) thread_.join();
  // Whatever is left (also when never started) is answered with the state so far.
  std::multimap<int64_t, std::shared_ptr<Waiter>> left;
  {
    MutexLock lock(&mu_);
    left.swap(waiters_);
    started_ = false;
  }
  for (auto& [seq, w] : left) {
    auto file = catalog_.GetFile(seq);
    if (file.ok() && *file) {
      Answer(*w, **file);
    } else {
      w->deferred->Complete(w->response);
    }
  }
}

size_t LoadWaits::waiting() {
  MutexLock lock(&mu_);
  return waiters_.size();
}

void LoadWaits::Answer(Waiter& waiter, const catalog::FileRecord& file) {
  http::Response r = std::move(waiter.response);
  std::erase_if(r.headers, [](const auto& h) { return h.first.starts_with("x-amz-meta-sluice-"); });
  for (auto& h : StatusHeaders(file)) r.headers.push_back(std::move(h));
  waiter.deferred->Complete(std::move(r));
}

http::Response LoadWaits::Hold(int64_t seq, int seconds, http::Response response) {
  auto waiter = std::make_shared<Waiter>();
  waiter->seq = seq;
  waiter->deadline = monotonic_.Now() + std::chrono::seconds(seconds);
  waiter->response = std::move(response);
  std::weak_ptr<Waiter> weak = waiter;
  waiter->deferred = http::DeferredResponse::Create([this, weak] { Expire(weak); });
  bool registered = false;
  {
    MutexLock lock(&mu_);
    if (!stopping_) {
      waiters_.emplace(seq, waiter);
      registered = true;
    }
  }
  wake_.SignalAll();  // the loop recomputes its next deadline
  if (!registered) {  // shutting down: the state so far
    auto file = catalog_.GetFile(seq);
    http::Response out = std::move(waiter->response);
    if (file.ok() && *file) {
      std::erase_if(out.headers,
                    [](const auto& h) { return h.first.starts_with("x-amz-meta-sluice-"); });
      for (auto& h : StatusHeaders(**file)) out.headers.push_back(std::move(h));
    }
    return out;
  }
  // Registered first, checked second: a load finishing in between is seen by one or the other.
  auto file = catalog_.GetFile(seq);
  if (!file.ok() || !*file || !Finished((*file)->status)) {
    http::Response deferred;
    deferred.deferred = waiter->deferred;
    return deferred;
  }
  bool mine = false;
  {
    MutexLock lock(&mu_);
    for (auto [it, end] = waiters_.equal_range(seq); it != end; ++it) {
      if (it->second == waiter) {
        waiters_.erase(it);
        mine = true;
        break;
      }
    }
  }
  http::Response out;
  if (!mine) {  // the loader answered it meanwhile
    out.deferred = waiter->deferred;
    return out;
  }
  out = std::move(waiter->response);
  std::erase_if(out.headers,
                [](const auto& h) { return h.first.starts_with("x-amz-meta-sluice-"); });
  for (auto& h : StatusHeaders(**file)) out.headers.push_back(std::move(h));
  return out;
}

void LoadWaits::OnFileFinished(const load::LoadEvent& event) {
  std::vector<std::shared_ptr<Waiter>> done;
  {
    MutexLock lock(&mu_);
    auto [begin, end] = waiters_.equal_range(event.seq);
    for (auto it = begin; it != end; ++it) done.push_back(it->second);
    waiters_.erase(begin, end);
  }
  if (done.empty()) return;
  const catalog::FileRecord file = RecordOf(event);
  for (auto& w : done) Answer(*w, file);
}

void LoadWaits::OnLedgerChanged() {
  {
    MutexLock lock(&mu_);
    if (waiters_.empty()) return;
    poll_soon_ = true;
  }
  wake_.SignalAll();
}

void LoadWaits::Expire(const std::weak_ptr<Waiter>& weak) {
  {
    MutexLock lock(&mu_);
    if (auto w = weak.lock()) w->deadline = MonotonicClock::TimePoint::min();
  }
  wake_.SignalAll();
}

void LoadWaits::Loop() {
  MutexLock lock(&mu_);
  auto last_poll = monotonic_.Now();
  auto next_poll = last_poll + kPollInterval;
  while (!stopping_) {
    // A change committed elsewhere (OnLedgerChanged) brings the next poll forward, to no
    // sooner than kMinPollGap after the last: a busy ledger does not turn into a poll per
    // change.
    if (poll_soon_) next_poll = std::min(next_poll, last_poll + kMinPollGap);
    auto until = next_poll;
    for (const auto& [seq, w] : waiters_) until = std::min(until, w->deadline);
    monotonic_.WaitUntil(&wake_, &mu_, until);
    if (stopping_) break;
    const auto now = monotonic_.Now();
    std::vector<std::shared_ptr<Waiter>> expired;
    for (auto it = waiters_.begin(); it != waiters_.end();) {
      if (it->second->deadline <= now) {
        expired.push_back(it->second);
        it = waiters_.erase(it);
      } else {
        ++it;
      }
    }
    std::vector<int64_t> poll;
    if (now >= next_poll) {
      poll_soon_ = false;
      last_poll = now;
      next_poll = now + kPollInterval;
      for (auto it = waiters_.begin(); it != waiters_.end(); it = waiters_.upper_bound(it->first)) {
        poll.push_back(it->first);
      }
    }
    lock.Unlock();
    for (auto& w : expired) {
      auto file = catalog_.GetFile(w->seq);
      if (file.ok() && *file) {
        Answer(*w, **file);
      } else {
        w->deferred->Complete(std::move(w->response));
      }
    }
    // Statuses changed by another process (a CLI skip or retry, another node's load) do not
    // reach the observer.
    for (int64_t seq : poll) {
      auto file = catalog_.GetFile(seq);
      if (!file.ok() || !*file || !Finished((*file)->status)) continue;
      std::vector<std::shared_ptr<Waiter>> done;
      {
        MutexLock inner(&mu_);
        auto [begin, end] = waiters_.equal_range(seq);
        for (auto it = begin; it != end; ++it) done.push_back(it->second);
        waiters_.erase(begin, end);
      }
      for (auto& w : done) Answer(*w, **file);
    }
    lock.Lock();
  }
}

}  // namespace sluice::store
