#pragma once
// auth: AWS Signature Version 4 (and, for older clients, 2) verification and the digests
// uploads are checked with. Pure functions over a request's method, raw target and headers: no
// sockets, no storage. The caller (s3/) finds the secret for the access key between ParseAuth
// and Verify.
//
// Canonicalisation follows what real clients sign (../shared/s3-transcripts/README.md):
// the raw path exactly as sent; the query split on '&' and the first '=', percent-decoded,
// re-encoded with the SigV4 rules (A-Za-z0-9-_.~ kept, %XX upper-case), sorted, a bare name
// becoming `name=`; only the SignedHeaders, lower-cased, values trimmed and inner whitespace
// collapsed, repeated headers joined with ','.
//
// Schemes: header auth (`Authorization: AWS4-HMAC-SHA256 ...`), presigned SigV4 (the same
// signature carried in X-Amz-* query parameters, with an expiry), SigV2 header auth
// (`Authorization: AWS <key>:<base64 HMAC-SHA1>`, dated by x-amz-date or Date; s3cmd with
// signature_v2 and older SDKs) and presigned SigV2 (AWSAccessKeyId/Expires/Signature; boto3's
// generate_presigned_url default). SigV2 signs the x-amz-* headers, Content-MD5, Content-Type and
// the resource, not the payload: its body is unsigned unless x-amz-content-sha256 is sent.
// The payload mode is reported in ParsedAuth::payload_mode; for the STREAMING-* modes the caller
// decodes the body with MakeChunkedDecoder, which checks chunk and trailer signatures.
//
// Thread-safety: everything here is reentrant; digest objects belong to one thread.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sluice/core/core.h"

namespace sluice::auth {

using Headers = std::vector<std::pair<std::string, std::string>>;  // wire order, any case

struct Request {
  std::string_view method;
  std::string_view raw_path;   // as on the request line, not decoded
  std::string_view raw_query;  // after '?', not decoded
  const Headers* headers = nullptr;
  // A virtual-hosted-style request's bucket (named by the Host header); empty for path-style.
  // SigV2's CanonicalizedResource starts with "/<bucket>" then; SigV4 signs the path as sent.
  std::string_view virtual_host_bucket;
};

enum class PayloadMode {
  kSignedHex,  // x-amz-content-sha256 = hex SHA-256 of the body: verify it after the body
  kUnsigned,   // UNSIGNED-PAYLOAD
  kStreamingUnsignedTrailer,  // STREAMING-UNSIGNED-PAYLOAD-TRAILER
  kStreamingSigned,           // STREAMING-AWS4-HMAC-SHA256-PAYLOAD
  kStreamingSignedTrailer,    // STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER
};

// How the request was signed.
enum class AuthScheme {
  kHeader,       // Authorization: AWS4-HMAC-SHA256 ...
  kPresignedV4,  // X-Amz-Algorithm / X-Amz-Credential / X-Amz-Signature in the query
  kPresignedV2,  // AWSAccessKeyId / Expires / Signature in the query (boto3's default)
  kHeaderV2,     // Authorization: AWS <key>:<signature> (SigV2)
};

// SigV2 has no scope or signed-header list. kPresignedV2 sets access_key, signature (base64),
// payload mode (kUnsigned) and expires_at. kHeaderV2 sets access_key, signature (base64),
// amz_date (the request time from x-amz-date or Date, rewritten in this form) and the payload
// mode and hash (x-amz-content-sha256 when sent, else UNSIGNED-PAYLOAD).
struct ParsedAuth {
  AccessKeyId access_key;
  std::string amz_date;    // 20261127T023336Z (header or X-Amz-Date; SigV2: x-amz-date/Date)
  std::string scope_date;  // 20261127
  std::string region;
  std::string service;                      // "s3"
  std::vector<std::string> signed_headers;  // lower-case, as listed
  std::string signature;                    // hex as sent (SigV2: base64, percent-decoded)
  PayloadMode payload_mode = PayloadMode::kSignedHex;
  std::string payload_hash;  // the x-amz-content-sha256 value as sent
  AuthScheme scheme = AuthScheme::kHeader;
  int64_t expires_at = 0;  // presigned: seconds since the epoch after which it is refused
};

// Decodes an aws-chunked body (`Content-Encoding: aws-chunked`) as it arrives, in pieces that
// need not line up with its frames:
//   <hex size>[;chunk-signature=<64 hex>]\r\n<data>\r\n ... 0[;chunk-signature=..]\r\n
//   [<trailer name>:<value>\r\n ...][x-amz-trailer-signature:<64 hex>\r\n]\r\n
// For the signed modes every chunk signature is verified as its chunk completes (the chain
// seeded with the request's signature), and the trailer signature when present; a mismatch
// is kSignatureDoesNotMatch. Malformed framing is kInvalidRequest (from Feed); a body that
// ends early is kIncompleteBody (from Finish). After an error every call repeats it.
// Data is passed to `out` before its chunk's signature is known: commit nothing until Finish
// succeeds. State is bounded (one header or trailer line; chunk data is never buffered).
// Thread-safety: one decoder per request.
class ChunkedDecoder {
 public:
  virtual ~ChunkedDecoder() = default;
  // Consumes `in`; calls `out` with each piece of decoded payload, in order.
  virtual Status Feed(ByteView in, const std::function<Status(ByteView)>& out) = 0;
  // At the end of the HTTP body: the final chunk and the trailer must be complete.
  virtual Status Finish() = 0;
  // The trailer headers (names lower-cased), valid after Finish.
  virtual const Headers& trailers() const = 0;
  virtual uint64_t decoded_length() const = 0;
};

// A decoder for `parsed` (one of the streaming payload modes); `secret` is needed for the
// signed modes (the signing key and seed signature come from it and `parsed`).
Result<std::unique_ptr<ChunkedDecoder>> MakeChunkedDecoder(const ParsedAuth& parsed,
                                                           const Secret& secret);

// Reads the Authorization header or the presigned query parameters (no secret needed).
// Errors:
//   kAccessDenied          neither (anonymous request); SigV2 query auth missing one of
//                          AWSAccessKeyId, Signature, Expires; SigV2 header auth without a
//                          valid x-amz-date or Date ("AWS authentication requires a valid Date or
//                          x-amz-date header", S3's answers)
//   kInvalidRequest        SigV4 header auth without x-amz-content-sha256 (curl --aws-sigv4), or
//                          a bad value there (SigV2: a signed aws-chunked mode, which needs SigV4)
//   kInvalidArgument       malformed Authorization / credential scope / x-amz-date (missing,
//                          or not on the scope's day), unknown Authorization type, SignedHeaders
//                          without host (or, header auth, x-amz-date); presigned SigV4 missing
//                          or repeating an X-Amz-* parameter, X-Amz-Expires not a number or
//                          more than 604800 (S3's AuthorizationQueryParametersError); more than
//                          one auth mechanism in one request; SigV2 header auth not of the form
//                          `AWS <key>:<28-character base64 signature>`
Result<ParsedAuth> ParseAuth(const Request& request);

// Header auth (SigV4 and SigV2): checks the clock skew (|now - amz_date| <= max_skew_seconds,
// else kRequestTimeTooSkewed). Presigned: checks now is within [X-Amz-Date - max_skew_seconds,
// expires_at] (SigV2: now <= Expires, and Expires at most 604800 s ahead, the SigV4 maximum),
// else kAccessDenied ("Request has expired" / "Request is not valid yet"), as S3 answers. SigV4:
// an x-amz-* header the signature does not cover (x-amz-content-sha256 excepted) is
// kAccessDenied, as S3's "headers present in the request which were not signed" (SigV2 signs
// every x-amz-* header). Then the signature (kSignatureDoesNotMatch, compared in constant
// time; SigV2: the base64 HMAC-SHA1 of StringToSignV2). The message never contains the secret
// or the expected signature.
Status Verify(const Request& request, const ParsedAuth& parsed, const Secret& secret,
              int64_t now_seconds, int64_t max_skew_seconds);

// The SigV4 steps, exposed for tests against the transcripts' intermediate values.
std::string CanonicalQuery(std::string_view raw_query);
std::string CanonicalRequest(const Request& request, const ParsedAuth& parsed);
std::string StringToSign(const ParsedAuth& parsed, std::string_view canonical_request);
std::string SigningKey(const Secret& secret, const ParsedAuth& parsed);  // raw 32 bytes
std::string HmacSha256Hex(std::string_view key, std::string_view data);
// SigV2, both forms: the string HMAC-SHA1 signs (sigv2.cc): METHOD, Content-MD5, Content-Type,
// the date (presigned: Expires; header auth: Date, empty when x-amz-date is sent), the x-amz-*
// headers, then the resource: "/<virtual_host_bucket>" if any, the raw path, its sub-resources.
std::string StringToSignV2(const Request& request, const ParsedAuth& parsed);
// A presigned SigV4 URL's query (presign.cc), as the AWS SDKs write one: only `host` signed,
// UNSIGNED-PAYLOAD, valid `expires_seconds` (1..604800) from `now_seconds`. `raw_path` is the
// path exactly as the client will send it (already percent-encoded); the caller appends
// "?" + the result. For the admin console's uploads: what sluice verifies, it also signs.
struct PresignRequest {
  std::string method;    // "PUT"
  std::string host;      // the Host header the client will send: "127.0.0.1:8787"
  std::string raw_path;  // "/bucket/orders/a.parquet", percent-encoded
  std::string region;
  int64_t now_seconds = 0;
  int64_t expires_seconds = 900;
};
// SigV4 URI encoding: A-Z a-z 0-9 - _ . ~ kept, every other byte %XX (upper-case hex).
std::string UriEncode(std::string_view s);
std::string PresignV4Query(const PresignRequest& request, const AccessKeyId& access_key,
                           const Secret& secret);
// "20261127T023336Z" -> seconds since the epoch; kInvalidArgument when malformed.
Result<int64_t> ParseAmzDate(std::string_view amz_date);

// Incremental digests over a streamed body (OpenSSL EVP, zlib crc32, table/SSE4.2 CRC-32C and
// table CRC-64/NVME).
class Digest {
 public:
  // kCrc32c is CRC-32C (Castagnoli), kCrc64Nvme the CRC-64/NVME of x-amz-checksum-crc64nvme.
  enum class Kind { kMd5, kSha256, kSha1, kCrc32, kCrc32c, kCrc64Nvme };
  explicit Digest(Kind kind);
  ~Digest();
  Digest(const Digest&) = delete;
  Digest& operator=(const Digest&) = delete;
  void Update(ByteView data);
  // Raw digest bytes (the CRCs big-endian, as S3 encodes them). Call once.
  std::string Finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The CRC of the concatenation A·B from crc(A), crc(B) and the length of B in bytes, without
// reading either (crc.cc): how a multipart upload's FULL_OBJECT checksum is made from its
// parts'. The values are the CRCs as integers (as computed, before the big-endian bytes S3
// prints); crc(empty) is 0, and a B of length 0 leaves crc(A).
uint32_t Crc32Combine(uint32_t crc_a, uint32_t crc_b, uint64_t length_b);
uint32_t Crc32cCombine(uint32_t crc_a, uint32_t crc_b, uint64_t length_b);
uint64_t Crc64NvmeCombine(uint64_t crc_a, uint64_t crc_b, uint64_t length_b);

std::string Base64Encode(std::string_view raw);
Result<std::string> Base64Decode(std::string_view text);  // kInvalidArgument when malformed

}  // namespace sluice::auth
