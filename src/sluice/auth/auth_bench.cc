// Throughput of the body-side work per uploaded byte: each digest alone, and the aws-chunked
// decoder unsigned (framing only) and signed (framing + SHA-256 per chunk + one HMAC chain
// step per chunk), over 64 MiB in 64 KiB HTTP reads. The signed decoder should cost about
// what SHA-256 alone costs (BM_Digest/1); compare in the same run.

#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>

#include "sluice/auth/auth.h"

namespace sluice::auth {
namespace {

constexpr size_t kBytes = 64 << 20;
constexpr size_t kRead = 64 << 10;  // what the HTTP layer hands over at a time

const std::string& Payload() {
  static const std::string data = [] {
    std::string s(kBytes, '\0');
    for (size_t i = 0; i < s.size(); ++i) s[i] = static_cast<char>(i % 251);
    return s;
  }();
  return data;
}

void BM_Digest(benchmark::State& state) {
  const auto kind = static_cast<Digest::Kind>(state.range(0));
  for (auto _ : state) {
    Digest d(kind);
    for (size_t at = 0; at < kBytes; at += kRead) {
      d.Update(AsBytes(std::string_view(Payload()).substr(at, kRead)));
    }
    benchmark::DoNotOptimize(d.Finish());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kBytes));
}
// Kind order: kMd5, kSha256, kSha1, kCrc32, kCrc32c, kCrc64Nvme.
BENCHMARK(BM_Digest)->DenseRange(0, 5)->Unit(benchmark::kMillisecond);

ParsedAuth Streaming(PayloadMode mode) {
  ParsedAuth p;
  p.payload_mode = mode;
  p.amz_date = "20261127T013439Z";
  p.scope_date = "20261127";
  p.region = "us-east-1";
  p.service = "s3";
  p.signature = std::string(64, 'a');
  return p;
}

// The payload as aws-chunked with `chunk`-byte chunks, signed when `parsed` is a signed mode.
std::string Encode(const ParsedAuth& parsed, const Secret& secret, size_t chunk) {
  const bool sign = parsed.payload_mode == PayloadMode::kStreamingSigned;
  const std::string key = SigningKey(secret, parsed);
  const std::string scope = parsed.scope_date + "/" + parsed.region + "/s3/aws4_request";
  std::string previous = parsed.signature, out;
  auto header = [&](std::string_view data) {
    char size[32];
    std::snprintf(size, sizeof size, "%zx", data.size());
    out += size;
    if (sign) {
      Digest d(Digest::Kind::kSha256);
      d.Update(AsBytes(data));
      const std::string hash = d.Finish();
      previous = HmacSha256Hex(
          key, "AWS4-HMAC-SHA256-PAYLOAD\n" + parsed.amz_date + "\n" + scope + "\n" + previous +
                   "\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n" +
                   ToHex(AsBytes(hash)));
      out += ";chunk-signature=" + previous;
    }
    out += "\r\n";
  };
  for (size_t at = 0; at < kBytes; at += chunk) {
    const std::string_view data = std::string_view(Payload()).substr(at, chunk);
    header(data);
    out += data;
    out += "\r\n";
  }
  header("");
  out += "\r\n";
  return out;
}

void BM_Decode(benchmark::State& state, PayloadMode mode) {
  const Secret secret("sluice/test/secret/key/0000000000000000000");
  const ParsedAuth parsed = Streaming(mode);
  const std::string body = Encode(parsed, secret, static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    auto d = MakeChunkedDecoder(parsed, secret).value();
    size_t out = 0;
    auto sink = [&](ByteView p) {
      out += p.size();
      return Status::Ok();
    };
    for (size_t at = 0; at < body.size(); at += kRead) {
      if (!d->Feed(AsBytes(std::string_view(body).substr(at, kRead)), sink).ok()) {
        state.SkipWithError("decode failed");
      }
    }
    if (!d->Finish().ok() || out != kBytes) state.SkipWithError("decode failed");
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kBytes));
}
BENCHMARK_CAPTURE(BM_Decode, unsigned_trailer, PayloadMode::kStreamingUnsignedTrailer)
    ->Arg(64 << 10)
    ->Arg(1 << 20)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Decode, signed, PayloadMode::kStreamingSigned)
    ->Arg(8 << 10)
    ->Arg(64 << 10)
    ->Arg(1 << 20)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace sluice::auth

BENCHMARK_MAIN();
