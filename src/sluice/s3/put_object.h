#pragma once
// Private to s3/: the PutObject exchange. Start-time checks (Content-Length, size limit,
// Content-MD5 and x-amz-checksum-* syntax) happen in PlanPut, before the body is read; the
// body then streams to the sink with every needed digest updated in one pass, and Finish
// checks them all before Commit. A failed or abandoned upload is Aborted, never committed.

#include <memory>
#include <optional>
#include <string>

#include "sluice/auth/auth.h"
#include "sluice/s3/response.h"
#include "sluice/s3/s3.h"

namespace sluice::s3 {

// S3 limits user metadata (names and values of x-amz-meta-*) to 2 KB per object.
constexpr size_t kMaxUserMetadataBytes = 2048;

struct PutPlan {
  uint64_t content_length = 0;
  std::string payload_sha256_hex;  // lower-case; empty unless the payload hash is signed hex
  std::string content_md5;         // raw 16 bytes, empty when no Content-MD5 was sent
  struct Checksum {
    std::string header;  // "x-amz-checksum-crc32"
    auth::Digest::Kind kind;
    std::string expected;  // raw digest bytes
    std::string sent;      // base64 as sent, echoed back
  };
  std::optional<Checksum> checksum;
};

// Validates the request head of a PutObject. Errors: kMissingContentLength, kEntityTooLarge,
// kInvalidDigest (Content-MD5), kInvalidRequest (checksum headers, metadata size),
// kNotImplemented (streaming bodies, CRC32C/CRC64NVME).
Result<PutPlan> PlanPut(const http::RequestHead& head, const auth::ParsedAuth& auth,
                        const ServiceOptions& options);

// x-amz-meta-* headers, names lower-cased (prefix kept); kInvalidRequest past the limit.
Result<std::vector<std::pair<std::string, std::string>>> UserMetadata(
    const http::HeaderList& headers);

std::unique_ptr<http::Exchange> MakePutExchange(ResponseContext ctx, const Clock& clock,
                                                PutPlan plan, std::unique_ptr<ObjectSink> sink);

}  // namespace sluice::s3
