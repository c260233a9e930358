#pragma once
// Status: the outcome of an operation that can fail on expected grounds (bad input, I/O, a
// missing thing). One error enum for the whole project; `s3/` maps it to S3 codes and HTTP
// statuses, the ledger stores its name. The OK path allocates nothing.
//
// Thread-safety: a Status is a value; copies are independent.

#include <memory>
#include <string>
#include <string_view>

namespace sluice {

// Every expected failure in sluice. The ingestion codes (kPkNotFound ...) are part of the
// user-visible contract: their names appear in the ledger and in `sluice files`.
enum class ErrorCode {
  kOk = 0,
  // General.
  kInvalidArgument,
  kNotFound,
  kAlreadyExists,
  kIoError,
  kInternal,
  kNotImplemented,
  kUnavailable,  // transient: backpressure, shutting down
  // Ingestion (the ledger's error codes).
  kCorruptFile,
  kUnsupportedFormat,
  kPkNotFound,
  kPkNull,
  kAgeColumnNotFound,
  kSchemaMismatch,
  kTableNotConfigured,
  // Not an error: a hidden key (a path segment starting with '_' or '.') is stored and never
  // loaded (catalog::TableConfig::load_hidden_keys); the ledger records why it was skipped.
  kHiddenKey,
  // The file is well-formed but needs more than a named limit allows (memory per load, one
  // value's size, nesting depth, columns): the message names the limit and its flag.
  kLimitExceeded,
  // S3 / authentication.
  kAccessDenied,
  kInvalidAccessKeyId,
  kSignatureDoesNotMatch,
  kRequestTimeTooSkewed,
  kNoSuchBucket,
  kNoSuchKey,
  kBadDigest,
  kInvalidDigest,
  kContentSha256Mismatch,
  kInvalidRequest,
  kMissingContentLength,
  kIncompleteBody,
  kEntityTooLarge,
  kMalformedXml,
  kRequestTimeout,
  kSlowDown,
  kMethodNotAllowed,
  kBucketAlreadyOwnedByYou,
  kBucketAlreadyExists,
  kBucketNotEmpty,
  kNoSuchUpload,
  kInvalidPart,
  kInvalidPartOrder,
  kEntityTooSmall,
  kInvalidRange,
  kPreconditionFailed,
  // A conditional write (If-None-Match / If-Match) whose condition held when it began but was
  // broken by a concurrent write before it committed: S3's 409 ConditionalRequestConflict.
  kConditionalRequestConflict,
  // A connection's disk quota would be exceeded: refused before the body is read.
  kQuotaExceeded,
  // A version id that names no version of the key (S3's 404 NoSuchVersion).
  kNoSuchVersion,
  // A bucket configuration sluice cannot take (versioning suspended): S3's 409
  // InvalidBucketState, its answer where a bucket's versioning state cannot change.
  kInvalidBucketState,
};

// The stable upper-snake name of a code ("PK_NOT_FOUND"), as stored in the ledger.
std::string_view ErrorCodeName(ErrorCode code);
// Inverse of ErrorCodeName; kInternal for an unknown name.
ErrorCode ErrorCodeFromName(std::string_view name);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(ErrorCode code, std::string message);

  static Status Ok() { return Status(); }

  bool ok() const { return state_ == nullptr; }
  ErrorCode code() const { return state_ ? state_->code : ErrorCode::kOk; }
  // Empty for OK. Never contains secrets: callers must not put them there.
  const std::string& message() const;
  // "PK_NOT_FOUND: primary key column 'order_id' is not in the file".
  std::string ToString() const;

  // Returns a copy whose message is prefixed with `context: `.
  Status WithContext(std::string_view context) const;

  void IgnoreError() const {}

 private:
  struct State {
    ErrorCode code;
    std::string message;
  };
  std::shared_ptr<const State> state_;
};

inline bool operator==(const Status& a, ErrorCode c) { return a.code() == c; }

// Convenience constructors, e.g. `return Err(ErrorCode::kPkNull, "...")`.
inline Status Err(ErrorCode code, std::string message) { return Status(code, std::move(message)); }

}  // namespace sluice

#define SLUICE_CONCAT_INNER(a, b) a##b
#define SLUICE_CONCAT(a, b) SLUICE_CONCAT_INNER(a, b)

// Returns from the current function if `expr` (a Status) is not OK.
#define SLUICE_RETURN_IF_ERROR(expr)         \
  do {                                       \
    ::sluice::Status _sluice_st = (expr);    \
    if (!_sluice_st.ok()) return _sluice_st; \
  } while (0)
