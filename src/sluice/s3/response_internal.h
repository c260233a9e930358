#pragma once
// Private to s3/: building responses. Every response carries x-amz-request-id, Date (from the
// service clock, so clients can correct their skew) and Server; errors carry the S3 XML body,
// except for HEAD, whose responses have none.

#include <string>
#include <string_view>

#include "sluice/core/core.h"
#include "sluice/core/text.h"
#include "sluice/http/http.h"

namespace sluice::s3 {

struct ResponseContext {
  std::string request_id;     // 16 upper-case hex digits, random per request
  std::string resource;       // the raw path, for <Resource>
  bool head = false;          // HEAD: no body
  bool body_pending = false;  // the request has a body that has not been read
  // The request's Origin when it is allowed (ServiceOptions::cors_origin_allowed): every
  // response then carries the CORS headers that let the browser read it.
  std::string cors_origin;
};

// 16 random upper-case hex digits.
std::string NewRequestId();

// Escapes text for XML element content; control characters XML 1.0 cannot carry become '?'.
std::string XmlEscape(std::string_view text);

// A response with the common headers set.
http::Response BaseResponse(const ResponseContext& ctx, const Clock& clock, int status);

// The S3 error response for `status` (not OK). 5xx messages are replaced by a generic one (the
// detail is logged with the request id) so that no internal detail reaches clients. Sets
// `close` when a request body is still pending.
http::Response ErrorResponse(const ResponseContext& ctx, const Clock& clock, const Status& status);

// S3's XML namespace and the declaration every XML body starts with.
constexpr std::string_view kS3Namespace = "http://s3.amazonaws.com/doc/2006-03-01/";
constexpr std::string_view kXmlDeclaration = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

// A 200 (or `status`) response carrying the XML document `body` (declaration included).
http::Response XmlResponse(const ResponseContext& ctx, const Clock& clock, int status,
                           std::string body);

// "2026-11-27T02:33:36.000Z": S3's ISO-8601 form with milliseconds.
std::string FormatIsoMillis(int64_t micros);

// Percent-encodes for `encoding-type=url` listings: unreserved characters (A-Z a-z 0-9 - _ . ~)
// and '/' kept, every other byte %XX upper-case.
std::string UrlEncode(std::string_view text);

// First value of header `name` (case-insensitive), or nullptr.
const std::string* FindHeader(const http::HeaderList& headers, std::string_view name);

}  // namespace sluice::s3
