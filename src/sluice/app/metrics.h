#pragma once
// Private to app: the /metrics page (Prometheus text exposition format 0.0.4). Counters since
// the server started come from the loader (LoadObserver: load durations, rows by outcome) and
// the S3 backend (bytes and files received, PUTs refused by backpressure); gauges come from
// the ledger (backlog per table, age of the oldest queued file, files by status and error
// code) through two grouped catalog queries per scrape — the status count scans the ledger,
// so its result is cached for kStatusCacheMicros.
//
// Thread-safety: every member is safe to call from any thread.

#include <array>
#include <map>
#include <string>
#include <string_view>

#include "sluice/catalog/catalog.h"
#include "sluice/core/mutex.h"
#include "sluice/load/load.h"

namespace sluice::app {

// Upper bounds (seconds) of the load duration histogram: 1 ms to 60 s.
inline constexpr std::array<double, 14> kLoadDurationBuckets = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 30, 60};

// A label value escaped for the text format: backslash, double quote and line feed.
std::string PromEscape(std::string_view value);

class Metrics final : public load::LoadObserver {
 public:
  // How long the ledger's status counts are reused between scrapes.
  static constexpr int64_t kStatusCacheMicros = 5'000'000;

  void OnFileFinished(const load::LoadEvent& event) override;
  void OnReceived(const std::string& connection, uint64_t bytes);
  // `limit`: "files", "bytes" or "disk".
  void OnRefused(const std::string& connection, std::string_view limit);

  // The whole page. `now_micros` dates the oldest queued files.
  Result<std::string> Render(catalog::Catalog& catalog, int64_t now_micros);

 private:
  struct Rows {
    int64_t inserted = 0;
    int64_t updated = 0;
    int64_t deleted = 0;
    int64_t refused = 0;
  };
  struct Received {
    uint64_t bytes = 0;
    uint64_t files = 0;
  };

  Mutex mu_;
  std::array<uint64_t, kLoadDurationBuckets.size()> buckets_ GUARDED_BY(mu_){};  // non-cumulative
  uint64_t loads_ GUARDED_BY(mu_) = 0;
  double load_seconds_ GUARDED_BY(mu_) = 0;
  std::map<catalog::TableKey, Rows> rows_ GUARDED_BY(mu_);
  std::map<std::string, Received> received_ GUARDED_BY(mu_);
  // (connection, limit) -> refusals.
  std::map<std::pair<std::string, std::string>, uint64_t> refused_ GUARDED_BY(mu_);
  std::vector<catalog::Catalog::StatusCount> status_cache_ GUARDED_BY(mu_);
  int64_t status_cached_at_ GUARDED_BY(mu_) = -1;
};

}  // namespace sluice::app
