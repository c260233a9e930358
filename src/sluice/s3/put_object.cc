#include "sluice/s3/put_object.h"

#include <utility>

namespace sluice::s3 {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string Trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

struct ChecksumAlgorithm {
  std::string_view header;
  std::optional<auth::Digest::Kind> kind;  // nullopt: known to S3, not verified by this cut
  size_t size;
};

constexpr ChecksumAlgorithm kChecksums[] = {
    {"x-amz-checksum-crc32", auth::Digest::Kind::kCrc32, 4},
    {"x-amz-checksum-sha1", auth::Digest::Kind::kSha1, 20},
    {"x-amz-checksum-sha256", auth::Digest::Kind::kSha256, 32},
    {"x-amz-checksum-crc32c", std::nullopt, 4},
    {"x-amz-checksum-crc64nvme", std::nullopt, 8},
};

// The one x-amz-checksum-<alg> value header, if any, decoded and checked for size.
Result<std::optional<PutPlan::Checksum>> ParseChecksum(const http::HeaderList& headers) {
  std::optional<PutPlan::Checksum> out;
  for (const auto& [name, value] : headers) {
    const std::string lower = Lower(name);
    if (!lower.starts_with("x-amz-checksum-") || lower == "x-amz-checksum-type" ||
        lower == "x-amz-checksum-algorithm") {
      continue;
    }
    const ChecksumAlgorithm* alg = nullptr;
    for (const ChecksumAlgorithm& a : kChecksums) {
      if (a.header == lower) alg = &a;
    }
    if (alg == nullptr) {
      return Status(ErrorCode::kInvalidRequest, "unknown checksum header " + lower);
    }
    if (!alg->kind.has_value()) {
      return Status(ErrorCode::kNotImplemented,
                    lower + " is not supported yet; use CRC32, SHA1 or SHA256");
    }
    if (out.has_value()) {
      return Status(ErrorCode::kInvalidRequest, "expecting a single x-amz-checksum- header, got " +
                                                    out->header + " and " + lower);
    }
    const std::string sent = Trimmed(value);
    auto raw = auth::Base64Decode(sent);
    if (!raw.ok() || raw->size() != alg->size) {
      return Status(ErrorCode::kInvalidRequest, "value of " + lower + " is not the base64 of a " +
                                                    std::to_string(alg->size) + "-byte digest");
    }
    out = PutPlan::Checksum{lower, *alg->kind, std::move(raw).value(), sent};
  }
  return out;
}

class PutExchange final : public http::Exchange {
 public:
  PutExchange(ResponseContext ctx, const Clock& clock, PutPlan plan,
              std::unique_ptr<ObjectSink> sink)
      : ctx_(std::move(ctx)),
        clock_(clock),
        plan_(std::move(plan)),
        sink_(std::move(sink)),
        md5_(auth::Digest::Kind::kMd5) {
    const bool checksum_sha256 =
        plan_.checksum.has_value() && plan_.checksum->kind == auth::Digest::Kind::kSha256;
    if (!plan_.payload_sha256_hex.empty() || checksum_sha256) {
      sha256_ = std::make_unique<auth::Digest>(auth::Digest::Kind::kSha256);
    }
    if (plan_.checksum.has_value() && !checksum_sha256) {
      checksum_ = std::make_unique<auth::Digest>(plan_.checksum->kind);
    }
  }

  ~PutExchange() override {
    // Dropped without Finish (connection lost): nothing may be stored.
    if (!done_) sink_->Abort();
  }

  Status OnBody(ByteView data) override {
    if (done_) return Status(ErrorCode::kInternal, "body after the upload was closed");
    if (data.size() > plan_.content_length - received_) {
      return Status(ErrorCode::kInvalidRequest, "the body is longer than its Content-Length of " +
                                                    std::to_string(plan_.content_length) +
                                                    " bytes");
    }
    received_ += data.size();
    md5_.Update(data);
    if (sha256_) sha256_->Update(data);
    if (checksum_) checksum_->Update(data);
    return sink_->Append(data);
  }

  http::Response Finish(const Status& body_status) override {
    if (done_) return Fail(Status(ErrorCode::kInternal, "upload finished twice"));
    if (!body_status.ok()) {
      ctx_.body_pending = true;  // the rest of the body was not read: close the connection
      return Fail(body_status);
    }
    if (received_ != plan_.content_length) {
      return Fail(Status(ErrorCode::kIncompleteBody, "received " + std::to_string(received_) +
                                                         " of the " +
                                                         std::to_string(plan_.content_length) +
                                                         " bytes given by Content-Length"));
    }
    ObjectDigests digests;
    digests.size = received_;
    const std::string md5 = md5_.Finish();
    digests.md5_hex = ToHex(AsBytes(md5));
    std::string sha256;
    if (sha256_) {
      sha256 = sha256_->Finish();
      digests.sha256_hex = ToHex(AsBytes(sha256));
    }
    if (!plan_.payload_sha256_hex.empty() && digests.sha256_hex != plan_.payload_sha256_hex) {
      return Fail(Status(ErrorCode::kContentSha256Mismatch,
                         "the x-amz-content-sha256 you provided (" + plan_.payload_sha256_hex +
                             ") does not match what we computed (" + digests.sha256_hex + ")"));
    }
    if (!plan_.content_md5.empty() && md5 != plan_.content_md5) {
      return Fail(Status(ErrorCode::kBadDigest,
                         "the Content-MD5 you specified (" + auth::Base64Encode(plan_.content_md5) +
                             ") did not match what we received (" + auth::Base64Encode(md5) + ")"));
    }
    if (plan_.checksum.has_value()) {
      const std::string got = checksum_ ? checksum_->Finish() : sha256;
      if (got != plan_.checksum->expected) {
        return Fail(Status(ErrorCode::kBadDigest, "the " + plan_.checksum->header +
                                                      " you specified (" + plan_.checksum->sent +
                                                      ") did not match what we received (" +
                                                      auth::Base64Encode(got) + ")"));
      }
    }
    auto committed = sink_->Commit(digests);
    if (!committed.ok()) return Fail(committed.status());
    done_ = true;
    http::Response r = BaseResponse(ctx_, clock_, 200);
    r.headers.emplace_back("ETag", "\"" + digests.md5_hex + "\"");
    if (plan_.checksum.has_value()) {
      r.headers.emplace_back(plan_.checksum->header, plan_.checksum->sent);
      r.headers.emplace_back("x-amz-checksum-type", "FULL_OBJECT");
    }
    for (auto& h : *committed) r.headers.push_back(std::move(h));
    return r;
  }

 private:
  http::Response Fail(const Status& status) {
    if (!done_) sink_->Abort();
    done_ = true;
    return ErrorResponse(ctx_, clock_, status);
  }

  ResponseContext ctx_;
  const Clock& clock_;
  const PutPlan plan_;
  std::unique_ptr<ObjectSink> sink_;
  auth::Digest md5_;
  std::unique_ptr<auth::Digest> sha256_;    // payload hash and/or x-amz-checksum-sha256
  std::unique_ptr<auth::Digest> checksum_;  // crc32 or sha1
  uint64_t received_ = 0;
  bool done_ = false;  // committed or aborted
};

}  // namespace

Result<std::vector<std::pair<std::string, std::string>>> UserMetadata(
    const http::HeaderList& headers) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t total = 0;
  for (const auto& [name, value] : headers) {
    std::string lower = Lower(name);
    if (!lower.starts_with("x-amz-meta-")) continue;
    std::string v = Trimmed(value);
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

Result<PutPlan> PlanPut(const http::RequestHead& head, const auth::ParsedAuth& auth,
                        const ServiceOptions& options) {
  if (auth.payload_mode == auth::PayloadMode::kStreamingUnsignedTrailer ||
      auth.payload_mode == auth::PayloadMode::kStreamingSigned) {
    return Status(ErrorCode::kNotImplemented,
                  "aws-chunked uploads (" + auth.payload_hash +
                      ") are not supported yet; send a plain body with Content-Length");
  }
  PutPlan plan;
  if (!head.content_length.has_value()) {
    return Status(ErrorCode::kMissingContentLength, "you must provide the Content-Length header");
  }
  plan.content_length = *head.content_length;
  if (plan.content_length > options.max_object_bytes) {
    return Status(ErrorCode::kEntityTooLarge,
                  "your proposed upload of " + std::to_string(plan.content_length) +
                      " bytes exceeds the maximum allowed object size of " +
                      std::to_string(options.max_object_bytes) + " bytes");
  }
  if (auth.payload_mode == auth::PayloadMode::kSignedHex)
    plan.payload_sha256_hex = Lower(auth.payload_hash);
  if (const std::string* md5 = FindHeader(head.headers, "content-md5")) {
    auto raw = auth::Base64Decode(Trimmed(*md5));
    if (!raw.ok() || raw->size() != 16) {
      return Status(ErrorCode::kInvalidDigest,
                    "the Content-MD5 you specified is not the base64 of a 16-byte MD5");
    }
    plan.content_md5 = std::move(raw).value();
  }
  SLUICE_ASSIGN_OR_RETURN(plan.checksum, ParseChecksum(head.headers));
  return plan;
}

std::unique_ptr<http::Exchange> MakePutExchange(ResponseContext ctx, const Clock& clock,
                                                PutPlan plan, std::unique_ptr<ObjectSink> sink) {
  return std::make_unique<PutExchange>(std::move(ctx), clock, std::move(plan), std::move(sink));
}

}  // namespace sluice::s3
