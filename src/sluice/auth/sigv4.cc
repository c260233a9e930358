// AWS Signature Version 4 for S3: header form and the shared steps of the query (presigned)
// form. Each function names the step of the AWS "Create a signed request" procedure it
// implements:
//   Step 1  canonical request   CanonicalRequest, CanonicalQuery
//   Step 2  hash of it          inside StringToSign
//   Step 3  string to sign      StringToSign
//   Step 4  signing key         SigningKey (HMAC chain over date, region, service)
//   Step 5  signature           HmacSha256Hex(signing key, string to sign)
// The S3 variant differs from the generic one in that the canonical URI is the path as sent
// (no normalisation, no second encoding) and the payload hash is the x-amz-content-sha256
// value (UNSIGNED-PAYLOAD for a presigned URL without that header). The query form is the
// same procedure with the auth parameters in the query and X-Amz-Signature left out of the
// canonical query (presign.cc parses it; Verify below checks its validity window). Verify also
// takes the SigV2 forms: the header one shares the clock check here, its signature is sigv2.cc's.

#include <openssl/hmac.h>

#include <algorithm>
#include <cstdlib>

#include "sluice/auth/auth.h"
#include "sluice/auth/auth_internal.h"

namespace sluice::auth {

std::string UriEncode(std::string_view s) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    const auto b = static_cast<unsigned char>(c);
    if ((b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z') || (b >= '0' && b <= '9') || b == '-' ||
        b == '_' || b == '.' || b == '~') {
      out += c;
    } else {
      out += '%';
      out += kDigits[b >> 4];
      out += kDigits[b & 15];
    }
  }
  return out;
}

namespace internal {

// Clients sign 3 to 11 headers (../shared/s3-transcripts); anything far beyond is abuse and
// would make canonicalisation quadratic in the header count.
constexpr size_t kMaxSignedHeaders = 64;

std::string PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      const int hi = HexDigitValue(s[i + 1]);
      const int lo = HexDigitValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> DecodedQuery(std::string_view raw_query) {
  std::vector<std::pair<std::string, std::string>> pairs;
  size_t start = 0;
  while (start < raw_query.size()) {
    size_t amp = raw_query.find('&', start);
    if (amp == std::string_view::npos) amp = raw_query.size();
    const std::string_view part = raw_query.substr(start, amp - start);
    start = amp + 1;
    if (part.empty()) continue;
    const size_t eq = part.find('=');
    const std::string_view name = part.substr(0, eq);
    const std::string_view value =
        eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1);
    pairs.emplace_back(PercentDecode(name), PercentDecode(value));
  }
  return pairs;
}

std::vector<std::string_view> HeaderValues(const Headers& headers, std::string_view name) {
  std::vector<std::string_view> out;
  for (const auto& [n, v] : headers) {
    if (EqualsIgnoreCase(n, name)) out.push_back(v);
  }
  return out;
}

void AppendCanonicalValue(std::string_view v, std::string* out) {
  v = TrimAscii(v);
  bool in_space = false;
  for (char c : v) {
    if (IsAsciiSpace(c)) {
      in_space = true;
      continue;
    }
    if (in_space) *out += ' ';
    in_space = false;
    *out += c;
  }
}

namespace {

std::string HmacWith(const EVP_MD* md, std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (HMAC(md, key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), out,
           &len) == nullptr) {
    std::abort();  // HMAC with a built-in digest cannot fail on valid arguments
  }
  return std::string(reinterpret_cast<const char*>(out), len);
}

Status Malformed(std::string_view what, const std::string& why) {
  return Status(ErrorCode::kInvalidArgument, "malformed " + std::string(what) + ": " + why);
}

}  // namespace

std::string Hmac(std::string_view key, std::string_view data) {
  return HmacWith(EVP_sha256(), key, data);
}

std::string HmacSha1(std::string_view key, std::string_view data) {
  return HmacWith(EVP_sha1(), key, data);
}

std::string Sha256Hex(std::string_view data) {
  Digest d(Digest::Kind::kSha256);
  d.Update(AsBytes(data));
  const std::string raw = d.Finish();
  return ToHex(AsBytes(raw));
}

std::string Scope(const ParsedAuth& parsed) {
  return parsed.scope_date + "/" + parsed.region + "/" + parsed.service + "/" +
         std::string(kTerminator);
}

Status ParseCredential(std::string_view value, std::string_view what, ParsedAuth* out) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    const size_t slash = value.find('/', start);
    parts.push_back(value.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  if (parts.size() != 5) {
    return Malformed(what, "must be <key>/<date>/<region>/<service>/aws4_request");
  }
  if (parts[0].empty()) return Malformed(what, "empty access key id");
  if (parts[1].size() != 8 || !AllDigits(parts[1])) {
    return Malformed(what, "credential scope date must be YYYYMMDD");
  }
  if (parts[2].empty()) return Malformed(what, "empty region in credential scope");
  if (parts[3] != "s3") return Malformed(what, "credential scope service must be 's3'");
  if (parts[4] != kTerminator)
    return Malformed(what, "credential scope must end with aws4_request");
  out->access_key = AccessKeyId(std::string(parts[0]));
  out->scope_date = std::string(parts[1]);
  out->region = std::string(parts[2]);
  out->service = std::string(parts[3]);
  return Status::Ok();
}

Status ParseSignedHeaders(std::string_view value, std::string_view what, ParsedAuth* out) {
  if (value.empty()) return Malformed(what, "empty SignedHeaders");
  size_t start = 0;
  while (start <= value.size()) {
    const size_t semi = value.find(';', start);
    const std::string_view name =
        value.substr(start, semi == std::string_view::npos ? semi : semi - start);
    if (name.empty()) return Malformed(what, "empty name in SignedHeaders");
    if (out->signed_headers.size() == kMaxSignedHeaders) {
      return Malformed(what, "more than " + std::to_string(kMaxSignedHeaders) + " SignedHeaders");
    }
    out->signed_headers.push_back(AsciiLowered(name));
    if (semi == std::string_view::npos) break;
    start = semi + 1;
  }
  if (std::find(out->signed_headers.begin(), out->signed_headers.end(), "host") ==
      out->signed_headers.end()) {
    return Malformed(what, "SignedHeaders must include host");
  }
  return Status::Ok();
}

Status ParsePayloadHash(std::string_view value, ParsedAuth* out) {
  out->payload_hash = std::string(TrimAscii(value));
  const std::string_view h = out->payload_hash;
  if (h.size() == 64 && IsHexString(h)) {
    out->payload_mode = PayloadMode::kSignedHex;
  } else if (h == "UNSIGNED-PAYLOAD") {
    out->payload_mode = PayloadMode::kUnsigned;
  } else if (h == "STREAMING-UNSIGNED-PAYLOAD-TRAILER") {
    out->payload_mode = PayloadMode::kStreamingUnsignedTrailer;
  } else if (h == "STREAMING-AWS4-HMAC-SHA256-PAYLOAD") {
    out->payload_mode = PayloadMode::kStreamingSigned;
  } else if (h == "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER") {
    out->payload_mode = PayloadMode::kStreamingSignedTrailer;
  } else {
    return Status(ErrorCode::kInvalidRequest,
                  "x-amz-content-sha256 must be a hex SHA-256, UNSIGNED-PAYLOAD or a STREAMING-* "
                  "mode");
  }
  return Status::Ok();
}

std::string FormatAmzDate(int64_t seconds) {
  // 2026-11-27T02:33:36.000000Z -> 20261127T023336Z
  const std::string iso = FormatIsoMicros(seconds * 1'000'000);
  std::string out;
  for (char c : std::string_view(iso).substr(0, 19)) {
    if (c != '-' && c != ':') out += c;
  }
  out += 'Z';
  return out;
}

}  // namespace internal

using namespace internal;  // NOLINT(google-build-using-namespace): this module's own helpers

Result<int64_t> ParseAmzDate(std::string_view s) {
  auto bad = [&] {
    return Status(
        ErrorCode::kInvalidArgument,
        "malformed x-amz-date '" + std::string(s.substr(0, 32)) + "': expected YYYYMMDDTHHMMSSZ");
  };
  if (s.size() != 16 || s[8] != 'T' || s[15] != 'Z' || !AllDigits(s.substr(0, 8)) ||
      !AllDigits(s.substr(9, 6))) {
    return bad();
  }
  auto num = [&](size_t pos, size_t len) {
    int64_t v = 0;
    for (size_t i = pos; i < pos + len; ++i) v = v * 10 + (s[i] - '0');
    return v;
  };
  const int64_t year = num(0, 4), month = num(4, 2), day = num(6, 2);
  const int64_t hour = num(9, 2), minute = num(11, 2), second = num(13, 2);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 60) return bad();
  static constexpr int kDaysInMonth[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (day > kDaysInMonth[month - 1] || (month == 2 && day == 29 && !leap)) return bad();
  const int64_t days =
      DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  return days * 86400 + hour * 3600 + minute * 60 + second;
}

namespace {

// S3 requires every x-amz-* header a request carries to be signed: an unsigned one could be
// added by anyone who relays the request or holds a presigned URL (x-amz-meta-sluice-force,
// say). x-amz-content-sha256 is exempt: the presigned form has no way to sign it, and its value
// is part of the canonical request anyway (the payload hash line).
Status CheckAmzHeadersSigned(const Request& request, const ParsedAuth& parsed) {
  if (request.headers == nullptr) return Status::Ok();
  std::vector<std::string> refused;
  for (const auto& [name, value] : *request.headers) {
    if (name.size() < 6 || !EqualsIgnoreCase(name.substr(0, 6), "x-amz-")) continue;
    std::string lower = AsciiLowered(name);
    if (lower == "x-amz-content-sha256") continue;
    auto has = [&](const std::vector<std::string>& v) {
      return std::find(v.begin(), v.end(), lower) != v.end();
    };
    if (has(parsed.signed_headers) || has(refused)) continue;
    refused.push_back(std::move(lower));
  }
  if (refused.empty()) return Status::Ok();
  std::string names;
  for (const std::string& n : refused) {
    if (!names.empty()) names += ", ";
    // Header names are tokens (http/ refuses others), but cap what one message holds.
    names += n.substr(0, 64);
    if (names.size() > 512) break;
  }
  return Status(
      ErrorCode::kAccessDenied,
      "There were headers present in the request which were not signed: " + names +
          " (every x-amz-* header must be listed in " +
          (parsed.scheme == AuthScheme::kPresignedV4 ? "X-Amz-SignedHeaders" : "SignedHeaders") +
          ")");
}

Status MalformedHeader(const std::string& what) {
  return Status(ErrorCode::kInvalidArgument, "malformed Authorization header: " + what);
}

bool HasParam(const std::vector<std::pair<std::string, std::string>>& query,
              std::string_view name) {
  return std::any_of(query.begin(), query.end(), [&](const auto& kv) { return kv.first == name; });
}

Result<ParsedAuth> ParseHeaderAuth(const Headers& headers, std::string_view value) {
  value = TrimAscii(value);
  if (value.starts_with("AWS ")) return ParseHeaderV2(headers, value.substr(4));
  if (!value.starts_with(kAlgorithm) || value.size() == kAlgorithm.size() ||
      !IsAsciiSpace(value[kAlgorithm.size()])) {
    const size_t sp = value.find(' ');
    return Status(ErrorCode::kInvalidArgument,
                  "unsupported Authorization type '" +
                      std::string(value.substr(0, std::min<size_t>(sp, 32))) +
                      "': expected AWS4-HMAC-SHA256");
  }
  value.remove_prefix(kAlgorithm.size());

  ParsedAuth out;
  bool have_credential = false, have_signed = false, have_signature = false;
  // Components are comma-separated, with or without a space after the comma.
  size_t start = 0;
  while (start <= value.size()) {
    const size_t comma = value.find(',', start);
    const std::string_view part =
        TrimAscii(value.substr(start, comma == std::string_view::npos ? comma : comma - start));
    const size_t eq = part.find('=');
    if (eq == std::string_view::npos) return MalformedHeader("component without '='");
    const std::string_view name = part.substr(0, eq);
    const std::string_view v = part.substr(eq + 1);
    if (name == "Credential") {
      if (have_credential) return MalformedHeader("Credential given twice");
      have_credential = true;
      SLUICE_RETURN_IF_ERROR(ParseCredential(v, "Authorization header Credential", &out));
    } else if (name == "SignedHeaders") {
      if (have_signed) return MalformedHeader("SignedHeaders given twice");
      have_signed = true;
      SLUICE_RETURN_IF_ERROR(ParseSignedHeaders(v, "Authorization header", &out));
    } else if (name == "Signature") {
      if (have_signature) return MalformedHeader("Signature given twice");
      have_signature = true;
      if (v.size() != 64 || !IsHexString(v))
        return MalformedHeader("Signature must be 64 hex digits");
      out.signature = std::string(v);
    } else {
      return MalformedHeader("unknown component '" + std::string(name.substr(0, 32)) + "'");
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  if (!have_credential) return MalformedHeader("missing Credential");
  if (!have_signed) return MalformedHeader("missing SignedHeaders");
  if (!have_signature) return MalformedHeader("missing Signature");
  if (std::find(out.signed_headers.begin(), out.signed_headers.end(), "x-amz-date") ==
      out.signed_headers.end()) {
    return MalformedHeader("SignedHeaders must include x-amz-date");
  }

  const std::vector<std::string_view> dates = HeaderValues(headers, "x-amz-date");
  if (dates.size() != 1) {
    return Status(ErrorCode::kInvalidArgument,
                  dates.empty() ? "missing x-amz-date header" : "more than one x-amz-date header");
  }
  out.amz_date = std::string(TrimAscii(dates[0]));
  SLUICE_RETURN_IF_ERROR(ParseAmzDate(out.amz_date).status());
  if (out.amz_date.compare(0, 8, out.scope_date) != 0) {
    return MalformedHeader("credential scope date " + out.scope_date +
                           " is not the day of x-amz-date " + out.amz_date);
  }

  const std::vector<std::string_view> hashes = HeaderValues(headers, "x-amz-content-sha256");
  if (hashes.empty()) {
    return Status(ErrorCode::kInvalidRequest,
                  "missing required header x-amz-content-sha256 (with curl --aws-sigv4 add "
                  "-H 'x-amz-content-sha256: UNSIGNED-PAYLOAD')");
  }
  if (hashes.size() > 1) {
    return Status(ErrorCode::kInvalidRequest, "more than one x-amz-content-sha256 header");
  }
  SLUICE_RETURN_IF_ERROR(ParsePayloadHash(hashes[0], &out));
  out.scheme = AuthScheme::kHeader;
  return out;
}

std::string CanonicalQueryOf(std::string_view raw_query, bool drop_signature) {
  std::vector<std::pair<std::string, std::string>> pairs;
  for (auto& [name, value] : DecodedQuery(raw_query)) {
    if (drop_signature && name == "X-Amz-Signature") continue;
    pairs.emplace_back(UriEncode(name), UriEncode(value));
  }
  std::sort(pairs.begin(), pairs.end());
  std::string out;
  for (const auto& [name, value] : pairs) {
    if (!out.empty()) out += '&';
    out += name;
    out += '=';
    out += value;
  }
  return out;
}

}  // namespace

Result<ParsedAuth> ParseAuth(const Request& request) {
  const Headers empty;
  const Headers& headers = request.headers != nullptr ? *request.headers : empty;
  const std::vector<std::string_view> auth = HeaderValues(headers, "authorization");
  const auto query = DecodedQuery(request.raw_query);
  const bool v4_query = HasParam(query, "X-Amz-Algorithm") || HasParam(query, "X-Amz-Credential") ||
                        HasParam(query, "X-Amz-Signature");
  const bool v2_query = HasParam(query, "AWSAccessKeyId") || HasParam(query, "Signature");
  if (static_cast<int>(!auth.empty()) + static_cast<int>(v4_query) + static_cast<int>(v2_query) >
      1) {
    return Status(ErrorCode::kInvalidArgument,
                  "only one auth mechanism allowed: the Authorization header, the X-Amz-Algorithm "
                  "query parameters or the Signature query parameter");
  }
  if (v4_query) return ParsePresignedV4(request, query);
  if (v2_query) return ParsePresignedV2(request, query);
  if (auth.empty()) return Status(ErrorCode::kAccessDenied, "anonymous requests are not allowed");
  if (auth.size() > 1) return MalformedHeader("more than one Authorization header");
  return ParseHeaderAuth(headers, auth[0]);
}

// Step 1, canonical query string.
std::string CanonicalQuery(std::string_view raw_query) {
  return CanonicalQueryOf(raw_query, /*drop_signature=*/false);
}

// Step 1: method, canonical URI (raw path), canonical query, canonical headers, signed
// headers, payload hash, joined by '\n'.
std::string CanonicalRequest(const Request& request, const ParsedAuth& parsed) {
  const Headers empty;
  const Headers& headers = request.headers != nullptr ? *request.headers : empty;
  std::string out;
  out += request.method;
  out += '\n';
  out += request.raw_path.empty() ? std::string_view("/") : request.raw_path;
  out += '\n';
  out += CanonicalQueryOf(request.raw_query, parsed.scheme == AuthScheme::kPresignedV4);
  out += '\n';
  for (const std::string& name : parsed.signed_headers) {
    out += name;
    out += ':';
    bool first = true;
    for (const auto& [n, v] : headers) {
      if (!EqualsIgnoreCase(n, name)) continue;
      if (!first) out += ',';
      first = false;
      AppendCanonicalValue(v, &out);
    }
    out += '\n';
  }
  out += '\n';
  for (size_t i = 0; i < parsed.signed_headers.size(); ++i) {
    if (i > 0) out += ';';
    out += parsed.signed_headers[i];
  }
  out += '\n';
  out += parsed.payload_hash;
  return out;
}

// Steps 2 and 3.
std::string StringToSign(const ParsedAuth& parsed, std::string_view canonical_request) {
  std::string out(kAlgorithm);
  out += '\n';
  out += parsed.amz_date;
  out += '\n';
  out += Scope(parsed);
  out += '\n';
  out += Sha256Hex(canonical_request);
  return out;
}

// Step 4.
std::string SigningKey(const Secret& secret, const ParsedAuth& parsed) {
  std::string key = Hmac("AWS4" + secret.reveal(), parsed.scope_date);
  key = Hmac(key, parsed.region);
  key = Hmac(key, parsed.service);
  return Hmac(key, kTerminator);
}

std::string HmacSha256Hex(std::string_view key, std::string_view data) {
  const std::string mac = Hmac(key, data);
  return ToHex(AsBytes(mac));
}

Status Verify(const Request& request, const ParsedAuth& parsed, const Secret& secret,
              int64_t now_seconds, int64_t max_skew_seconds) {
  if (parsed.scheme == AuthScheme::kPresignedV2) {
    return VerifyPresignedV2(request, parsed, secret, now_seconds);
  }
  SLUICE_ASSIGN_OR_RETURN(const int64_t request_time, ParseAmzDate(parsed.amz_date));
  if (parsed.scheme == AuthScheme::kPresignedV4) {
    // A presigned URL is valid from its X-Amz-Date (less the allowed skew, for a signer whose
    // clock runs ahead) to X-Amz-Date + X-Amz-Expires; S3 answers AccessDenied outside.
    if (now_seconds > parsed.expires_at) {
      return Status(ErrorCode::kAccessDenied, "Request has expired: the presigned URL expired at " +
                                                  FormatHttpDate(parsed.expires_at) + ", " +
                                                  std::to_string(now_seconds - parsed.expires_at) +
                                                  " s ago");
    }
    if (request_time - now_seconds > max_skew_seconds) {
      return Status(ErrorCode::kAccessDenied,
                    "Request is not valid yet: the presigned URL is dated " + parsed.amz_date +
                        ", " + std::to_string(request_time - now_seconds) +
                        " s ahead of the server's time");
    }
  } else {  // header auth, SigV4 or SigV2
    const int64_t skew = request_time - now_seconds;
    if (skew > max_skew_seconds || -skew > max_skew_seconds) {
      return Status(ErrorCode::kRequestTimeTooSkewed,
                    "the difference between the request time " + parsed.amz_date +
                        " and the server's time is " + std::to_string(skew < 0 ? -skew : skew) +
                        " s, more than the " + std::to_string(max_skew_seconds) + " s allowed");
    }
  }
  // SigV2 signs every x-amz-* header: none can have been added unsigned.
  if (parsed.scheme == AuthScheme::kHeaderV2) return VerifyHeaderV2(request, parsed, secret);
  SLUICE_RETURN_IF_ERROR(CheckAmzHeadersSigned(request, parsed));
  // Step 5.
  const std::string canonical = CanonicalRequest(request, parsed);
  const std::string expected =
      HmacSha256Hex(SigningKey(secret, parsed), StringToSign(parsed, canonical));
  if (!ConstantTimeEquals(expected, AsciiLowered(parsed.signature))) {
    return Status(ErrorCode::kSignatureDoesNotMatch,
                  "the request signature does not match the one computed for access key " +
                      parsed.access_key.str() + "; check the secret key and signing method");
  }
  return Status::Ok();
}

}  // namespace sluice::auth
