// CreateMultipartUpload, UploadPart, CompleteMultipartUpload and AbortMultipartUpload. The
// parts, their checks and the assembly are the backend's; this layer validates the request,
// streams each part through the same checks as PutObject and speaks the XML. The checksum
// rules (which algorithm and type, which part checksums) are multipart_checksum.h's.

#include <algorithm>
#include <utility>

#include "sluice/core/text.h"
#include "sluice/s3/multipart_checksum.h"
#include "sluice/s3/multipart_xml_internal.h"
#include "sluice/s3/ops_internal.h"
#include "sluice/s3/put_object_internal.h"

namespace sluice::s3 {
namespace {

// An x-amz-checksum-<algorithm> value header (not -type, -algorithm or -mode): its lower-case
// algorithm, or empty.
std::string ChecksumValueHeader(std::string_view name) {
  constexpr std::string_view kPrefix = "x-amz-checksum-";
  if (name.size() <= kPrefix.size() || !EqualsIgnoreCase(name.substr(0, kPrefix.size()), kPrefix)) {
    return "";
  }
  std::string algorithm = AsciiLowered(name.substr(kPrefix.size()));
  if (algorithm == "type" || algorithm == "algorithm" || algorithm == "mode") return "";
  return algorithm;
}

// CompleteMultipartUpload's x-amz-checksum-<algorithm> and x-amz-checksum-type: the checksum
// of the whole object the client computed (not of the XML body), taken out of `headers` so that
// the body's checks do not read it.
Result<Checksum> SentObjectChecksum(http::HeaderList* headers) {
  Checksum sent;
  for (const auto& [name, value] : *headers) {
    const std::string algorithm = ChecksumValueHeader(name);
    if (algorithm.empty()) continue;
    if (!IsChecksumAlgorithm(algorithm)) {
      return Status(ErrorCode::kInvalidRequest, "unknown checksum header " + AsciiLowered(name));
    }
    if (!sent.algorithm.empty()) {
      return Status(ErrorCode::kInvalidRequest,
                    "expecting a single x-amz-checksum- header, got x-amz-checksum-" +
                        sent.algorithm + " and " + AsciiLowered(name));
    }
    sent.algorithm = algorithm;
    sent.value = std::string(TrimAscii(value));
  }
  if (const std::string* type = FindHeader(*headers, "x-amz-checksum-type")) {
    sent.type = std::string(TrimAscii(*type));
  }
  std::erase_if(*headers, [](const auto& h) { return !ChecksumValueHeader(h.first).empty(); });
  return sent;
}

std::string ChecksumElements(const Checksum& checksum) {
  if (checksum.algorithm.empty()) return "";
  const std::string element = "Checksum" + ChecksumAlgorithmName(checksum.algorithm);
  return "<" + element + ">" + XmlEscape(checksum.value) + "</" + element + "><ChecksumType>" +
         XmlEscape(checksum.type) + "</ChecksumType>";
}

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
  auto checksum = ParseUploadChecksum(FindHeader(c.head.headers, "x-amz-checksum-algorithm"),
                                      FindHeader(c.head.headers, "x-amz-checksum-type"));
  if (!checksum.ok()) return Reply(c, checksum.status());
  auto request = PutRequestOf(c);
  if (!request.ok()) return Reply(c, request.status());
  request->checksum = *checksum;
  auto upload_id = c.backend.CreateMultipartUpload(c.who, *request);
  if (!upload_id.ok()) return Reply(c, upload_id.status());
  std::string body(kXmlDeclaration);
  body += "<InitiateMultipartUploadResult xmlns=\"";
  body += kS3Namespace;
  body += "\"><Bucket>" + XmlEscape(c.route.bucket) + "</Bucket><Key>" + XmlEscape(c.route.key) +
          "</Key><UploadId>" + XmlEscape(*upload_id) +
          "</UploadId></InitiateMultipartUploadResult>";
  http::Response r = XmlResponse(c.ctx, c.clock, 200, std::move(body));
  if (!checksum->algorithm.empty()) {
    r.headers.emplace_back("x-amz-checksum-algorithm", ChecksumAlgorithmName(checksum->algorithm));
    r.headers.emplace_back("x-amz-checksum-type", checksum->type);
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
  // The part's checksum against the upload's, before the body is read.
  const ChecksumSpec upload = (*sink)->UploadChecksum();
  constexpr std::string_view kPrefix = "x-amz-checksum-";
  const std::string sent =
      plan->checksum.has_value() ? plan->checksum->header.substr(kPrefix.size()) : "";
  Status st = CheckPartChecksum(upload, sent);
  if (st.ok() && !upload.algorithm.empty() && sent.empty()) {
    // A FULL_OBJECT upload's part sent without one: its CRC is computed as it arrives.
    auto computed = ComputedChecksum(upload.algorithm);
    st = computed.status();
    if (st.ok()) plan->checksum = std::move(computed).value();
  }
  if (!st.ok()) {
    (*sink)->Abort();
    return Reply(c, st);
  }
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
  auto condition = WriteConditionOf(c.head.headers);
  if (!condition.ok()) return Reply(c, condition.status());
  // The body's own checks (Content-MD5, a trailer) read a head without the object's checksum.
  http::RequestHead body_head = c.head;
  auto sent = SentObjectChecksum(&body_head.headers);
  if (!sent.ok()) return Reply(c, sent.status());
  auto plan = PlanPayload(body_head, c.auth, c.secret, kMaxCompleteXmlBytes);
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
       upload_id = *upload_id, location = std::move(location), condition = *condition,
       sent = *sent](const std::string& xml) {
        auto parts = ParseCompleteMultipartUpload(xml);
        if (!parts.ok()) return ErrorResponse(ctx, clock, parts.status());
        auto done =
            backend.CompleteMultipartUpload(who, bucket, key, upload_id, *parts, condition, sent);
        if (!done.ok()) return ErrorResponse(ctx, clock, done.status());
        std::string body(kXmlDeclaration);
        body += "<CompleteMultipartUploadResult xmlns=\"";
        body += kS3Namespace;
        body += "\"><Location>" + XmlEscape(location) + "</Location><Bucket>" + XmlEscape(bucket) +
                "</Bucket><Key>" + XmlEscape(key) + "</Key><ETag>&quot;" + XmlEscape(done->etag) +
                "&quot;</ETag>" + ChecksumElements(done->checksum) +
                "</CompleteMultipartUploadResult>";
        http::Response r = XmlResponse(ctx, clock, 200, std::move(body));
        r.headers.emplace_back("ETag", "\"" + done->etag + "\"");
        if (!done->checksum.algorithm.empty()) {
          r.headers.emplace_back("x-amz-checksum-type", done->checksum.type);
        }
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
