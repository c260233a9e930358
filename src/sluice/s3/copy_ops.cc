// CopyObject and UploadPartCopy: the source's bytes (a whole object, or a range of one for a
// part) are read from the backend's stored file and written through the same sink a PUT or an
// UploadPart uses, with their MD5 computed on the way. So a copy into a table prefix is a new
// file of that table: it draws its sequence when the copy commits and loads like a PUT, and a
// copy is acknowledged only when it is durable, as a PUT is.

#include <algorithm>
#include <charconv>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

#include "sluice/auth/auth.h"
#include "sluice/core/text.h"
#include "sluice/core/utf8.h"
#include "sluice/s3/ops_internal.h"
#include "sluice/s3/payload_internal.h"

namespace sluice::s3 {
namespace {

// S3's largest CopyObject source; larger objects are copied part by part (UploadPartCopy).
constexpr uint64_t kMaxCopyObjectBytes = 5ull * 1024 * 1024 * 1024;
// The bytes read from the source per step.
constexpr size_t kCopyChunkBytes = 1024 * 1024;
// A copy at least this big commits on the long pool, as a PUT of that size does.
constexpr uint64_t kLongCopyBytes = 64ull * 1024 * 1024;

struct CopySource {
  std::string bucket;
  std::string key;
  std::string version_id;  // empty: the newest
};

// x-amz-copy-source: "[/]bucket/key[?versionId=id]", the key URL-encoded (the SDKs encode it;
// the aws CLI sends it as is, and a literal '%' is then an encoding error, as in S3).
Result<CopySource> ParseCopySource(const http::HeaderList& headers) {
  const std::string* header = FindHeader(headers, "x-amz-copy-source");
  const Status invalid(
      ErrorCode::kInvalidArgument,
      "Copy Source must mention the source bucket and key: sourcebucket/sourcekey");
  if (header == nullptr) return invalid;
  std::string_view raw = TrimAscii(*header);
  if (raw.starts_with('/')) raw.remove_prefix(1);
  CopySource source;
  if (const size_t q = raw.find('?'); q != std::string_view::npos) {
    const std::string_view query = raw.substr(q + 1);
    raw = raw.substr(0, q);
    if (!query.starts_with("versionId=")) return invalid;
    source.version_id = std::string(query.substr(10));
    if (source.version_id.empty()) return invalid;
  }
  const size_t slash = raw.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == raw.size()) return invalid;
  auto bucket = DecodePathSegment(raw.substr(0, slash));
  auto key = DecodePathSegment(raw.substr(slash + 1));
  if (!bucket.ok() || !key.ok() || !IsValidUtf8(*key) || key->size() > kMaxKeyBytes) {
    return invalid;
  }
  source.bucket = std::move(bucket).value();
  source.key = std::move(key).value();
  return source;
}

// An ETag list item compared without quotes (the copy-source conditions name one ETag or *).
bool EtagMatches(std::string_view sent, const std::string& etag) {
  sent = TrimAscii(sent);
  if (sent.size() >= 2 && sent.front() == '"' && sent.back() == '"') {
    sent = sent.substr(1, sent.size() - 2);
  }
  return sent == "*" || sent == etag;
}

// The x-amz-copy-source-if-* conditions, as S3 combines them: if-match true and
// if-unmodified-since false still copies; if-none-match false and if-modified-since true still
// refuses. A date that does not parse is ignored, as HTTP says.
Status CheckCopyConditions(const http::HeaderList& headers, const ObjectInfo& source) {
  const int64_t modified = source.last_modified / 1'000'000;
  const std::string* match = FindHeader(headers, "x-amz-copy-source-if-match");
  const std::string* none = FindHeader(headers, "x-amz-copy-source-if-none-match");
  const std::string* since = FindHeader(headers, "x-amz-copy-source-if-modified-since");
  const std::string* unmodified = FindHeader(headers, "x-amz-copy-source-if-unmodified-since");
  bool ok = true;
  if (match != nullptr) {
    ok = EtagMatches(*match, source.etag);
  } else if (unmodified != nullptr) {
    const auto t = ParseHttpDate(*unmodified);
    ok = !t.has_value() || modified <= *t;
  }
  if (ok && none != nullptr) {
    ok = !EtagMatches(*none, source.etag);
  } else if (ok && since != nullptr) {
    const auto t = ParseHttpDate(*since);
    ok = !t.has_value() || modified > *t;
  }
  if (ok) return Status::Ok();
  return Status(ErrorCode::kPreconditionFailed,
                "At least one of the pre-conditions you specified did not hold (x-amz-copy-source-"
                "if-*)");
}

// The source object, with its body, after the caller's access to its bucket is checked.
Result<ObjectData> ReadSource(const Call& c, const CopySource& source) {
  SLUICE_RETURN_IF_ERROR(c.backend.CheckBucket(c.who, source.bucket));
  auto read = source.version_id.empty()
                  ? c.backend.GetObject(c.who, source.bucket, source.key, /*with_body=*/true)
                  : c.backend.GetObjectVersion(c.who, source.bucket, source.key, source.version_id,
                                               /*with_body=*/true);
  // A delete marker cannot be copied: S3 answers 400 InvalidRequest.
  if (read.status().code() == ErrorCode::kMethodNotAllowed) {
    return Status(ErrorCode::kInvalidRequest,
                  "The source of a copy request may not specifically refer to a delete marker by "
                  "version id.");
  }
  SLUICE_ASSIGN_OR_RETURN(ObjectData data, std::move(read));
  SLUICE_RETURN_IF_ERROR(CheckCopyConditions(c.head.headers, data.info));
  if (!data.file || data.file->size() < data.info.size) {
    return Status(ErrorCode::kInternal,
                  "the stored file of " + source.key + " is missing or short");
  }
  return data;
}

// Copies [offset, offset + length) of the source into the sink and commits it. The body of a
// copy request is empty, so Finish runs at once; it blocks (reads, writes, fsyncs).
class CopyExchange final : public http::Exchange {
 public:
  using Respond =
      std::function<http::Response(const ObjectDigests&, http::HeaderList, ObjectSink&)>;
  // `checksum`: an algorithm to compute over the copied bytes (empty: none); `expected`, the
  // value the bytes must have (the source's full-object checksum when the whole source of that
  // algorithm is copied; empty: none).
  CopyExchange(ResponseContext ctx, const Clock& clock, ObjectData source, uint64_t offset,
               uint64_t length, std::unique_ptr<ObjectSink> sink, std::string checksum,
               std::string expected, Respond respond)
      : ctx_(std::move(ctx)),
        clock_(clock),
        source_(std::move(source)),
        offset_(offset),
        length_(length),
        sink_(std::move(sink)),
        checksum_(std::move(checksum)),
        expected_(std::move(expected)),
        respond_(std::move(respond)) {}

  ~CopyExchange() override {
    if (!done_) sink_->Abort();
  }

  Status OnBody(ByteView /*data*/) override {
    return Status(ErrorCode::kInvalidRequest, "a copy request carries no body");
  }

  http::Response Finish(const Status& body_status) override {
    done_ = true;
    if (!body_status.ok()) {
      sink_->Abort();
      return ErrorResponse(ctx_, clock_, body_status);
    }
    auth::Digest md5(auth::Digest::Kind::kMd5);
    std::optional<auth::Digest> sum;
    if (!checksum_.empty()) {
      auto plan = ComputedChecksum(checksum_);
      if (!plan.ok()) return Fail(plan.status());
      sum.emplace(plan->kind);
    }
    std::vector<uint8_t> buffer;
    for (uint64_t at = 0; at < length_;) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(kCopyChunkBytes, length_ - at));
      Status st = source_.file->ReadAt(offset_ + at, n, &buffer);
      if (st.ok()) {
        const ByteView piece(buffer.data(), n);
        md5.Update(piece);
        if (sum) sum->Update(piece);
        st = sink_->Append(piece);
      }
      if (!st.ok()) return Fail(st);
      at += n;
    }
    ObjectDigests digests;
    digests.size = length_;
    digests.md5_hex = ToHex(AsBytes(md5.Finish()));
    if (sum) {
      const std::string value = auth::Base64Encode(sum->Finish());
      if (!expected_.empty() && value != expected_) {
        return Fail(Status(ErrorCode::kInternal, "the stored file " + source_.file->name() +
                                                     " does not match its " + checksum_ +
                                                     " checksum"));
      }
      digests.checksums.emplace_back(checksum_, value);
    }
    auto committed = sink_->Commit(digests);
    if (!committed.ok()) return Fail(committed.status());
    return respond_(digests, std::move(committed).value(), *sink_);
  }
  bool FinishBlocks() const override { return true; }
  bool FinishIsLong() const override { return length_ >= kLongCopyBytes; }

 private:
  http::Response Fail(const Status& status) {
    sink_->Abort();
    return ErrorResponse(ctx_, clock_, status);
  }

  ResponseContext ctx_;
  const Clock& clock_;
  ObjectData source_;
  const uint64_t offset_;
  const uint64_t length_;
  std::unique_ptr<ObjectSink> sink_;
  const std::string checksum_;
  const std::string expected_;
  Respond respond_;
  bool done_ = false;
};

// `<Result><ETag>"..."</ETag><LastModified>...</LastModified>[<ChecksumCRC32>..]</Result>`,
// and the checksum's header on `r`.
http::Response CopyResponse(const ResponseContext& ctx, const Clock& clock,
                            std::string_view element, const ObjectDigests& digests) {
  const std::string name(element);
  std::string body(kXmlDeclaration);
  body += "<" + name + " xmlns=\"" + std::string(kS3Namespace) + "\">";
  body += "<ETag>&quot;" + digests.md5_hex + "&quot;</ETag><LastModified>" +
          FormatIsoMillis(clock.NowMicros()) + "</LastModified>";
  for (const auto& [algorithm, value] : digests.checksums) {
    const std::string tag = "Checksum" + AsciiUppered(algorithm);
    body += "<" + tag + ">" + XmlEscape(value) + "</" + tag + ">";
  }
  body += "</" + name + ">";
  http::Response r = XmlResponse(ctx, clock, 200, std::move(body));
  for (const auto& [algorithm, value] : digests.checksums) {
    r.headers.emplace_back("x-amz-checksum-" + algorithm, value);
  }
  return r;
}

// The algorithm a copy computes: the request's x-amz-checksum-algorithm, else `fallback`.
std::string CopyChecksum(const http::HeaderList& headers, const std::string& fallback) {
  const std::string* asked = FindHeader(headers, "x-amz-checksum-algorithm");
  return asked == nullptr ? fallback : AsciiLowered(TrimAscii(*asked));
}

// x-amz-copy-source-range: bytes=first-last, both within the source.
Result<std::pair<uint64_t, uint64_t>> CopyRange(const http::HeaderList& headers, uint64_t size) {
  const std::string* header = FindHeader(headers, "x-amz-copy-source-range");
  if (header == nullptr) return std::make_pair(uint64_t{0}, size);
  const Status malformed(ErrorCode::kInvalidArgument,
                         "The x-amz-copy-source-range value must be of the form bytes=first-last "
                         "where first and last are the zero-based offsets of the first and last "
                         "bytes to copy");
  std::string_view spec = TrimAscii(*header);
  if (!spec.starts_with("bytes=")) return malformed;
  spec.remove_prefix(6);
  const size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return malformed;
  uint64_t first = 0;
  uint64_t last = 0;
  const auto parse = [](std::string_view s, uint64_t* out) {
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
    return !s.empty() && ec == std::errc() && end == s.data() + s.size();
  };
  if (!parse(spec.substr(0, dash), &first) || !parse(spec.substr(dash + 1), &last) ||
      last < first) {
    return malformed;
  }
  if (last >= size) {
    return Status(ErrorCode::kInvalidArgument,
                  "Range specified is not valid for source object "
                  "of size: " +
                      std::to_string(size));
  }
  return std::make_pair(first, last - first + 1);
}

}  // namespace

Started CopyObject(const Call& c) {
  if (c.ctx.body_pending) {
    return Reply(c, Status(ErrorCode::kInvalidRequest, "a CopyObject request carries no body"));
  }
  const Status bucket = c.backend.CheckBucket(c.who, c.route.bucket);
  if (!bucket.ok()) return Reply(c, bucket);
  auto source_name = ParseCopySource(c.head.headers);
  if (!source_name.ok()) return Reply(c, source_name.status());
  auto source = ReadSource(c, *source_name);
  if (!source.ok()) return Reply(c, source.status());
  if (source->info.size > kMaxCopyObjectBytes) {
    return Reply(c, Status(ErrorCode::kInvalidRequest,
                           "The specified copy source is larger than the maximum allowable size "
                           "for a copy source: " +
                               std::to_string(kMaxCopyObjectBytes)));
  }
  const std::string* directive = FindHeader(c.head.headers, "x-amz-metadata-directive");
  const bool replace = directive != nullptr && TrimAscii(*directive) == "REPLACE";
  if (directive != nullptr && !replace && TrimAscii(*directive) != "COPY") {
    return Reply(c, Status(ErrorCode::kInvalidArgument,
                           "Unknown metadata directive: " + HeaderSafe(*directive, 64)));
  }
  if (!replace && source_name->bucket == c.route.bucket && source_name->key == c.route.key &&
      source_name->version_id.empty()) {
    return Reply(c, Status(ErrorCode::kInvalidRequest,
                           "This copy request is illegal because it is trying to copy an object "
                           "to itself without changing the object's metadata, storage class, "
                           "website redirect location or encryption attributes."));
  }
  auto request = PutRequestOf(c);
  if (!request.ok()) return Reply(c, request.status());
  if (!replace) {
    request->content_type = source->info.content_type;
    request->headers = source->info.headers;
    request->user_metadata = source->info.user_metadata;
  }
  auto condition = WriteConditionOf(c.head.headers);
  if (!condition.ok()) return Reply(c, condition.status());
  request->condition = std::move(condition).value();
  request->size = source->info.size;
  auto sink = c.backend.BeginPut(c.who, *request);
  if (!sink.ok()) return Reply(c, sink.status());
  const uint64_t size = source->info.size;
  const std::string source_version = source_name->version_id;
  // The copy keeps the source's checksum algorithm (or takes the one asked for), computed over
  // the whole object: a full-object checksum, which must equal the source's if it was one.
  const Checksum& had = source->info.checksum;
  const std::string checksum = CopyChecksum(c.head.headers, had.algorithm);
  const std::string expected =
      checksum == had.algorithm && had.type != "COMPOSITE" ? had.value : std::string();
  ResponseContext ctx = BodyContext(c);
  const Clock& clock = c.clock;
  return Continue(std::make_unique<CopyExchange>(
      ctx, clock, std::move(source).value(), 0, size, std::move(sink).value(), checksum, expected,
      [ctx, &clock, source_version](const ObjectDigests& digests, http::HeaderList headers,
                                    ObjectSink& sink) {
        http::Response r = CopyResponse(ctx, clock, "CopyObjectResult", digests);
        if (!source_version.empty()) {
          r.headers.emplace_back("x-amz-copy-source-version-id", source_version);
        }
        for (auto& h : headers) r.headers.push_back(std::move(h));
        return sink.Respond(std::move(r));
      }));
}

Started UploadPartCopy(const Call& c) {
  if (c.ctx.body_pending) {
    return Reply(c,
                 Status(ErrorCode::kInvalidRequest, "an UploadPartCopy request carries no body"));
  }
  const Status bucket = c.backend.CheckBucket(c.who, c.route.bucket);
  if (!bucket.ok()) return Reply(c, bucket);
  auto part_number = IntParam(c.route, "partNumber", 1, 10000, 0);
  if (!part_number.ok()) return Reply(c, part_number.status());
  const std::string* upload_id = c.route.Param("uploadId");
  if (*part_number == 0 || upload_id == nullptr || upload_id->empty()) {
    return Reply(c, Status(ErrorCode::kInvalidArgument,
                           "UploadPartCopy needs partNumber (1 to 10000) and uploadId"));
  }
  auto source_name = ParseCopySource(c.head.headers);
  if (!source_name.ok()) return Reply(c, source_name.status());
  auto source = ReadSource(c, *source_name);
  if (!source.ok()) return Reply(c, source.status());
  auto range = CopyRange(c.head.headers, source->info.size);
  if (!range.ok()) return Reply(c, range.status());
  const auto [offset, length] = *range;
  if (length > c.options.max_object_bytes) {
    return Reply(c, Status(ErrorCode::kEntityTooLarge,
                           "a part is at most " + std::to_string(c.options.max_object_bytes) +
                               " bytes; the copy range is " + std::to_string(length)));
  }
  auto sink = c.backend.BeginUploadPart(c.who, c.route.bucket, c.route.key, *upload_id,
                                        static_cast<int>(*part_number), length);
  if (!sink.ok()) return Reply(c, sink.status());
  const std::string source_version = source_name->version_id;
  // A part of an upload created with a checksum algorithm carries that checksum.
  const std::string checksum = CopyChecksum(c.head.headers, (*sink)->UploadChecksum().algorithm);
  ResponseContext ctx = BodyContext(c);
  const Clock& clock = c.clock;
  return Continue(std::make_unique<CopyExchange>(
      ctx, clock, std::move(source).value(), offset, length, std::move(sink).value(), checksum,
      std::string(),
      [ctx, &clock, source_version](const ObjectDigests& digests, const http::HeaderList& /*h*/,
                                    ObjectSink& /*sink*/) {
        http::Response r = CopyResponse(ctx, clock, "CopyPartResult", digests);
        if (!source_version.empty()) {
          r.headers.emplace_back("x-amz-copy-source-version-id", source_version);
        }
        return r;
      }));
}

}  // namespace sluice::s3
