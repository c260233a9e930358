#pragma once
// The /metrics page (Prometheus text exposition format 0.0.4). Counters since the server
// started come from the loader (load::LoadObserver: load durations, rows by outcome) and the
// store (store::UploadObserver: bytes and files received, PUTs refused by backpressure);
// gauges come from the ledger (backlog per table, age of the oldest queued file, files that
// need attention by status and error code) through two grouped catalog queries per scrape, each
// over a partial index of unfinished files: a scrape's cost follows the backlog, never the
// ledger's history (files that finished are counted from the loader's events instead).
//
// Labels are bounded by configuration, never by what clients send: a table label is always a
// configured table of the connection (files under a key prefix that names no configured table
// are counted per connection in sluice_unconfigured_files), and a connection label an existing
// connection. Error codes are sluice's own ErrorCode names. With a disk quota, each
// connection's bytes on disk (the quota's in-memory counts) and its quota (the connections
// table) are gauges too.
//
// Thread-safety: every member is safe to call from any thread.

#include <array>
#include <map>
#include <string>
#include <string_view>
#include <tuple>

#include "sluice/catalog/catalog.h"
#include "sluice/core/mutex.h"
#include "sluice/load/load.h"
#include "sluice/store/store.h"

namespace sluice::api {

// Upper bounds (seconds) of the load duration histogram: 1 ms to 60 s.
inline constexpr std::array<double, 14> kLoadDurationBuckets = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 30, 60};

// A label value escaped for the text format: backslash, double quote and line feed.
std::string PromEscape(std::string_view value);

class Metrics final : public load::LoadObserver, public store::UploadObserver {
 public:
  void OnFileFinished(const load::LoadEvent& event) override;
  void OnReceived(const std::string& connection, uint64_t bytes) override;
  // `limit`: "files", "bytes" or "disk".
  void OnRefused(const std::string& connection, std::string_view limit) override;

  // Adds the disk usage gauges, read from `quota` (which must outlive this object).
  void WatchDiskQuota(store::DiskQuota* quota) { quota_ = quota; }

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

  store::DiskQuota* quota_ = nullptr;  // set before serving, then only read
  Mutex mu_;
  std::array<uint64_t, kLoadDurationBuckets.size()> buckets_ GUARDED_BY(mu_){};  // non-cumulative
  uint64_t loads_ GUARDED_BY(mu_) = 0;
  double load_seconds_ GUARDED_BY(mu_) = 0;
  std::map<catalog::TableKey, Rows> rows_ GUARDED_BY(mu_);
  // Files that finished, by (table, status, error code).
  std::map<std::tuple<catalog::TableKey, catalog::FileStatus, std::string>, uint64_t> finished_
      GUARDED_BY(mu_);
  std::map<std::string, Received> received_ GUARDED_BY(mu_);
  // (connection, limit) -> refusals.
  std::map<std::pair<std::string, std::string>, uint64_t> refused_ GUARDED_BY(mu_);
};

}  // namespace sluice::api
