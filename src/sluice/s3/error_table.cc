// The one table from sluice's ErrorCode to S3's error codes and HTTP statuses. The S3 codes are
// what clients and s3-tests match on, and the statuses decide retries (see
// ../shared/s3-transcripts/CLIENTS.md): 503 SlowDown and 400 RequestTimeout are retried by
// every client, 4xx auth failures by none.

#include "sluice/s3/s3.h"

namespace sluice::s3 {

S3Error S3ErrorFor(ErrorCode code) {
  // No default: -Wswitch flags a new ErrorCode that is missing here.
  switch (code) {
    case ErrorCode::kOk:
      return {200, "OK"};
    case ErrorCode::kInvalidArgument:
      return {400, "InvalidArgument"};
    case ErrorCode::kNotFound:
      return {404, "NotFound"};
    case ErrorCode::kAlreadyExists:
      return {409, "OperationAborted"};
    case ErrorCode::kIoError:
    case ErrorCode::kInternal:
      return {500, "InternalError"};
    case ErrorCode::kNotImplemented:
      return {501, "NotImplemented"};
    case ErrorCode::kUnavailable:
    case ErrorCode::kSlowDown:
      return {503, "SlowDown"};
    // Ingestion failures happen after the upload was accepted; should a backend report one
    // while accepting a PUT (e.g. a file it can already tell is unusable), it is the client's
    // request that is wrong, and retrying will not help.
    case ErrorCode::kCorruptFile:
    case ErrorCode::kUnsupportedFormat:
    case ErrorCode::kPkNotFound:
    case ErrorCode::kPkNull:
    case ErrorCode::kAgeColumnNotFound:
    case ErrorCode::kSchemaMismatch:
    case ErrorCode::kTableNotConfigured:
    case ErrorCode::kHiddenKey:
    case ErrorCode::kLimitExceeded:
      return {400, "InvalidRequest"};
    case ErrorCode::kAccessDenied:
      return {403, "AccessDenied"};
    case ErrorCode::kInvalidAccessKeyId:
      return {403, "InvalidAccessKeyId"};
    case ErrorCode::kSignatureDoesNotMatch:
      return {403, "SignatureDoesNotMatch"};
    case ErrorCode::kRequestTimeTooSkewed:
      return {403, "RequestTimeTooSkewed"};
    case ErrorCode::kNoSuchBucket:
      return {404, "NoSuchBucket"};
    case ErrorCode::kNoSuchKey:
      return {404, "NoSuchKey"};
    case ErrorCode::kBadDigest:
      return {400, "BadDigest"};
    case ErrorCode::kInvalidDigest:
      return {400, "InvalidDigest"};
    case ErrorCode::kContentSha256Mismatch:
      return {400, "XAmzContentSHA256Mismatch"};
    case ErrorCode::kInvalidRequest:
      return {400, "InvalidRequest"};
    case ErrorCode::kMissingContentLength:
      return {411, "MissingContentLength"};
    case ErrorCode::kIncompleteBody:
      return {400, "IncompleteBody"};
    case ErrorCode::kEntityTooLarge:
      return {400, "EntityTooLarge"};
    case ErrorCode::kMalformedXml:
      return {400, "MalformedXML"};
    case ErrorCode::kRequestTimeout:
      return {400, "RequestTimeout"};
    case ErrorCode::kMethodNotAllowed:
      return {405, "MethodNotAllowed"};
    case ErrorCode::kBucketAlreadyOwnedByYou:
      return {409, "BucketAlreadyOwnedByYou"};
    case ErrorCode::kBucketAlreadyExists:
      return {409, "BucketAlreadyExists"};
    case ErrorCode::kBucketNotEmpty:
      return {409, "BucketNotEmpty"};
    case ErrorCode::kNoSuchUpload:
      return {404, "NoSuchUpload"};
    case ErrorCode::kInvalidPart:
      return {400, "InvalidPart"};
    case ErrorCode::kInvalidPartOrder:
      return {400, "InvalidPartOrder"};
    case ErrorCode::kEntityTooSmall:
      return {400, "EntityTooSmall"};
    case ErrorCode::kInvalidRange:
      return {416, "InvalidRange"};
    case ErrorCode::kPreconditionFailed:
      return {412, "PreconditionFailed"};
    case ErrorCode::kConditionalRequestConflict:
      return {409, "ConditionalRequestConflict"};
    // AWS S3 has no per-bucket byte quota, so no code of its own for this. Ceph RGW, the
    // S3-compatible store with per-bucket and per-user quotas, answers 403 QuotaExceeded, and
    // so do we: a 4xx that no SDK retries (space is freed by a delete, an abort or retention,
    // not by waiting seconds), unlike the 503 SlowDown of backpressure.
    case ErrorCode::kQuotaExceeded:
      return {403, "QuotaExceeded"};
    case ErrorCode::kNoSuchVersion:
      return {404, "NoSuchVersion"};
    case ErrorCode::kInvalidBucketState:
      return {409, "InvalidBucketState"};
  }
  return {500, "InternalError"};  // a value outside the enum
}

}  // namespace sluice::s3
