#include "sluice/store/s3_backend.h"

#include <nlohmann/json.hpp>

#include "sluice/core/mutex.h"
#include "sluice/store/backend_internal.h"
#include "sluice/store/flow.h"
#include "sluice/store/upload_observer.h"

namespace sluice::store {
namespace {

// An ingestion error message can be long (a schema diff); a header carries its start.
constexpr size_t kMaxStatusMessageBytes = 512;
// Past this many entries the lock map drops the unused ones.
constexpr size_t kLockMapSweep = 1024;

class LandingSink final : public ReservedSink {
 public:
  LandingSink(catalog::Catalog& catalog, landing::Store& store, load::Loader& loader,
              const Clock& clock, const BackendOptions& options,
              std::unique_ptr<landing::Incoming> incoming, catalog::FileRecord record,
              Disposition disposition, int wait_seconds, QuotaReservation reservation)
      : ReservedSink(std::move(incoming), std::move(reservation)),
        catalog_(catalog),
        store_(store),
        loader_(loader),
        clock_(clock),
        options_(options),
        record_(std::move(record)),
        disposition_(std::move(disposition)),
        wait_seconds_(wait_seconds) {}

  Result<http::HeaderList> Commit(const s3::ObjectDigests& digests) override {
    SLUICE_ASSIGN_OR_RETURN(std::string id, incoming_->Commit());
    record_.landed_id = id;
    record_.size = digests.size;
    record_.md5_hex = digests.md5_hex;
    record_.etag = digests.md5_hex;
    record_.sha256_hex = digests.sha256_hex;
    record_.checksums_json = ChecksumsJson(digests.checksums);
    record_.received_at = clock_.NowMicros();
    record_.status = disposition_.status;
    if (!disposition_.error.ok()) {
      record_.error_code = std::string(ErrorCodeName(disposition_.error.code()));
      record_.error_message = disposition_.error.message();
      record_.finished_at = record_.received_at;
    }
    auto seq = catalog_.AppendFile(record_);
    if (!seq.ok()) {
      // Not acknowledged, so not kept: the client will retry the PUT.
      store_.Remove(id).IgnoreError();
      return seq.status().WithContext("recording the file in the ledger");
    }
    record_.seq = *seq;
    reservation_.Keep(record_.size);
    NoteAccepted(options_, record_);
    loader_.Notify();
    http::HeaderList headers;
    headers.emplace_back("x-amz-meta-sluice-seq", std::to_string(*seq));
    headers.emplace_back("x-amz-meta-sluice-status",
                         std::string(catalog::FileStatusName(record_.status)));
    CrashPoint("put.before_response");
    return headers;
  }

  http::Response Respond(http::Response response) override {
    if (wait_seconds_ <= 0 || options_.waits == nullptr) return response;
    return options_.waits->Hold(record_.seq, wait_seconds_, std::move(response));
  }

 private:
  catalog::Catalog& catalog_;
  landing::Store& store_;
  load::Loader& loader_;
  const Clock& clock_;
  const BackendOptions& options_;
  catalog::FileRecord record_;
  Disposition disposition_;
  const int wait_seconds_;
};

s3::ObjectInfo InfoOf(const catalog::FileRecord& f, bool full) {
  s3::ObjectInfo info;
  info.key = f.key;
  info.size = f.size;
  info.etag = f.etag.empty() ? f.md5_hex : f.etag;
  info.last_modified = f.received_at;
  info.content_type = f.content_type;
  if (full) {
    info.user_metadata = MetadataFromJson(f.metadata_json);
    info.status_headers = StatusHeaders(f);
  }
  return info;
}

Status NoSuchKey(const std::string& key) {
  return Err(ErrorCode::kNoSuchKey, "The specified key does not exist: " + key);
}

}  // namespace

KeyedLocks::Guard KeyedLocks::Lock(const std::string& name) {
  std::shared_ptr<std::mutex> mu;
  {
    MutexLock lock(&mu_);
    if (locks_.size() > kLockMapSweep) {
      std::erase_if(locks_, [](const auto& entry) { return entry.second.expired(); });
    }
    auto& slot = locks_[name];
    mu = slot.lock();
    if (!mu) {
      mu = std::make_shared<std::mutex>();
      slot = mu;
    }
  }
  return Guard(std::move(mu));
}

std::string TableOfKey(const std::string& key) {
  const auto slash = key.find('/');
  return slash == std::string::npos ? std::string() : key.substr(0, slash);
}

Result<Disposition> DispositionFor(catalog::Catalog& catalog, const std::string& bucket,
                                   const std::string& key) {
  SLUICE_ASSIGN_OR_RETURN(auto connection, catalog.GetConnection(bucket));
  if (!connection) return Err(ErrorCode::kNoSuchBucket, "The specified bucket does not exist");
  const std::string table = TableOfKey(key);
  Disposition disposition;
  std::optional<catalog::TableConfig> config;
  if (!table.empty()) {
    SLUICE_ASSIGN_OR_RETURN(config, catalog.GetTable(bucket, table));
  }
  if (config) return disposition;
  const std::string why =
      table.empty() ? "key '" + key + "' is not below a table prefix (push to <table>/<file>)"
                    : "no table '" + table + "' is configured on connection '" + bucket + "'";
  switch (connection->unconfigured) {
    case catalog::UnconfiguredPolicy::kRefuse:
      return Err(ErrorCode::kAccessDenied, why);
    case catalog::UnconfiguredPolicy::kHold:
      disposition.status = catalog::FileStatus::kFailed;
      disposition.error = Err(ErrorCode::kTableNotConfigured,
                              why + "; the file is held: configure the table, then retry it");
      break;
    case catalog::UnconfiguredPolicy::kStore:
      disposition.status = catalog::FileStatus::kSkipped;
      disposition.error =
          Err(ErrorCode::kTableNotConfigured, why + "; stored as a plain object, not ingested");
      break;
  }
  return disposition;
}

std::string MetadataJson(const std::vector<std::pair<std::string, std::string>>& metadata) {
  nlohmann::json meta = nlohmann::json::object();
  for (const auto& [name, value] : metadata) meta[name] = value;
  // Replace invalid UTF-8 rather than throw: header bytes are the client's.
  return meta.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::vector<std::pair<std::string, std::string>> MetadataFromJson(const std::string& json) {
  std::vector<std::pair<std::string, std::string>> out;
  const auto meta = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!meta.is_object()) return out;
  for (const auto& [name, value] : meta.items()) {
    if (value.is_string()) out.emplace_back(name, value.get<std::string>());
  }
  return out;
}

http::HeaderList StatusHeaders(const catalog::FileRecord& f) {
  http::HeaderList h;
  h.emplace_back("x-amz-meta-sluice-status", std::string(catalog::FileStatusName(f.status)));
  h.emplace_back("x-amz-meta-sluice-seq", std::to_string(f.seq));
  h.emplace_back("x-amz-meta-sluice-rows-inserted", std::to_string(f.rows_inserted));
  h.emplace_back("x-amz-meta-sluice-rows-updated", std::to_string(f.rows_updated));
  h.emplace_back("x-amz-meta-sluice-rows-refused", std::to_string(f.rows_refused));
  h.emplace_back("x-amz-meta-sluice-rows-deleted", std::to_string(f.rows_deleted));
  if (f.duplicate_of != 0) {
    h.emplace_back("x-amz-meta-sluice-duplicate-of", std::to_string(f.duplicate_of));
  }
  if (!f.error_code.empty()) {
    h.emplace_back("x-amz-meta-sluice-error-code", s3::HeaderSafe(f.error_code, 64));
  }
  // Failures carry their error; a skipped file says why it was skipped (a duplicate).
  if (!f.error_message.empty()) {
    h.emplace_back("x-amz-meta-sluice-error-message",
                   s3::HeaderSafe(f.error_message, kMaxStatusMessageBytes));
  }
  return h;
}

std::string ChecksumsJson(const std::vector<std::pair<std::string, std::string>>& checksums) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [algorithm, value] : checksums) out[algorithm] = value;
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void NoteAccepted(const BackendOptions& options, const catalog::FileRecord& file) {
  if (options.metrics != nullptr) options.metrics->OnReceived(file.connection_id, file.size);
  if (options.backpressure != nullptr && file.status == catalog::FileStatus::kQueued) {
    options.backpressure->OnQueued(file.connection_id, file.size);
  }
}

Status AdmitUpload(const BackendOptions& options, const std::string& connection) {
  if (options.backpressure == nullptr) return Status::Ok();
  return options.backpressure->Admit(connection);
}

Result<QuotaReservation> ReserveDisk(catalog::Catalog& catalog, const BackendOptions& options,
                                     const std::string& connection, uint64_t bytes) {
  if (options.quota == nullptr) return QuotaReservation();
  // Read on each upload, no cache: a quota set with the CLI holds from the next upload on.
  SLUICE_ASSIGN_OR_RETURN(auto record, catalog.GetConnection(connection));
  if (!record) return Err(ErrorCode::kNoSuchBucket, "The specified bucket does not exist");
  return options.quota->Reserve(*record, bytes);
}

Status ReservedSink::Append(ByteView data) {
  appended_ += data.size();
  if (appended_ > reservation_.bytes()) {
    SLUICE_RETURN_IF_ERROR(reservation_.Grow(appended_ - reservation_.bytes()));
  }
  return incoming_->Append(data);
}

void ReservedSink::Abort() {
  incoming_->Abort();
  reservation_.Release();
}

void DiskAdded(const BackendOptions& options, const std::string& connection, uint64_t bytes) {
  if (options.quota != nullptr) options.quota->Add(connection, bytes);
}

void DiskRemoved(const BackendOptions& options, const std::string& connection, uint64_t bytes) {
  if (options.quota != nullptr) options.quota->Remove(connection, bytes);
}

Result<std::pair<Secret, std::string>> StoreBackend::LookupKey(const AccessKeyId& key) {
  SLUICE_ASSIGN_OR_RETURN(auto credential, catalog_.LookupAccessKey(key));
  if (!credential || !credential->active) {
    return Err(ErrorCode::kInvalidAccessKeyId,
               "The AWS Access Key Id you provided does not exist in our records.");
  }
  return std::make_pair(credential->secret, credential->connection_id);
}

Result<std::vector<s3::BucketInfo>> StoreBackend::ListBuckets(const s3::Identity& who) {
  std::vector<s3::BucketInfo> out;
  if (who.account) {
    SLUICE_ASSIGN_OR_RETURN(auto connections, catalog_.ListConnections());
    for (const auto& c : connections) out.push_back({c.id, c.created_at});
    return out;
  }
  SLUICE_ASSIGN_OR_RETURN(auto connection, catalog_.GetConnection(who.connection_id));
  if (connection) out.push_back({connection->id, connection->created_at});
  return out;
}

Status StoreBackend::CheckBucket(const s3::Identity& who, const std::string& bucket) {
  SLUICE_ASSIGN_OR_RETURN(auto connection, catalog_.GetConnection(bucket));
  if (!connection) {
    return Err(ErrorCode::kNoSuchBucket, "The specified bucket does not exist");
  }
  if (!who.account && bucket != who.connection_id) {
    return Err(ErrorCode::kAccessDenied, "Access Denied: this access key belongs to connection '" +
                                             who.connection_id + "', not '" + bucket + "'");
  }
  return Status::Ok();
}

Result<std::unique_ptr<s3::ObjectSink>> StoreBackend::BeginPut(const s3::Identity& who,
                                                               const s3::PutRequest& request) {
  SLUICE_RETURN_IF_ERROR(CheckBucket(who, request.bucket));
  SLUICE_ASSIGN_OR_RETURN(Disposition disposition,
                          DispositionFor(catalog_, request.bucket, request.key));
  catalog::FileRecord record;
  record.connection_id = request.bucket;
  record.table = TableOfKey(request.key);
  record.key = request.key;
  record.content_type = request.content_type;
  record.metadata_json = MetadataJson(request.user_metadata);
  SLUICE_ASSIGN_OR_RETURN(int wait, WaitSecondsOf(request.user_metadata));
  SLUICE_RETURN_IF_ERROR(AdmitUpload(options_, request.bucket));
  SLUICE_ASSIGN_OR_RETURN(QuotaReservation reservation,
                          ReserveDisk(catalog_, options_, request.bucket, request.size));

  SLUICE_ASSIGN_OR_RETURN(auto incoming, store_.Begin());
  return std::unique_ptr<s3::ObjectSink>(
      new LandingSink(catalog_, store_, loader_, clock_, options_, std::move(incoming),
                      std::move(record), std::move(disposition), wait, std::move(reservation)));
}

Status StoreBackend::CreateBucket(const s3::Identity& who, const std::string& bucket) {
  if (!who.account) {
    if (bucket == who.connection_id) {
      return Err(ErrorCode::kBucketAlreadyOwnedByYou,
                 "Your previous request to create the named bucket succeeded and you already "
                 "own it.");
    }
    return Err(ErrorCode::kAccessDenied,
               "Access Denied: only an account key may create buckets; this key belongs to "
               "connection '" +
                   who.connection_id + "'");
  }
  auto created = catalog_.CreateBucketConnection(bucket);
  if (created.ok()) {
    LogInfo("store", "connection '" + EscapeForLog(bucket) + "' created through S3 CreateBucket");
    return Status::Ok();
  }
  if (created.status().code() == ErrorCode::kAlreadyExists) {
    return Err(ErrorCode::kBucketAlreadyOwnedByYou,
               "Your previous request to create the named bucket succeeded and you already own "
               "it.");
  }
  return created.status();
}

Status StoreBackend::DeleteBucket(const s3::Identity& who, const std::string& bucket) {
  if (!who.account) {
    return Err(ErrorCode::kAccessDenied,
               "Access Denied: only an account key may delete buckets; this key belongs to "
               "connection '" +
                   who.connection_id + "'");
  }
  Status st = DeleteConnection(bucket, "S3 DeleteBucket");
  if (st.code() == ErrorCode::kNotFound) {
    return Err(ErrorCode::kNoSuchBucket, "The specified bucket does not exist");
  }
  return st;
}

Status StoreBackend::DeleteConnection(const std::string& id, std::string_view via) {
  SLUICE_ASSIGN_OR_RETURN(std::vector<std::string> landed, catalog_.DeleteConnection(id));
  for (const std::string& landed_id : landed) {
    Status st = store_.Remove(landed_id);
    if (!st.ok()) LogWarn("store", "deleting connection " + id + ": " + st.ToString());
  }
  if (options_.quota != nullptr) options_.quota->Forget(id);
  LogInfo("store", "connection '" + id + "' deleted through " + std::string(via));
  return Status::Ok();
}

Result<s3::ObjectData> StoreBackend::GetObject(const s3::Identity& who, const std::string& bucket,
                                               const std::string& key, bool with_body) {
  SLUICE_RETURN_IF_ERROR(CheckBucket(who, bucket));
  SLUICE_ASSIGN_OR_RETURN(auto file, catalog_.VisibleFile(bucket, key));
  if (!file) return NoSuchKey(key);
  s3::ObjectData out;
  out.info = InfoOf(*file, /*full=*/true);
  if (with_body) {
    auto opened = store_.Open(file->landed_id);
    if (!opened.ok()) {
      // Deleted between the lookup and the open: the key is gone.
      if (opened.status().code() == ErrorCode::kNotFound) return NoSuchKey(key);
      return opened.status().WithContext("reading " + key);
    }
    out.file = std::shared_ptr<const RandomAccessFile>(std::move(opened).value());
  }
  return out;
}

Result<s3::ListPage> StoreBackend::ListObjects(const s3::Identity& who, const std::string& bucket,
                                               const s3::ListQuery& query) {
  SLUICE_RETURN_IF_ERROR(CheckBucket(who, bucket));
  s3::ListPage page;
  if (query.max_keys == 0) return page;
  // One more than asked tells whether the listing is truncated.
  SLUICE_ASSIGN_OR_RETURN(
      auto visible,
      catalog_.ListVisible(bucket, query.prefix, query.start_after, query.max_keys + 1));
  std::vector<catalog::FileRecord>& files = visible.files;
  page.truncated = files.size() > query.max_keys;
  if (page.truncated) {
    files.resize(query.max_keys);
  } else if (!visible.scanned_to.empty()) {
    // The catalog's read window ended first: more keys may follow the last one it read.
    page.truncated = true;
    page.resume_after = std::move(visible.scanned_to);
  }
  page.objects.reserve(files.size());
  for (const auto& f : files) page.objects.push_back(InfoOf(f, /*full=*/false));
  return page;
}

Status StoreBackend::DeleteObject(const s3::Identity& who, const std::string& bucket,
                                  const std::string& key) {
  SLUICE_RETURN_IF_ERROR(CheckBucket(who, bucket));
  SLUICE_ASSIGN_OR_RETURN(auto marked, catalog_.DeleteKey(bucket, key));
  for (const auto& f : marked) {
    // Queued and loading files are still to be read by the loader, failed ones by a retry.
    if (f.status != catalog::FileStatus::kLoaded && f.status != catalog::FileStatus::kSkipped) {
      continue;
    }
    if (f.purged_at != 0) continue;  // retention removed the bytes already
    Status st = store_.Remove(f.landed_id);
    // Bytes first, ledger second (as retention does): a crash in between leaves a file
    // recorded as stored whose bytes are gone, which retention removes again harmlessly.
    if (st.ok()) st = catalog_.MarkPurged(f.seq, clock_.NowMicros());
    if (!st.ok()) {
      LogWarn("store", "deleted " + EscapeForLog(bucket + "/" + key) + " (file " +
                           std::to_string(f.seq) +
                           ") but could not remove its landed bytes: " + st.ToString());
      continue;
    }
    DiskRemoved(options_, bucket, f.size);
  }
  return Status::Ok();
}

}  // namespace sluice::store

namespace sluice::store {

Result<int> StoreBackend::PurgeRetained(int64_t retention_micros) {
  if (retention_micros <= 0) return 0;
  // Batches keep each query short; the loop ends when a batch comes back incomplete.
  constexpr size_t kBatch = 500;
  const int64_t cutoff = clock_.NowMicros() - retention_micros;
  int purged = 0;
  for (;;) {
    SLUICE_ASSIGN_OR_RETURN(auto files, catalog_.RetainedBefore(cutoff, kBatch));
    for (const auto& f : files) {
      SLUICE_RETURN_IF_ERROR(
          store_.Remove(f.landed_id).WithContext("retention of file " + std::to_string(f.seq)));
      SLUICE_RETURN_IF_ERROR(catalog_.MarkPurged(f.seq, clock_.NowMicros()));
      DiskRemoved(options_, f.connection_id, f.size);
      ++purged;
    }
    if (files.size() < kBatch) break;
  }
  if (purged > 0)
    LogInfo("store",
            "retention removed the landed bytes of " + std::to_string(purged) + " finished files");
  return purged;
}

Status RemoveUnrecordedObjects(catalog::Catalog& catalog, landing::Store& store,
                               const Clock& clock) {
  SLUICE_ASSIGN_OR_RETURN(std::vector<std::string> present, store.ListObjects());
  SLUICE_ASSIGN_OR_RETURN(std::vector<std::string> unrecorded,
                          catalog.NotInLedger(std::move(present)));
  std::vector<std::string> orphans;
  const int64_t young = clock.NowMicros() - kSharedOrphanAgeMicros;
  for (std::string& id : unrecorded) {
    if (catalog.Shared()) {
      auto committed = store.CommittedAt(id);
      if (!committed.ok() && committed.status().code() == ErrorCode::kNotFound) continue;
      SLUICE_RETURN_IF_ERROR(committed.status());
      if (*committed > young) continue;  // another node may be about to record it
    }
    SLUICE_RETURN_IF_ERROR(store.Remove(id).WithContext("removing the unrecorded object " + id));
    orphans.push_back(std::move(id));
  }
  if (!orphans.empty()) {
    LogInfo("store", "removed " + std::to_string(orphans.size()) +
                         " landed object(s) that no ledger entry names (an upload cut short by a "
                         "crash after its bytes were durable, never acknowledged)");
  }
  return Status::Ok();
}

}  // namespace sluice::store
