#include "sluice/app/s3_backend.h"

#include <nlohmann/json.hpp>

namespace sluice::app {
namespace {

// What happens to the file once it is durable, decided before the body is read.
struct Disposition {
  catalog::FileStatus status = catalog::FileStatus::kQueued;
  Status error;  // for a file recorded failed (hold) or skipped (store)
};

class LandingSink final : public s3::ObjectSink {
 public:
  LandingSink(catalog::Catalog& catalog, landing::Store& store, load::Loader& loader,
              const Clock& clock, std::unique_ptr<landing::Incoming> incoming,
              catalog::FileRecord record, Disposition disposition)
      : catalog_(catalog),
        store_(store),
        loader_(loader),
        clock_(clock),
        incoming_(std::move(incoming)),
        record_(std::move(record)),
        disposition_(std::move(disposition)) {}

  Status Append(ByteView data) override { return incoming_->Append(data); }

  Result<http::HeaderList> Commit(const s3::ObjectDigests& digests) override {
    SLUICE_ASSIGN_OR_RETURN(std::string id, incoming_->Commit());
    record_.landed_id = id;
    record_.size = digests.size;
    record_.md5_hex = digests.md5_hex;
    record_.sha256_hex = digests.sha256_hex;
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
    loader_.Notify();
    http::HeaderList headers;
    headers.emplace_back("x-amz-meta-sluice-seq", std::to_string(*seq));
    headers.emplace_back("x-amz-meta-sluice-status",
                         std::string(catalog::FileStatusName(record_.status)));
    return headers;
  }

  void Abort() override { incoming_->Abort(); }

 private:
  catalog::Catalog& catalog_;
  landing::Store& store_;
  load::Loader& loader_;
  const Clock& clock_;
  std::unique_ptr<landing::Incoming> incoming_;
  catalog::FileRecord record_;
  Disposition disposition_;
};

}  // namespace

std::string TableOfKey(const std::string& key) {
  const auto slash = key.find('/');
  return slash == std::string::npos ? std::string() : key.substr(0, slash);
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
  SLUICE_ASSIGN_OR_RETURN(auto connection, catalog_.GetConnection(who.connection_id));
  std::vector<s3::BucketInfo> out;
  if (connection) out.push_back({connection->id, connection->created_at});
  return out;
}

Status StoreBackend::CheckBucket(const s3::Identity& who, const std::string& bucket) {
  SLUICE_ASSIGN_OR_RETURN(auto connection, catalog_.GetConnection(bucket));
  if (!connection) {
    return Err(ErrorCode::kNoSuchBucket, "The specified bucket does not exist");
  }
  if (bucket != who.connection_id) {
    return Err(ErrorCode::kAccessDenied, "Access Denied: this access key belongs to connection '" +
                                             who.connection_id + "', not '" + bucket + "'");
  }
  return Status::Ok();
}

Result<std::unique_ptr<s3::ObjectSink>> StoreBackend::BeginPut(const s3::Identity& who,
                                                               const s3::PutRequest& request) {
  SLUICE_RETURN_IF_ERROR(CheckBucket(who, request.bucket));
  SLUICE_ASSIGN_OR_RETURN(auto connection, catalog_.GetConnection(request.bucket));

  const std::string table = TableOfKey(request.key);
  Disposition disposition;
  std::optional<catalog::TableConfig> config;
  if (!table.empty()) {
    SLUICE_ASSIGN_OR_RETURN(config, catalog_.GetTable(request.bucket, table));
  }
  if (!config) {
    const std::string why =
        table.empty()
            ? "key '" + request.key + "' is not below a table prefix (push to <table>/<file>)"
            : "no table '" + table + "' is configured on connection '" + request.bucket + "'";
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
  }

  catalog::FileRecord record;
  record.connection_id = request.bucket;
  record.table = table;
  record.key = request.key;
  record.content_type = request.content_type;
  nlohmann::json meta = nlohmann::json::object();
  for (const auto& [name, value] : request.user_metadata) meta[name] = value;
  record.metadata_json = meta.dump();

  SLUICE_ASSIGN_OR_RETURN(auto incoming, store_.Begin());
  return std::unique_ptr<s3::ObjectSink>(new LandingSink(catalog_, store_, loader_, clock_,
                                                         std::move(incoming), std::move(record),
                                                         std::move(disposition)));
}

}  // namespace sluice::app
