#pragma once
// Private to http/: the state a Runtime shares with its listeners and sessions. It is held by
// shared_ptr so that sessions destroyed late (when the io_context is torn down) never touch a
// destroyed Runtime.
//
// Thread-safety: every member is safe to call from any thread.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>

#include "sluice/core/mutex.h"

namespace sluice::http::internal {

// What the runtime may ask of a live connection. Implementations hop to their own strand.
class SessionControl {
 public:
  virtual ~SessionControl() = default;
  // The runtime is stopping: a connection waiting for its next request closes now; one in the
  // middle of a request finishes it and then closes.
  virtual void OnStop() = 0;
};

class RuntimeState {
 public:
  bool stopping() const { return stopping_.load(std::memory_order_acquire); }

  // Registers a live session. Returns 0 (and registers nothing) once stopping has begun: the
  // caller then closes the connection.
  uint64_t Add(const std::shared_ptr<SessionControl>& session);
  // Called by a session's destructor. When the last session leaves a stopping runtime, the
  // drained callback runs (on this thread).
  void Remove(uint64_t id);

  // Sets the stopping flag and tells every live session. Returns true when none is left.
  bool BeginStop();
  bool Empty() const;

  // Runs when the last session of a stopping runtime ends. Cleared by Detach(), which the
  // runtime calls before it tears its io_context down.
  void SetOnDrained(std::function<void()> on_drained);
  void Detach();

  // Where blocking work goes (the runtime's blocking pool, or its long pool when `long_work`);
  // set once, before any session. PostBlocking returns false (and runs nothing) when there is
  // none (a bare state in tests, or after Detach): the caller then does the work itself.
  using BlockingPost = std::function<void(std::function<void()> work, bool long_work)>;
  void SetBlocking(BlockingPost post);
  bool PostBlocking(std::function<void()> work, bool long_work);

 private:
  std::atomic<bool> stopping_{false};
  mutable Mutex mu_;
  uint64_t next_id_ GUARDED_BY(mu_) = 1;
  std::map<uint64_t, std::weak_ptr<SessionControl>> sessions_ GUARDED_BY(mu_);
  std::function<void()> on_drained_ GUARDED_BY(mu_);
  BlockingPost post_blocking_ GUARDED_BY(mu_);
};

}  // namespace sluice::http::internal
