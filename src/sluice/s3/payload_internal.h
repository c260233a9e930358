#pragma once
// Private to s3/: reading a request body the way its headers say it was sent, and proving it is
// the body the client meant. PlanPayload runs in Start, before the body is read (so that its
// refusals replace `100 Continue`): lengths, the size limit, Content-MD5 and x-amz-checksum-*
// syntax, the aws-chunked decoder for the STREAMING-* modes. A PayloadReader then takes the body
// as it arrives, removes aws-chunked framing, updates every needed digest in one pass and hands
// the decoded bytes on; Finish checks them all: the decoded length, the signed SHA-256, the
// Content-MD5 and the checksum from the header or the trailer.

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "sluice/auth/auth.h"
#include "sluice/http/http.h"
#include "sluice/s3/digest_worker_internal.h"
#include "sluice/s3/s3.h"

namespace sluice::s3 {

struct PayloadPlan {
  // The decoded body's length: Content-Length, or x-amz-decoded-content-length for aws-chunked.
  // Not `length_known` (and 0) for a body in plain HTTP chunked transfer coding that declares
  // neither: its length is what arrives, held to `max_bytes` as it arrives.
  uint64_t decoded_length = 0;
  bool length_known = true;
  uint64_t max_bytes = 0;  // PlanPayload's limit on the decoded body
  // The bytes on the wire when known (Content-Length), checked as they arrive.
  std::optional<uint64_t> wire_length;
  std::string payload_sha256_hex;  // lower-case; empty unless the payload hash is signed hex
  std::string content_md5;         // raw 16 bytes, empty when no Content-MD5 was sent
  struct Checksum {
    std::string header;  // "x-amz-checksum-crc32"
    auth::Digest::Kind kind;
    std::string expected;  // raw digest bytes; empty until the trailer arrived (trailer mode)
    std::string sent;      // base64 as sent, echoed back
    bool trailer = false;  // announced by x-amz-trailer, value at the end of the stream
    // No value was sent: the digest is computed and reported (`sent`, echoed) but checks
    // nothing (a FULL_OBJECT multipart upload's part, multipart_checksum.h).
    bool computed = false;
  };
  std::optional<Checksum> checksum;
  std::unique_ptr<auth::ChunkedDecoder> decoder;  // set for the STREAMING-* modes
};

// Validates the request head of a body-carrying request whose decoded body may be up to
// `max_bytes`. A body without Content-Length in HTTP chunked transfer coding (not aws-chunked)
// is read to its end: PayloadReader refuses it with kEntityTooLarge once past `max_bytes`.
// Errors: kMissingContentLength (no length and not chunked, or aws-chunked without
// x-amz-decoded-content-length), kEntityTooLarge, kInvalidDigest (Content-MD5),
// kInvalidRequest (checksum headers), kNotImplemented (a checksum algorithm not served).
Result<PayloadPlan> PlanPayload(const http::RequestHead& head, const auth::ParsedAuth& auth,
                                const Secret& secret, uint64_t max_bytes);

// A PayloadPlan::checksum of `algorithm` (lower-case: "crc32c") to compute over the body, not
// to check; kInvalidRequest for an algorithm not served.
Result<PayloadPlan::Checksum> ComputedChecksum(std::string_view algorithm);

// Below this a body is hashed inline: a thread and its buffers cost more than they save.
constexpr uint64_t kBackgroundDigestBytes = uint64_t{8} << 20;

class PayloadReader {
 public:
  explicit PayloadReader(PayloadPlan plan);
  PayloadReader(const PayloadReader&) = delete;
  PayloadReader& operator=(const PayloadReader&) = delete;

  // A piece of the wire body; `out` gets the decoded bytes, in order. kEntityTooLarge when a body
  // of unknown length passes the plan's max_bytes.
  Status Feed(ByteView data, const std::function<Status(ByteView)>& out);
  // After the whole body: every check, then the digests of the decoded body.
  Result<ObjectDigests> Finish();
  // The checksum to echo (header name and base64 value), valid after a successful Finish.
  const std::optional<PayloadPlan::Checksum>& checksum() const { return plan_.checksum; }

 private:
  Status Digest(ByteView data);
  void StartWorker();

  PayloadPlan plan_;
  auth::Digest md5_;
  std::unique_ptr<auth::Digest> sha256_;    // payload hash and/or x-amz-checksum-sha256
  std::unique_ptr<auth::Digest> checksum_;  // any other checksum
  // Bodies of at least kBackgroundDigestBytes are hashed on a second thread
  // (digest_worker_internal.h).
  std::unique_ptr<DigestWorker> worker_;
  uint64_t wire_received_ = 0;
  uint64_t decoded_received_ = 0;
};

// x-amz-meta-* headers, names lower-cased (prefix kept); kInvalidRequest past the limit.
Result<std::vector<std::pair<std::string, std::string>>> UserMetadata(
    const http::HeaderList& headers);

// S3 limits user metadata (names and values of x-amz-meta-*) to 2 KB per object.
constexpr size_t kMaxUserMetadataBytes = 2048;

}  // namespace sluice::s3
