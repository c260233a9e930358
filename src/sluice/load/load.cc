#include "sluice/load/load.h"

#include <chrono>

#include "sluice/parquet/parquet.h"
#include "sluice/shape/shape.h"

namespace sluice::load {

Loader::Loader(catalog::Catalog& catalog, landing::Store& store, pool::Pool& pool,
               const Clock& clock, LoaderOptions options)
    : catalog_(catalog), store_(store), pool_(pool), clock_(clock), options_(options) {}

Loader::~Loader() { Stop(); }

Status Loader::Reconcile() {
  SLUICE_ASSIGN_OR_RETURN(auto unfinished, catalog_.UnfinishedFiles());
  for (const auto& file : unfinished) {
    SLUICE_ASSIGN_OR_RETURN(auto applied, pool_.FindApplied(file.seq));
    if (!applied) continue;
    LogInfo("load", "file " + std::to_string(file.seq) + " (" + file.key +
                        ") was applied before a restart; recording it as loaded");
    SLUICE_RETURN_IF_ERROR(catalog_.MarkLoaded(file.seq,
                                               {applied->counts.inserted, applied->counts.updated,
                                                applied->counts.refused, applied->counts.deleted},
                                               applied->applied_at));
  }
  return Status::Ok();
}

void Loader::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  stopping_ = false;
  for (int i = 0; i < options_.workers; ++i) threads_.emplace_back([this] { WorkerLoop(); });
}

void Loader::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

void Loader::Notify() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++notifications_;
  }
  cv_.notify_all();
}

void Loader::AddObserver(LoadObserver* observer) {
  std::lock_guard<std::mutex> lock(mu_);
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
  std::lock_guard<std::mutex> lock(mu_);
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
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
      seen = notifications_;
    }
    bool progressed = false;
    std::set<catalog::TableKey> tried;
    catalog::TableKey table;
    while (ClaimTable(tried, &table)) {
      tried.insert(table);
      // Drain this table while its files load; a blocked table releases the worker.
      while (true) {
        auto r = LoadNext(table);
        if (!r.ok()) {
          LogError("load", "table " + table.connection_id + "/" + table.table + ": " +
                               r.status().ToString());
          break;
        }
        if (!*r) break;
        progressed = true;
        std::lock_guard<std::mutex> lock(mu_);
        if (stopping_) break;
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        busy_.erase(table);
        if (stopping_) return;
      }
      // Other workers may be idle while this one found work: let them look again.
      cv_.notify_all();
    }
    if (progressed) continue;
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(options_.poll_interval_ms),
                 [&] { return stopping_ || notifications_ != seen; });
  }
}

Result<bool> Loader::LoadNext(const catalog::TableKey& key) {
  SLUICE_ASSIGN_OR_RETURN(auto head, catalog_.HeadOfQueue(key));
  if (!head) return false;
  const catalog::FileRecord& file = *head;
  if (file.status == catalog::FileStatus::kFailed) return false;  // blocked until retry/skip

  // Applied before a crash, or by another node: record it, never apply twice.
  LoadEvent event;
  event.seq = file.seq;
  event.table = key;
  event.key = file.key;
  event.bytes = file.size;
  SLUICE_ASSIGN_OR_RETURN(auto applied, pool_.FindApplied(file.seq));
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

  SLUICE_RETURN_IF_ERROR(catalog_.MarkLoading(file.seq));
  const int64_t started = clock_.NowMicros();
  pool::ApplyCounts counts;
  Status outcome = Apply(file, *table, &counts);
  if (outcome.ok()) {
    LogInfo("load", "loaded file " + std::to_string(file.seq) + " " + key.connection_id + "/" +
                        file.key + ": " + std::to_string(counts.inserted) + " inserted, " +
                        std::to_string(counts.updated) + " updated, " +
                        std::to_string(counts.refused) + " refused as stale in " +
                        std::to_string((clock_.NowMicros() - started) / 1000) + " ms");
    event.counts = {counts.inserted, counts.updated, counts.refused, counts.deleted};
    SLUICE_RETURN_IF_ERROR(catalog_.MarkLoaded(file.seq, event.counts, clock_.NowMicros()));
    CrashPoint("load.after_mark_loaded");
  } else {
    LogWarn("load", "file " + std::to_string(file.seq) + " " + key.connection_id + "/" + file.key +
                        " failed: " + outcome.ToString());
    SLUICE_RETURN_IF_ERROR(catalog_.MarkFailed(file.seq, outcome));
    event.status = catalog::FileStatus::kFailed;
    event.error_code = std::string(ErrorCodeName(outcome.code()));
    event.error_message = outcome.message();
  }
  event.duration_micros = clock_.NowMicros() - started;
  Report(event);
  return true;
}

Status Loader::Apply(const catalog::FileRecord& file, const catalog::TableConfig& table,
                     pool::ApplyCounts* counts) {
  SLUICE_ASSIGN_OR_RETURN(auto source, store_.Open(file.landed_id));
  SLUICE_ASSIGN_OR_RETURN(auto reader, parquet::OpenParquet(std::move(source)));

  const shape::FlatTable flat{table.primary_key, table.age_column};
  SLUICE_RETURN_IF_ERROR(shape::CheckSchema(flat, reader->schema()));

  const pool::TableSpec spec{table.name, table.primary_key, table.age_column};
  SLUICE_ASSIGN_OR_RETURN(auto tx, pool_.BeginLoad(spec, file.seq));
  batch::Batch batch;
  int64_t first_row = 0;
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(bool more, reader->Next(&batch));
    if (!more) break;
    SLUICE_RETURN_IF_ERROR(shape::CheckKeys(flat, batch, first_row));
    SLUICE_RETURN_IF_ERROR(tx->Apply(batch));
    CrashPoint("load.mid_load");
    first_row += batch.num_rows;
  }
  SLUICE_RETURN_IF_ERROR(tx->Commit(clock_.NowMicros()));
  CrashPoint("load.after_pool_commit");
  *counts = tx->counts();
  return Status::Ok();
}

}  // namespace sluice::load
