// libFuzzer target: a body-carrying request as s3/payload.h reads it — the head's payload
// headers through PlanPayload (Content-Length, x-amz-decoded-content-length, Content-MD5,
// x-amz-checksum-*, x-amz-trailer; `Transfer-Encoding: chunked` marks the body as HTTP-chunked,
// so without a length it is read to its end), then the body through PayloadReader (aws-chunked
// framing, trailers, every digest) and Finish (each check against what arrived). Input layout
// (text, so seeds can be written by hand):
//   byte 0              how the body is cut into Feed calls (piece size = byte % 61 + 1)
//   "Name: value\n"...  headers, up to an empty line; x-amz-content-sha256 picks the payload
//                       mode as the server's auth does
//   the rest            the body
// Nothing may crash, hang or read out of bounds; a Finish that succeeds must account for
// exactly the bytes the head announced, or for a body of unknown length the bytes delivered,
// at most the limit (checked with __builtin_trap).

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "sluice/core/text.h"
#include "sluice/s3/payload_internal.h"

namespace {

// Bounds the work per input: heads far beyond this add nothing.
constexpr size_t kMaxHeaders = 64;
// Small enough that PayloadReader hashes inline (a declared length at or above
// kBackgroundDigestBytes is refused as too large here, before any thread starts; a body of
// unknown length is refused past it as it arrives).
constexpr uint64_t kMaxBytes = uint64_t{1} << 20;

std::string_view NextLine(std::string_view* in) {
  const size_t nl = in->find('\n');
  const std::string_view line = in->substr(0, nl);
  in->remove_prefix(nl == std::string_view::npos ? in->size() : nl + 1);
  return line;
}

// The payload mode the server's auth would give this x-amz-content-sha256 (signed modes get a
// fixed seed signature: their chunk signatures then fail, which is a path worth fuzzing too).
sluice::auth::ParsedAuth AuthOf(std::string_view hash) {
  using sluice::auth::PayloadMode;
  sluice::auth::ParsedAuth a;
  a.payload_hash = std::string(hash);
  a.amz_date = "20261127T023336Z";
  a.scope_date = "20261127";
  a.region = "us-east-1";
  a.service = "s3";
  a.signature = std::string(64, 'a');
  if (hash == "UNSIGNED-PAYLOAD") {
    a.payload_mode = PayloadMode::kUnsigned;
  } else if (hash == "STREAMING-UNSIGNED-PAYLOAD-TRAILER") {
    a.payload_mode = PayloadMode::kStreamingUnsignedTrailer;
  } else if (hash == "STREAMING-AWS4-HMAC-SHA256-PAYLOAD") {
    a.payload_mode = PayloadMode::kStreamingSigned;
  } else if (hash == "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER") {
    a.payload_mode = PayloadMode::kStreamingSignedTrailer;
  } else {
    a.payload_mode = PayloadMode::kSignedHex;
  }
  return a;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t piece = data[0] % 61 + 1;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);

  sluice::http::RequestHead head;
  head.method = "PUT";
  head.target = "/bucket/key";
  std::string payload_hash = "UNSIGNED-PAYLOAD";
  while (!in.empty() && head.headers.size() < kMaxHeaders) {
    const std::string_view line = NextLine(&in);
    if (line.empty()) break;
    const size_t colon = line.find(':');
    std::string_view value =
        colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    const std::string name = sluice::AsciiLowered(line.substr(0, colon));
    if (name == "content-length") {
      uint64_t n = 0;
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec == std::errc() && end == value.data() + value.size()) head.content_length = n;
    } else if (name == "x-amz-content-sha256") {
      payload_hash = std::string(value);
    } else if (name == "transfer-encoding") {
      head.chunked = sluice::EqualsIgnoreCase(value, "chunked");
    }
    head.headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
  }
  const std::string_view body = in;

  const sluice::Secret secret("sluice/test/secret/key/0000000000000000000");
  auto plan = sluice::s3::PlanPayload(head, AuthOf(payload_hash), secret, kMaxBytes);
  if (!plan.ok()) return 0;
  const bool known = plan->length_known;
  const uint64_t announced = plan->decoded_length;
  sluice::s3::PayloadReader reader(std::move(plan).value());
  uint64_t delivered = 0;
  auto out = [&](sluice::ByteView b) {
    delivered += b.size();
    return sluice::Status::Ok();
  };
  for (size_t at = 0; at < body.size(); at += piece) {
    if (!reader.Feed(sluice::AsBytes(body.substr(at, piece)), out).ok()) return 0;
  }
  auto digests = reader.Finish();
  if (digests.ok() &&
      (digests->size != delivered || (known && delivered != announced) || delivered > kMaxBytes)) {
    __builtin_trap();
  }
  return 0;
}
