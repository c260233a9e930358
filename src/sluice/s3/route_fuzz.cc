// libFuzzer target: S3 routing of a request head — the path and query-string parsing
// (percent-decoding, UTF-8, key and bucket limits, sub-resource naming) and virtual-hosted
// bucket names from the Host header. Input layout (text, so seeds can be written by hand):
//   "METHOD TARGET\n"   the request line; TARGET split at the first '?' as the server does
//   the rest            the Host header's value
// Nothing may crash or read out of bounds; a route without an error must keep the promises of
// route_internal.h (checked with __builtin_trap so the fuzzer reports them).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "sluice/core/utf8.h"
#include "sluice/s3/route_internal.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const size_t nl = in.find('\n');
  const std::string_view line = in.substr(0, nl);
  const std::string_view host =
      nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
  const size_t sp = line.find(' ');
  sluice::http::RequestHead head;
  head.method = std::string(line.substr(0, sp));
  head.target = sp == std::string_view::npos ? std::string() : std::string(line.substr(sp + 1));
  const size_t q = head.target.find('?');
  head.raw_path = head.target.substr(0, q);
  head.raw_query = q == std::string::npos ? std::string() : head.target.substr(q + 1);
  head.headers.emplace_back("Host", std::string(host));

  for (std::string_view base : {std::string_view(), std::string_view("s3.test")}) {
    const sluice::s3::Route r = sluice::s3::RouteRequest(head, base);
    if (!r.error.ok()) continue;
    if (r.bucket.size() > sluice::s3::kMaxBucketBytes) __builtin_trap();
    if (r.key.size() > sluice::s3::kMaxKeyBytes) __builtin_trap();
    if (!sluice::IsValidUtf8(r.key) || !sluice::IsValidUtf8(r.bucket)) __builtin_trap();
    if (r.virtual_host && base.empty()) __builtin_trap();
    for (const auto& [name, value] : r.query) (void)r.Param(name);
  }
  (void)sluice::s3::DecodePathSegment(head.raw_path);
  return 0;
}
