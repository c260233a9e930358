// CreateMultipartUpload, UploadPart, CompleteMultipartUpload and AbortMultipartUpload. The
// parts, their checks and the assembly are the backend's; this layer validates the request,
// streams each part through the same checks as PutObject and speaks the XML.

#include <utility>

#include "sluice/s3/multipart_xml_internal.h"
#include "sluice/s3/ops_internal.h"
#include "sluice/s3/put_object_internal.h"

namespace sluice::s3 {
namespace {

// The x-amz-checksum-algorithm values S3 accepts, and the checksum type each implies for the
// whole object (S3 combines per-part CRCs into a composite, CRC64NVME into a full-object one).
struct AlgorithmName {
  std::string_view name;
  std::string_view type;
};
constexpr AlgorithmName kAlgorithms[] = {
    {"CRC32", "COMPOSITE"},  {"CRC32C", "COMPOSITE"},      {"SHA1", "COMPOSITE"},
    {"SHA256", "COMPOSITE"}, {"CRC64NVME", "FULL_OBJECT"},
};

Result<std::string> UploadIdParam(const Route& route) {
  const std::string* id = route.Param("uploadId");
  if (id == nullptr || id->empty()) {
    return Status(ErrorCode::kInvalidArgument, "uploadId must not be empty");
  }
  return *id;
}

}  // namespace

Started CreateMultipartUpload(const Call& c) {
  const Status bucket = c.backend.CheckBucket(c.who, c.route.bucket);
  if (!bucket.ok()) return Reply(c, bucket);
  const AlgorithmName* algorithm = nullptr;
  if (const std::string* alg = FindHeader(c.head.headers, "x-amz-checksum-algorithm")) {
    for (const AlgorithmName& a : kAlgorithms) {
      if (EqualsIgnoreCase(a.name, *alg)) algorithm = &a;
    }
    if (algorithm == nullptr) {
      return Reply(c, Status(ErrorCode::kInvalidRequest,
                             "unknown x-amz-checksum-algorithm '" + *alg +
                                 "': use CRC32, CRC32C, SHA1, SHA256 or CRC64NVME"));
    }
  }
  auto request = PutRequestOf(c);
  if (!request.ok()) return Reply(c, request.status());
  auto upload_id = c.backend.CreateMultipartUpload(c.who, *request);
  if (!upload_id.ok()) return Reply(c, upload_id.status());
  std::string body(kXmlDeclaration);
  body += "<InitiateMultipartUploadResult xmlns=\"";
  body += kS3Namespace;
  body += "\"><Bucket>" + XmlEscape(c.route.bucket) + "</Bucket><Key>" + XmlEscape(c.route.key) +
          "</Key><UploadId>" + XmlEscape(*upload_id) +
          "</UploadId></InitiateMultipartUploadResult>";
  http::Response r = XmlResponse(c.ctx, c.clock, 200, std::move(body));
  if (algorithm != nullptr) {
    r.headers.emplace_back("x-amz-checksum-algorithm", std::string(algorithm->name));
    r.headers.emplace_back("x-amz-checksum-type", std::string(algorithm->type));
  }
  return Reply(c, std::move(r));
}

Started UploadPart(const Call& c) {
  const Status bucket = c.backend.CheckBucket(c.who, c.route.bucket);
  if (!bucket.ok()) return Reply(c, bucket);
  auto upload_id = UploadIdParam(c.route);
  if (!upload_id.ok()) return Reply(c, upload_id.status());
  auto part = IntParam(c.route, "partNumber", 1, kMaxParts, 0);
  if (!part.ok()) return Reply(c, part.status());
  if (*part == 0) {
    return Reply(c, Status(ErrorCode::kInvalidArgument, "UploadPart needs a partNumber"));
  }
  auto plan = PlanPayload(c.head, c.auth, c.secret, c.options.max_object_bytes);
  if (!plan.ok()) return Reply(c, plan.status());
  auto sink = c.backend.BeginUploadPart(c.who, c.route.bucket, c.route.key, *upload_id,
                                        static_cast<int>(*part), plan->decoded_length);
  if (!sink.ok()) return Reply(c, sink.status());
  return Continue(MakeUploadExchange(BodyContext(c), c.clock, std::move(plan).value(),
                                     std::move(sink).value(), /*full_object=*/false));
}

Started CompleteMultipartUpload(const Call& c) {
  const Status bucket = c.backend.CheckBucket(c.who, c.route.bucket);
  if (!bucket.ok()) return Reply(c, bucket);
  auto upload_id = UploadIdParam(c.route);
  if (!upload_id.ok()) return Reply(c, upload_id.status());
  if (!c.head.content_length.has_value() && !c.head.chunked) {
    // No body at all (HTTP/1.1 without a length or chunking): no parts, as S3 answers it.
    return Reply(c, Status(ErrorCode::kMalformedXml,
                           "CompleteMultipartUpload needs an XML body listing the parts"));
  }
  auto plan = PlanPayload(c.head, c.auth, c.secret, kMaxCompleteXmlBytes);
  if (!plan.ok()) return Reply(c, plan.status());
  const std::string* host = FindHeader(c.head.headers, "host");
  std::string location = std::string(c.head.tls ? "https://" : "http://") +
                         (host == nullptr ? std::string() : *host) + c.head.raw_path;
  ResponseContext ctx = BodyContext(c);
  Backend& backend = c.backend;
  const Clock& clock = c.clock;
  return Continue(MakeBufferedExchange(
      ctx, clock, std::move(plan).value(),
      [ctx, &backend, &clock, who = c.who, bucket = c.route.bucket, key = c.route.key,
       upload_id = *upload_id, location = std::move(location)](const std::string& xml) {
        auto parts = ParseCompleteMultipartUpload(xml);
        if (!parts.ok()) return ErrorResponse(ctx, clock, parts.status());
        auto done = backend.CompleteMultipartUpload(who, bucket, key, upload_id, *parts);
        if (!done.ok()) return ErrorResponse(ctx, clock, done.status());
        std::string body(kXmlDeclaration);
        body += "<CompleteMultipartUploadResult xmlns=\"";
        body += kS3Namespace;
        body += "\"><Location>" + XmlEscape(location) + "</Location><Bucket>" + XmlEscape(bucket) +
                "</Bucket><Key>" + XmlEscape(key) + "</Key><ETag>&quot;" + XmlEscape(done->etag) +
                "&quot;</ETag></CompleteMultipartUploadResult>";
        http::Response r = XmlResponse(ctx, clock, 200, std::move(body));
        r.headers.emplace_back("ETag", "\"" + done->etag + "\"");
        for (auto& h : done->headers) r.headers.push_back(std::move(h));
        if (done->respond) return done->respond(std::move(r));
        return r;
      },
      /*long_finish=*/true));
}

Started AbortMultipartUpload(const Call& c) {
  const Status bucket = c.backend.CheckBucket(c.who, c.route.bucket);
  if (!bucket.ok()) return Reply(c, bucket);
  auto upload_id = UploadIdParam(c.route);
  if (!upload_id.ok()) return Reply(c, upload_id.status());
  const Status st = c.backend.AbortMultipartUpload(c.who, c.route.bucket, c.route.key, *upload_id);
  if (!st.ok()) return Reply(c, st);
  return Reply(c, BaseResponse(c.ctx, c.clock, 204));
}

}  // namespace sluice::s3
