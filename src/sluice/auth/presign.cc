// Query-string ("presigned URL") authentication.
//
// SigV4 query form (AWS "Authenticating Requests: Using Query Parameters"):
//   ?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=<key>/<date>/<region>/s3/aws4_request
//   &X-Amz-Date=20261127T013439Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature=<hex>
// signed like header auth (sigv4.cc) with X-Amz-Signature left out of the canonical query and
// UNSIGNED-PAYLOAD as the payload hash unless an x-amz-content-sha256 header is sent. Valid
// from X-Amz-Date to X-Amz-Date + X-Amz-Expires (at most 604800 s, a week).
//
// SigV2 query form (S3 "Query string request authentication alternative"), which
// boto3's generate_presigned_url produces by default:
//   ?AWSAccessKeyId=<key>&Expires=<epoch seconds>&Signature=<base64 HMAC-SHA1>
// signed with SigV2's string to sign (sigv2.cc) with Expires in its date line.
// Example (boto3-presigned-put_object-curl.json):
//   "PUT\n\n\n1795744179\n/conn-demo/orders/2024/presigned.parquet"

#include "sluice/auth/auth.h"
#include "sluice/auth/auth_internal.h"

namespace sluice::auth {

using namespace internal;  // NOLINT(google-build-using-namespace): this module's own helpers

namespace {

// S3 refuses presigned SigV4 URLs valid for more than a week.
constexpr int64_t kMaxPresignExpiresSeconds = 604800;
// Expires is epoch seconds; 18 digits keep the value far inside int64_t.
constexpr size_t kMaxExpiresDigits = 18;

using Query = std::vector<std::pair<std::string, std::string>>;

// The value of `name` when it occurs exactly once; nullptr when absent; `twice` set when
// repeated.
const std::string* Param(const Query& query, std::string_view name, bool* twice) {
  const std::string* found = nullptr;
  for (const auto& [n, v] : query) {
    if (n != name) continue;
    if (found != nullptr) *twice = true;
    found = &v;
  }
  return found;
}

Status QueryError(const std::string& why) {
  return Status(ErrorCode::kInvalidArgument, "presigned URL (SigV4 query auth): " + why);
}

}  // namespace

namespace internal {

Result<ParsedAuth> ParsePresignedV4(const Request& request, const Query& query) {
  static constexpr std::string_view kNames[] = {"X-Amz-Algorithm",     "X-Amz-Credential",
                                                "X-Amz-Date",          "X-Amz-Expires",
                                                "X-Amz-SignedHeaders", "X-Amz-Signature"};
  const std::string* values[std::size(kNames)];
  for (size_t i = 0; i < std::size(kNames); ++i) {
    bool twice = false;
    values[i] = Param(query, kNames[i], &twice);
    if (twice) return QueryError(std::string(kNames[i]) + " given more than once");
    if (values[i] == nullptr) {
      return QueryError(
          "missing " + std::string(kNames[i]) +
          "; query-string authentication version 4 requires the X-Amz-Algorithm, "
          "X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires "
          "parameters");
    }
  }
  const std::string& algorithm = *values[0];
  const std::string& credential = *values[1];
  const std::string& date = *values[2];
  const std::string& expires = *values[3];
  const std::string& signed_headers = *values[4];
  const std::string& signature = *values[5];

  if (algorithm != kAlgorithm) {
    return QueryError("X-Amz-Algorithm '" + algorithm.substr(0, 32) +
                      "' is not supported; expected AWS4-HMAC-SHA256");
  }
  ParsedAuth out;
  out.scheme = AuthScheme::kPresignedV4;
  SLUICE_RETURN_IF_ERROR(ParseCredential(credential, "X-Amz-Credential", &out));
  SLUICE_ASSIGN_OR_RETURN(const int64_t date_seconds, ParseAmzDate(date));
  out.amz_date = date;
  if (out.amz_date.compare(0, 8, out.scope_date) != 0) {
    return QueryError("credential scope date " + out.scope_date + " is not the day of X-Amz-Date " +
                      out.amz_date);
  }
  if (expires.empty() || expires.size() > kMaxExpiresDigits || !AllDigits(expires)) {
    return QueryError("X-Amz-Expires should be a number of seconds");
  }
  const int64_t expires_seconds = std::stoll(expires);
  if (expires_seconds > kMaxPresignExpiresSeconds) {
    return QueryError("X-Amz-Expires must be less than a week (in seconds) that is; " +
                      std::to_string(kMaxPresignExpiresSeconds));
  }
  out.expires_at = date_seconds + expires_seconds;
  SLUICE_RETURN_IF_ERROR(ParseSignedHeaders(signed_headers, "X-Amz-SignedHeaders", &out));
  if (signature.size() != 64 || !IsHexString(signature)) {
    return QueryError("X-Amz-Signature must be 64 hex digits");
  }
  out.signature = signature;

  const Headers empty;
  const Headers& headers = request.headers != nullptr ? *request.headers : empty;
  const std::vector<std::string_view> hashes = HeaderValues(headers, "x-amz-content-sha256");
  if (hashes.size() > 1) {
    return Status(ErrorCode::kInvalidRequest, "more than one x-amz-content-sha256 header");
  }
  SLUICE_RETURN_IF_ERROR(
      ParsePayloadHash(hashes.empty() ? std::string_view("UNSIGNED-PAYLOAD") : hashes[0], &out));
  return out;
}

Result<ParsedAuth> ParsePresignedV2(const Request& /*request*/, const Query& query) {
  static constexpr std::string_view kNames[] = {"AWSAccessKeyId", "Signature", "Expires"};
  const std::string* values[std::size(kNames)];
  for (size_t i = 0; i < std::size(kNames); ++i) {
    bool twice = false;
    values[i] = Param(query, kNames[i], &twice);
    if (twice) {
      return Status(
          ErrorCode::kInvalidArgument,
          "presigned URL (SigV2 query auth): " + std::string(kNames[i]) + " given more than once");
    }
    if (values[i] == nullptr) {
      return Status(ErrorCode::kAccessDenied,
                    "missing " + std::string(kNames[i]) +
                        "; query-string authentication requires the Signature, Expires and "
                        "AWSAccessKeyId parameters");
    }
  }
  ParsedAuth out;
  out.scheme = AuthScheme::kPresignedV2;
  if (values[0]->empty()) {
    return Status(ErrorCode::kInvalidArgument,
                  "presigned URL (SigV2 query auth): empty AWSAccessKeyId");
  }
  out.access_key = AccessKeyId(*values[0]);
  out.signature = *values[1];
  const std::string& expires = *values[2];
  if (expires.empty() || expires.size() > kMaxExpiresDigits || !AllDigits(expires)) {
    return Status(ErrorCode::kInvalidArgument,
                  "presigned URL (SigV2 query auth): Expires must be seconds since the epoch");
  }
  out.expires_at = std::stoll(expires);
  // SigV2 signs no payload hash; Content-MD5, when sent, is signed and checked by the caller.
  out.payload_hash = "UNSIGNED-PAYLOAD";
  out.payload_mode = PayloadMode::kUnsigned;
  return out;
}

Status VerifyPresignedV2(const Request& request, const ParsedAuth& parsed, const Secret& secret,
                         int64_t now_seconds) {
  if (now_seconds > parsed.expires_at) {
    return Status(ErrorCode::kAccessDenied, "Request has expired: the presigned URL expired at " +
                                                FormatHttpDate(parsed.expires_at) + ", " +
                                                std::to_string(now_seconds - parsed.expires_at) +
                                                " s ago");
  }
  // SigV2 carries no issue date, so the lifetime left is all that can be bounded: the same
  // week SigV4 allows, so that the older form is no way around the limit.
  if (parsed.expires_at - now_seconds > kMaxPresignExpiresSeconds) {
    return Status(ErrorCode::kAccessDenied, "presigned URL (SigV2 query auth): Expires is " +
                                                std::to_string(parsed.expires_at - now_seconds) +
                                                " s from now; a presigned URL may live at most " +
                                                std::to_string(kMaxPresignExpiresSeconds) +
                                                " s (7 days), as with SigV4");
  }
  if (!ConstantTimeEquals(SignatureV2(request, parsed, secret), parsed.signature)) {
    return Status(ErrorCode::kSignatureDoesNotMatch,
                  "the presigned URL's signature (SigV2) does not match the one computed for "
                  "access key " +
                      parsed.access_key.str() + "; check the secret key and signing method");
  }
  return Status::Ok();
}

}  // namespace internal

std::string PresignV4Query(const PresignRequest& request, const AccessKeyId& access_key,
                           const Secret& secret) {
  const std::string amz_date = FormatAmzDate(request.now_seconds);
  ParsedAuth parsed;
  parsed.access_key = access_key;
  parsed.amz_date = amz_date;
  parsed.scope_date = amz_date.substr(0, 8);
  parsed.region = request.region;
  parsed.service = "s3";
  parsed.signed_headers = {"host"};
  parsed.payload_mode = PayloadMode::kUnsigned;
  parsed.payload_hash = "UNSIGNED-PAYLOAD";
  parsed.scheme = AuthScheme::kPresignedV4;
  const std::string credential =
      access_key.str() + "/" + parsed.scope_date + "/" + request.region + "/s3/aws4_request";
  std::string query = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" + UriEncode(credential) +
                      "&X-Amz-Date=" + amz_date +
                      "&X-Amz-Expires=" + std::to_string(request.expires_seconds) +
                      "&X-Amz-SignedHeaders=host";
  const Headers headers = {{"host", request.host}};
  const Request signed_request{request.method, request.raw_path, query, &headers};
  const std::string to_sign = StringToSign(parsed, CanonicalRequest(signed_request, parsed));
  return query + "&X-Amz-Signature=" + HmacSha256Hex(SigningKey(secret, parsed), to_sign);
}

}  // namespace sluice::auth
