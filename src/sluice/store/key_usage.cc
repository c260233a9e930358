#include "sluice/store/key_usage.h"

#include <utility>
#include <vector>

#include "sluice/core/mutex.h"

namespace sluice::store {

KeyUsage::~KeyUsage() {
  const Status s = Flush();
  if (!s.ok()) LogWarn("store", "cannot record the keys' last-used times: " + s.ToString());
}

void KeyUsage::Note(const AccessKeyId& key) {
  const int64_t now = clock_.NowMicros();
  {
    MutexLock lock(&mu_);
    pending_[key.str()] = now;
    if (now - last_flush_ < interval_) return;
  }
  const Status s = Flush();
  if (!s.ok()) LogWarn("store", "cannot record the keys' last-used times: " + s.ToString());
}

Status KeyUsage::Flush() {
  std::map<std::string, int64_t> batch;
  {
    MutexLock lock(&mu_);
    batch.swap(pending_);
    last_flush_ = clock_.NowMicros();
  }
  if (batch.empty()) return Status::Ok();
  std::vector<std::pair<AccessKeyId, int64_t>> uses;
  uses.reserve(batch.size());
  for (auto& [key, at] : batch) uses.emplace_back(AccessKeyId(key), at);
  return catalog_.RecordKeyUses(uses);
}

}  // namespace sluice::store
