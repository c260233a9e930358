#pragma once
// Private to s3/: routing. Path-style `/<bucket>/<key>`, or virtual-hosted-style when the Host
// is `<bucket>.<base domain>` (then the whole path is the key). Bucket and key are
// percent-decoded once (UTF-8, '+' literal); the operation is named from the method and the
// query's sub-resources as S3 does, so that a refusal can say which operation is not served.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sluice/core/core.h"
#include "sluice/http/http.h"

namespace sluice::s3 {

// S3's limit on key length in bytes; longer keys are refused before any lookup.
constexpr size_t kMaxKeyBytes = 1024;
// S3 bucket names are 3 to 63 characters; anything longer cannot name a bucket.
constexpr size_t kMaxBucketBytes = 63;

enum class Operation {
  kListBuckets,
  kHeadBucket,
  kCreateBucket,
  kDeleteBucket,
  kGetBucketLocation,
  kListObjects,    // v1
  kListObjectsV2,  // list-type=2
  kListMultipartUploads,
  kListObjectVersions,   // ?versions
  kGetBucketVersioning,  // GET ?versioning
  kPutBucketVersioning,  // PUT ?versioning
  kDeleteObjects,
  kPutObject,
  kCopyObject,
  kUploadPartCopy,
  kGetObject,
  kHeadObject,
  kDeleteObject,
  kCreateMultipartUpload,
  kUploadPart,
  kCompleteMultipartUpload,
  kAbortMultipartUpload,
  kListParts,
  kUnsupported,  // any other S3 operation: answered NotImplemented after authentication
};

// Decoded query parameters in request order; a bare `name` has an empty value.
using QueryParams = std::vector<std::pair<std::string, std::string>>;

struct Route {
  Operation op = Operation::kUnsupported;
  std::string name;    // the S3 operation name, e.g. "PutObject", "UploadPart"
  std::string bucket;  // decoded; empty for service-level requests
  std::string key;     // decoded UTF-8; empty for bucket-level requests
  QueryParams query;
  bool virtual_host = false;  // the bucket came from the Host header
  Status error;               // a malformed path or query (bad escape, invalid UTF-8, too long)

  // The first value of query parameter `name`, or nullptr.
  const std::string* Param(std::string_view name) const;
  // Its value, or "" when absent (listings read an empty parameter as an absent one).
  std::string ParamOrEmpty(std::string_view name) const;
};

// `base_domain` empty: path-style only.
Route RouteRequest(const http::RequestHead& head, std::string_view base_domain = {});

// Percent-decodes once ('+' stays '+'); kInvalidRequest on a bad escape.
Result<std::string> DecodePathSegment(std::string_view raw);

}  // namespace sluice::s3
