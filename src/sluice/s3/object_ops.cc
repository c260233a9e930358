// PutObject, GetObject / HeadObject (with a single byte range, of a version when versionId
// names one), DeleteObject (of a version likewise), DeleteObjects.

#include <charconv>
#include <optional>
#include <utility>

#include "sluice/core/utf8.h"
#include "sluice/s3/multipart_xml_internal.h"
#include "sluice/s3/ops_internal.h"
#include "sluice/s3/put_object_internal.h"

namespace sluice::s3 {
namespace {

// S3's default for objects stored without a Content-Type.
constexpr std::string_view kDefaultContentType = "binary/octet-stream";

struct ByteRange {
  uint64_t first = 0;
  uint64_t last = 0;  // inclusive
};

std::optional<uint64_t> ParseDigits(std::string_view s) {
  uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// One `Range: bytes=first-last | first- | -suffix` against an object of `size` bytes. A header
// that is not a single byte range is ignored (nullopt: the whole object), as S3 and RFC 9110
// do; a well-formed range the object cannot satisfy is kInvalidRange.
Result<std::optional<ByteRange>> ParseRange(std::string_view header, uint64_t size) {
  constexpr std::string_view kUnit = "bytes=";
  if (!header.starts_with(kUnit)) return std::optional<ByteRange>();
  const std::string_view spec = header.substr(kUnit.size());
  const size_t dash = spec.find('-');
  if (dash == std::string_view::npos || spec.find(',') != std::string_view::npos) {
    return std::optional<ByteRange>();
  }
  const std::string_view a = spec.substr(0, dash);
  const std::string_view b = spec.substr(dash + 1);
  const Status unsatisfiable(ErrorCode::kInvalidRange, "the requested range " + std::string(spec) +
                                                           " is not satisfiable for an object of " +
                                                           std::to_string(size) + " bytes");
  if (a.empty()) {
    const auto suffix = ParseDigits(b);
    if (!suffix.has_value()) return std::optional<ByteRange>();
    if (*suffix == 0 || size == 0) return unsatisfiable;
    return std::optional<ByteRange>(ByteRange{size - std::min(*suffix, size), size - 1});
  }
  const auto first = ParseDigits(a);
  if (!first.has_value()) return std::optional<ByteRange>();
  std::optional<uint64_t> last = size == 0 ? 0 : size - 1;
  if (!b.empty()) {
    last = ParseDigits(b);
    if (!last.has_value() || *last < *first) return std::optional<ByteRange>();
  }
  if (*first >= size) return unsatisfiable;
  return std::optional<ByteRange>(ByteRange{*first, std::min(*last, size - 1)});
}

// Whether an If-Match / If-None-Match list (`"etag1", etag2` or `*`) names `etag` (unquoted).
bool EtagListMatches(std::string_view list, const std::string& etag) {
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string_view::npos) comma = list.size();
    std::string_view item = list.substr(start, comma - start);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.starts_with("W/")) item.remove_prefix(2);
    if (item.size() >= 2 && item.front() == '"' && item.back() == '"') {
      item = item.substr(1, item.size() - 2);
    }
    if (item == "*" || item == etag) return true;
    start = comma + 1;
  }
  return false;
}

// The stored standard headers (StoredHeaders' lower-case names) as S3 spells them, and the
// GetObject parameter that overrides each in the response.
struct HeaderName {
  std::string_view stored;
  std::string_view wire;
  std::string_view override_param;
};
constexpr HeaderName kHeaderNames[] = {
    {"content-type", "Content-Type", "response-content-type"},
    {"cache-control", "Cache-Control", "response-cache-control"},
    {"content-disposition", "Content-Disposition", "response-content-disposition"},
    {"content-encoding", "Content-Encoding", "response-content-encoding"},
    {"content-language", "Content-Language", "response-content-language"},
    {"expires", "Expires", "response-expires"},
};

// The object's headers; `route`'s response-* parameters (GetObject's overrides, which S3
// honours on signed requests, as every request here is) replace the stored values.
void AddObjectHeaders(const ObjectInfo& info, const Route& route, http::Response* r) {
  r->headers.emplace_back("ETag", "\"" + info.etag + "\"");
  r->headers.emplace_back("Last-Modified", FormatHttpDate(info.last_modified / 1'000'000));
  for (const HeaderName& h : kHeaderNames) {
    const std::string* value = route.Param(h.override_param);
    if (value == nullptr && h.stored == "content-type") {
      value = info.content_type.empty() ? nullptr : &info.content_type;
      if (value == nullptr) r->headers.emplace_back(h.wire, std::string(kDefaultContentType));
    } else if (value == nullptr) {
      for (const auto& [name, stored] : info.headers) {
        if (name == h.stored) value = &stored;
      }
    }
    if (value != nullptr) r->headers.emplace_back(h.wire, HeaderSafe(*value, 8192));
  }
  r->headers.emplace_back("Accept-Ranges", "bytes");
  if (!info.version_id.empty()) r->headers.emplace_back("x-amz-version-id", info.version_id);
  for (const auto& h : info.user_metadata) r->headers.push_back(h);
  for (const auto& h : info.status_headers) r->headers.push_back(h);
}

// The version a request names: its versionId, or none. "null" is S3's name for the version of
// an object written while versioning was off; versioning is always on here, and clients that
// send it (treating the bucket as unversioned) mean the key's current object.
const std::string* VersionIdOf(const std::string* version_id) {
  return version_id != nullptr && *version_id == "null" ? nullptr : version_id;
}

// DeleteObject's x-amz-version-id and x-amz-delete-marker.
void AddDeleteHeaders(const DeleteOutcome& outcome, http::Response* r) {
  if (!outcome.version_id.empty()) r->headers.emplace_back("x-amz-version-id", outcome.version_id);
  if (outcome.delete_marker) r->headers.emplace_back("x-amz-delete-marker", "true");
}

// DeleteObject with or without a versionId.
Result<DeleteOutcome> DeleteOne(Backend& backend, const Identity& who, const std::string& bucket,
                                const std::string& key, const std::string* version_id) {
  if (version_id == nullptr) return backend.DeleteObject(who, bucket, key);
  return backend.DeleteObjectVersion(who, bucket, key, *version_id);
}

// One <Deleted> as S3 words it: the version asked for as VersionId; the delete marker made
// (no version asked) or removed (the version asked for was one) as DeleteMarker and
// DeleteMarkerVersionId.
std::string DeletedElement(const std::string& key, const std::string* version_id,
                           const DeleteOutcome& outcome) {
  std::string out = "<Deleted><Key>" + XmlEscape(key) + "</Key>";
  if (version_id != nullptr) out += "<VersionId>" + XmlEscape(*version_id) + "</VersionId>";
  if (outcome.delete_marker) {
    out += "<DeleteMarker>true</DeleteMarker><DeleteMarkerVersionId>" +
           XmlEscape(outcome.version_id) + "</DeleteMarkerVersionId>";
  }
  return out + "</Deleted>";
}

http::Response DeleteResult(const ResponseContext& ctx, const Clock& clock, Backend& backend,
                            const Identity& who, const std::string& bucket,
                            const DeleteRequest& request) {
  std::string body(kXmlDeclaration);
  body += "<DeleteResult xmlns=\"";
  body += kS3Namespace;
  body += "\">";
  for (size_t i = 0; i < request.keys.size(); ++i) {
    const std::string& key = request.keys[i];
    const std::string* version_id = VersionIdOf(
        i < request.version_ids.size() && request.version_ids[i] ? &*request.version_ids[i]
                                                                 : nullptr);
    Status st;
    DeleteOutcome outcome;
    if (key.empty() || key.size() > kMaxKeyBytes || !IsValidUtf8(key)) {
      st = Status(ErrorCode::kInvalidArgument,
                  "the key must be 1 to " + std::to_string(kMaxKeyBytes) + " bytes of UTF-8");
    } else if (auto done = DeleteOne(backend, who, bucket, key, version_id); done.ok()) {
      outcome = std::move(done).value();
    } else {
      st = done.status();
    }
    if (st.ok()) {
      if (!request.quiet) body += DeletedElement(key, version_id, outcome);
      continue;
    }
    const S3Error e = S3ErrorFor(st.code());
    std::string message = st.message();
    if (e.http_status >= 500) {
      LogError("s3",
               "request " + ctx.request_id + " delete " + EscapeForLog(key) + ": " + st.ToString());
      message = "We encountered an internal error. Please try again.";
    }
    body += "<Error><Key>" + XmlEscape(key) + "</Key>";
    if (version_id != nullptr) body += "<VersionId>" + XmlEscape(*version_id) + "</VersionId>";
    body += "<Code>" + std::string(e.code) + "</Code><Message>" + XmlEscape(message) +
            "</Message></Error>";
  }
  body += "</DeleteResult>";
  return XmlResponse(ctx, clock, 200, std::move(body));
}

}  // namespace

Started PutObject(const Call& c) {
  const Status bucket = c.backend.CheckBucket(c.who, c.route.bucket);
  if (!bucket.ok()) return Reply(c, bucket);
  auto plan = PlanPayload(c.head, c.auth, c.secret, c.options.max_object_bytes);
  if (!plan.ok()) return Reply(c, plan.status());
  auto request = PutRequestOf(c);
  if (!request.ok()) return Reply(c, request.status());
  auto condition = WriteConditionOf(c.head.headers);
  if (!condition.ok()) return Reply(c, condition.status());
  request->condition = std::move(condition).value();
  request->size = plan->decoded_length;
  auto sink = c.backend.BeginPut(c.who, *request);
  if (!sink.ok()) return Reply(c, sink.status());
  return Continue(MakeUploadExchange(BodyContext(c), c.clock, std::move(plan).value(),
                                     std::move(sink).value(), /*full_object=*/true));
}

Started GetObject(const Call& c, bool with_body) {
  const Status bucket = c.backend.CheckBucket(c.who, c.route.bucket);
  if (!bucket.ok()) return Reply(c, bucket);
  const std::string* version_id = VersionIdOf(c.route.Param("versionId"));
  auto data =
      version_id == nullptr
          ? c.backend.GetObject(c.who, c.route.bucket, c.route.key, with_body)
          : c.backend.GetObjectVersion(c.who, c.route.bucket, c.route.key, *version_id, with_body);
  if (!data.ok()) {
    http::Response r = ErrorResponse(c.ctx, c.clock, data.status());
    // A delete marker has no body to read: S3 answers 405 and says what the id names.
    if (version_id != nullptr && data.status().code() == ErrorCode::kMethodNotAllowed) {
      r.headers.emplace_back("x-amz-delete-marker", "true");
      r.headers.emplace_back("x-amz-version-id", *version_id);
      r.headers.emplace_back("Allow", "DELETE");
    }
    return Reply(c, std::move(r));
  }
  const ObjectInfo& info = data->info;
  // ETag preconditions (RFC 9110 §13.1.1-2, as S3 applies them); the date ones are not served.
  if (const std::string* match = FindHeader(c.head.headers, "if-match");
      match != nullptr && !EtagListMatches(*match, info.etag)) {
    return Reply(c, Status(ErrorCode::kPreconditionFailed,
                           "At least one of the pre-conditions you specified did not hold"));
  }
  if (const std::string* none = FindHeader(c.head.headers, "if-none-match");
      none != nullptr && EtagListMatches(*none, info.etag)) {
    http::Response r = BaseResponse(c.ctx, c.clock, 304);
    r.headers.emplace_back("ETag", "\"" + info.etag + "\"");
    r.headers.emplace_back("Last-Modified", FormatHttpDate(info.last_modified / 1'000'000));
    return Reply(c, std::move(r));
  }
  std::optional<ByteRange> range;
  if (const std::string* header = FindHeader(c.head.headers, "range")) {
    auto parsed = ParseRange(*header, info.size);
    if (!parsed.ok()) {
      http::Response r = ErrorResponse(c.ctx, c.clock, parsed.status());
      r.headers.emplace_back("Content-Range", "bytes */" + std::to_string(info.size));
      return Reply(c, std::move(r));
    }
    range = *parsed;
  }
  http::Response r = BaseResponse(c.ctx, c.clock, range.has_value() ? 206 : 200);
  AddObjectHeaders(info, c.route, &r);
  // The stored checksum, when asked for (x-amz-checksum-mode: ENABLED) and the whole object is
  // sent: a range's bytes have no checksum of their own, and S3 sends none.
  if (const std::string* mode = FindHeader(c.head.headers, "x-amz-checksum-mode");
      mode != nullptr && EqualsIgnoreCase(TrimAscii(*mode), "ENABLED") && !range.has_value() &&
      !info.checksum.algorithm.empty()) {
    r.headers.emplace_back("x-amz-checksum-" + info.checksum.algorithm, info.checksum.value);
    r.headers.emplace_back("x-amz-checksum-type", info.checksum.type);
  }
  const uint64_t offset = range.has_value() ? range->first : 0;
  const uint64_t length = range.has_value() ? range->last - range->first + 1 : info.size;
  if (range.has_value()) {
    r.headers.emplace_back("Content-Range", "bytes " + std::to_string(range->first) + "-" +
                                                std::to_string(range->last) + "/" +
                                                std::to_string(info.size));
  }
  if (!with_body) {
    r.headers.emplace_back("Content-Length", std::to_string(length));
    return Reply(c, std::move(r));
  }
  if (!data->file) {
    return Reply(c, Status(ErrorCode::kInternal, "the backend returned no body for " + info.key));
  }
  if (data->file->size() < info.size) {
    return Reply(c, Status(ErrorCode::kInternal, "the stored file " + data->file->name() +
                                                     " is shorter than " +
                                                     std::to_string(info.size) + " bytes"));
  }
  r.file = std::move(data->file);
  r.file_offset = offset;
  r.file_length = length;
  return Reply(c, std::move(r));
}

Started DeleteObject(const Call& c) {
  const Status bucket = c.backend.CheckBucket(c.who, c.route.bucket);
  if (!bucket.ok()) return Reply(c, bucket);
  auto outcome = DeleteOne(c.backend, c.who, c.route.bucket, c.route.key,
                           VersionIdOf(c.route.Param("versionId")));
  if (!outcome.ok()) return Reply(c, outcome.status());
  http::Response r = BaseResponse(c.ctx, c.clock, 204);
  AddDeleteHeaders(*outcome, &r);
  return Reply(c, std::move(r));
}

Started DeleteObjects(const Call& c) {
  const Status bucket = c.backend.CheckBucket(c.who, c.route.bucket);
  if (!bucket.ok()) return Reply(c, bucket);
  // S3 requires an integrity check on this body: Content-MD5 or an x-amz-checksum-*.
  bool integrity = FindHeader(c.head.headers, "content-md5") != nullptr ||
                   FindHeader(c.head.headers, "x-amz-trailer") != nullptr;
  for (const auto& [name, value] : c.head.headers) {
    if (name.size() > 15 && EqualsIgnoreCase(name.substr(0, 15), "x-amz-checksum-") &&
        !EqualsIgnoreCase(name, "x-amz-checksum-type") &&
        !EqualsIgnoreCase(name, "x-amz-checksum-algorithm")) {
      integrity = true;
    }
  }
  if (!integrity) {
    return Reply(c, Status(ErrorCode::kInvalidRequest,
                           "missing required header for this request: Content-MD5 or "
                           "x-amz-checksum-*"));
  }
  auto plan = PlanPayload(c.head, c.auth, c.secret, kMaxDeleteXmlBytes);
  if (!plan.ok()) return Reply(c, plan.status());
  ResponseContext ctx = BodyContext(c);
  Backend& backend = c.backend;
  const Clock& clock = c.clock;
  return Continue(MakeBufferedExchange(
      ctx, clock, std::move(plan).value(),
      [ctx, &backend, &clock, who = c.who, bucket = c.route.bucket](const std::string& body) {
        auto request = ParseDeleteObjects(body);
        if (!request.ok()) return ErrorResponse(ctx, clock, request.status());
        return DeleteResult(ctx, clock, backend, who, bucket, *request);
      }));
}

}  // namespace sluice::s3
