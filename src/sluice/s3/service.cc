// The S3 endpoint: route, authenticate, then serve. Authentication happens in Start, before the
// body is read, so that a refusal can be sent instead of `100 Continue`.
//
// Order of checks (each answers at once, later ones are not attempted):
//   1. ParseAuth            AccessDenied (anonymous; SigV2 without a valid date),
//                           InvalidRequest (no x-amz-content-sha256), InvalidArgument
//   2. Backend::LookupKey   InvalidAccessKeyId
//   3. auth::Verify         RequestTimeTooSkewed, SignatureDoesNotMatch, AccessDenied (expired
//                           presigned URL)
//   4. routing              malformed path; NotImplemented for every operation not served
//   5. the operation        bucket checks (NoSuchBucket, AccessDenied), head checks (lengths,
//                           digests' syntax, parameters), then the body if any

#include <algorithm>
#include <cctype>
#include <charconv>
#include <utility>

#include "sluice/auth/auth.h"
#include "sluice/core/text.h"
#include "sluice/s3/ops_internal.h"
#include "sluice/s3/payload_internal.h"
#include "sluice/s3/put_object_internal.h"
#include "sluice/s3/response_internal.h"
#include "sluice/s3/route_internal.h"
#include "sluice/s3/s3.h"

namespace sluice::s3 {

// CreateBucket may carry a CreateBucketConfiguration (a LocationConstraint); S3 caps it small.
constexpr uint64_t kMaxCreateBucketBodyBytes = 64 * 1024;

Started Reply(const Call& c, const Status& error) {
  Started s;
  s.response = ErrorResponse(c.ctx, c.clock, error);
  return s;
}

Started Reply(const Call& c, http::Response response) {
  response.close = response.close || c.ctx.body_pending;
  Started s;
  s.response = std::move(response);
  return s;
}

Started Continue(std::unique_ptr<http::Exchange> exchange) {
  Started s;
  s.exchange = std::move(exchange);
  return s;
}

ResponseContext BodyContext(const Call& c) {
  ResponseContext ctx = c.ctx;
  ctx.body_pending = false;  // Finish runs once the body has been read
  return ctx;
}

Result<PutRequest> PutRequestOf(const Call& c) {
  PutRequest request;
  request.bucket = c.route.bucket;
  request.key = c.route.key;
  if (const std::string* type = FindHeader(c.head.headers, "content-type")) {
    request.content_type = *type;
  }
  request.headers = StoredHeadersOf(c.head.headers);
  SLUICE_ASSIGN_OR_RETURN(request.user_metadata, UserMetadata(c.head.headers));
  return request;
}

StoredHeaders StoredHeadersOf(const http::HeaderList& headers) {
  static constexpr std::string_view kKept[] = {"cache-control", "content-disposition",
                                               "content-encoding", "content-language", "expires"};
  StoredHeaders out;
  for (std::string_view name : kKept) {
    const std::string* sent = FindHeader(headers, name);
    if (sent == nullptr) continue;
    std::string value;
    if (name == "content-encoding") {
      // aws-chunked names the framing of this request's body, not the object's encoding.
      std::string_view rest = *sent;
      while (!rest.empty()) {
        const size_t comma = std::min(rest.find(','), rest.size());
        const std::string_view token = TrimAscii(rest.substr(0, comma));
        rest.remove_prefix(std::min(comma + 1, rest.size()));
        if (token.empty() || EqualsIgnoreCase(token, "aws-chunked")) continue;
        if (!value.empty()) value += ",";
        value += token;
      }
    } else {
      value = std::string(TrimAscii(*sent));
    }
    if (!value.empty()) out.emplace_back(name, std::move(value));
  }
  return out;
}

Result<WriteCondition> WriteConditionOf(const http::HeaderList& headers) {
  WriteCondition condition;
  if (const std::string* none = FindHeader(headers, "if-none-match")) {
    if (TrimAscii(*none) != "*") {
      return Status(ErrorCode::kNotImplemented,
                    "A header you provided implies functionality that is not implemented: "
                    "If-None-Match on a write takes only '*'");
    }
    condition.if_none_match = true;
  }
  if (const std::string* match = FindHeader(headers, "if-match")) {
    std::string_view etag = TrimAscii(*match);
    if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
      etag = etag.substr(1, etag.size() - 2);
    }
    if (etag.empty()) return Status(ErrorCode::kInvalidArgument, "If-Match names no ETag");
    condition.if_match = std::string(etag);
  }
  return condition;
}

Result<int64_t> IntParam(const Route& route, std::string_view name, int64_t min, int64_t max,
                         int64_t fallback) {
  const std::string* v = route.Param(name);
  if (v == nullptr) return fallback;
  int64_t n = 0;
  const auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (v->empty() || ec != std::errc() || end != v->data() + v->size() || n < min || n > max) {
    return Status(ErrorCode::kInvalidArgument, std::string(name) + " must be an integer from " +
                                                   std::to_string(min) + " to " +
                                                   std::to_string(max) + ", not '" + *v + "'");
  }
  return n;
}

namespace {

class Service final : public http::Handler {
 public:
  Service(Backend& backend, const Clock& clock, ServiceOptions options)
      : backend_(backend), clock_(clock), options_(std::move(options)) {}

  Started Start(const http::RequestHead& head) override {
    ResponseContext ctx;
    ctx.request_id = NewRequestId();
    ctx.resource = head.raw_path;
    ctx.head = head.method == "HEAD";
    ctx.body_pending = head.chunked || head.content_length.value_or(0) > 0;
    if (const auto origin = head.Header("Origin");
        origin && options_.cors_origin_allowed && options_.cors_origin_allowed(*origin)) {
      ctx.cors_origin = std::string(*origin);
    }
    if (head.method == "OPTIONS") return Preflight(ctx, head);

    // Routed before authentication, answered after it: SigV2 signs a virtual-hosted request's
    // bucket, which only routing knows.
    const Route route = RouteRequest(head, options_.base_domain);
    const auth::Request request{head.method, head.raw_path, head.raw_query, &head.headers,
                                route.virtual_host ? std::string_view(route.bucket) : ""};
    auto parsed = auth::ParseAuth(request);
    if (!parsed.ok()) return Answer(ctx, parsed.status());
    auto key = backend_.LookupKey(parsed->access_key);
    if (!key.ok()) return Answer(ctx, key.status());
    const Status verified =
        auth::Verify(request, *parsed, key->first, clock_.NowSeconds(), options_.max_skew_seconds);
    if (!verified.ok()) return Answer(ctx, verified);
    backend_.NoteKeyUsed(parsed->access_key);
    const Identity who{parsed->access_key, key->second, key->second.empty()};

    if (!route.error.ok()) return Answer(ctx, route.error);
    const Call c{backend_, clock_, options_, ctx, who, route, head, *parsed, key->first};
    switch (route.op) {
      case Operation::kListBuckets:
        return ListBuckets(c);
      case Operation::kHeadBucket:
        return HeadBucket(c);
      case Operation::kCreateBucket:
        return CreateBucket(c);
      case Operation::kDeleteBucket:
        return DeleteBucket(c);
      case Operation::kGetBucketLocation:
        return GetBucketLocation(c);
      case Operation::kListObjects:
        return ListObjects(c, /*v2=*/false);
      case Operation::kListObjectsV2:
        return ListObjects(c, /*v2=*/true);
      case Operation::kListMultipartUploads:
        return ListMultipartUploads(c);
      case Operation::kListObjectVersions:
        return ListObjectVersions(c);
      case Operation::kGetBucketVersioning:
        return GetBucketVersioning(c);
      case Operation::kPutBucketVersioning:
        return PutBucketVersioning(c);
      case Operation::kDeleteObjects:
        return DeleteObjects(c);
      case Operation::kPutObject:
        return PutObject(c);
      case Operation::kCopyObject:
        return CopyObject(c);
      case Operation::kUploadPartCopy:
        return UploadPartCopy(c);
      case Operation::kGetObject:
        return GetObject(c, /*with_body=*/true);
      case Operation::kHeadObject:
        return GetObject(c, /*with_body=*/false);
      case Operation::kDeleteObject:
        return DeleteObject(c);
      case Operation::kCreateMultipartUpload:
        return CreateMultipartUpload(c);
      case Operation::kUploadPart:
        return UploadPart(c);
      case Operation::kCompleteMultipartUpload:
        return CompleteMultipartUpload(c);
      case Operation::kAbortMultipartUpload:
        return AbortMultipartUpload(c);
      case Operation::kListParts:
        return ListParts(c);
      case Operation::kUnsupported:
        break;
    }
    return Answer(ctx,
                  Status(ErrorCode::kNotImplemented, route.name + " is not implemented by sluice"));
  }

 private:
  // A CORS preflight (S3's OPTIONS object): allowed for an allowed origin asking for a method
  // S3 has, with request headers that are plain names; refused 403 otherwise, as S3 refuses a
  // preflight its CORS rules do not cover.
  Started Preflight(const ResponseContext& ctx, const http::RequestHead& head) {
    const auto method = head.Header("Access-Control-Request-Method");
    const std::string_view asked = head.Header("Access-Control-Request-Headers").value_or("");
    const bool names = std::all_of(asked.begin(), asked.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == ',' || c == ' ';
    });
    const bool known = method && (*method == "GET" || *method == "PUT" || *method == "HEAD" ||
                                  *method == "POST" || *method == "DELETE");
    if (ctx.cors_origin.empty() || !known || !names || asked.size() > 1024) {
      return Answer(
          ctx, Status(ErrorCode::kAccessDenied, "CORSResponse: This CORS request is not allowed."));
    }
    Started s;
    s.response = BaseResponse(ctx, clock_, 200);
    s.response->headers.emplace_back("Access-Control-Allow-Methods",
                                     "GET, PUT, HEAD, POST, DELETE");
    if (!asked.empty()) {
      s.response->headers.emplace_back("Access-Control-Allow-Headers", std::string(asked));
    }
    s.response->headers.emplace_back("Access-Control-Max-Age", "600");
    s.response->close = ctx.body_pending;
    return s;
  }

  Started Answer(const ResponseContext& ctx, const Status& status) {
    Started s;
    s.response = ErrorResponse(ctx, clock_, status);
    return s;
  }

  Started ListBuckets(const Call& c) {
    auto buckets = backend_.ListBuckets(c.who);
    if (!buckets.ok()) return Reply(c, buckets.status());
    const std::string owner =
        XmlEscape(c.who.connection_id.empty() ? c.who.access_key.str() : c.who.connection_id);
    std::string body(kXmlDeclaration);
    body += "<ListAllMyBucketsResult xmlns=\"";
    body += kS3Namespace;
    body +=
        "\"><Owner><ID>" + owner + "</ID><DisplayName>" + owner + "</DisplayName></Owner><Buckets>";
    for (const BucketInfo& b : *buckets) {
      body += "<Bucket><Name>" + XmlEscape(b.name) + "</Name><CreationDate>" +
              FormatIsoMillis(b.created_at) + "</CreationDate></Bucket>";
    }
    body += "</Buckets></ListAllMyBucketsResult>";
    return Reply(c, XmlResponse(c.ctx, clock_, 200, std::move(body)));
  }

  Started HeadBucket(const Call& c) {
    const Status st = backend_.CheckBucket(c.who, c.route.bucket);
    if (!st.ok()) return Reply(c, st);
    http::Response r = BaseResponse(c.ctx, clock_, 200);
    r.headers.emplace_back("x-amz-bucket-region", options_.region);
    return Reply(c, std::move(r));
  }

  Started GetBucketLocation(const Call& c) {
    const Status st = backend_.CheckBucket(c.who, c.route.bucket);
    if (!st.ok()) return Reply(c, st);
    std::string body(kXmlDeclaration);
    body += "<LocationConstraint xmlns=\"";
    body += kS3Namespace;
    // us-east-1 is S3's empty location constraint.
    if (options_.region == "us-east-1") {
      body += "\"/>";
    } else {
      body += "\">" + XmlEscape(options_.region) + "</LocationConstraint>";
    }
    return Reply(c, XmlResponse(c.ctx, clock_, 200, std::move(body)));
  }

  http::Response Created(const ResponseContext& ctx, const Identity& who,
                         const std::string& bucket) {
    const Status st = backend_.CreateBucket(who, bucket);
    if (!st.ok()) return ErrorResponse(ctx, clock_, st);
    http::Response r = BaseResponse(ctx, clock_, 200);
    r.headers.emplace_back("Location", "/" + bucket);
    return r;
  }

  Started CreateBucket(const Call& c) {
    if (!c.ctx.body_pending) return Reply(c, Created(c.ctx, c.who, c.route.bucket));
    // A CreateBucketConfiguration body: verified like any body; its LocationConstraint does not
    // matter (one region), so it is not interpreted.
    auto plan = PlanPayload(c.head, c.auth, c.secret, kMaxCreateBucketBodyBytes);
    if (!plan.ok()) return Reply(c, plan.status());
    ResponseContext ctx = BodyContext(c);
    return Continue(MakeBufferedExchange(
        ctx, clock_, std::move(plan).value(),
        [this, ctx, who = c.who, bucket = c.route.bucket](const std::string& /*config*/) {
          return Created(ctx, who, bucket);
        }));
  }

  Started DeleteBucket(const Call& c) {
    const Status st = backend_.DeleteBucket(c.who, c.route.bucket);
    if (!st.ok()) return Reply(c, st);
    return Reply(c, BaseResponse(c.ctx, clock_, 204));
  }

  Backend& backend_;
  const Clock& clock_;
  const ServiceOptions options_;
};

}  // namespace

std::unique_ptr<http::Handler> MakeService(Backend& backend, const Clock& clock,
                                           ServiceOptions options) {
  return std::make_unique<Service>(backend, clock, std::move(options));
}

}  // namespace sluice::s3
