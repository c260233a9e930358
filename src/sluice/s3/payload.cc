#include <charconv>
#include <utility>

#include "sluice/core/text.h"
#include "sluice/s3/payload_internal.h"
#include "sluice/s3/response_internal.h"

namespace sluice::s3 {
namespace {

struct ChecksumAlgorithm {
  std::string_view header;
  std::optional<auth::Digest::Kind> kind;  // nullopt: known to S3, not verified yet
  size_t size;
};

constexpr ChecksumAlgorithm kChecksums[] = {
    {"x-amz-checksum-crc32", auth::Digest::Kind::kCrc32, 4},
    {"x-amz-checksum-sha1", auth::Digest::Kind::kSha1, 20},
    {"x-amz-checksum-sha256", auth::Digest::Kind::kSha256, 32},
    {"x-amz-checksum-crc32c", auth::Digest::Kind::kCrc32c, 4},
    {"x-amz-checksum-crc64nvme", auth::Digest::Kind::kCrc64Nvme, 8},
};

Result<const ChecksumAlgorithm*> FindAlgorithm(const std::string& header) {
  for (const ChecksumAlgorithm& a : kChecksums) {
    if (a.header != header) continue;
    if (!a.kind.has_value()) {
      return Status(ErrorCode::kNotImplemented,
                    header + " is not supported yet; use CRC32, SHA1 or SHA256");
    }
    return &a;
  }
  return Status(ErrorCode::kInvalidRequest, "unknown checksum header " + header);
}

Result<PayloadPlan::Checksum> DecodeChecksum(const ChecksumAlgorithm& alg, std::string_view value,
                                             bool trailer) {
  const std::string sent = std::string(TrimAscii(value));
  auto raw = auth::Base64Decode(sent);
  if (!raw.ok() || raw->size() != alg.size) {
    return Status(ErrorCode::kInvalidRequest,
                  "value of " + std::string(alg.header) + (trailer ? " (trailer)" : "") +
                      " is not the base64 of a " + std::to_string(alg.size) + "-byte digest");
  }
  return PayloadPlan::Checksum{std::string(alg.header), *alg.kind, std::move(raw).value(), sent,
                               trailer};
}

// The one x-amz-checksum-<alg> header, or the one announced by x-amz-trailer.
Result<std::optional<PayloadPlan::Checksum>> ParseChecksum(const http::HeaderList& headers) {
  std::optional<PayloadPlan::Checksum> out;
  for (const auto& [name, value] : headers) {
    const std::string lower = AsciiLowered(name);
    if (!lower.starts_with("x-amz-checksum-") || lower == "x-amz-checksum-type" ||
        lower == "x-amz-checksum-algorithm") {
      continue;
    }
    SLUICE_ASSIGN_OR_RETURN(const ChecksumAlgorithm* alg, FindAlgorithm(lower));
    if (out.has_value()) {
      return Status(ErrorCode::kInvalidRequest, "expecting a single x-amz-checksum- header, got " +
                                                    out->header + " and " + lower);
    }
    SLUICE_ASSIGN_OR_RETURN(out, DecodeChecksum(*alg, value, false));
  }
  if (const std::string* trailer = FindHeader(headers, "x-amz-trailer")) {
    const std::string name = AsciiLowered(TrimAscii(*trailer));
    if (!name.starts_with("x-amz-checksum-") || name.find(',') != std::string::npos) {
      return Status(ErrorCode::kInvalidRequest,
                    "x-amz-trailer must name one x-amz-checksum-<algorithm>, not '" + name + "'");
    }
    SLUICE_ASSIGN_OR_RETURN(const ChecksumAlgorithm* alg, FindAlgorithm(name));
    if (out.has_value()) {
      return Status(ErrorCode::kInvalidRequest, "expecting a single checksum, got the header " +
                                                    out->header + " and the trailer " + name);
    }
    out = PayloadPlan::Checksum{name, *alg->kind, "", "", true};
  }
  return out;
}

bool IsStreaming(auth::PayloadMode mode) {
  return mode == auth::PayloadMode::kStreamingUnsignedTrailer ||
         mode == auth::PayloadMode::kStreamingSigned ||
         mode == auth::PayloadMode::kStreamingSignedTrailer;
}

Result<std::unique_ptr<auth::ChunkedDecoder>> MakeDecoder(const auth::ParsedAuth& auth,
                                                          const Secret& secret) {
  return auth::MakeChunkedDecoder(auth, secret);
}

}  // namespace

Result<std::vector<std::pair<std::string, std::string>>> UserMetadata(
    const http::HeaderList& headers) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t total = 0;
  for (const auto& [name, value] : headers) {
    std::string lower = AsciiLowered(name);
    if (!lower.starts_with("x-amz-meta-")) continue;
    std::string v = std::string(TrimAscii(value));
    total += lower.size() - 11 + v.size();
    if (total > kMaxUserMetadataBytes) {
      return Status(ErrorCode::kInvalidRequest, "user metadata (x-amz-meta-*) exceeds " +
                                                    std::to_string(kMaxUserMetadataBytes) +
                                                    " bytes");
    }
    out.emplace_back(std::move(lower), std::move(v));
  }
  return out;
}

Result<PayloadPlan> PlanPayload(const http::RequestHead& head, const auth::ParsedAuth& auth,
                                const Secret& secret, uint64_t max_bytes) {
  PayloadPlan plan;
  plan.wire_length = head.content_length;
  const bool streaming = IsStreaming(auth.payload_mode);
  if (streaming) {
    const std::string* decoded = FindHeader(head.headers, "x-amz-decoded-content-length");
    if (decoded == nullptr) {
      return Status(ErrorCode::kMissingContentLength,
                    "an aws-chunked upload (" + auth.payload_hash +
                        ") must send x-amz-decoded-content-length");
    }
    const std::string v = std::string(TrimAscii(*decoded));
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), plan.decoded_length);
    if (v.empty() || ec != std::errc() || end != v.data() + v.size()) {
      return Status(ErrorCode::kInvalidArgument,
                    "x-amz-decoded-content-length '" + v + "' is not a byte count");
    }
  } else if (head.content_length.has_value()) {
    plan.decoded_length = *head.content_length;
  } else if (head.chunked) {
    // Plain HTTP chunked transfer coding, no length declared (some HTTP clients stream a PUT
    // body this way): read to the end, held to max_bytes as it arrives.
    plan.length_known = false;
  } else {
    return Status(ErrorCode::kMissingContentLength, "you must provide the Content-Length header");
  }
  plan.max_bytes = max_bytes;
  if (plan.decoded_length > max_bytes) {
    return Status(ErrorCode::kEntityTooLarge, "your proposed upload of " +
                                                  std::to_string(plan.decoded_length) +
                                                  " bytes exceeds the maximum allowed size of " +
                                                  std::to_string(max_bytes) + " bytes");
  }
  if (auth.payload_mode == auth::PayloadMode::kSignedHex) {
    plan.payload_sha256_hex = AsciiLowered(auth.payload_hash);
  }
  if (const std::string* md5 = FindHeader(head.headers, "content-md5")) {
    auto raw = auth::Base64Decode(std::string(TrimAscii(*md5)));
    if (!raw.ok() || raw->size() != 16) {
      return Status(ErrorCode::kInvalidDigest,
                    "the Content-MD5 you specified is not the base64 of a 16-byte MD5");
    }
    plan.content_md5 = std::move(raw).value();
  }
  SLUICE_ASSIGN_OR_RETURN(plan.checksum, ParseChecksum(head.headers));
  if (plan.checksum.has_value() && plan.checksum->trailer && !streaming) {
    return Status(ErrorCode::kInvalidRequest,
                  "x-amz-trailer needs an aws-chunked body (x-amz-content-sha256: "
                  "STREAMING-UNSIGNED-PAYLOAD-TRAILER or STREAMING-AWS4-HMAC-SHA256-PAYLOAD-"
                  "TRAILER)");
  }
  if (streaming) {
    SLUICE_ASSIGN_OR_RETURN(plan.decoder, MakeDecoder(auth, secret));
  }
  return plan;
}

Result<PayloadPlan::Checksum> ComputedChecksum(std::string_view algorithm) {
  const std::string header = "x-amz-checksum-" + std::string(algorithm);
  SLUICE_ASSIGN_OR_RETURN(const ChecksumAlgorithm* alg, FindAlgorithm(header));
  PayloadPlan::Checksum c{header, *alg->kind, "", "", false};
  c.computed = true;
  return c;
}

PayloadReader::PayloadReader(PayloadPlan plan)
    : plan_(std::move(plan)), md5_(auth::Digest::Kind::kMd5) {
  const bool checksum_sha256 =
      plan_.checksum.has_value() && plan_.checksum->kind == auth::Digest::Kind::kSha256;
  if (!plan_.payload_sha256_hex.empty() || checksum_sha256) {
    sha256_ = std::make_unique<auth::Digest>(auth::Digest::Kind::kSha256);
  }
  if (plan_.checksum.has_value() && !checksum_sha256) {
    checksum_ = std::make_unique<auth::Digest>(plan_.checksum->kind);
  }
  if (plan_.length_known && plan_.decoded_length >= kBackgroundDigestBytes) StartWorker();
}

void PayloadReader::StartWorker() {
  std::vector<auth::Digest*> digests{&md5_};
  if (sha256_) digests.push_back(sha256_.get());
  if (checksum_) digests.push_back(checksum_.get());
  worker_ = std::make_unique<DigestWorker>(std::move(digests));
}

Status PayloadReader::Digest(ByteView data) {
  if (!plan_.length_known) {
    if (data.size() > plan_.max_bytes - decoded_received_) {
      return Status(ErrorCode::kEntityTooLarge, "your upload exceeds the maximum allowed size of " +
                                                    std::to_string(plan_.max_bytes) + " bytes");
    }
    // A body of unknown length moves its hashing to the second thread once it proves large;
    // what came before went into the digests inline, so the order holds.
    if (!worker_ && decoded_received_ >= kBackgroundDigestBytes) StartWorker();
  } else if (data.size() > plan_.decoded_length - decoded_received_) {
    return Status(ErrorCode::kInvalidRequest, "the body is longer than the " +
                                                  std::to_string(plan_.decoded_length) +
                                                  " bytes its headers announced");
  }
  decoded_received_ += data.size();
  if (worker_) {
    worker_->Update(data);
    return Status::Ok();
  }
  md5_.Update(data);
  if (sha256_) sha256_->Update(data);
  if (checksum_) checksum_->Update(data);
  return Status::Ok();
}

Status PayloadReader::Feed(ByteView data, const std::function<Status(ByteView)>& out) {
  if (plan_.wire_length.has_value() && data.size() > *plan_.wire_length - wire_received_) {
    return Status(ErrorCode::kInvalidRequest, "the body is longer than its Content-Length of " +
                                                  std::to_string(*plan_.wire_length) + " bytes");
  }
  wire_received_ += data.size();
  if (!plan_.decoder) {
    SLUICE_RETURN_IF_ERROR(Digest(data));
    return out(data);
  }
  return plan_.decoder->Feed(data, [&](ByteView piece) -> Status {
    SLUICE_RETURN_IF_ERROR(Digest(piece));
    return out(piece);
  });
}

Result<ObjectDigests> PayloadReader::Finish() {
  if (plan_.decoder) SLUICE_RETURN_IF_ERROR(plan_.decoder->Finish());
  if (plan_.length_known && decoded_received_ != plan_.decoded_length) {
    return Status(ErrorCode::kIncompleteBody,
                  "received " + std::to_string(decoded_received_) + " of the " +
                      std::to_string(plan_.decoded_length) + " bytes the headers announced");
  }
  if (worker_) worker_->Drain();
  ObjectDigests digests;
  digests.size = decoded_received_;
  const std::string md5 = md5_.Finish();
  digests.md5_hex = ToHex(AsBytes(md5));
  std::string sha256;
  if (sha256_) {
    sha256 = sha256_->Finish();
    digests.sha256_hex = ToHex(AsBytes(sha256));
  }
  if (!plan_.payload_sha256_hex.empty() && digests.sha256_hex != plan_.payload_sha256_hex) {
    return Status(ErrorCode::kContentSha256Mismatch,
                  "the x-amz-content-sha256 you provided (" + plan_.payload_sha256_hex +
                      ") does not match what we computed (" + digests.sha256_hex + ")");
  }
  if (!plan_.content_md5.empty() && md5 != plan_.content_md5) {
    return Status(ErrorCode::kBadDigest,
                  "the Content-MD5 you specified (" + auth::Base64Encode(plan_.content_md5) +
                      ") did not match what we received (" + auth::Base64Encode(md5) + ")");
  }
  if (plan_.checksum.has_value()) {
    PayloadPlan::Checksum& c = *plan_.checksum;
    if (c.trailer) {
      const std::string* value = FindHeader(plan_.decoder->trailers(), c.header);
      if (value == nullptr) {
        return Status(ErrorCode::kInvalidRequest,
                      "the trailer " + c.header + " announced by x-amz-trailer was not sent");
      }
      const ChecksumAlgorithm* alg = FindAlgorithm(c.header).value();
      SLUICE_ASSIGN_OR_RETURN(c, DecodeChecksum(*alg, *value, true));
    }
    const std::string got = checksum_ ? checksum_->Finish() : sha256;
    if (c.computed) {
      c.expected = got;
      c.sent = auth::Base64Encode(got);
    } else if (got != c.expected) {
      return Status(ErrorCode::kBadDigest, "the " + c.header + " you specified (" + c.sent +
                                               ") did not match what we received (" +
                                               auth::Base64Encode(got) + ")");
    }
    constexpr std::string_view kPrefix = "x-amz-checksum-";
    digests.checksums.emplace_back(c.header.substr(kPrefix.size()), c.sent);
  }
  return digests;
}

}  // namespace sluice::s3
