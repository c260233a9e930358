#pragma once
// load: the per-table workers. For each table with work, the oldest file is leased, decoded,
// shaped and written to the pool in one transaction that records its sequence, and its
// outcome goes to the ledger. One file per table at a time, strictly in sequence order;
// different tables load in parallel (up to `workers`).
//
// Failures (DESIGN.md, "Ingestion semantics"). Every failed file ends with one ledger code:
// PK_NOT_FOUND, PK_NULL, AGE_COLUMN_NOT_FOUND, SCHEMA_MISMATCH (the file does not fit the
// table), CORRUPT_FILE (damaged parquet: the message names the key, row group, column, page and
// the file row its batch starts at), UNSUPPORTED_FORMAT (not parquet: the message says what the
// bytes look like), TABLE_NOT_CONFIGURED, or INTERNAL for anything that is not the file's
// fault (an I/O error reading the landed file, the pool failing, a bug), and LIMIT_EXCEEDED when
// the file asks for more than sluice or the pool allows (more columns than SQLite holds, a
// value too large to store, more memory than the process can get). Each load stage keeps only
// the codes it may blame on the file; whatever else it returns becomes INTERNAL.
// Transient errors (kUnavailable) fail nothing: the file stays loading and is taken up again.
//
// No failure escapes a load. An exception thrown while a file loads (by a reader, the decoding
// thread of batch/prefetch, the pool) ends that file `failed`: std::bad_alloc as LIMIT_EXCEEDED,
// anything else as INTERNAL naming it; the pool transaction rolls back and the worker goes on
// with the next file by the table's policy. The worker loop has a barrier of its own, so an
// exception outside a file's load costs one pass over that table, not the process.
//
// Poison files. What an exception barrier cannot catch (a crash, the OOM killer, kill -9) the
// ledger counts: MarkLoading records each attempt durably before the file is read. At start-up
// (Reconcile) a file still `loading` whose attempts reached `max_load_attempts` was cut short
// by that many crashes; it is marked failed (INTERNAL, "the loader crashed N times on this
// file") instead of being loaded again, so one file cannot keep a server in a crash loop.
// Each file loads alone, in a pool transaction of its own, so such a file takes no neighbour
// with it.
//
// Policy per table: under on_error: block a failed file blocks its table until an operator
// retries it (it loads in its place) or skips it. Under skip the table moves past it (the file
// stays failed, marked passed); a retry queues it again and, being the oldest queued file, it
// loads next. An INTERNAL failure blocks under both policies: skipping it would drop an
// acknowledged file because of a disk or a bug.
//
// Duplicates: when a file reaches the head of its queue, a loaded file of the same table with
// the same content (catalog::FindLoadedDuplicate: size and MD5) makes it `skipped` with
// duplicate_of, unless forced (x-amz-meta-sluice-force: true, or `sluice files retry --force`).
// The decision is made in FIFO order, so the earlier file has been loaded first. A re-push is
// skipped even when other files were loaded in between (forcing re-applies it).
//
// Exactly once: the pool transaction records the file's sequence (pool.h). Before loading a
// file, and for every unfinished file at start-up (Reconcile), the loader asks the pool whether
// it already holds that sequence; if so the ledger is brought up to date instead of loading
// again. A crash between the pool commit and the ledger update therefore loses nothing and
// applies nothing twice.
//
// Several nodes (docs/design/nodes.md): with a shared ledger (the PostgreSQL catalog) a worker
// drains a table only while it holds the ledger's claim on it (catalog::Ledger::ClaimTable), so
// one node at a time loads a table; the file's ledger outcome commits in the pool's transaction
// with its rows (Ledger::LoadedInPool), guarded so that a second applier rolls back; other
// nodes' ledger writes wake the workers (Ledger::WatchChanges).
//
// Thread-safety: Start/Stop/Notify from any thread. The catalog, store and pool must outlive
// the loader.

#include <memory>
#include <set>
#include <thread>
#include <vector>

#include "sluice/batch/limits.h"
#include "sluice/catalog/catalog.h"
#include "sluice/core/core.h"
#include "sluice/core/mutex.h"
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
  // Another process committed a change to the ledger (catalog::Ledger::WatchChanges: another
  // node's load, upload or retry). Called on the catalog's thread while the loader runs; must
  // be quick.
  virtual void OnLedgerChanged() {}
};

struct LoaderOptions {
  int workers = 2;
  // How often idle workers look at the ledger for work committed by other processes (the CLI's
  // retry and skip, table changes).
  int poll_interval_ms = 200;
  // The poison-file guard: a file whose load was cut short by this many crashes fails at the
  // next start instead of loading again. 0 turns the guard off.
  int max_load_attempts = 3;
  // The memory budgets of the reader of each file (from --load-memory).
  batch::ReadLimits read_limits;
};

class Loader {
 public:
  // `monotonic` times the idle workers' poll (LoaderOptions::poll_interval_ms); it and the
  // references must outlive the loader.
  Loader(catalog::Catalog& catalog, landing::Store& store, pool::Pool& pool, const Clock& clock,
         LoaderOptions options = {}, const MonotonicClock& monotonic = MonotonicClock::Real());
  ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  // Brings the ledger up to date with the pool after a crash: every queued or loading file
  // whose sequence the pool already applied becomes loaded with the pool's counts, and a
  // `loading` file whose load crashed max_load_attempts times becomes failed (INTERNAL).
  Status Reconcile();
  void Start() EXCLUDES(mu_);
  // Finishes the files in progress, then joins the workers.
  void Stop() EXCLUDES(mu_);
  // New work may be waiting (a file was appended).
  void Notify() EXCLUDES(mu_);
  // Adds an observer (before Start); it must outlive the loader.
  void AddObserver(LoadObserver* observer);

  // Handles the head of one table's queue on the calling thread. Returns true when a file was
  // finished (loaded, failed, skipped as a duplicate, or moved past under on_error: skip),
  // false when the table had nothing to do or is blocked.
  Result<bool> LoadNext(const catalog::TableKey& table);

 private:
  void WorkerLoop();
  // LoadNext behind an exception barrier: an exception becomes an error (logged by the loop).
  Result<bool> LoadNextGuarded(const catalog::TableKey& table);
  // The head of `key` is failed: under on_error: skip (and unless it failed INTERNAL) marks it
  // passed and returns true; otherwise false (the table is blocked).
  Result<bool> MovePastFailed(const catalog::TableKey& key, const catalog::FileRecord& file);
  // Picks a table with work that no other worker holds and that is not in `tried` (the
  // tables this worker already handled in the current pass, so that a blocked table is not
  // claimed again and again); false when none.
  bool ClaimTable(const std::set<catalog::TableKey>& tried, catalog::TableKey* out);
  // Apply behind an exception barrier: std::bad_alloc becomes LIMIT_EXCEEDED, any other
  // exception INTERNAL naming it. The failure is the file's (recorded by the caller).
  Status ApplyGuarded(const catalog::FileRecord& file, const catalog::TableConfig& table,
                      pool::ApplyCounts* counts, bool* recorded);
  // Loads one file; the returned status is the file's failure (recorded by the caller).
  // `*recorded`: the ledger holds the outcome already (it committed with the rows).
  Status Apply(const catalog::FileRecord& file, const catalog::TableConfig& table,
               pool::ApplyCounts* counts, bool* recorded);
  // The nested path of Apply (load_nested.cc): plans the derived tables from the file's
  // schema, unnests each batch and applies it through the pool in the file's one transaction.
  // `counts` are the root table's (the ledger's); every table's are logged.
  Status ApplyNested(batch::BatchReader& reader, const catalog::FileRecord& file,
                     const catalog::TableConfig& table, pool::ApplyCounts* counts, bool* recorded);
  void Report(const LoadEvent& event);
  // The poison-file guard: `file` is `loading` with max_load_attempts loads begun and none
  // ended; FailPoisoned marks it failed (INTERNAL) saying so.
  bool Poisoned(const catalog::FileRecord& file) const;
  // Reconcile's judgement of one unfinished file, under its table's claim.
  Status ReconcileFile(const catalog::FileRecord& file);
  Status FailPoisoned(const catalog::FileRecord& file);

  catalog::Catalog& catalog_;
  landing::Store& store_;
  pool::Pool& pool_;
  const Clock& clock_;
  LoaderOptions options_;
  const MonotonicClock& monotonic_;

  Mutex mu_;
  CondVar cv_;
  bool stopping_ GUARDED_BY(mu_) = false;
  uint64_t notifications_ GUARDED_BY(mu_) = 0;
  std::set<catalog::TableKey> busy_ GUARDED_BY(mu_);
  // Touched only by the thread that calls Start and Stop.
  std::vector<std::thread> threads_;
  // Fixed once Start has run (the workers are started after the last AddObserver), so the
  // workers read it without mu_.
  std::vector<LoadObserver*> observers_;
};

// The type of the records of a landed file (its S3 `key` names it in errors), as a load would
// read them without a configured table: a Parquet file's schema, or a JSON file's fields
// inferred from its first records. For a preview of what a table configuration makes of a
// file (service::DescribeTable). Reads the footer or a sample, never the whole file;
// kUnsupportedFormat as a load would fail.
Result<batch::Schema> ReadRecordType(std::unique_ptr<RandomAccessFile> file, const std::string& key,
                                     const batch::ReadLimits& limits);

}  // namespace sluice::load
