#pragma once
// Private to s3/: path-style routing. `/<bucket>/<key>` with the key percent-decoded once
// (UTF-8, '+' literal); the operation named from the method and the query's sub-resources
// as S3 does, so that a refusal can say which operation is not served.

#include <string>
#include <string_view>

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
  kPutObject,
  kUnsupported,  // any other S3 operation: answered NotImplemented after authentication
};

struct Route {
  Operation op = Operation::kUnsupported;
  std::string name;    // the S3 operation name, e.g. "PutObject", "UploadPart"
  std::string bucket;  // decoded; empty for service-level requests
  std::string key;     // decoded UTF-8; empty for bucket-level requests
  Status error;        // a malformed path (bad escape, invalid UTF-8, too long)
};

Route RouteRequest(const http::RequestHead& head);

// Percent-decodes once ('+' stays '+'); kInvalidRequest on a bad escape.
Result<std::string> DecodePathSegment(std::string_view raw);
bool IsValidUtf8(std::string_view s);

}  // namespace sluice::s3
