#pragma once
// When each access key was last used, for `sluice credentials list`. Uses are kept in memory
// and written to the catalog in one transaction at most once per interval (60 s by default)
// and when the KeyUsage is destroyed: a busy server costs one small write a minute, not one
// per request. A crash loses at most the last interval's times, which is fine for a
// "last used" column (it never decides whether a key works).
//
// Thread-safety: Note and Flush may be called from any thread.

#include <cstdint>
#include <map>
#include <string>

#include "sluice/catalog/catalog.h"
#include "sluice/core/mutex.h"

namespace sluice::store {

inline constexpr int64_t kKeyUsageFlushMicros = int64_t{60} * 1'000'000;

class KeyUsage {
 public:
  // Both must outlive the KeyUsage.
  KeyUsage(catalog::Connections& catalog, const Clock& clock,
           int64_t interval_micros = kKeyUsageFlushMicros)
      : catalog_(catalog),
        clock_(clock),
        interval_(interval_micros),
        last_flush_(clock.NowMicros()) {}
  ~KeyUsage();
  KeyUsage(const KeyUsage&) = delete;
  KeyUsage& operator=(const KeyUsage&) = delete;

  // A request signed with `key` was verified now. Writes the batch (on this thread) when the
  // interval has passed since the last write.
  void Note(const AccessKeyId& key) EXCLUDES(mu_);
  // Writes what is pending now. A failed write is returned and its uses dropped.
  Status Flush() EXCLUDES(mu_);

 private:
  catalog::Connections& catalog_;
  const Clock& clock_;
  const int64_t interval_;
  Mutex mu_;
  // Access key -> micros of its latest use.
  std::map<std::string, int64_t> pending_ GUARDED_BY(mu_);
  int64_t last_flush_ GUARDED_BY(mu_);
};

}  // namespace sluice::store
