#pragma once
// Private to s3/: the operations, one function each, called from Service::Start once the
// request is authenticated and routed. Each either answers at once (every refusal that can be
// decided from the head is decided here, before the body, so that it replaces `100 Continue`)
// or returns the exchange that reads the body.

#include <string>

#include "sluice/auth/auth.h"
#include "sluice/http/http.h"
#include "sluice/s3/response_internal.h"
#include "sluice/s3/route_internal.h"
#include "sluice/s3/s3.h"

namespace sluice::s3 {

// Everything an operation needs; references live for the duration of Start only, so exchanges
// copy what they keep (Backend and Clock outlive the service).
struct Call {
  Backend& backend;
  const Clock& clock;
  const ServiceOptions& options;
  const ResponseContext& ctx;
  const Identity& who;
  const Route& route;
  const http::RequestHead& head;
  const auth::ParsedAuth& auth;
  const Secret& secret;
};

using Started = http::Handler::Started;

// An immediate answer; the connection closes after it if a request body was left unread.
Started Reply(const Call& c, const Status& error);
Started Reply(const Call& c, http::Response response);
// An exchange whose Finish produces the answer (ctx.body_pending cleared: Finish runs after the
// body was read).
Started Continue(std::unique_ptr<http::Exchange> exchange);
ResponseContext BodyContext(const Call& c);

// What PutObject and CreateMultipartUpload store with the object: bucket, key, Content-Type
// and the x-amz-meta-* headers (kInvalidRequest past the metadata limit).
Result<PutRequest> PutRequestOf(const Call& c);

// The decoded integer query parameter `name` within [min, max], `fallback` when absent;
// kInvalidArgument naming the parameter otherwise.
Result<int64_t> IntParam(const Route& route, std::string_view name, int64_t min, int64_t max,
                         int64_t fallback);

// Objects (object_ops.cc).
Started PutObject(const Call& c);
Started GetObject(const Call& c, bool with_body);  // GetObject and HeadObject
Started DeleteObject(const Call& c);
Started DeleteObjects(const Call& c);

// Listings (list_ops.cc).
Started ListObjects(const Call& c, bool v2);
Started ListMultipartUploads(const Call& c);
Started ListParts(const Call& c);

// Multipart uploads (multipart_ops.cc).
Started CreateMultipartUpload(const Call& c);
Started UploadPart(const Call& c);
Started CompleteMultipartUpload(const Call& c);
Started AbortMultipartUpload(const Call& c);

}  // namespace sluice::s3
