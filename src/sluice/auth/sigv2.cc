// AWS Signature Version 2 (S3 "Signing and authenticating REST requests (AWS signature version
// 2)"): the string to sign both SigV2 forms share, and the header form
//   Authorization: AWS <AccessKeyId>:<base64 HMAC-SHA1(secret, StringToSign)>
// which s3cmd sends with `signature_v2 = True` and older SDKs by default. The query form
// (presigned URLs) is parsed and checked in presign.cc.
//
//   StringToSign = METHOD \n Content-MD5 \n Content-Type \n Date \n
//                  CanonicalizedAmzHeaders CanonicalizedResource
//   Date: the header form's Date header, empty when x-amz-date is sent (it is then signed
//     among the x-amz-* headers); the query form's Expires.
//   CanonicalizedAmzHeaders: each x-amz-* header, lower-cased, values trimmed (inner
//     whitespace collapsed) and joined with ',', sorted by name, one "name:value\n" each.
//   CanonicalizedResource: "/<bucket>" for a virtual-hosted-style request, then the raw path
//     as sent, then '?' and the sub-resources present (uploadId, partNumber, acl, ...),
//     percent-decoded, sorted, "name" or "name=value", joined with '&'.
// AWS's example (virtual-hosted, secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY):
//   GET /photos/puppy.jpg, Host: awsexamplebucket1.us-west-1.s3.amazonaws.com,
//   Date: Tue, 27 Mar 2007 19:36:42 +0000
//   -> "GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/awsexamplebucket1/photos/puppy.jpg"
//   -> Authorization: AWS AKIAIOSFODNN7EXAMPLE:qgk2+6Sv9/oM7G3qLEjTH1a1l1g=
//
// SigV2 signs no payload hash: x-amz-content-sha256 is optional, and when sent it is an x-amz-*
// header like any other (so it is signed) and the body is checked against it as with SigV4.

#include <map>
#include <optional>
#include <set>

#include "sluice/auth/auth.h"
#include "sluice/auth/auth_internal.h"

namespace sluice::auth {

using namespace internal;  // NOLINT(google-build-using-namespace): this module's own helpers

namespace {

// AWS access key ids are at most 128 characters (IAM's limit); a longer one is not a key.
constexpr size_t kMaxAccessKeyIdBytes = 128;
// base64 of the 20 bytes of an HMAC-SHA1.
constexpr size_t kSignatureV2Bytes = 28;
// The longest date form taken is RFC 850's with a full weekday name
// ("Wednesday, 09-Nov-94 08:49:37 GMT", 34 bytes); anything far beyond is not a date.
constexpr size_t kMaxDateBytes = 64;
// S3's answer to a SigV2 header request without a usable date (its exact message).
constexpr std::string_view kNeedsDate =
    "AWS authentication requires a valid Date or x-amz-date header";

// The sub-resources that take part in a SigV2 CanonicalizedResource: S3's list, as the SDKs
// (botocore's HmacV1Auth, s3cmd) sign them.
const std::set<std::string, std::less<>>& SubResources() {
  static const std::set<std::string, std::less<>> kNames = {
      "acl",
      "cors",
      "delete",
      "lifecycle",
      "location",
      "logging",
      "notification",
      "partNumber",
      "policy",
      "requestPayment",
      "restore",
      "tagging",
      "torrent",
      "uploadId",
      "uploads",
      "versionId",
      "versioning",
      "versions",
      "website",
      "response-cache-control",
      "response-content-disposition",
      "response-content-encoding",
      "response-content-language",
      "response-content-type",
      "response-expires",
      "select",
      "select-type",
      "replication",
      "accelerate",
      "analytics",
      "inventory",
      "metrics",
      "encryption",
      "legal-hold",
      "retention",
      "object-lock",
      "publicAccessBlock",
      "ownershipControls",
  };
  return kNames;
}

Status MalformedV2(const std::string& why) {
  return Status(
      ErrorCode::kInvalidArgument,
      "AWS authorization header is invalid (expected AWS <AccessKeyId>:<Signature>): " + why);
}

// A numeric zone's offset east of UTC in seconds ("+0000", "-0130"); nullopt for anything else.
std::optional<int64_t> NumericZone(std::string_view s) {
  if (s.size() != 5 || (s[0] != '+' && s[0] != '-') || !AllDigits(s.substr(1))) {
    return std::nullopt;
  }
  const int64_t hours = (s[1] - '0') * 10 + (s[2] - '0');
  const int64_t minutes = (s[3] - '0') * 10 + (s[4] - '0');
  if (hours > 23 || minutes > 59) return std::nullopt;
  const int64_t offset = hours * 3600 + minutes * 60;
  return s[0] == '+' ? offset : -offset;
}

}  // namespace

namespace internal {

Result<int64_t> ParseRequestDate(std::string_view text) {
  text = TrimAscii(text);
  const Status bad(ErrorCode::kInvalidArgument,
                   "'" + std::string(text.substr(0, kMaxDateBytes)) +
                       "' is not a date in RFC 1123, RFC 850, asctime or ISO 8601 basic form");
  if (text.size() > kMaxDateBytes) return bad;
  const size_t space = text.rfind(' ');
  if (space == std::string_view::npos) return ParseAmzDate(text);
  // The HTTP forms end in GMT (asctime in the year); others name UTC in their own ways.
  const std::string_view zone = text.substr(space + 1);
  std::string date(text);
  int64_t offset = 0;
  if (const std::optional<int64_t> numeric = NumericZone(zone); numeric.has_value()) {
    offset = *numeric;
    date = std::string(text.substr(0, space)) + " GMT";
  } else if (zone == "UTC" || zone == "UT" || zone == "Z") {
    date = std::string(text.substr(0, space)) + " GMT";
  }
  const std::optional<int64_t> local = ParseHttpDate(date);
  if (!local.has_value() || *local < offset) return bad;
  return *local - offset;
}

std::string SignatureV2(const Request& request, const ParsedAuth& parsed, const Secret& secret) {
  return Base64Encode(HmacSha1(secret.reveal(), StringToSignV2(request, parsed)));
}

Result<ParsedAuth> ParseHeaderV2(const Headers& headers, std::string_view credentials) {
  credentials = TrimAscii(credentials);
  const size_t colon = credentials.find(':');
  if (colon == std::string_view::npos) return MalformedV2("no ':' after the access key id");
  const std::string_view key = credentials.substr(0, colon);
  const std::string_view signature = credentials.substr(colon + 1);
  if (key.empty() || key.size() > kMaxAccessKeyIdBytes) {
    return MalformedV2("the access key id must be 1 to " + std::to_string(kMaxAccessKeyIdBytes) +
                       " characters");
  }
  if (signature.size() != kSignatureV2Bytes || !Base64Decode(signature).ok()) {
    return MalformedV2("the signature must be the base64 of a 20-byte HMAC-SHA1");
  }
  ParsedAuth out;
  out.scheme = AuthScheme::kHeaderV2;
  out.access_key = AccessKeyId(std::string(key));
  out.signature = std::string(signature);

  // The request time: x-amz-date when sent (it takes precedence, as in S3, and the Date line
  // of the string to sign is then empty), else Date.
  const std::vector<std::string_view> amz_dates = HeaderValues(headers, "x-amz-date");
  const std::vector<std::string_view> dates = HeaderValues(headers, "date");
  if (amz_dates.size() > 1 || (amz_dates.empty() && dates.size() > 1)) {
    return Status(ErrorCode::kInvalidArgument, amz_dates.size() > 1
                                                   ? "more than one x-amz-date header"
                                                   : "more than one Date header");
  }
  if (amz_dates.empty() && dates.empty()) {
    return Status(ErrorCode::kAccessDenied, std::string(kNeedsDate));
  }
  const bool amz = !amz_dates.empty();
  const std::string_view when = amz ? amz_dates[0] : dates[0];
  auto seconds = ParseRequestDate(when);
  if (!seconds.ok()) {
    return Status(ErrorCode::kAccessDenied, std::string(kNeedsDate) + " (" +
                                                (amz ? "x-amz-date" : "Date") + ": " +
                                                seconds.status().message() + ")");
  }
  out.amz_date = FormatAmzDate(*seconds);

  const std::vector<std::string_view> hashes = HeaderValues(headers, "x-amz-content-sha256");
  if (hashes.size() > 1) {
    return Status(ErrorCode::kInvalidRequest, "more than one x-amz-content-sha256 header");
  }
  SLUICE_RETURN_IF_ERROR(
      ParsePayloadHash(hashes.empty() ? std::string_view("UNSIGNED-PAYLOAD") : hashes[0], &out));
  if (out.payload_mode == PayloadMode::kStreamingSigned ||
      out.payload_mode == PayloadMode::kStreamingSignedTrailer) {
    // Chunk signatures chain from a SigV4 signature and signing key; SigV2 has neither.
    return Status(ErrorCode::kInvalidRequest,
                  "x-amz-content-sha256 " + out.payload_hash +
                      " needs a SigV4 (AWS4-HMAC-SHA256) signature; SigV2 cannot sign chunks");
  }
  return out;
}

Status VerifyHeaderV2(const Request& request, const ParsedAuth& parsed, const Secret& secret) {
  if (!ConstantTimeEquals(SignatureV2(request, parsed, secret), parsed.signature)) {
    return Status(ErrorCode::kSignatureDoesNotMatch,
                  "the request signature (SigV2) does not match the one computed for access key " +
                      parsed.access_key.str() + "; check the secret key and signing method");
  }
  return Status::Ok();
}

}  // namespace internal

std::string StringToSignV2(const Request& request, const ParsedAuth& parsed) {
  const Headers empty;
  const Headers& headers = request.headers != nullptr ? *request.headers : empty;
  const std::vector<std::pair<std::string, std::string>> query = DecodedQuery(request.raw_query);
  auto first = [&](std::string_view name) {
    const auto values = HeaderValues(headers, name);
    return values.empty() ? std::string_view() : TrimAscii(values[0]);
  };
  std::string out(request.method);
  out += '\n';
  out += first("content-md5");
  out += '\n';
  out += first("content-type");
  out += '\n';
  if (parsed.scheme == AuthScheme::kPresignedV2) {
    for (const auto& [name, value] : query) {
      if (name == "Expires") {
        out += value;
        break;
      }
    }
  } else if (HeaderValues(headers, "x-amz-date").empty()) {
    out += first("date");
  }
  out += '\n';

  std::map<std::string, std::vector<std::string_view>> amz;
  for (const auto& [name, value] : headers) {
    std::string lower = AsciiLowered(name);
    if (lower.starts_with("x-amz-")) amz[std::move(lower)].push_back(value);
  }
  for (const auto& [name, values] : amz) {
    out += name;
    out += ':';
    for (size_t i = 0; i < values.size(); ++i) {
      if (i > 0) out += ',';
      AppendCanonicalValue(values[i], &out);
    }
    out += '\n';
  }

  if (!request.virtual_host_bucket.empty()) {
    out += '/';
    out += request.virtual_host_bucket;
  }
  out += request.raw_path.empty() ? std::string_view("/") : request.raw_path;
  std::vector<std::pair<std::string, std::string>> sub;
  for (const auto& kv : query) {
    if (SubResources().contains(kv.first)) sub.push_back(kv);
  }
  std::sort(sub.begin(), sub.end());
  for (size_t i = 0; i < sub.size(); ++i) {
    out += i == 0 ? '?' : '&';
    out += sub[i].first;
    if (!sub[i].second.empty()) {
      out += '=';
      out += sub[i].second;
    }
  }
  return out;
}

}  // namespace sluice::auth
