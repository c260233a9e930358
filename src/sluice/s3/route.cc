#include <initializer_list>
#include <utility>
#include <vector>

#include "sluice/core/text.h"
#include "sluice/core/utf8.h"
#include "sluice/s3/response_internal.h"
#include "sluice/s3/route_internal.h"

namespace sluice::s3 {
namespace {

// Sub-resources that select an S3 operation other than the plain object or bucket one (the
// list S3 signs in SigV2 plus the newer ones). Other parameters (prefix, max-keys, x-id, the
// presign parameters, response-*) only qualify the plain operation.
constexpr std::string_view kSubresources[] = {
    "accelerate",
    "acl",
    "analytics",
    "attributes",
    "cors",
    "delete",
    "encryption",
    "intelligent-tiering",
    "inventory",
    "legal-hold",
    "lifecycle",
    "location",
    "logging",
    "metrics",
    "notification",
    "object-lock",
    "ownershipControls",
    "partNumber",
    "policy",
    "policyStatus",
    "publicAccessBlock",
    "replication",
    "requestPayment",
    "restore",
    "retention",
    "select",
    "tagging",
    "torrent",
    "uploadId",
    "uploads",
    "versionId",
    "versioning",
    "versions",
    "website",
};

bool IsSubresource(std::string_view name) {
  for (std::string_view s : kSubresources) {
    if (s == name) return true;
  }
  return false;
}

// "?name" of the first sub-resource other than those in `except`, or "".
std::string Suffix(const QueryParams& q, std::initializer_list<std::string_view> except = {}) {
  for (const auto& [name, value] : q) {
    if (!IsSubresource(name)) continue;
    bool skip = false;
    for (std::string_view e : except) skip |= e == name;
    if (!skip) return "?" + name;
  }
  return "";
}

bool Has(const QueryParams& q, std::string_view n) {
  for (const auto& [name, value] : q) {
    if (name == n) return true;
  }
  return false;
}

Route Named(Route r, Operation op, std::string name) {
  r.op = op;
  r.name = std::move(name);
  return r;
}

Route Unsupported(Route r, std::string name) {
  return Named(std::move(r), Operation::kUnsupported, std::move(name));
}

// The bucket named by a virtual-hosted Host header `<bucket>.<base_domain>[:port]`, or "".
std::string VirtualHostBucket(const http::RequestHead& head, std::string_view base_domain) {
  if (base_domain.empty()) return "";
  const std::string* host_header = FindHeader(head.headers, "host");
  if (host_header == nullptr) return "";
  std::string host = AsciiLowered(*host_header);
  const size_t colon = host.rfind(':');
  if (colon != std::string::npos && host.find(']') == std::string::npos) host.resize(colon);
  const std::string suffix = "." + AsciiLowered(base_domain);
  if (host.size() <= suffix.size() || !host.ends_with(suffix)) return "";
  return host.substr(0, host.size() - suffix.size());
}

Status ParseQuery(std::string_view raw_query, QueryParams* out) {
  size_t start = 0;
  while (start <= raw_query.size() && !raw_query.empty()) {
    size_t amp = raw_query.find('&', start);
    if (amp == std::string_view::npos) amp = raw_query.size();
    const std::string_view part = raw_query.substr(start, amp - start);
    start = amp + 1;
    if (!part.empty()) {
      const size_t eq = part.find('=');
      auto name = DecodePathSegment(part.substr(0, eq));
      auto value = DecodePathSegment(eq == std::string_view::npos ? std::string_view()
                                                                  : part.substr(eq + 1));
      if (!name.ok() || !value.ok()) {
        return Status(ErrorCode::kInvalidRequest,
                      "invalid percent-escape in query parameter '" + std::string(part) + "'");
      }
      out->emplace_back(std::move(name).value(), std::move(value).value());
    }
    if (amp == raw_query.size()) break;
  }
  return Status::Ok();
}

}  // namespace

Result<std::string> DecodePathSegment(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '%') {
      out += raw[i];
      continue;
    }
    const int hi = i + 2 < raw.size() ? HexDigitValue(raw[i + 1]) : -1;
    const int lo = i + 2 < raw.size() ? HexDigitValue(raw[i + 2]) : -1;
    if (hi < 0 || lo < 0) {
      return Status(ErrorCode::kInvalidRequest,
                    "invalid percent-escape at offset " + std::to_string(i) + " of the path");
    }
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

const std::string* Route::Param(std::string_view name) const {
  for (const auto& [n, v] : query) {
    if (n == name) return &v;
  }
  return nullptr;
}

std::string Route::ParamOrEmpty(std::string_view name) const {
  const std::string* v = Param(name);
  return v == nullptr ? std::string() : *v;
}

Route RouteRequest(const http::RequestHead& head, std::string_view base_domain) {
  Route r;
  const std::string_view path = head.raw_path;
  const std::string_view m = head.method;
  if (Status st = ParseQuery(head.raw_query, &r.query); !st.ok()) r.error = std::move(st);
  if (path.empty() || path[0] != '/') {
    r.error = Status(ErrorCode::kInvalidRequest, "the request target must be an absolute path");
    return Unsupported(std::move(r), std::string(m));
  }
  std::string host_bucket = VirtualHostBucket(head, base_domain);
  std::string_view raw_bucket;
  std::string_view raw_key;
  if (!host_bucket.empty()) {
    r.virtual_host = true;
    raw_key = path.substr(1);
  } else {
    const size_t slash = path.find('/', 1);
    raw_bucket = path.substr(1, slash == std::string_view::npos ? slash : slash - 1);
    raw_key = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
  }
  auto bucket =
      r.virtual_host ? Result<std::string>(std::move(host_bucket)) : DecodePathSegment(raw_bucket);
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
  const QueryParams& q = r.query;

  if (r.bucket.empty() && r.key.empty()) {
    if (m == "GET") return Named(std::move(r), Operation::kListBuckets, "ListBuckets");
    return Unsupported(std::move(r), std::string(m) + " /");
  }
  if (r.key.empty()) {
    if (m == "HEAD") {
      const std::string sub = Suffix(q);
      if (sub.empty()) return Named(std::move(r), Operation::kHeadBucket, "HeadBucket");
      return Unsupported(std::move(r), "HeadBucket" + sub);
    }
    if (m == "GET") {
      if (Has(q, "location")) {
        return Named(std::move(r), Operation::kGetBucketLocation, "GetBucketLocation");
      }
      if (Has(q, "uploads")) {
        return Named(std::move(r), Operation::kListMultipartUploads, "ListMultipartUploads");
      }
      if (Has(q, "versions")) {
        const std::string sub = Suffix(q, {"versions"});
        if (!sub.empty()) return Unsupported(std::move(r), "ListObjectVersions" + sub);
        return Named(std::move(r), Operation::kListObjectVersions, "ListObjectVersions");
      }
      if (Has(q, "versioning")) {
        const std::string sub = Suffix(q, {"versioning"});
        if (!sub.empty()) return Unsupported(std::move(r), "GetBucketVersioning" + sub);
        return Named(std::move(r), Operation::kGetBucketVersioning, "GetBucketVersioning");
      }
      const std::string sub = Suffix(q);
      if (!sub.empty()) return Unsupported(std::move(r), "GetBucket" + sub);
      if (const std::string* type = r.Param("list-type"); type != nullptr && *type == "2") {
        return Named(std::move(r), Operation::kListObjectsV2, "ListObjectsV2");
      }
      return Named(std::move(r), Operation::kListObjects, "ListObjects");
    }
    const std::string sub = Suffix(q);
    if (m == "PUT") {
      if (sub.empty()) return Named(std::move(r), Operation::kCreateBucket, "CreateBucket");
      if (sub == "?versioning" && Suffix(q, {"versioning"}).empty()) {
        return Named(std::move(r), Operation::kPutBucketVersioning, "PutBucketVersioning");
      }
      return Unsupported(std::move(r), "PutBucket" + sub);
    }
    if (m == "DELETE") {
      if (sub.empty()) return Named(std::move(r), Operation::kDeleteBucket, "DeleteBucket");
      return Unsupported(std::move(r), "DeleteBucket" + sub);
    }
    if (m == "POST" && Has(q, "delete")) {
      return Named(std::move(r), Operation::kDeleteObjects, "DeleteObjects");
    }
    return Unsupported(std::move(r), std::string(m) + " bucket" + sub);
  }
  const bool copy = FindHeader(head.headers, "x-amz-copy-source") != nullptr;
  if (m == "PUT") {
    if (Has(q, "partNumber") || Has(q, "uploadId")) {
      const std::string sub = Suffix(q, {"partNumber", "uploadId"});
      if (copy) {
        if (!sub.empty()) return Unsupported(std::move(r), "UploadPartCopy" + sub);
        return Named(std::move(r), Operation::kUploadPartCopy, "UploadPartCopy");
      }
      if (!sub.empty()) return Unsupported(std::move(r), "UploadPart" + sub);
      return Named(std::move(r), Operation::kUploadPart, "UploadPart");
    }
    const std::string sub = Suffix(q);
    if (copy) {
      if (!sub.empty()) return Unsupported(std::move(r), "CopyObject" + sub);
      return Named(std::move(r), Operation::kCopyObject, "CopyObject");
    }
    if (!sub.empty()) return Unsupported(std::move(r), "PutObject" + sub);
    return Named(std::move(r), Operation::kPutObject, "PutObject");
  }
  if (m == "GET" || m == "HEAD") {
    const bool get = m == "GET";
    if (get && Has(q, "uploadId")) {
      const std::string sub = Suffix(q, {"uploadId"});
      if (!sub.empty()) return Unsupported(std::move(r), "ListParts" + sub);
      return Named(std::move(r), Operation::kListParts, "ListParts");
    }
    // versionId selects a version of the object: still GetObject / HeadObject.
    const std::string sub = Suffix(q, {"versionId"});
    if (!sub.empty()) return Unsupported(std::move(r), (get ? "GetObject" : "HeadObject") + sub);
    if (get) return Named(std::move(r), Operation::kGetObject, "GetObject");
    return Named(std::move(r), Operation::kHeadObject, "HeadObject");
  }
  if (m == "DELETE") {
    if (Has(q, "uploadId")) {
      const std::string sub = Suffix(q, {"uploadId"});
      if (!sub.empty()) return Unsupported(std::move(r), "AbortMultipartUpload" + sub);
      return Named(std::move(r), Operation::kAbortMultipartUpload, "AbortMultipartUpload");
    }
    const std::string sub = Suffix(q, {"versionId"});
    if (!sub.empty()) return Unsupported(std::move(r), "DeleteObject" + sub);
    return Named(std::move(r), Operation::kDeleteObject, "DeleteObject");
  }
  if (m == "POST") {
    if (Has(q, "uploads")) {
      const std::string sub = Suffix(q, {"uploads"});
      if (!sub.empty()) return Unsupported(std::move(r), "CreateMultipartUpload" + sub);
      return Named(std::move(r), Operation::kCreateMultipartUpload, "CreateMultipartUpload");
    }
    if (Has(q, "uploadId")) {
      const std::string sub = Suffix(q, {"uploadId"});
      if (!sub.empty()) return Unsupported(std::move(r), "CompleteMultipartUpload" + sub);
      return Named(std::move(r), Operation::kCompleteMultipartUpload, "CompleteMultipartUpload");
    }
    // Named before the call: `q` is r.query, and the order in which the arguments are made is
    // unspecified (clang moves `r` first, which left the suffix empty).
    std::string name = "POST object" + Suffix(q);
    return Unsupported(std::move(r), std::move(name));
  }
  return Unsupported(std::move(r), std::string(m) + " object");
}

}  // namespace sluice::s3
