#pragma once
// Private to auth/: the text, encoding and MAC helpers the header, presigned and chunked
// verifiers share. Not part of the module's contract.

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sluice/auth/auth.h"
#include "sluice/core/text.h"

namespace sluice::auth::internal {

// Credential scope terminator and algorithm names from the SigV4 specification.
inline constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
inline constexpr std::string_view kTerminator = "aws4_request";
// Hex SHA-256 of the empty string: the "hash of the chunk's headers" slot of a chunk string
// to sign, which S3 fixes to the empty hash.
inline constexpr std::string_view kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

inline bool AllDigits(std::string_view s) { return std::all_of(s.begin(), s.end(), IsAsciiDigit); }

// Percent-decoding as Python's urllib.parse.unquote does it: an escape that is not %XX stays
// literal, '+' stays '+'.
std::string PercentDecode(std::string_view s);

// The query split on '&' and the first '=', names and values percent-decoded, in wire order;
// empty parts skipped, a bare name given an empty value.
std::vector<std::pair<std::string, std::string>> DecodedQuery(std::string_view raw_query);

// All values of header `name` (any case) in wire order.
std::vector<std::string_view> HeaderValues(const Headers& headers, std::string_view name);
// Trims `v` and collapses runs of inner whitespace to one space, appending to `out`.
void AppendCanonicalValue(std::string_view v, std::string* out);

// Raw HMAC-SHA256 / HMAC-SHA1 of `data` under `key`.
std::string Hmac(std::string_view key, std::string_view data);
std::string HmacSha1(std::string_view key, std::string_view data);
std::string Sha256Hex(std::string_view data);

// "<date>/<region>/<service>/aws4_request".
std::string Scope(const ParsedAuth& parsed);

// Parses "AK/20261127/us-east-1/s3/aws4_request" into `out`; `what` names the field in errors
// ("Credential", "X-Amz-Credential").
Status ParseCredential(std::string_view value, std::string_view what, ParsedAuth* out);
// Parses "host;x-amz-date" into out->signed_headers; host is always required.
Status ParseSignedHeaders(std::string_view value, std::string_view what, ParsedAuth* out);
// Reads and classifies x-amz-content-sha256 into out->payload_hash / payload_mode.
Status ParsePayloadHash(std::string_view value, ParsedAuth* out);

// Seconds since the epoch (1970 or later) -> "20261127T023336Z", ParseAmzDate's form.
std::string FormatAmzDate(int64_t seconds);

// SigV2 (sigv2.cc). The request times S3 takes in Date and x-amz-date: the HTTP date forms
// (core's ParseHttpDate: RFC 1123 "Sun, 06 Nov 1994 08:49:37 GMT", RFC 850, asctime), RFC 1123
// with a numeric zone as RFC 2822 and s3cmd write it ("... 08:49:37 +0000") or UTC, and ISO 8601
// basic ("19941106T084937Z", as SigV4 clients write x-amz-date). Seconds since the epoch;
// kInvalidArgument for anything else.
Result<int64_t> ParseRequestDate(std::string_view text);
// Header auth: `credentials` is what follows "AWS " in the Authorization header.
Result<ParsedAuth> ParseHeaderV2(const Headers& headers, std::string_view credentials);
// The base64 HMAC-SHA1 of StringToSignV2 under `secret`, as either SigV2 form carries it.
std::string SignatureV2(const Request& request, const ParsedAuth& parsed, const Secret& secret);
// The header form's signature, compared in constant time (the clock is checked by Verify).
Status VerifyHeaderV2(const Request& request, const ParsedAuth& parsed, const Secret& secret);

// Presigned forms (presign.cc). `query` is DecodedQuery(request.raw_query).
Result<ParsedAuth> ParsePresignedV4(const Request& request,
                                    const std::vector<std::pair<std::string, std::string>>& query);
Result<ParsedAuth> ParsePresignedV2(const Request& request,
                                    const std::vector<std::pair<std::string, std::string>>& query);
Status VerifyPresignedV2(const Request& request, const ParsedAuth& parsed, const Secret& secret,
                         int64_t now_seconds);

// CRC-32C (Castagnoli) and CRC-64/NVME, continuing from a previous value (0 to start); the
// pre- and post-inversion are inside, as zlib's crc32() does it (crc.cc).
// Crc32cUpdate uses the SSE4.2 crc32 instruction when the CPU has it, else the table;
// Crc32cUpdatePortable is always the table (exposed so tests compare the two).
uint32_t Crc32cUpdate(uint32_t crc, ByteView data);
uint32_t Crc32cUpdatePortable(uint32_t crc, ByteView data);
uint64_t Crc64NvmeUpdate(uint64_t crc, ByteView data);

}  // namespace sluice::auth::internal
