#include "sluice/load/load.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <map>
#include <new>
#include <nlohmann/json.hpp>

#include "sluice/batch/prefetch.h"
#include "sluice/core/mutex.h"
#include "sluice/core/text.h"
#include "sluice/json/json.h"
#include "sluice/load/load_internal.h"
#include "sluice/load/sniff_internal.h"
#include "sluice/parquet/parquet.h"
#include "sluice/shape/nested.h"
#include "sluice/shape/shape.h"

namespace sluice::load {
namespace {

// The user metadata key with which a client forces the load of a duplicate.
constexpr const char* kForceMetadata = "x-amz-meta-sluice-force";

// The landed file under the name users know it by (its S3 key), so that the reader's
// messages ("<key>: row group 0, column 'x': page 2 ...") name the key, not a landing path.
class KeyedFile final : public RandomAccessFile {
 public:
  KeyedFile(std::unique_ptr<RandomAccessFile> base, std::string name)
      : base_(std::move(base)), name_(std::move(name)) {}
  uint64_t size() const override { return base_->size(); }
  Status ReadAt(uint64_t offset, size_t n, std::vector<uint8_t>* out) const override {
    return base_->ReadAt(offset, n, out);
  }
  const std::string& name() const override { return name_; }

 private:
  std::unique_ptr<RandomAccessFile> base_;
  std::string name_;
};

// The reader for the file's format (sniff_internal.h), or kUnsupportedFormat describing what it
// looks like.
Result<FileFormat> CheckFormat(const RandomAccessFile& file, const std::string& key) {
  const uint64_t size = file.size();
  std::vector<uint8_t> head;
  if (size > 0) {
    SLUICE_RETURN_IF_ERROR(
        Blame(file.ReadAt(0, static_cast<size_t>(std::min<uint64_t>(size, kSniffBytes)), &head), {},
              "reading the start of " + key));
  }
  const ByteView view(head.data(), head.size());
  const FileFormat format = DetectFormat(view, size);
  if (format != FileFormat::kOther) return format;
  return Err(ErrorCode::kUnsupportedFormat,
             key + ": not a parquet or JSON file: it looks like " + DescribeNonParquet(view, size) +
                 ". sluice loads Apache Parquet files (any codec or encoding, flat or nested) and "
                 "JSON (JSON Lines, an array of objects or one object; optionally gzip); push the "
                 "data in one of those");
}

// Opens the reader for `format`. JSON carries no types of its own. For a nested table the
// record type configured from the example types it (a value that does not fit fails the file
// naming line and path; fields the example lacks are inferred). For a flat table a field that is
// a column the pool already holds with a scalar type is read as that type; other fields are
// inferred (json.h). The pool's schema history is one small query per JSON file.
Result<std::unique_ptr<batch::BatchReader>> OpenReader(FileFormat format,
                                                       std::unique_ptr<RandomAccessFile> file,
                                                       pool::Pool& pool,
                                                       const catalog::TableConfig& config,
                                                       const batch::ReadLimits& limits) {
  if (format != FileFormat::kJson) {
    parquet::ReaderOptions options;
    options.limits = limits;
    return parquet::OpenParquet(std::move(file), options);
  }
  if (!config.nested_json.empty()) {
    SLUICE_ASSIGN_OR_RETURN(shape::NestedConfig nested,
                            shape::NestedConfigFromJson(config.nested_json));
    json::ReaderOptions options;
    options.limits = limits;
    options.schema = std::move(nested.example);
    return json::OpenJson(std::move(file), options);
  }
  const std::string& table = config.name;
  auto history = pool.SchemaHistory(config.connection_id, table);
  if (!history.ok()) return Blame(history.status(), {}, "reading the columns of " + table);
  json::ReaderOptions options;
  options.limits = limits;
  std::vector<std::string> order;
  std::map<std::string, std::string> current;  // column -> its latest type name
  for (const pool::SchemaChange& change : *history) {
    if (current.emplace(change.column, change.new_type).second) {
      order.push_back(change.column);
    } else {
      current[change.column] = change.new_type;
    }
  }
  if (!order.empty()) {
    options.schema.emplace();
    for (const std::string& column : order) {
      if (auto type = json::ScalarTypeFromName(current[column])) {
        options.schema->fields.push_back(batch::Field{column, std::move(*type)});
      }
    }
  }
  return json::OpenJson(std::move(file), options);
}

// The client asked to load the file even if it repeats a loaded one (x-amz-meta-sluice-force:
// true, 1 or yes, any case).
bool ForcedByClient(const std::string& metadata_json) {
  if (metadata_json.find("sluice-force") == std::string::npos) return false;
  const auto meta = nlohmann::json::parse(metadata_json, nullptr, /*allow_exceptions=*/false);
  if (!meta.is_object()) return false;
  const auto it = meta.find(kForceMetadata);
  if (it == meta.end() || !it->is_string()) return false;
  const std::string v = AsciiLowered(it->get<std::string>());
  return v == "true" || v == "1" || v == "yes";
}

}  // namespace

// Keeps `st` when its code is one a load stage may blame on the file (`allowed`); anything
// else (an I/O error, a missing landed file, a bug) says nothing about the file's bytes or
// its fit with the table and becomes INTERNAL, naming the original code, so that a failing
// disk never reads as a damaged file and on_error: skip never drops a good file for it.
// kUnavailable (transient) passes through unchanged: the caller retries instead of failing.
Status Blame(const Status& st, std::initializer_list<ErrorCode> allowed, const std::string& what) {
  if (st.ok() || st.code() == ErrorCode::kUnavailable) return st;
  if (std::find(allowed.begin(), allowed.end(), st.code()) != allowed.end()) return st;
  return Err(ErrorCode::kInternal, what + ": " + st.ToString());
}

std::string ReadFailure(const std::string& key, const std::string& message, int64_t first_row) {
  const bool named = message.compare(0, key.size(), key) == 0;
  return (named ? "" : key + ": ") + message + " (in the rows from file row " +
         std::to_string(first_row) + ")";
}

std::string FileForLog(int64_t seq, const std::string& connection_id, const std::string& key) {
  return "file " + std::to_string(seq) + " " + connection_id + "/" + EscapeForLog(key);
}

Loader::Loader(catalog::Catalog& catalog, landing::Store& store, pool::Pool& pool,
               const Clock& clock, LoaderOptions options, const MonotonicClock& monotonic)
    : catalog_(catalog),
      store_(store),
      pool_(pool),
      clock_(clock),
      options_(options),
      monotonic_(monotonic) {}

Loader::~Loader() { Stop(); }

Status Loader::FailPoisoned(const catalog::FileRecord& file) {
  const int limit = options_.max_load_attempts;
  const std::string seq = std::to_string(file.seq);
  const Status poison =
      Err(ErrorCode::kInternal,
          "the loader crashed " + std::to_string(file.load_attempts) + " times on this file (" +
              file.key +
              "): each load of it ended the process before it finished, so it is not loaded "
              "again automatically (--max-load-attempts " +
              std::to_string(limit) + "). Inspect it with `sluice files get " + seq +
              "`, then `sluice files retry " + seq + "` to try again or `sluice files skip " + seq +
              "` to move its table past it");
  LogError("load", FileForLog(file.seq, file.connection_id, file.key) +
                       " failed: " + EscapeForLog(poison.message()));
  return catalog_.MarkFailed(file.seq, poison);
}

bool Loader::Poisoned(const catalog::FileRecord& file) const {
  const int limit = options_.max_load_attempts;
  return limit > 0 && file.status == catalog::FileStatus::kLoading && file.load_attempts >= limit;
}

Status Loader::Reconcile() {
  SLUICE_ASSIGN_OR_RETURN(auto unfinished, catalog_.UnfinishedFiles());
  // By table, in sequence order within each.
  std::map<catalog::TableKey, std::vector<int64_t>> by_table;
  for (const auto& file : unfinished)
    by_table[{file.connection_id, file.table}].push_back(file.seq);
  for (const auto& [table, seqs] : by_table) {
    // With a shared ledger a `loading` file may be another node's load in progress: only the
    // holder of the table's claim may judge it, and it reads the file again under the claim.
    SLUICE_ASSIGN_OR_RETURN(auto claim, catalog_.ClaimTable(table));
    if (claim == nullptr) continue;
    for (int64_t seq : seqs) {
      SLUICE_ASSIGN_OR_RETURN(auto current, catalog_.GetFile(seq));
      if (!current || (current->status != catalog::FileStatus::kQueued &&
                       current->status != catalog::FileStatus::kLoading)) {
        continue;
      }
      SLUICE_RETURN_IF_ERROR(ReconcileFile(*current));
    }
  }
  return Status::Ok();
}

Status Loader::ReconcileFile(const catalog::FileRecord& file) {
  SLUICE_ASSIGN_OR_RETURN(auto applied, pool_.FindApplied(file.connection_id, file.seq));
  if (!applied) {
    // Still `loading` after a restart: its last attempt was cut short by the process dying.
    return Poisoned(file) ? FailPoisoned(file) : Status::Ok();
  }
  LogInfo("load", FileForLog(file.seq, file.connection_id, file.key) +
                      " was applied before a restart; recording it as loaded");
  return catalog_.MarkLoaded(file.seq,
                             {applied->counts.inserted, applied->counts.updated,
                              applied->counts.refused, applied->counts.deleted},
                             applied->applied_at);
}

void Loader::Start() {
  // Files pushed through other nodes, their retries and their loads wake the workers and the
  // observers at once (the observers are fixed from here on).
  catalog_.WatchChanges([this] {
    Notify();
    for (LoadObserver* o : observers_) o->OnLedgerChanged();
  });
  MutexLock lock(&mu_);
  stopping_ = false;
  for (int i = 0; i < options_.workers; ++i) threads_.emplace_back([this] { WorkerLoop(); });
}

void Loader::Stop() {
  catalog_.WatchChanges({});  // when it returns, no call of the callback above is running
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  cv_.SignalAll();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

void Loader::Notify() {
  {
    MutexLock lock(&mu_);
    ++notifications_;
  }
  cv_.SignalAll();
}

void Loader::AddObserver(LoadObserver* observer) {
  MutexLock lock(&mu_);
  observers_.push_back(observer);
}

void Loader::Report(const LoadEvent& event) {
  for (LoadObserver* o : observers_) o->OnFileFinished(event);
}

bool Loader::ClaimTable(const std::set<catalog::TableKey>& tried, catalog::TableKey* out) {
  auto tables = catalog_.TablesWithWork();
  if (!tables.ok()) {
    LogError("load", "cannot read the ledger: " + tables.status().ToString());
    return false;
  }
  MutexLock lock(&mu_);
  for (const auto& t : *tables) {
    if (busy_.count(t) == 0 && tried.count(t) == 0) {
      busy_.insert(t);
      *out = t;
      return true;
    }
  }
  return false;
}

void Loader::WorkerLoop() {
  while (true) {
    uint64_t seen;
    {
      MutexLock lock(&mu_);
      if (stopping_) return;
      seen = notifications_;
    }
    bool progressed = false;
    std::set<catalog::TableKey> tried;
    catalog::TableKey table;
    while (ClaimTable(tried, &table)) {
      tried.insert(table);
      // The ledger's claim keeps other nodes off the table while this worker drains it.
      auto claim = catalog_.ClaimTable(table);
      if (!claim.ok()) {
        LogError("load", "table " + table.connection_id + "/" + table.table +
                             ": cannot claim it: " + EscapeForLog(claim.status().ToString()));
      }
      // Drain this table while its files load; a blocked table releases the worker.
      while (claim.ok() && *claim != nullptr) {
        auto r = LoadNextGuarded(table);
        if (!r.ok()) {
          LogError("load", "table " + table.connection_id + "/" + table.table + ": " +
                               EscapeForLog(r.status().ToString()));
          break;
        }
        if (!*r) break;
        progressed = true;
        MutexLock lock(&mu_);
        if (stopping_) break;
      }
      if (claim.ok()) claim->reset();  // released before another worker here takes the table
      {
        MutexLock lock(&mu_);
        busy_.erase(table);
        if (stopping_) return;
      }
      // Other workers may be idle while this one found work: let them look again.
      cv_.SignalAll();
    }
    if (progressed) continue;
    MutexLock lock(&mu_);
    const auto deadline = monotonic_.Now() + std::chrono::milliseconds(options_.poll_interval_ms);
    while (!stopping_ && notifications_ == seen) {
      if (!monotonic_.WaitUntil(&cv_, &mu_, deadline)) break;
    }
  }
}

Result<bool> Loader::LoadNextGuarded(const catalog::TableKey& table) {
  // A file's own load has its barrier in ApplyGuarded; this one catches what the ledger and
  // the pool's lookups around it throw, so that the worker thread (and the process) survive
  // and the table is tried again at the next pass.
  try {
    return LoadNext(table);
  } catch (const std::exception& e) {
    return Err(ErrorCode::kInternal,
               std::string("unexpected exception outside a file's load: ") + e.what());
  } catch (...) {
    return Err(ErrorCode::kInternal, "unexpected exception of unknown type outside a file's load");
  }
}

Result<bool> Loader::LoadNext(const catalog::TableKey& key) {
  SLUICE_ASSIGN_OR_RETURN(auto head, catalog_.HeadOfQueue(key));
  if (!head) return false;
  const catalog::FileRecord& file = *head;
  if (file.status == catalog::FileStatus::kFailed) return MovePastFailed(key, file);
  // Left `loading` by loads that ended their process that many times (here or, with a shared
  // ledger, on other nodes that died holding the table).
  if (Poisoned(file)) {
    SLUICE_RETURN_IF_ERROR(FailPoisoned(file));
    return true;
  }

  // Applied before a crash, or by another node: record it, never apply twice.
  LoadEvent event;
  event.seq = file.seq;
  event.table = key;
  event.key = file.key;
  event.bytes = file.size;
  SLUICE_ASSIGN_OR_RETURN(auto applied, pool_.FindApplied(file.connection_id, file.seq));
  if (applied) {
    event.counts = {applied->counts.inserted, applied->counts.updated, applied->counts.refused,
                    applied->counts.deleted};
    SLUICE_RETURN_IF_ERROR(catalog_.MarkLoaded(file.seq, event.counts, applied->applied_at));
    Report(event);
    return true;
  }

  SLUICE_ASSIGN_OR_RETURN(auto table, catalog_.GetTable(key.connection_id, key.table));
  if (!table) {
    const Status error = Err(ErrorCode::kTableNotConfigured,
                             "table '" + key.table + "' is not configured on connection '" +
                                 key.connection_id + "'; add it, then retry this file");
    SLUICE_RETURN_IF_ERROR(catalog_.MarkFailed(file.seq, error));
    event.status = catalog::FileStatus::kFailed;
    event.error_code = std::string(ErrorCodeName(error.code()));
    event.error_message = error.message();
    Report(event);
    return true;
  }

  // Duplicates are decided here, at the head of the queue, so the file they repeat (earlier
  // in the same FIFO) has already been loaded or not.
  if (!file.forced && !ForcedByClient(file.metadata_json)) {
    SLUICE_ASSIGN_OR_RETURN(auto original, catalog_.FindLoadedDuplicate(file));
    if (original) {
      const std::string message =
          "duplicate of sequence " + std::to_string(original->seq) + " (key " + original->key +
          "): the same bytes (" + std::to_string(file.size) + " bytes, " +
          (file.md5_hex.empty() ? "multipart ETag " + file.etag : "MD5 " + file.md5_hex) +
          ") were already loaded into table " + key.table +
          "; not loaded again. To load it anyway: sluice files retry --force " +
          std::to_string(file.seq) + ", or push with x-amz-meta-sluice-force: true";
      LogInfo("load", FileForLog(file.seq, key.connection_id, file.key) +
                          " skipped: " + EscapeForLog(message));
      SLUICE_RETURN_IF_ERROR(catalog_.MarkDuplicate(file.seq, original->seq, message));
      event.status = catalog::FileStatus::kSkipped;
      event.error_message = message;
      Report(event);
      return true;
    }
  }

  SLUICE_RETURN_IF_ERROR(catalog_.MarkLoading(file.seq));
  const int64_t started = clock_.NowMicros();
  pool::ApplyCounts counts;
  bool recorded = false;
  Status outcome = ApplyGuarded(file, *table, &counts, &recorded);
  if (!outcome.ok() && catalog_.Shared()) {
    // Another node may have finished the file meanwhile (it held the table after this node's
    // claim was lost): its outcome stands, and this load rolled back.
    SLUICE_ASSIGN_OR_RETURN(auto now, catalog_.GetFile(file.seq));
    if (now && now->status != catalog::FileStatus::kLoading) {
      LogWarn("load", FileForLog(file.seq, key.connection_id, file.key) +
                          " was finished by another node; this load rolled back (" +
                          EscapeForLog(outcome.ToString()) + ")");
      return true;
    }
  }
  if (outcome.code() == ErrorCode::kUnavailable) {
    // Transient (the pool is busy, the process is stopping): not the file's failure. It stays
    // `loading` and is taken up again at the next pass; the attempt ended without a crash, so
    // the poison-file guard does not count it.
    SLUICE_RETURN_IF_ERROR(catalog_.AbandonLoading(file.seq));
    return outcome.WithContext("loading file " + std::to_string(file.seq));
  }
  if (outcome.ok()) {
    LogInfo("load", "loaded " + FileForLog(file.seq, key.connection_id, file.key) + ": " +
                        std::to_string(counts.inserted) + " inserted, " +
                        std::to_string(counts.updated) + " updated, " +
                        std::to_string(counts.deleted) + " deleted, " +
                        std::to_string(counts.refused) + " refused as stale in " +
                        std::to_string((clock_.NowMicros() - started) / 1000) + " ms");
    event.counts = {counts.inserted, counts.updated, counts.refused, counts.deleted};
    if (!recorded) {
      SLUICE_RETURN_IF_ERROR(catalog_.MarkLoaded(file.seq, event.counts, clock_.NowMicros()));
    }
    CrashPoint("load.after_mark_loaded");
  } else {
    LogWarn("load", FileForLog(file.seq, key.connection_id, file.key) +
                        " failed: " + EscapeForLog(outcome.ToString()));
    SLUICE_RETURN_IF_ERROR(catalog_.MarkFailed(file.seq, outcome));
    event.status = catalog::FileStatus::kFailed;
    event.error_code = std::string(ErrorCodeName(outcome.code()));
    event.error_message = outcome.message();
    // Under skip the table moves on at once, so the ledger says so even before another file
    // arrives (a crash in between is caught up by the next pass: the file is still the head).
    if (table->on_error == catalog::OnError::kSkip && outcome.code() != ErrorCode::kInternal) {
      SLUICE_RETURN_IF_ERROR(catalog_.MovePast(file.seq));
    }
  }
  event.duration_micros = clock_.NowMicros() - started;
  Report(event);
  return true;
}

Result<bool> Loader::MovePastFailed(const catalog::TableKey& key, const catalog::FileRecord& file) {
  SLUICE_ASSIGN_OR_RETURN(auto table, catalog_.GetTable(key.connection_id, key.table));
  if (!table || table->on_error != catalog::OnError::kSkip) return false;  // blocked
  // An INTERNAL failure is not the file's fault (a disk, a bug): skipping would drop data
  // that was acknowledged. It blocks under either policy until an operator acts.
  if (file.error_code == ErrorCodeName(ErrorCode::kInternal)) return false;
  LogInfo("load", "table " + key.connection_id + "/" + key.table +
                      " (on_error: skip) moves past failed " +
                      FileForLog(file.seq, key.connection_id, file.key));
  SLUICE_RETURN_IF_ERROR(catalog_.MovePast(file.seq));
  return true;
}

Status Loader::ApplyGuarded(const catalog::FileRecord& file, const catalog::TableConfig& table,
                            pool::ApplyCounts* counts, bool* recorded) {
  // Unwinding destroys Apply's pool transaction (rolled back) and its reader (the decoding
  // thread joined) before the failure is recorded.
  try {
    return Apply(file, table, counts, recorded);
  } catch (const std::bad_alloc&) {
    return Err(ErrorCode::kLimitExceeded,
               file.key +
                   ": the load needed more memory than the server could allocate "
                   "(std::bad_alloc); the file holds more data at once than this "
                   "server's memory allows");
  } catch (const std::exception& e) {
    return Err(ErrorCode::kInternal,
               file.key + ": the load failed with an unexpected exception: " + e.what());
  } catch (...) {
    return Err(ErrorCode::kInternal,
               file.key + ": the load failed with an unexpected exception of unknown type");
  }
}

Status Loader::Apply(const catalog::FileRecord& file, const catalog::TableConfig& table,
                     pool::ApplyCounts* counts, bool* recorded) {
  const std::string& key = file.key;
  auto landed = store_.Open(file.landed_id);
  if (!landed.ok()) {
    return Blame(landed.status(), {},
                 "cannot open the landed file of " + key + " (landing id " + file.landed_id + ")");
  }
  auto source = std::make_unique<KeyedFile>(std::move(landed).value(), key);
  SLUICE_ASSIGN_OR_RETURN(const FileFormat format, CheckFormat(*source, key));
  auto opened = OpenReader(format, std::move(source), pool_, table, options_.read_limits);
  if (!opened.ok()) return Blame(opened.status(), kReadErrors, "reading " + key);
  // Decoding runs on a second thread, ahead of the pool's writer (batch/prefetch.h).
  std::unique_ptr<batch::BatchReader> reader = batch::Prefetch(std::move(opened).value());
  if (!table.nested_json.empty()) return ApplyNested(*reader, file, table, counts, recorded);

  const shape::FlatTable flat{table.primary_key, table.age_column};
  SLUICE_RETURN_IF_ERROR(
      Blame(shape::CheckSchema(flat, reader->schema()),
            {ErrorCode::kPkNotFound, ErrorCode::kAgeColumnNotFound, ErrorCode::kSchemaMismatch},
            "checking the columns of " + key));

  const pool::TableSpec spec{table.connection_id, table.name, table.primary_key, table.age_column,
                             table.delete_column};
  auto tx = pool_.BeginLoad(spec, file.seq);
  if (!tx.ok()) return Blame(tx.status(), kWriteErrors, "starting the load of " + key);
  batch::Batch batch;
  int64_t first_row = 0;
  while (true) {
    auto more = reader->Next(&batch);
    if (!more.ok()) {
      const Status& st = more.status();
      // The reader names row group, column and page; the row is where this batch starts.
      return Blame(Status(st.code(), ReadFailure(key, st.message(), first_row)), kReadErrors,
                   "reading " + key);
    }
    if (!*more) break;
    SLUICE_RETURN_IF_ERROR(Blame(shape::CheckKeys(flat, batch, first_row),
                                 {ErrorCode::kPkNull, ErrorCode::kPkNotFound},
                                 "checking the keys of " + key));
    SLUICE_RETURN_IF_ERROR(
        Blame((*tx)->Apply(batch), kWriteErrors, "writing " + key + " to the pool"));
    CrashPoint("load.mid_load");
    first_row += batch.num_rows;
  }
  SLUICE_RETURN_IF_ERROR(Blame(CommitFile(**tx, catalog_, file.seq, clock_.NowMicros(), recorded),
                               {}, "committing " + key + " to the pool"));
  CrashPoint("load.after_pool_commit");
  *counts = (*tx)->counts();
  return Status::Ok();
}

Result<batch::Schema> ReadRecordType(std::unique_ptr<RandomAccessFile> file, const std::string& key,
                                     const batch::ReadLimits& limits) {
  SLUICE_ASSIGN_OR_RETURN(const FileFormat format, CheckFormat(*file, key));
  auto keyed = std::make_unique<KeyedFile>(std::move(file), key);
  Result<std::unique_ptr<batch::BatchReader>> reader =
      [&]() -> Result<std::unique_ptr<batch::BatchReader>> {
    if (format == FileFormat::kJson) {
      json::ReaderOptions options;
      options.limits = limits;
      return json::OpenJson(std::move(keyed), options);
    }
    parquet::ReaderOptions options;
    options.limits = limits;
    return parquet::OpenParquet(std::move(keyed), options);
  }();
  if (!reader.ok()) return reader.status();
  return (*reader)->schema();
}

}  // namespace sluice::load
