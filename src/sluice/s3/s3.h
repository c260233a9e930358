#pragma once
// s3: the S3 protocol. Routes requests (path-style), authenticates them (auth/), streams
// bodies into an ObjectSink while computing MD5 (the ETag), SHA-256 (payload hash) and the
// requested checksums, and answers S3 XML. It owns the one table mapping ErrorCode to S3 error
// codes and HTTP statuses. It knows nothing of SQL, Parquet or the ledger: the Backend does
// the storing, the app implements it.
//
// This cut: PutObject, HeadBucket, ListBuckets; header SigV4 with a hex payload hash or
// UNSIGNED-PAYLOAD (with x-amz-checksum-* headers verified); everything else NotImplemented.
//
// Thread-safety: Service is safe to share between I/O threads.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sluice/core/core.h"
#include "sluice/http/http.h"

namespace sluice::s3 {

// Who signed the request.
struct Identity {
  AccessKeyId access_key;
  std::string connection_id;  // the only bucket this key may touch
};

struct BucketInfo {
  std::string name;
  int64_t created_at = 0;  // micros
};

struct ObjectDigests {
  uint64_t size = 0;
  std::string md5_hex;
  std::string sha256_hex;  // empty when not computed (UNSIGNED-PAYLOAD and no checksum)
};

struct PutRequest {
  std::string bucket;
  std::string key;  // decoded UTF-8
  std::string content_type;
  // x-amz-meta-* headers: full header name lower-cased (prefix kept), value trimmed; at most
  // 2 KB in total (S3's limit).
  std::vector<std::pair<std::string, std::string>> user_metadata;
};

// Where an uploaded body goes. Append is called as the body arrives; Commit only after every
// digest check passed, and must return only when the object is durable and recorded.
class ObjectSink {
 public:
  virtual ~ObjectSink() = default;
  virtual Status Append(ByteView data) = 0;
  // Returns extra response headers (e.g. x-amz-meta-sluice-seq).
  virtual Result<http::HeaderList> Commit(const ObjectDigests& digests) = 0;
  virtual void Abort() = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;
  // The secret and connection of an access key; kInvalidAccessKeyId when unknown/inactive.
  virtual Result<std::pair<Secret, std::string>> LookupKey(const AccessKeyId& key) = 0;
  virtual Result<std::vector<BucketInfo>> ListBuckets(const Identity& who) = 0;
  // OK, kNoSuchBucket, or kAccessDenied (another connection's bucket).
  virtual Status CheckBucket(const Identity& who, const std::string& bucket) = 0;
  // Checks the put may proceed (bucket, table policy, backpressure) and opens the sink.
  virtual Result<std::unique_ptr<ObjectSink>> BeginPut(const Identity& who,
                                                       const PutRequest& request) = 0;
};

struct ServiceOptions {
  std::string region = "us-east-1";
  int64_t max_skew_seconds = 15 * 60;
  uint64_t max_object_bytes = 5ull * 1024 * 1024 * 1024;  // S3's single-PUT limit
};

// The one table from ErrorCode to what S3 clients match on: the HTTP status and the S3 error
// code (e.g. kContentSha256Mismatch -> 400 "XAmzContentSHA256Mismatch"). Total over the enum.
struct S3Error {
  int http_status = 500;
  std::string_view code;  // static storage
};
S3Error S3ErrorFor(ErrorCode code);

// The http::Handler for the S3 endpoint. `backend` and `clock` must outlive it.
std::unique_ptr<http::Handler> MakeService(Backend& backend, const Clock& clock,
                                           ServiceOptions options = {});

}  // namespace sluice::s3
