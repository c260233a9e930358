// The S3 endpoint: route, authenticate, then serve. Authentication happens in Start, before the
// body is read, so that a refusal can be sent instead of `100 Continue`.
//
// Order of checks (each answers at once, later ones are not attempted):
//   1. ParseAuth            AccessDenied (anonymous), InvalidRequest, InvalidArgument,
//                           NotImplemented (presigned, SigV2)
//   2. Backend::LookupKey   InvalidAccessKeyId
//   3. auth::Verify         RequestTimeTooSkewed, SignatureDoesNotMatch
//   4. routing              malformed path; NotImplemented for every operation not served
//   5. Backend::CheckBucket NoSuchBucket, AccessDenied (another connection's bucket)
//   6. the operation

#include <utility>

#include "sluice/auth/auth.h"
#include "sluice/s3/put_object.h"
#include "sluice/s3/response.h"
#include "sluice/s3/route.h"
#include "sluice/s3/s3.h"

namespace sluice::s3 {
namespace {

constexpr std::string_view kS3Namespace = "http://s3.amazonaws.com/doc/2006-03-01/";

// "2026-11-27T02:33:36.000Z": S3's ISO-8601 form with milliseconds.
std::string FormatIsoMillis(int64_t micros) {
  const std::string full = FormatIsoMicros(micros);  // ...:36.123456Z
  return full.substr(0, full.size() - 4) + "Z";
}

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

    const auth::Request request{head.method, head.raw_path, head.raw_query, &head.headers};
    auto parsed = auth::ParseAuth(request);
    if (!parsed.ok()) return Answer(ctx, parsed.status());
    auto key = backend_.LookupKey(parsed->access_key);
    if (!key.ok()) return Answer(ctx, key.status());
    const Status verified =
        auth::Verify(request, *parsed, key->first, clock_.NowSeconds(), options_.max_skew_seconds);
    if (!verified.ok()) return Answer(ctx, verified);
    const Identity who{parsed->access_key, key->second};

    const Route route = RouteRequest(head);
    if (!route.error.ok()) return Answer(ctx, route.error);
    switch (route.op) {
      case Operation::kListBuckets:
        return ListBuckets(ctx, who);
      case Operation::kHeadBucket:
        return HeadBucket(ctx, who, route);
      case Operation::kPutObject:
        return PutObject(ctx, who, route, head, *parsed);
      case Operation::kUnsupported:
        break;
    }
    return Answer(
        ctx, Status(ErrorCode::kNotImplemented, route.name + " is not implemented by sluice yet"));
  }

 private:
  Started Answer(const ResponseContext& ctx, const Status& status) {
    Started s;
    s.response = ErrorResponse(ctx, clock_, status);
    return s;
  }

  Started Answer(const ResponseContext& ctx, http::Response response) {
    response.close = response.close || ctx.body_pending;
    Started s;
    s.response = std::move(response);
    return s;
  }

  Started ListBuckets(const ResponseContext& ctx, const Identity& who) {
    auto buckets = backend_.ListBuckets(who);
    if (!buckets.ok()) return Answer(ctx, buckets.status());
    http::Response r = BaseResponse(ctx, clock_, 200);
    r.headers.emplace_back("Content-Type", "application/xml");
    const std::string owner = XmlEscape(who.connection_id);
    r.body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListAllMyBucketsResult xmlns=\"";
    r.body += kS3Namespace;
    r.body +=
        "\"><Owner><ID>" + owner + "</ID><DisplayName>" + owner + "</DisplayName></Owner><Buckets>";
    for (const BucketInfo& b : *buckets) {
      r.body += "<Bucket><Name>" + XmlEscape(b.name) + "</Name><CreationDate>" +
                FormatIsoMillis(b.created_at) + "</CreationDate></Bucket>";
    }
    r.body += "</Buckets></ListAllMyBucketsResult>";
    return Answer(ctx, std::move(r));
  }

  Started HeadBucket(const ResponseContext& ctx, const Identity& who, const Route& route) {
    const Status st = backend_.CheckBucket(who, route.bucket);
    if (!st.ok()) return Answer(ctx, st);
    http::Response r = BaseResponse(ctx, clock_, 200);
    r.headers.emplace_back("x-amz-bucket-region", options_.region);
    return Answer(ctx, std::move(r));
  }

  Started PutObject(const ResponseContext& ctx, const Identity& who, const Route& route,
                    const http::RequestHead& head, const auth::ParsedAuth& parsed) {
    const Status bucket = backend_.CheckBucket(who, route.bucket);
    if (!bucket.ok()) return Answer(ctx, bucket);
    auto plan = PlanPut(head, parsed, options_);
    if (!plan.ok()) return Answer(ctx, plan.status());
    PutRequest request;
    request.bucket = route.bucket;
    request.key = route.key;
    if (const std::string* type = FindHeader(head.headers, "content-type")) {
      request.content_type = *type;
    }
    auto metadata = UserMetadata(head.headers);
    if (!metadata.ok()) return Answer(ctx, metadata.status());
    request.user_metadata = std::move(metadata).value();
    auto sink = backend_.BeginPut(who, request);
    if (!sink.ok()) return Answer(ctx, sink.status());
    ResponseContext body_ctx = ctx;
    body_ctx.body_pending = false;  // Finish runs once the body has been read
    Started s;
    s.exchange = MakePutExchange(std::move(body_ctx), clock_, std::move(plan).value(),
                                 std::move(sink).value());
    return s;
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
