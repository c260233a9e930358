#include "sluice/store/s3_backend.h"

#include <charconv>
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
      return AppendFailure(seq.status(), record_.condition, "recording the file in the ledger");
    }
    record_.seq = *seq;
    reservation_.Keep(record_.size);
    NoteAccepted(options_, record_);
    loader_.Notify();
    http::HeaderList headers;
    headers.emplace_back("x-amz-meta-sluice-seq", std::to_string(*seq));
    headers.emplace_back("x-amz-version-id", std::to_string(*seq));
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
    SplitMetadata(f.metadata_json, &info.headers, &info.user_metadata);
    info.checksum = ChecksumFromJson(f.checksums_json);
    info.status_headers = StatusHeaders(f);
  }
  return info;
}

Status NoSuchKey(const std::string& key) {
  return Err(ErrorCode::kNoSuchKey, "The specified key does not exist: " + key);
}

// The forms of a version id (StoreBackend::GetObjectVersion).
constexpr std::string_view kMarkerSuffix = ".del";

struct VersionId {
  int64_t seq = 0;  // 0: S3's "null" version, which no key has here
  bool marker = false;
};

Result<VersionId> ParseVersionId(std::string_view id) {
  VersionId out;
  if (id == "null") return out;
  if (id.ends_with(kMarkerSuffix)) {
    out.marker = true;
    id.remove_suffix(kMarkerSuffix.size());
  }
  const auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), out.seq);
  if (id.empty() || id[0] < '1' || id[0] > '9' || ec != std::errc() ||
      end != id.data() + id.size()) {
    return Err(ErrorCode::kInvalidArgument, "Invalid version id specified");
  }
  return out;
}

std::string MarkerId(int64_t seq) { return std::to_string(seq) + std::string(kMarkerSuffix); }

Status NoSuchVersion(const std::string& key, const std::string& version_id) {
  return Err(ErrorCode::kNoSuchVersion,
             "The specified version does not exist: version " + version_id + " of " + key);
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
  // A hidden key (a committer's `_temporary/...`, a `_SUCCESS` marker) below a table, or a
  // hidden first segment that names no table, is stored and never loaded.
  const bool hidden =
      catalog::IsHiddenKey(key) || (!config && (table.starts_with('_') || table.starts_with('.')));
  const auto stored_hidden = [&] {
    disposition.status = catalog::FileStatus::kSkipped;
    disposition.error = Err(ErrorCode::kHiddenKey,
                            "key '" + key +
                                "' is hidden (a path segment starts with '_' or '.'): stored as a "
                                "plain object, not loaded");
    return disposition;
  };
  if (config) {
    if (hidden && !config->load_hidden_keys) return stored_hidden();
    return disposition;
  }
  const std::string why =
      table.empty() ? "key '" + key + "' is not below a table prefix (push to <table>/<file>)"
                    : "no table '" + table + "' is configured on connection '" + bucket + "'";
  switch (connection->unconfigured) {
    case catalog::UnconfiguredPolicy::kRefuse:
      return Err(ErrorCode::kAccessDenied, why);
    case catalog::UnconfiguredPolicy::kHold:
      // Holding a committer's marker as a failed file would block nothing useful and alarm.
      if (hidden) return stored_hidden();
      disposition.status = catalog::FileStatus::kFailed;
      disposition.error = Err(ErrorCode::kTableNotConfigured,
                              why + "; the file is held: configure the table, then retry it");
      break;
    case catalog::UnconfiguredPolicy::kStore:
      if (hidden) return stored_hidden();
      disposition.status = catalog::FileStatus::kSkipped;
      disposition.error =
          Err(ErrorCode::kTableNotConfigured, why + "; stored as a plain object, not ingested");
      break;
  }
  return disposition;
}

std::string MetadataJson(const s3::PutRequest& request) {
  nlohmann::json meta = nlohmann::json::object();
  for (const auto& [name, value] : request.user_metadata) meta[name] = value;
  for (const auto& [name, value] : request.headers) meta[name] = value;
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

void SplitMetadata(const std::string& json, s3::StoredHeaders* headers,
                   std::vector<std::pair<std::string, std::string>>* user_metadata) {
  for (auto& pair : MetadataFromJson(json)) {
    (pair.first.starts_with("x-amz-meta-") ? user_metadata : headers)->push_back(std::move(pair));
  }
}

catalog::WriteCondition LedgerCondition(const s3::WriteCondition& condition) {
  return catalog::WriteCondition{condition.if_none_match, condition.if_match};
}

Status CheckConditionNow(catalog::Catalog& catalog, const std::string& bucket,
                         const std::string& key, const s3::WriteCondition& condition) {
  if (condition.empty()) return Status::Ok();
  SLUICE_ASSIGN_OR_RETURN(auto visible, catalog.VisibleFile(bucket, key));
  return catalog::CheckWriteCondition(LedgerCondition(condition), key, std::move(visible));
}

Status AppendFailure(const Status& append, const catalog::WriteCondition& condition,
                     const std::string& context) {
  if (!condition.empty() && append.code() == ErrorCode::kPreconditionFailed) return append;
  if (!condition.if_match.empty() && append.code() == ErrorCode::kNoSuchKey) {
    return Err(ErrorCode::kConditionalRequestConflict,
               "A conflicting operation occurred: the object named by If-Match was deleted "
               "while this upload was in progress. Retry the request.");
  }
  return append.WithContext(context);
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

std::string ChecksumJson(const s3::Checksum& checksum) {
  nlohmann::json out = nlohmann::json::object();
  if (!checksum.algorithm.empty()) {
    out[checksum.algorithm] = checksum.value;
    out["type"] = checksum.type;
  }
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

s3::Checksum ChecksumFromJson(const std::string& json) {
  s3::Checksum out;
  const auto parsed = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_object()) return out;
  for (const auto& [name, value] : parsed.items()) {
    if (!value.is_string()) continue;
    if (name == "type") {
      out.type = value.get<std::string>();
    } else if (out.algorithm.empty()) {
      out.algorithm = name;
      out.value = value.get<std::string>();
    }
  }
  if (out.algorithm.empty()) return {};
  if (out.type.empty()) out.type = "FULL_OBJECT";  // a single PUT's: the checksum of its bytes
  return out;
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
  record.metadata_json = MetadataJson(request);
  record.condition = LedgerCondition(request.condition);
  SLUICE_RETURN_IF_ERROR(
      CheckConditionNow(catalog_, request.bucket, request.key, request.condition));
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
  out.info.version_id = std::to_string(file->seq);
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

void StoreBackend::RemoveDeletedBytes(const catalog::FileRecord& f) {
  // Queued and loading files are still to be read by the loader, failed ones by a retry.
  if (f.status != catalog::FileStatus::kLoaded && f.status != catalog::FileStatus::kSkipped) {
    return;
  }
  if (f.purged_at != 0) return;  // retention removed the bytes already
  Status st = store_.Remove(f.landed_id);
  // Bytes first, ledger second (as retention does): a crash in between leaves a file
  // recorded as stored whose bytes are gone, which retention removes again harmlessly.
  if (st.ok()) st = catalog_.MarkPurged(f.seq, clock_.NowMicros());
  if (!st.ok()) {
    LogWarn("store", "deleted " + EscapeForLog(f.connection_id + "/" + f.key) + " (file " +
                         std::to_string(f.seq) +
                         ") but could not remove its landed bytes: " + st.ToString());
    return;
  }
  DiskRemoved(options_, f.connection_id, f.size);
}

Result<s3::DeleteOutcome> StoreBackend::DeleteObject(const s3::Identity& who,
                                                     const std::string& bucket,
                                                     const std::string& key) {
  SLUICE_RETURN_IF_ERROR(CheckBucket(who, bucket));
  SLUICE_ASSIGN_OR_RETURN(auto marked, catalog_.DeleteKey(bucket, key));
  for (const auto& f : marked) RemoveDeletedBytes(f);
  // The marker the key now reads as (also when it was deleted before): none when it has no
  // file, or when its newest file was deleted as a version.
  s3::DeleteOutcome out;
  SLUICE_ASSIGN_OR_RETURN(auto newest, catalog_.GetVersion(bucket, key, 0));
  if (newest && newest->HasDeleteMarker()) {
    out.version_id = MarkerId(newest->file.seq);
    out.delete_marker = true;
  }
  return out;
}

Result<s3::ObjectData> StoreBackend::GetObjectVersion(const s3::Identity& who,
                                                      const std::string& bucket,
                                                      const std::string& key,
                                                      const std::string& version_id,
                                                      bool with_body) {
  SLUICE_RETURN_IF_ERROR(CheckBucket(who, bucket));
  SLUICE_ASSIGN_OR_RETURN(VersionId id, ParseVersionId(version_id));
  if (id.seq == 0) return NoSuchVersion(key, version_id);
  SLUICE_ASSIGN_OR_RETURN(auto v, catalog_.GetVersion(bucket, key, id.seq));
  if (!v) return NoSuchVersion(key, version_id);
  if (id.marker) {
    if (!v->HasDeleteMarker()) return NoSuchVersion(key, version_id);
    return Err(ErrorCode::kMethodNotAllowed,
               "The specified method is not allowed against this resource: version " + version_id +
                   " of " + key + " is a delete marker");
  }
  if (!v->IsVersion()) return NoSuchVersion(key, version_id);
  s3::ObjectData out;
  out.info = InfoOf(v->file, /*full=*/true);
  out.info.version_id = version_id;
  if (with_body) {
    auto opened = store_.Open(v->file.landed_id);
    if (!opened.ok()) {
      // Removed between the lookup and the open: the version is gone.
      if (opened.status().code() == ErrorCode::kNotFound) return NoSuchVersion(key, version_id);
      return opened.status().WithContext("reading version " + version_id + " of " + key);
    }
    out.file = std::shared_ptr<const RandomAccessFile>(std::move(opened).value());
  }
  return out;
}

Result<s3::VersionPage> StoreBackend::ListObjectVersions(const s3::Identity& who,
                                                         const std::string& bucket,
                                                         const s3::VersionQuery& query) {
  SLUICE_RETURN_IF_ERROR(CheckBucket(who, bucket));
  s3::VersionPage page;
  if (query.max_entries == 0) return page;
  // Where to start inside key_marker: below the version named (a version's files after it; a
  // marker's, its file and the older ones, the marker itself already listed).
  int64_t before = 0;
  int64_t marker_listed = 0;
  if (!query.key_marker.empty() && !query.version_id_marker.empty()) {
    SLUICE_ASSIGN_OR_RETURN(VersionId id, ParseVersionId(query.version_id_marker));
    if (id.seq == 0) return Err(ErrorCode::kInvalidArgument, "Invalid version id specified");
    before = id.marker && id.seq < INT64_MAX ? id.seq + 1 : id.seq;
    marker_listed = id.marker ? id.seq : 0;
  }
  SLUICE_ASSIGN_OR_RETURN(
      catalog::FileVersionPage files,
      catalog_.ListVersions(bucket, query.prefix, query.key_marker, before, query.max_entries));
  const auto full = [&] {
    if (page.entries.size() < query.max_entries) return false;
    page.truncated = true;
    page.next_key_marker = page.entries.back().info.key;
    page.next_version_id_marker = page.entries.back().info.version_id;
    return true;
  };
  for (const catalog::FileVersion& v : files.files) {
    const catalog::FileRecord& f = v.file;
    if (v.HasDeleteMarker() && !(f.key == query.key_marker && f.seq == marker_listed)) {
      if (full()) return page;
      s3::VersionEntry marker;
      marker.info.key = f.key;
      marker.info.last_modified = f.received_at;
      marker.info.version_id = MarkerId(f.seq);
      marker.is_latest = true;
      marker.delete_marker = true;
      page.entries.push_back(std::move(marker));
    }
    if (!v.IsVersion()) continue;
    if (full()) return page;
    s3::VersionEntry version;
    version.info = InfoOf(f, /*full=*/false);
    version.info.version_id = std::to_string(f.seq);
    version.is_latest = v.newest && !f.deleted;
    page.entries.push_back(std::move(version));
  }
  if (files.more) {
    page.truncated = true;
    page.next_key_marker = std::move(files.resume_key);
    page.next_version_id_marker =
        files.resume_before == 0 ? std::string() : std::to_string(files.resume_before);
  }
  return page;
}

Result<s3::DeleteOutcome> StoreBackend::DeleteObjectVersion(const s3::Identity& who,
                                                            const std::string& bucket,
                                                            const std::string& key,
                                                            const std::string& version_id) {
  SLUICE_RETURN_IF_ERROR(CheckBucket(who, bucket));
  SLUICE_ASSIGN_OR_RETURN(VersionId id, ParseVersionId(version_id));
  s3::DeleteOutcome out{version_id, false};
  if (id.seq == 0) return out;  // "null": no such version, and S3 answers 204
  if (id.marker) {
    SLUICE_ASSIGN_OR_RETURN(out.delete_marker, catalog_.RemoveDeleteMarker(bucket, key, id.seq));
    return out;
  }
  SLUICE_ASSIGN_OR_RETURN(auto deleted, catalog_.DeleteVersion(bucket, key, id.seq));
  if (deleted) RemoveDeletedBytes(deleted->file);
  return out;
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
