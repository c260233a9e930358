#include <utility>
#include <vector>

#include "sluice/core/mutex.h"
#include "sluice/http/runtime_state_internal.h"

namespace sluice::http::internal {

uint64_t RuntimeState::Add(const std::shared_ptr<SessionControl>& session) {
  MutexLock lock(&mu_);
  if (stopping()) return 0;
  uint64_t id = next_id_++;
  sessions_.emplace(id, session);
  return id;
}

void RuntimeState::Remove(uint64_t id) {
  std::function<void()> drained;
  {
    MutexLock lock(&mu_);
    if (sessions_.erase(id) == 0) return;
    if (stopping() && sessions_.empty()) drained = on_drained_;
  }
  if (drained) drained();
}

bool RuntimeState::BeginStop() {
  std::vector<std::shared_ptr<SessionControl>> live;
  {
    MutexLock lock(&mu_);
    stopping_.store(true, std::memory_order_release);
    for (const auto& [id, weak] : sessions_) {
      if (auto session = weak.lock()) live.push_back(std::move(session));
    }
  }
  // Outside the lock: dropping the last reference may destroy a session, which calls Remove.
  for (const auto& session : live) session->OnStop();
  live.clear();
  return Empty();
}

bool RuntimeState::Empty() const {
  MutexLock lock(&mu_);
  return sessions_.empty();
}

void RuntimeState::SetOnDrained(std::function<void()> on_drained) {
  MutexLock lock(&mu_);
  on_drained_ = std::move(on_drained);
}

void RuntimeState::Detach() {
  MutexLock lock(&mu_);
  on_drained_ = nullptr;
  post_blocking_ = nullptr;
}

void RuntimeState::SetBlocking(BlockingPost post) {
  MutexLock lock(&mu_);
  post_blocking_ = std::move(post);
}

bool RuntimeState::PostBlocking(std::function<void()> work, bool long_work) {
  BlockingPost post;
  {
    MutexLock lock(&mu_);
    post = post_blocking_;
  }
  if (!post) return false;
  post(std::move(work), long_work);
  return true;
}

}  // namespace sluice::http::internal
