// libFuzzer target: a request head and body from the fuzz bytes through ParseAuth, Verify and
// the aws-chunked decoder, every scheme (SigV4 header and presigned, SigV2 header and
// presigned; a Host with a '.' makes its first label the virtual-hosted bucket SigV2 signs).
// Input layout (text, so the seed corpus can be written by hand):
//   byte 0               how the body is cut into Feed calls (piece size = byte % 61 + 1)
//   "METHOD TARGET\n"    the request line; TARGET split at the first '?'
//   "Name: value\n"...   headers, up to an empty line
//   the rest             the body, decoded as aws-chunked
// Nothing here may crash, hang or read out of bounds, whatever the bytes; results are ignored.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "sluice/auth/auth.h"

namespace {

// Bounds the work per input, not correctness: heads far beyond this add nothing.
constexpr size_t kMaxHeaders = 64;

std::string_view NextLine(std::string_view* in) {
  const size_t nl = in->find('\n');
  const std::string_view line = in->substr(0, nl);
  in->remove_prefix(nl == std::string_view::npos ? in->size() : nl + 1);
  return line;
}

void Drive(sluice::auth::ChunkedDecoder& decoder, std::string_view body, size_t piece) {
  auto sink = [](sluice::ByteView) { return sluice::Status::Ok(); };
  for (size_t at = 0; at < body.size(); at += piece) {
    if (!decoder.Feed(sluice::AsBytes(body.substr(at, piece)), sink).ok()) return;
  }
  if (decoder.Finish().ok()) {
    (void)decoder.trailers();
  }
  (void)decoder.decoded_length();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t piece = data[0] % 61 + 1;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);

  const std::string_view request_line = NextLine(&in);
  const size_t sp = request_line.find(' ');
  const std::string_view method = request_line.substr(0, sp);
  const std::string_view target =
      sp == std::string_view::npos ? std::string_view() : request_line.substr(sp + 1);
  const size_t q = target.find('?');
  const std::string_view path = target.substr(0, q);
  const std::string_view query =
      q == std::string_view::npos ? std::string_view() : target.substr(q + 1);

  sluice::auth::Headers headers;
  while (!in.empty() && headers.size() < kMaxHeaders) {
    const std::string_view line = NextLine(&in);
    if (line.empty()) break;
    const size_t colon = line.find(':');
    std::string_view value =
        colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
  }
  const std::string_view body = in;

  std::string_view bucket;
  for (const auto& [name, value] : headers) {
    if (name == "Host" && value.find('.') != std::string::npos) {
      bucket = std::string_view(value).substr(0, value.find('.'));
    }
  }
  const sluice::auth::Request request{method, path, query, &headers, bucket};
  (void)sluice::auth::CanonicalQuery(query);
  const sluice::Secret secret("sluice/test/secret/key/0000000000000000000");
  auto parsed = sluice::auth::ParseAuth(request);
  if (parsed.ok()) {
    auto when = sluice::auth::ParseAmzDate(parsed->amz_date);
    const int64_t now = when.ok() ? *when : parsed->expires_at;
    (void)sluice::auth::Verify(request, *parsed, secret, now, 900).ok();
    (void)sluice::auth::StringToSignV2(request, *parsed);
    auto decoder = sluice::auth::MakeChunkedDecoder(*parsed, secret);
    if (decoder.ok()) Drive(**decoder, body, piece);
  }
  // The unsigned framing whatever the head said, so the body's grammar is explored too.
  sluice::auth::ParsedAuth unsigned_mode;
  unsigned_mode.payload_mode = sluice::auth::PayloadMode::kStreamingUnsignedTrailer;
  auto framing = sluice::auth::MakeChunkedDecoder(unsigned_mode, secret);
  if (framing.ok()) Drive(**framing, body, piece);
  return 0;
}
