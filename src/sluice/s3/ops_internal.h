#pragma once
// Private to s3/: the operations, one function each, called from Service::Start once the
// request is authenticated and routed. Each either answers at once (every refusal that can be
// decided from the head is decided here, before the body, so that it replaces `100 Continue`)
// or returns the exchange that reads the body.

#include <optional>
#include <string>
#include <string_view>

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

// What PutObject and CreateMultipartUpload store with the object: bucket, key, Content-Type,
// the standard headers (StoredHeaders) and the x-amz-meta-* headers (kInvalidRequest past the
// metadata limit).
Result<PutRequest> PutRequestOf(const Call& c);
StoredHeaders StoredHeadersOf(const http::HeaderList& headers);
// If-None-Match / If-Match of a write (WriteCondition). If-None-Match takes only `*` on a
// write (kNotImplemented otherwise, as S3); an empty If-Match is kInvalidArgument.
Result<WriteCondition> WriteConditionOf(const http::HeaderList& headers);

// The decoded integer query parameter `name` within [min, max], `fallback` when absent;
// kInvalidArgument naming the parameter otherwise.
Result<int64_t> IntParam(const Route& route, std::string_view name, int64_t min, int64_t max,
                         int64_t fallback);

// Objects (object_ops.cc).
Started PutObject(const Call& c);
Started GetObject(const Call& c, bool with_body);  // GetObject and HeadObject
Started DeleteObject(const Call& c);
Started DeleteObjects(const Call& c);

// Copies (copy_ops.cc).
Started CopyObject(const Call& c);
Started UploadPartCopy(const Call& c);

// What the listings share (list_ops.cc, version_ops.cc).
// S3 returns at most 1,000 keys, parts or uploads per listing page.
inline constexpr int64_t kMaxListEntries = 1000;
// With a delimiter, the keys asked of the backend at a time. The keys of a page that follow a
// new common prefix are under it and are dropped (the next query seeks past the prefix), so
// the rows a listing page reads are at most kMaxListEntries x this, instead of 1,000 x 1,000
// when every key rolls up into a prefix of its own with many keys under it.
inline constexpr int64_t kDelimiterPageKeys = 64;
// Backend calls in a row that return no entry (only hidden keys, up to the backend's read
// bound) before a listing page ends early, truncated, with a marker past the keys read.
inline constexpr int kMaxIdleListCalls = 8;
// With a delimiter, the common prefix `key` rolls up into (up to and including the delimiter
// after `prefix`); nullopt when it does not roll up.
std::optional<std::string> RollUp(const std::string& key, const std::string& prefix,
                                  const std::string& delimiter);
// `<name>text</name>`; `text` is inserted as is (escaped by the caller).
std::string Element(std::string_view name, std::string_view text);
// <Owner> with `id` as ID and DisplayName.
std::string Owner(const std::string& id);
// Whether the listing asks encoding-type=url; kInvalidArgument for any other value.
Result<bool> UrlEncoding(const Route& route);
// The XML declaration and `<root xmlns="...">`.
std::string Opening(std::string_view root);

// Versions (version_ops.cc).
Started ListObjectVersions(const Call& c);
Started GetBucketVersioning(const Call& c);
Started PutBucketVersioning(const Call& c);

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
