#include "sluice/core/status.h"

#include <array>
#include <utility>

namespace sluice {
namespace {

struct CodeName {
  ErrorCode code;
  std::string_view name;
};

constexpr std::array kNames = {
    CodeName{ErrorCode::kOk, "OK"},
    CodeName{ErrorCode::kInvalidArgument, "INVALID_ARGUMENT"},
    CodeName{ErrorCode::kNotFound, "NOT_FOUND"},
    CodeName{ErrorCode::kAlreadyExists, "ALREADY_EXISTS"},
    CodeName{ErrorCode::kIoError, "IO_ERROR"},
    CodeName{ErrorCode::kInternal, "INTERNAL"},
    CodeName{ErrorCode::kNotImplemented, "NOT_IMPLEMENTED"},
    CodeName{ErrorCode::kUnavailable, "UNAVAILABLE"},
    CodeName{ErrorCode::kCorruptFile, "CORRUPT_FILE"},
    CodeName{ErrorCode::kUnsupportedFormat, "UNSUPPORTED_FORMAT"},
    CodeName{ErrorCode::kPkNotFound, "PK_NOT_FOUND"},
    CodeName{ErrorCode::kPkNull, "PK_NULL"},
    CodeName{ErrorCode::kAgeColumnNotFound, "AGE_COLUMN_NOT_FOUND"},
    CodeName{ErrorCode::kSchemaMismatch, "SCHEMA_MISMATCH"},
    CodeName{ErrorCode::kTableNotConfigured, "TABLE_NOT_CONFIGURED"},
    CodeName{ErrorCode::kHiddenKey, "HIDDEN_KEY"},
    CodeName{ErrorCode::kLimitExceeded, "LIMIT_EXCEEDED"},
    CodeName{ErrorCode::kAccessDenied, "ACCESS_DENIED"},
    CodeName{ErrorCode::kInvalidAccessKeyId, "INVALID_ACCESS_KEY_ID"},
    CodeName{ErrorCode::kSignatureDoesNotMatch, "SIGNATURE_DOES_NOT_MATCH"},
    CodeName{ErrorCode::kRequestTimeTooSkewed, "REQUEST_TIME_TOO_SKEWED"},
    CodeName{ErrorCode::kNoSuchBucket, "NO_SUCH_BUCKET"},
    CodeName{ErrorCode::kNoSuchKey, "NO_SUCH_KEY"},
    CodeName{ErrorCode::kBadDigest, "BAD_DIGEST"},
    CodeName{ErrorCode::kInvalidDigest, "INVALID_DIGEST"},
    CodeName{ErrorCode::kContentSha256Mismatch, "CONTENT_SHA256_MISMATCH"},
    CodeName{ErrorCode::kInvalidRequest, "INVALID_REQUEST"},
    CodeName{ErrorCode::kMissingContentLength, "MISSING_CONTENT_LENGTH"},
    CodeName{ErrorCode::kIncompleteBody, "INCOMPLETE_BODY"},
    CodeName{ErrorCode::kEntityTooLarge, "ENTITY_TOO_LARGE"},
    CodeName{ErrorCode::kMalformedXml, "MALFORMED_XML"},
    CodeName{ErrorCode::kRequestTimeout, "REQUEST_TIMEOUT"},
    CodeName{ErrorCode::kSlowDown, "SLOW_DOWN"},
    CodeName{ErrorCode::kMethodNotAllowed, "METHOD_NOT_ALLOWED"},
    CodeName{ErrorCode::kBucketAlreadyOwnedByYou, "BUCKET_ALREADY_OWNED_BY_YOU"},
    CodeName{ErrorCode::kBucketAlreadyExists, "BUCKET_ALREADY_EXISTS"},
    CodeName{ErrorCode::kBucketNotEmpty, "BUCKET_NOT_EMPTY"},
    CodeName{ErrorCode::kNoSuchUpload, "NO_SUCH_UPLOAD"},
    CodeName{ErrorCode::kInvalidPart, "INVALID_PART"},
    CodeName{ErrorCode::kInvalidPartOrder, "INVALID_PART_ORDER"},
    CodeName{ErrorCode::kEntityTooSmall, "ENTITY_TOO_SMALL"},
    CodeName{ErrorCode::kInvalidRange, "INVALID_RANGE"},
    CodeName{ErrorCode::kPreconditionFailed, "PRECONDITION_FAILED"},
    CodeName{ErrorCode::kConditionalRequestConflict, "CONDITIONAL_REQUEST_CONFLICT"},
    CodeName{ErrorCode::kQuotaExceeded, "QUOTA_EXCEEDED"},
    CodeName{ErrorCode::kNoSuchVersion, "NO_SUCH_VERSION"},
    CodeName{ErrorCode::kInvalidBucketState, "INVALID_BUCKET_STATE"},
};

const std::string& EmptyString() {
  static const std::string kEmpty;
  return kEmpty;
}

}  // namespace

std::string_view ErrorCodeName(ErrorCode code) {
  for (const auto& entry : kNames) {
    if (entry.code == code) return entry.name;
  }
  return "INTERNAL";
}

ErrorCode ErrorCodeFromName(std::string_view name) {
  for (const auto& entry : kNames) {
    if (entry.name == name) return entry.code;
  }
  return ErrorCode::kInternal;
}

Status::Status(ErrorCode code, std::string message) {
  if (code != ErrorCode::kOk) {
    state_ = std::make_shared<const State>(State{code, std::move(message)});
  }
}

const std::string& Status::message() const { return state_ ? state_->message : EmptyString(); }

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string out(ErrorCodeName(state_->code));
  if (!state_->message.empty()) {
    out += ": ";
    out += state_->message;
  }
  return out;
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) return *this;
  std::string msg(context);
  msg += ": ";
  msg += state_->message;
  return Status(state_->code, std::move(msg));
}

}  // namespace sluice
