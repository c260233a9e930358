#include "sluice/s3/route.h"

#include <utility>
#include <vector>

#include "sluice/s3/response.h"

namespace sluice::s3 {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decoded query parameter names; values are not needed to pick the operation.
std::vector<std::string> QueryNames(std::string_view raw_query) {
  std::vector<std::string> names;
  size_t start = 0;
  while (start < raw_query.size()) {
    size_t amp = raw_query.find('&', start);
    if (amp == std::string_view::npos) amp = raw_query.size();
    const std::string_view part = raw_query.substr(start, amp - start);
    start = amp + 1;
    if (part.empty()) continue;
    auto name = DecodePathSegment(part.substr(0, part.find('=')));
    names.push_back(name.ok() ? std::move(name).value() : std::string(part));
  }
  return names;
}

// Parameters that do not select an operation: the SDKs' x-id hint and the authentication
// parameters of presigned URLs (which auth/ answers for itself).
bool IsNeutralParam(std::string_view name) {
  return name == "x-id" || name.starts_with("X-Amz-") || name == "AWSAccessKeyId" ||
         name == "Signature" || name == "Expires";
}

std::string Suffix(const std::vector<std::string>& names) {
  for (const std::string& n : names) {
    if (!IsNeutralParam(n)) return "?" + n;
  }
  return "";
}

bool Has(const std::vector<std::string>& names, std::string_view n) {
  for (const std::string& x : names) {
    if (x == n) return true;
  }
  return false;
}

Route Unsupported(Route r, std::string name) {
  r.op = Operation::kUnsupported;
  r.name = std::move(name);
  return r;
}

}  // namespace

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      n = 1;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      n = 2;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;
    for (size_t j = 1; j <= n; ++j) {
      const auto d = static_cast<unsigned char>(s[i + j]);
      if ((d & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3f);
    }
    // Overlong forms, surrogates and values past U+10FFFF.
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
        (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

Result<std::string> DecodePathSegment(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '%') {
      out += raw[i];
      continue;
    }
    const int hi = i + 2 < raw.size() ? HexValue(raw[i + 1]) : -1;
    const int lo = i + 2 < raw.size() ? HexValue(raw[i + 2]) : -1;
    if (hi < 0 || lo < 0) {
      return Status(ErrorCode::kInvalidRequest,
                    "invalid percent-escape at offset " + std::to_string(i) + " of the path");
    }
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

Route RouteRequest(const http::RequestHead& head) {
  Route r;
  const std::string_view path = head.raw_path;
  const std::string_view m = head.method;
  const std::vector<std::string> q = QueryNames(head.raw_query);
  if (path.empty() || path[0] != '/') {
    r.error = Status(ErrorCode::kInvalidRequest, "the request target must be an absolute path");
    return Unsupported(std::move(r), std::string(m));
  }
  const size_t slash = path.find('/', 1);
  const std::string_view raw_bucket =
      path.substr(1, slash == std::string_view::npos ? slash : slash - 1);
  const std::string_view raw_key =
      slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
  auto bucket = DecodePathSegment(raw_bucket);
  auto key = DecodePathSegment(raw_key);
  if (!bucket.ok() || !key.ok()) {
    r.error = !bucket.ok() ? bucket.status() : key.status();
  } else {
    r.bucket = std::move(bucket).value();
    r.key = std::move(key).value();
    if (r.bucket.empty() && !r.key.empty()) {
      r.error = Status(ErrorCode::kInvalidRequest, "empty bucket name in the path");
    } else if (r.bucket.size() > kMaxBucketBytes) {
      r.error = Status(ErrorCode::kNoSuchBucket, "the specified bucket does not exist");
    } else if (r.key.size() > kMaxKeyBytes) {
      r.error = Status(ErrorCode::kInvalidRequest, "the key is " + std::to_string(r.key.size()) +
                                                       " bytes, more than the " +
                                                       std::to_string(kMaxKeyBytes) + " allowed");
    } else if (!IsValidUtf8(r.key) || !IsValidUtf8(r.bucket)) {
      r.error = Status(ErrorCode::kInvalidRequest, "the path does not decode to valid UTF-8");
    }
  }
  const std::string sub = Suffix(q);

  if (r.bucket.empty() && r.key.empty()) {
    if (m == "GET") {
      r.op = Operation::kListBuckets;
      r.name = "ListBuckets";
      return r;
    }
    return Unsupported(std::move(r), std::string(m) + " /");
  }
  if (r.key.empty()) {
    if (m == "HEAD" && sub.empty()) {
      r.op = Operation::kHeadBucket;
      r.name = "HeadBucket";
      return r;
    }
    if (m == "GET") {
      if (Has(q, "list-type")) return Unsupported(std::move(r), "ListObjectsV2");
      if (Has(q, "location")) return Unsupported(std::move(r), "GetBucketLocation");
      if (Has(q, "uploads")) return Unsupported(std::move(r), "ListMultipartUploads");
      if (Has(q, "versions")) return Unsupported(std::move(r), "ListObjectVersions");
      if (Has(q, "versioning")) return Unsupported(std::move(r), "GetBucketVersioning");
      return Unsupported(std::move(r), "ListObjects" + sub);
    }
    if (m == "PUT")
      return Unsupported(std::move(r), sub.empty() ? "CreateBucket" : "PutBucket" + sub);
    if (m == "DELETE") return Unsupported(std::move(r), "DeleteBucket" + sub);
    if (m == "POST" && Has(q, "delete")) return Unsupported(std::move(r), "DeleteObjects");
    return Unsupported(std::move(r), std::string(m) + " bucket" + sub);
  }
  const bool copy = FindHeader(head.headers, "x-amz-copy-source") != nullptr;
  if (m == "PUT") {
    if (Has(q, "partNumber") || Has(q, "uploadId")) {
      return Unsupported(std::move(r), copy ? "UploadPartCopy" : "UploadPart");
    }
    if (copy) return Unsupported(std::move(r), "CopyObject");
    if (!sub.empty()) return Unsupported(std::move(r), "PutObject" + sub);
    r.op = Operation::kPutObject;
    r.name = "PutObject";
    return r;
  }
  if (m == "GET") {
    if (Has(q, "uploadId")) return Unsupported(std::move(r), "ListParts");
    return Unsupported(std::move(r), "GetObject" + sub);
  }
  if (m == "HEAD") return Unsupported(std::move(r), "HeadObject");
  if (m == "DELETE") {
    if (Has(q, "uploadId")) return Unsupported(std::move(r), "AbortMultipartUpload");
    return Unsupported(std::move(r), "DeleteObject" + sub);
  }
  if (m == "POST") {
    if (Has(q, "uploads")) return Unsupported(std::move(r), "CreateMultipartUpload");
    if (Has(q, "uploadId")) return Unsupported(std::move(r), "CompleteMultipartUpload");
    return Unsupported(std::move(r), "POST object" + sub);
  }
  return Unsupported(std::move(r), std::string(m) + " object");
}

}  // namespace sluice::s3
