#pragma once
// load: the per-table workers. For each table with work, the oldest file is leased, decoded,
// shaped and written to the pool in one transaction that records its sequence, and its
// outcome goes to the ledger. One file per table at a time, strictly in sequence order;
// different tables load in parallel (up to `workers`). A failed file blocks its table until
// an operator retries or skips it (on_error: block; `skip` is a later cut).
//
// Exactly once: the pool transaction records the file's sequence (pool.h). Before loading a
// file, and for every unfinished file at start-up (Reconcile), the loader asks the pool whether
// it already holds that sequence; if so the ledger is brought up to date instead of loading
// again. A crash between the pool commit and the ledger update therefore loses nothing and
// applies nothing twice.
//
// Thread-safety: Start/Stop/Notify from any thread. The catalog, store and pool must outlive
// the loader.

#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "sluice/catalog/catalog.h"
#include "sluice/core/core.h"
#include "sluice/landing/landing.h"
#include "sluice/pool/pool.h"

namespace sluice::load {

// What a file's load came to, reported to observers once the ledger holds the outcome.
struct LoadEvent {
  int64_t seq = 0;
  catalog::TableKey table;
  std::string key;
  catalog::FileStatus status = catalog::FileStatus::kLoaded;  // loaded, failed or skipped
  catalog::LoadCounts counts;
  std::string error_code;  // empty unless failed
  std::string error_message;
  uint64_t bytes = 0;           // the file's size
  int64_t duration_micros = 0;  // from the start of the load to its outcome; 0 if not loaded
};

// Metrics and PUTs waiting for their load (x-amz-meta-sluice-wait) observe the loader. Called
// on a worker thread after the ledger commit; must be quick and must not call the loader.
class LoadObserver {
 public:
  virtual ~LoadObserver() = default;
  virtual void OnFileFinished(const LoadEvent& event) = 0;
};

struct LoaderOptions {
  int workers = 2;
  // How often idle workers look at the ledger for work committed by other processes (the CLI's
  // retry and skip, table changes).
  int poll_interval_ms = 200;
};

class Loader {
 public:
  Loader(catalog::Catalog& catalog, landing::Store& store, pool::Pool& pool, const Clock& clock,
         LoaderOptions options = {});
  ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  // Brings the ledger up to date with the pool after a crash: every queued or loading file
  // whose sequence the pool already applied becomes loaded with the pool's counts.
  Status Reconcile();
  void Start();
  // Finishes the files in progress, then joins the workers.
  void Stop();
  // New work may be waiting (a file was appended).
  void Notify();
  // Adds an observer (before Start); it must outlive the loader.
  void AddObserver(LoadObserver* observer);

  // Handles the head of one table's queue on the calling thread. Returns true when a file was
  // finished (loaded or failed), false when the table had nothing to do or is blocked.
  Result<bool> LoadNext(const catalog::TableKey& table);

 private:
  void WorkerLoop();
  // Picks a table with work that no other worker holds and that is not in `tried` (the
  // tables this worker already handled in the current pass, so that a blocked table is not
  // claimed again and again); false when none.
  bool ClaimTable(const std::set<catalog::TableKey>& tried, catalog::TableKey* out);
  // Loads one file; the returned status is the file's failure (recorded by the caller).
  Status Apply(const catalog::FileRecord& file, const catalog::TableConfig& table,
               pool::ApplyCounts* counts);
  void Report(const LoadEvent& event);

  catalog::Catalog& catalog_;
  landing::Store& store_;
  pool::Pool& pool_;
  const Clock& clock_;
  LoaderOptions options_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  uint64_t notifications_ = 0;
  std::set<catalog::TableKey> busy_;
  std::vector<std::thread> threads_;
  std::vector<LoadObserver*> observers_;  // fixed once Start has run
};

}  // namespace sluice::load
