// SigV4 and SigV2 verification against the recorded client transcripts
// (../shared/s3-transcripts): every request (header-signed, presigned SigV4 and SigV2) must
// reproduce the recorded canonical request / string to sign and signing key and verify;
// tampered, expired and skewed copies must not. Also the digests, CRCs included.

#include "sluice/auth/auth.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>

#include "sluice/auth/auth_internal.h"
#include "sluice/auth/transcripts_testing.h"

namespace sluice::auth {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const Secret kSecret("sluice/test/secret/key/0000000000000000000");
constexpr int64_t kSkew = 15 * 60;

using Recorded = testing::RecordedRequest;

const std::vector<Recorded>& Requests() {
  static const std::vector<Recorded> all = testing::LoadTranscriptRequests();
  return all;
}

Headers HeadersOf(const json& r) {
  Headers h;
  for (const json& kv : r.at("headers")) h.emplace_back(kv.at(0), kv.at(1));
  return h;
}

bool IsHeaderSigned(const json& r) {
  return r.at("checks").contains("signature") &&
         r.at("checks").at("signature").value("scheme", "") == "sigv4-header";
}

// A request's pieces, owning the strings the auth::Request views point into.
struct Owned {
  std::string method, path, query;
  Headers headers;
  Request View() const { return Request{method, path, query, &headers}; }
};

Owned OwnedOf(const json& r) {
  return Owned{r.at("method"), r.at("raw_path"), r.at("raw_query"), HeadersOf(r)};
}

using testing::HasHeader;
using testing::SetHeader;
std::string HeaderValue(const Headers& h, std::string_view name) {
  return testing::HeaderOf(h, name);
}

int64_t NowOf(const ParsedAuth& p) { return ParseAmzDate(p.amz_date).value(); }

// "2026-11-27T01:34:39.556609+00:00" (the capture server's receive time) -> epoch seconds.
int64_t ReceivedAt(const json& r) {
  const std::string t = r.at("time");
  const std::string amz = t.substr(0, 4) + t.substr(5, 2) + t.substr(8, 2) + "T" + t.substr(11, 2) +
                          t.substr(14, 2) + t.substr(17, 2) + "Z";
  return ParseAmzDate(amz).value();
}

std::string SchemeOf(const json& r) { return r.at("checks").at("signature").value("scheme", ""); }

TEST(AuthTranscripts, EveryRequestVerifies) {
  ASSERT_FALSE(Requests().empty()) << "no transcripts under " << SLUICE_SHARED_DIR;
  int verified = 0, without_payload_header = 0, header_signed = 0, presigned_v4 = 0,
      presigned_v2 = 0;
  std::map<PayloadMode, int> modes;
  for (const Recorded& rec : Requests()) {
    const json& r = rec.request;
    SCOPED_TRACE(rec.file + " seq " + std::to_string(r.value("seq", -1)));
    const json& sig = r.at("checks").at("signature");
    ASSERT_TRUE(sig.at("valid").get<bool>());
    Owned o = OwnedOf(r);
    const std::string scheme = SchemeOf(r);
    if (scheme == "sigv2-presigned") {
      auto parsed = ParseAuth(o.View());
      ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
      EXPECT_EQ(parsed->scheme, AuthScheme::kPresignedV2);
      EXPECT_EQ(parsed->access_key.str(), sig.at("access_key").get<std::string>());
      EXPECT_EQ(parsed->expires_at, std::stoll(sig.at("expires").get<std::string>()));
      EXPECT_EQ(parsed->payload_mode, PayloadMode::kUnsigned);
      EXPECT_EQ(StringToSignV2(o.View(), *parsed), sig.at("string_to_sign").get<std::string>());
      const Status st = Verify(o.View(), *parsed, kSecret, ReceivedAt(r), kSkew);
      EXPECT_TRUE(st.ok()) << st.ToString();
      if (st.ok()) ++verified;
      ++presigned_v2;
      continue;
    }
    ASSERT_TRUE(scheme == "sigv4-header" || scheme == "sigv4-presigned") << scheme;
    if (!HasHeader(o.headers, "x-amz-content-sha256") && scheme == "sigv4-header") {
      // curl --aws-sigv4: refused as S3 does; the signature itself is still checked below with
      // the hash curl signed supplied as an (unsigned) header.
      auto parsed = ParseAuth(o.View());
      ASSERT_FALSE(parsed.ok());
      EXPECT_EQ(parsed.status().code(), ErrorCode::kInvalidRequest);
      o.headers.emplace_back("x-amz-content-sha256", sig.at("payload_hash").get<std::string>());
      ++without_payload_header;
    }
    auto parsed = ParseAuth(o.View());
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    EXPECT_EQ(parsed->scheme,
              scheme == "sigv4-header" ? AuthScheme::kHeader : AuthScheme::kPresignedV4);
    EXPECT_EQ(parsed->access_key.str(), sig.at("access_key").get<std::string>());
    EXPECT_EQ(parsed->amz_date, sig.at("amz_date").get<std::string>());
    EXPECT_EQ(parsed->scope_date + "/" + parsed->region + "/" + parsed->service + "/aws4_request",
              sig.at("credential_scope").get<std::string>());
    EXPECT_EQ(parsed->signed_headers, sig.at("signed_headers").get<std::vector<std::string>>());
    EXPECT_EQ(parsed->payload_hash, sig.at("payload_hash").get<std::string>());
    const std::string creq = CanonicalRequest(o.View(), *parsed);
    EXPECT_EQ(creq, sig.at("canonical_request").get<std::string>());
    EXPECT_EQ(StringToSign(*parsed, creq), sig.at("string_to_sign").get<std::string>());
    const std::string key = SigningKey(kSecret, *parsed);
    EXPECT_EQ(ToHex(AsBytes(key)), sig.at("signing_key_hex").get<std::string>());
    const Status st = Verify(o.View(), *parsed, kSecret, NowOf(*parsed), kSkew);
    EXPECT_TRUE(st.ok()) << st.ToString();
    if (st.ok() && creq == sig.at("canonical_request").get<std::string>()) ++verified;
    ++modes[parsed->payload_mode];
    if (scheme == "sigv4-header") {
      ++header_signed;
    } else {
      EXPECT_EQ(parsed->expires_at,
                NowOf(*parsed) + std::stoll(sig.at("expires").get<std::string>()));
      ++presigned_v4;
    }
  }
  std::cout << "transcripts: " << Requests().size() << " requests, " << verified
            << " verified: " << header_signed << " sigv4-header (" << without_payload_header
            << " without x-amz-content-sha256, refused as InvalidRequest), " << presigned_v4
            << " presigned SigV4, " << presigned_v2 << " presigned SigV2; hex "
            << modes[PayloadMode::kSignedHex] << ", UNSIGNED-PAYLOAD "
            << modes[PayloadMode::kUnsigned] << ", STREAMING-UNSIGNED-PAYLOAD-TRAILER "
            << modes[PayloadMode::kStreamingUnsignedTrailer] << "\n";
  EXPECT_EQ(verified, static_cast<int>(Requests().size()));
  EXPECT_GE(header_signed, 370);  // the corpus README counts 379 requests, 373 header-signed
  EXPECT_EQ(presigned_v4, 3);
  EXPECT_EQ(presigned_v2, 3);
  EXPECT_GT(modes[PayloadMode::kStreamingUnsignedTrailer], 0);
  EXPECT_GT(without_payload_header, 0);
}

// Every 7th header-signed request with an x-amz-content-sha256 header, for tampering.
std::vector<const Recorded*> Sample() {
  std::vector<const Recorded*> out;
  int i = 0;
  for (const Recorded& rec : Requests()) {
    if (!IsHeaderSigned(rec.request)) continue;
    Headers h = HeadersOf(rec.request);
    if (!HasHeader(h, "x-amz-content-sha256")) continue;
    if (i++ % 7 == 0) out.push_back(&rec);
  }
  return out;
}

Status ParseAndVerify(const Owned& o, int64_t now_offset = 0) {
  auto parsed = ParseAuth(o.View());
  if (!parsed.ok()) return parsed.status();
  return Verify(o.View(), *parsed, kSecret, NowOf(*parsed) + now_offset, kSkew);
}

char Flip(char c) { return c == '0' ? '1' : '0'; }

// What sluice signs for the console's uploads verifies as a client's presigned URL would:
// within its expiry, for its method, path and host only.
TEST(PresignV4, AUrlSluiceSignsVerifiesForItsRequestOnly) {
  const Secret secret("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
  const AccessKeyId key("AKIAIOSFODNN7EXAMPLE");
  const PresignRequest p{"PUT",       "127.0.0.1:8787", "/shop/orders/a%20b.json",
                         "us-east-1", 1'790'000'000,    900};
  const std::string query = PresignV4Query(p, key, secret);
  EXPECT_NE(query.find("X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F"), std::string::npos) << query;
  const auto verify = [&](std::string_view method, std::string_view path, std::string host,
                          int64_t now) {
    const Headers headers = {{"Host", std::move(host)}};
    const Request r{method, path, query, &headers};
    auto parsed = ParseAuth(r);
    if (!parsed.ok()) return parsed.status();
    EXPECT_EQ(parsed->scheme, AuthScheme::kPresignedV4);
    return Verify(r, *parsed, secret, now, 900);
  };
  EXPECT_TRUE(verify("PUT", p.raw_path, p.host, p.now_seconds + 10).ok());
  EXPECT_EQ(verify("GET", p.raw_path, p.host, p.now_seconds).code(),
            ErrorCode::kSignatureDoesNotMatch);
  EXPECT_EQ(verify("PUT", "/shop/orders/other.json", p.host, p.now_seconds).code(),
            ErrorCode::kSignatureDoesNotMatch);
  EXPECT_EQ(verify("PUT", p.raw_path, "127.0.0.1:9999", p.now_seconds).code(),
            ErrorCode::kSignatureDoesNotMatch);
  EXPECT_EQ(verify("PUT", p.raw_path, p.host, p.now_seconds + 901).code(),
            ErrorCode::kAccessDenied);
}

TEST(AuthTampered, OneChangedByteFailsTheSignature) {
  const auto sample = Sample();
  ASSERT_GT(sample.size(), 40u);
  int checked = 0;
  for (const Recorded* rec : sample) {
    SCOPED_TRACE(rec->file);
    const Owned original = OwnedOf(rec->request);
    ASSERT_TRUE(ParseAndVerify(original).ok());

    // A byte of the signature (the last hex digit).
    {
      Owned o = original;
      std::string auth = HeaderValue(o.headers, "authorization");
      auth.back() = Flip(auth.back());
      SetHeader(&o.headers, "authorization", auth);
      EXPECT_EQ(ParseAndVerify(o).code(), ErrorCode::kSignatureDoesNotMatch);
    }
    // A byte of a signed header's value (host is always signed).
    {
      Owned o = original;
      std::string host = HeaderValue(o.headers, "host");
      host.back() = Flip(host.back());
      SetHeader(&o.headers, "host", host);
      EXPECT_EQ(ParseAndVerify(o).code(), ErrorCode::kSignatureDoesNotMatch);
    }
    // A byte of the payload hash (it is part of the canonical request, signed or not).
    {
      Owned o = original;
      std::string hash = HeaderValue(o.headers, "x-amz-content-sha256");
      if (hash.size() == 64) {
        hash[10] = hash[10] == 'a' ? 'b' : 'a';
        SetHeader(&o.headers, "x-amz-content-sha256", hash);
        EXPECT_EQ(ParseAndVerify(o).code(), ErrorCode::kSignatureDoesNotMatch);
      }
    }
    // A byte of the path.
    {
      Owned o = original;
      o.path += "x";
      EXPECT_EQ(ParseAndVerify(o).code(), ErrorCode::kSignatureDoesNotMatch);
    }
    // Another secret.
    {
      auto parsed = ParseAuth(original.View());
      ASSERT_TRUE(parsed.ok());
      const Status st =
          Verify(original.View(), *parsed, Secret("not-the-secret"), NowOf(*parsed), kSkew);
      EXPECT_EQ(st.code(), ErrorCode::kSignatureDoesNotMatch);
      EXPECT_EQ(st.message().find(kSecret.reveal()), std::string::npos);
      const std::string expected =
          HmacSha256Hex(SigningKey(Secret("not-the-secret"), *parsed),
                        StringToSign(*parsed, CanonicalRequest(original.View(), *parsed)));
      EXPECT_EQ(st.message().find(expected), std::string::npos);
      EXPECT_EQ(st.message().find(parsed->signature), std::string::npos);
    }
    // An unsigned header may change freely.
    {
      Owned o = original;
      SetHeader(&o.headers, "user-agent", "something else");
      o.headers.emplace_back("X-Unsigned", "1");
      EXPECT_TRUE(ParseAndVerify(o).ok());
    }
    // An x-amz-* header may not: it is refused even though the signature itself holds.
    {
      Owned o = original;
      o.headers.emplace_back("X-Amz-Meta-Sluice-Force", "1");
      const Status st = ParseAndVerify(o);
      EXPECT_EQ(st.code(), ErrorCode::kAccessDenied);
      EXPECT_NE(st.message().find("not signed: x-amz-meta-sluice-force"), std::string::npos)
          << st.message();
    }
    ++checked;
  }
  std::cout << "tampered: " << checked << " sampled requests x 5 corruptions rejected\n";
}

TEST(AuthTampered, ClockSkewBeyondFifteenMinutes) {
  for (const Recorded* rec : Sample()) {
    const Owned o = OwnedOf(rec->request);
    EXPECT_TRUE(ParseAndVerify(o, kSkew).ok());
    EXPECT_TRUE(ParseAndVerify(o, -kSkew).ok());
    const Status late = ParseAndVerify(o, kSkew + 1);
    EXPECT_EQ(late.code(), ErrorCode::kRequestTimeTooSkewed);
    EXPECT_EQ(ParseAndVerify(o, -kSkew - 1).code(), ErrorCode::kRequestTimeTooSkewed);
    EXPECT_NE(late.message().find("901"), std::string::npos) << late.message();
  }
}

// A request from the corpus to edit in the cases below.
Owned Base() {
  for (const Recorded& rec : Requests()) {
    if (rec.file == "boto3-put_object-content-md5.json") return OwnedOf(rec.request);
  }
  ADD_FAILURE() << "boto3-put_object-content-md5.json not found";
  return {};
}

ErrorCode ParseCode(const Owned& o) {
  auto p = ParseAuth(o.View());
  return p.ok() ? ErrorCode::kOk : p.status().code();
}

TEST(AuthParse, SchemesAndMissingPieces) {
  const Owned base = Base();
  ASSERT_EQ(ParseCode(base), ErrorCode::kOk);
  const std::string auth = HeaderValue(base.headers, "authorization");

  Owned o = base;
  std::erase_if(o.headers, [](const auto& kv) { return kv.first == "Authorization"; });
  EXPECT_EQ(ParseCode(o), ErrorCode::kAccessDenied);
  o.query = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=00";
  EXPECT_EQ(ParseCode(o), ErrorCode::kInvalidArgument);  // the other X-Amz-* are missing
  o.query = "AWSAccessKeyId=AKID&Signature=abc&Expires=1";
  EXPECT_EQ(ParseCode(o), ErrorCode::kOk);
  o.query = "AWSAccessKeyId=AKID&Signature=abc";
  EXPECT_EQ(ParseCode(o), ErrorCode::kAccessDenied);  // S3: needs all three parameters
  // Header auth and query auth at once.
  Owned both = base;
  both.query = "AWSAccessKeyId=AKID&Signature=abc&Expires=1";
  EXPECT_EQ(ParseCode(both), ErrorCode::kInvalidArgument);

  auto with_auth = [&](std::string value) {
    Owned c = base;
    SetHeader(&c.headers, "authorization", std::move(value));
    return ParseCode(c);
  };
  EXPECT_EQ(with_auth("Bearer abc"), ErrorCode::kInvalidArgument);
  EXPECT_EQ(with_auth("AWS4-HMAC-SHA256X Credential=a"), ErrorCode::kInvalidArgument);
  // SigV2 header auth: a malformed signature is refused; a well-formed one parses (the
  // request's x-amz-date dates it) and is checked by Verify.
  EXPECT_EQ(with_auth("AWS AKIDSLUICETEST000001:c2lnbmF0dXJl"), ErrorCode::kInvalidArgument);
  EXPECT_EQ(with_auth("AWS AKIDSLUICETEST000001:x3UAk8u7Vwx8ymfVkwV/2V4DLsc="), ErrorCode::kOk);
  EXPECT_EQ(with_auth("AWS4-HMAC-SHA256"), ErrorCode::kInvalidArgument);
  EXPECT_EQ(with_auth(auth.substr(0, auth.find(", Signature="))), ErrorCode::kInvalidArgument);
  std::string no_terminator = auth;
  no_terminator.replace(no_terminator.find("/aws4_request"), 13, "/aws4_reques");
  EXPECT_EQ(with_auth(no_terminator), ErrorCode::kInvalidArgument);
  std::string four_parts = auth;
  four_parts.replace(four_parts.find("/us-east-1"), 10, "");
  EXPECT_EQ(with_auth(four_parts), ErrorCode::kInvalidArgument);
  std::string other_day = auth;
  other_day.replace(other_day.find("/20261127/"), 10, "/20261128/");
  EXPECT_EQ(with_auth(other_day), ErrorCode::kInvalidArgument);
  std::string short_sig = auth;
  short_sig.pop_back();
  EXPECT_EQ(with_auth(short_sig), ErrorCode::kInvalidArgument);
  std::string no_host = auth;
  no_host.replace(no_host.find("host;"), 5, "");
  EXPECT_EQ(with_auth(no_host), ErrorCode::kInvalidArgument);
  // Components without the space after the comma (rclone) parse as well.
  std::string compact = auth;
  for (size_t p; (p = compact.find(", ")) != std::string::npos;) compact.erase(p + 1, 1);
  EXPECT_EQ(with_auth(compact), ErrorCode::kOk);

  Owned dup = base;
  dup.headers.emplace_back("authorization", auth);
  EXPECT_EQ(ParseCode(dup), ErrorCode::kInvalidArgument);

  Owned no_date = base;
  std::erase_if(no_date.headers, [](const auto& kv) { return kv.first == "X-Amz-Date"; });
  EXPECT_EQ(ParseCode(no_date), ErrorCode::kInvalidArgument);
  Owned bad_date = base;
  SetHeader(&bad_date.headers, "x-amz-date", "20261127T253439Z");
  EXPECT_EQ(ParseCode(bad_date), ErrorCode::kInvalidArgument);

  Owned no_hash = base;
  std::erase_if(no_hash.headers, [](const auto& kv) { return kv.first == "X-Amz-Content-SHA256"; });
  EXPECT_EQ(ParseCode(no_hash), ErrorCode::kInvalidRequest);
  Owned bad_hash = base;
  SetHeader(&bad_hash.headers, "x-amz-content-sha256", "abc");
  EXPECT_EQ(ParseCode(bad_hash), ErrorCode::kInvalidRequest);
}

TEST(AuthParse, PayloadModes) {
  Owned o = Base();
  auto mode = [&](std::string v) {
    SetHeader(&o.headers, "x-amz-content-sha256", std::move(v));
    auto p = ParseAuth(o.View());
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return p.ok() ? p->payload_mode : PayloadMode::kSignedHex;
  };
  EXPECT_EQ(mode("UNSIGNED-PAYLOAD"), PayloadMode::kUnsigned);
  EXPECT_EQ(mode("STREAMING-UNSIGNED-PAYLOAD-TRAILER"), PayloadMode::kStreamingUnsignedTrailer);
  EXPECT_EQ(mode("STREAMING-AWS4-HMAC-SHA256-PAYLOAD"), PayloadMode::kStreamingSigned);
  EXPECT_EQ(mode("STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"),
            PayloadMode::kStreamingSignedTrailer);
  EXPECT_EQ(mode(std::string(64, 'e')), PayloadMode::kSignedHex);
}

TEST(AuthCanonical, Query) {
  EXPECT_EQ(CanonicalQuery(""), "");
  EXPECT_EQ(CanonicalQuery("uploads"), "uploads=");
  EXPECT_EQ(CanonicalQuery("uploads="), "uploads=");
  EXPECT_EQ(CanonicalQuery("uploadId=abc&partNumber=3"), "partNumber=3&uploadId=abc");
  EXPECT_EQ(CanonicalQuery("prefix=a%2fb+c&delimiter=/"), "delimiter=%2F&prefix=a%2Fb%2Bc");
  EXPECT_EQ(CanonicalQuery("x=%7e&y=%C3%BC"), "x=~&y=%C3%BC");
  EXPECT_EQ(CanonicalQuery("a=%zz&b=%4"), "a=%25zz&b=%254");
  EXPECT_EQ(CanonicalQuery("a=1=2&&b"), "a=1%3D2&b=");
  EXPECT_EQ(CanonicalQuery("b=2&a=2&a=1"), "a=1&a=2&b=2");
}

TEST(AuthCanonical, HeadersTrimmedCollapsedAndJoined) {
  const Headers headers = {{"Host", "h"},
                           {"X-Amz-Date", "20261127T013439Z"},
                           {"X-Amz-Meta-A", "  one \t two   three "},
                           {"x-amz-meta-a", "four"},
                           {"X-Amz-Content-SHA256", "UNSIGNED-PAYLOAD"}};
  const Request req{"PUT", "/b/k%20x", "", &headers};
  ParsedAuth p;
  p.signed_headers = {"host", "x-amz-date", "x-amz-meta-a"};
  p.payload_hash = "UNSIGNED-PAYLOAD";
  EXPECT_EQ(CanonicalRequest(req, p),
            "PUT\n/b/k%20x\n\nhost:h\nx-amz-date:20261127T013439Z\n"
            "x-amz-meta-a:one two three,four\n\nhost;x-amz-date;x-amz-meta-a\nUNSIGNED-PAYLOAD");
}

TEST(AuthDate, ParseAmzDate) {
  EXPECT_EQ(ParseAmzDate("20261127T013439Z").ValueOr(-1), 1795743279);
  EXPECT_EQ(ParseAmzDate("19700101T000000Z").ValueOr(-1), 0);
  EXPECT_EQ(ParseAmzDate("20240229T000000Z").ValueOr(-1), 1709164800);
  for (const char* bad :
       {"", "20261127T013439", "20261127 013439Z", "20261327T013439Z", "20261100T013439Z",
        "20230229T000000Z", "20261127T016039Z", "2026112xT013439Z", "20261127T013439ZZ"}) {
    auto r = ParseAmzDate(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
  }
}

std::string Pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(i % 251);
  return s;
}

std::string DigestOf(Digest::Kind kind, std::string_view data, size_t piece = 0) {
  Digest d(kind);
  if (piece == 0) piece = data.size() + 1;
  for (size_t i = 0; i < data.size(); i += piece) d.Update(AsBytes(data.substr(i, piece)));
  return d.Finish();
}

std::string Hex(const std::string& raw) { return ToHex(AsBytes(raw)); }

TEST(AuthDigest, TranscriptPayloadVectors) {
  const std::string small = Pattern(1024);
  for (size_t piece : {0, 1, 7, 100, 1023}) {
    EXPECT_EQ(Hex(DigestOf(Digest::Kind::kMd5, small, piece)), "9ee0a0e0c0bc0f1ff29d663d1fdf0743");
    EXPECT_EQ(Base64Encode(DigestOf(Digest::Kind::kCrc32, small, piece)), "e+Tf0A==");
    EXPECT_EQ(Hex(DigestOf(Digest::Kind::kSha256, small, piece)),
              "2bce1ba628720664be4b9fdd77aae0678e5f0f3f02fc6ff641ec879094f6a404");
  }
  EXPECT_EQ(Base64Encode(DigestOf(Digest::Kind::kSha256, small)),
            "K84bpihyBmS+S5/dd6rgZ45fDz8C/G/2QeyHkJT2pAQ=");
  EXPECT_EQ(Base64Encode(DigestOf(Digest::Kind::kMd5, small)), "nuCg4MC8Dx/ynWY9H98HQw==");
  // large.parquet (20 MiB) as recorded in curl-aws-sigv4-put-20mb.json.
  const std::string large = Pattern(20 * 1024 * 1024);
  EXPECT_EQ(Hex(DigestOf(Digest::Kind::kSha256, large, 128 * 1024)),
            "99254018a4506cae413a471f8b9d968a1ab1771565f3247b6e1c3f927e9a572f");
  EXPECT_EQ(Hex(DigestOf(Digest::Kind::kMd5, large, 1 << 20)), "e70bc48cb097f4e3363c57c40f66a732");
  EXPECT_EQ(Base64Encode(DigestOf(Digest::Kind::kCrc32, large, 65536)), "wKbRbA==");
}

TEST(AuthDigest, PublishedVectors) {
  EXPECT_EQ(Hex(DigestOf(Digest::Kind::kCrc32, "123456789")), "cbf43926");
  EXPECT_EQ(Hex(DigestOf(Digest::Kind::kCrc32, "")), "00000000");
  EXPECT_EQ(Hex(DigestOf(Digest::Kind::kSha1, "abc")), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(Hex(DigestOf(Digest::Kind::kMd5, "")), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(Hex(DigestOf(Digest::Kind::kSha256, "")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  // RFC 4231 test case 2.
  EXPECT_EQ(HmacSha256Hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(AuthBase64, RoundTripAndStrictDecoding) {
  // RFC 4648 section 10.
  const std::pair<const char*, const char*> vectors[] = {{"", ""},
                                                         {"f", "Zg=="},
                                                         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},
                                                         {"foob", "Zm9vYg=="},
                                                         {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (const auto& [raw, enc] : vectors) {
    EXPECT_EQ(Base64Encode(raw), enc);
    EXPECT_EQ(Base64Decode(enc).ValueOr("<error>"), raw);
  }
  const std::string all = Pattern(251);
  EXPECT_EQ(Base64Decode(Base64Encode(all)).ValueOr(""), all);
  for (const char* bad :
       {"Zg=", "Zg", "Z===", "Zm9v\n", "Zh==", "Zm9=", "=Zm9", "Zm=v", "Zm 9v", "Zm9v-A=="}) {
    auto r = Base64Decode(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
    }
  }
}

std::vector<Owned> PresignedOf(const std::string& scheme) {
  std::vector<Owned> out;
  for (const Recorded& rec : Requests()) {
    if (SchemeOf(rec.request) == scheme) out.push_back(OwnedOf(rec.request));
  }
  return out;
}

Status VerifyAt(const Owned& o, int64_t now, const Secret& secret = kSecret) {
  auto parsed = ParseAuth(o.View());
  if (!parsed.ok()) return parsed.status();
  return Verify(o.View(), *parsed, secret, now, kSkew);
}

void ReplaceInQuery(Owned* o, const std::string& from, const std::string& to) {
  const size_t at = o->query.find(from);
  ASSERT_NE(at, std::string::npos) << from;
  o->query.replace(at, from.size(), to);
}

TEST(AuthPresigned, V4ValidityWindow) {
  const auto all = PresignedOf("sigv4-presigned");
  ASSERT_EQ(all.size(), 3u);
  for (const Owned& o : all) {
    SCOPED_TRACE(o.path);
    const int64_t date = NowOf(ParseAuth(o.View()).value());
    EXPECT_TRUE(VerifyAt(o, date).ok());
    EXPECT_TRUE(VerifyAt(o, date + 900).ok());  // X-Amz-Expires=900
    const Status expired = VerifyAt(o, date + 901);
    EXPECT_EQ(expired.code(), ErrorCode::kAccessDenied);
    EXPECT_NE(expired.message().find("Request has expired"), std::string::npos)
        << expired.message();
    EXPECT_TRUE(VerifyAt(o, date - kSkew).ok());  // a signer's clock a little ahead
    const Status early = VerifyAt(o, date - kSkew - 1);
    EXPECT_EQ(early.code(), ErrorCode::kAccessDenied);
    EXPECT_NE(early.message().find("not valid yet"), std::string::npos) << early.message();
  }
}

TEST(AuthPresigned, V4Tampered) {
  for (const Owned& original : PresignedOf("sigv4-presigned")) {
    SCOPED_TRACE(original.path);
    const int64_t now = NowOf(ParseAuth(original.View()).value());
    auto code = [&](const Owned& o) { return VerifyAt(o, now).code(); };
    {  // one hex digit of the signature
      Owned o = original;
      const size_t at = o.query.find("X-Amz-Signature=") + 16;
      o.query[at] = Flip(o.query[at]);
      EXPECT_EQ(code(o), ErrorCode::kSignatureDoesNotMatch);
    }
    {  // a longer validity than signed
      Owned o = original;
      ReplaceInQuery(&o, "X-Amz-Expires=900", "X-Amz-Expires=901");
      EXPECT_EQ(code(o), ErrorCode::kSignatureDoesNotMatch);
    }
    {  // an added parameter, the path, the signed host
      Owned o = original;
      o.query += "&x-id=PutObject";
      EXPECT_EQ(code(o), ErrorCode::kSignatureDoesNotMatch);
      o = original;
      o.path += "x";
      EXPECT_EQ(code(o), ErrorCode::kSignatureDoesNotMatch);
      o = original;
      SetHeader(&o.headers, "host", "127.0.0.1:1");
      EXPECT_EQ(code(o), ErrorCode::kSignatureDoesNotMatch);
      o = original;
      o.method = "GET";
      EXPECT_EQ(code(o), ErrorCode::kSignatureDoesNotMatch);
    }
    {  // a payload hash header changes the canonical request
      Owned o = original;
      o.headers.emplace_back("x-amz-content-sha256", std::string(64, 'a'));
      EXPECT_EQ(code(o), ErrorCode::kSignatureDoesNotMatch);
    }
    {  // another secret; the message holds neither secret nor signature
      const Status st = VerifyAt(original, now, Secret("not-the-secret"));
      EXPECT_EQ(st.code(), ErrorCode::kSignatureDoesNotMatch);
      EXPECT_EQ(st.message().find(kSecret.reveal()), std::string::npos);
      EXPECT_EQ(st.message().find(ParseAuth(original.View()).value().signature), std::string::npos);
    }
    {  // an x-amz-* header outside X-Amz-SignedHeaders is refused, named; several once each
      Owned o = original;
      o.headers.emplace_back("x-amz-meta-sluice-force", "1");
      o.headers.emplace_back("X-Amz-Meta-Other", "2");
      o.headers.emplace_back("x-amz-meta-other", "3");
      const Status st = VerifyAt(o, now);
      EXPECT_EQ(st.code(), ErrorCode::kAccessDenied);
      EXPECT_NE(st.message().find("not signed: x-amz-meta-sluice-force, x-amz-meta-other ("),
                std::string::npos)
          << st.message();
      EXPECT_NE(st.message().find("X-Amz-SignedHeaders"), std::string::npos) << st.message();
    }
    {  // x-amz-content-sha256 is exempt (a presigned URL cannot sign it): the signature decides
      Owned o = original;
      o.headers.emplace_back("x-amz-content-sha256", "UNSIGNED-PAYLOAD");
      EXPECT_TRUE(VerifyAt(o, now).ok());
    }
    {  // parameter order and unsigned headers do not matter
      Owned o = original;
      const size_t amp = o.query.find('&');
      o.query = o.query.substr(amp + 1) + "&" + o.query.substr(0, amp);
      o.headers.emplace_back("User-Agent", "other");
      EXPECT_TRUE(VerifyAt(o, now).ok());
    }
    // Malformed parameters.
    auto parse = [&](const std::string& from, const std::string& to) {
      Owned o = original;
      ReplaceInQuery(&o, from, to);
      return ParseCode(o);
    };
    EXPECT_EQ(parse("X-Amz-Expires=900", "X-Amz-Expires=604801"), ErrorCode::kInvalidArgument);
    EXPECT_EQ(parse("X-Amz-Expires=900", "X-Amz-Expires=604800"), ErrorCode::kOk);
    EXPECT_EQ(parse("X-Amz-Expires=900", "X-Amz-Expires=-1"), ErrorCode::kInvalidArgument);
    EXPECT_EQ(parse("X-Amz-Expires=900", "X-Amz-Expires="), ErrorCode::kInvalidArgument);
    EXPECT_EQ(parse("X-Amz-Expires=900", "X-Amz-Expires=99999999999999999999999"),
              ErrorCode::kInvalidArgument);
    EXPECT_EQ(parse("X-Amz-Expires=900&", ""), ErrorCode::kInvalidArgument);
    EXPECT_EQ(parse("X-Amz-Expires=900", "X-Amz-Expires=900&X-Amz-Expires=900"),
              ErrorCode::kInvalidArgument);
    EXPECT_EQ(parse("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA1"), ErrorCode::kInvalidArgument);
    EXPECT_EQ(parse("X-Amz-Date=20261127T", "X-Amz-Date=20261128T"), ErrorCode::kInvalidArgument);
    EXPECT_EQ(parse("X-Amz-SignedHeaders=host", "X-Amz-SignedHeaders=content-length"),
              ErrorCode::kInvalidArgument);
    EXPECT_EQ(parse("%2Fs3%2F", "%2Fec2%2F"), ErrorCode::kInvalidArgument);
    {
      Owned o = original;
      o.headers.emplace_back("Authorization", "AWS4-HMAC-SHA256 Credential=x");
      EXPECT_EQ(ParseCode(o), ErrorCode::kInvalidArgument);  // two auth mechanisms
    }
  }
}

TEST(AuthPresigned, V2ExpiryAndTampering) {
  const auto all = PresignedOf("sigv2-presigned");
  ASSERT_EQ(all.size(), 3u);
  for (const Owned& original : all) {
    SCOPED_TRACE(original.path);
    const ParsedAuth parsed = ParseAuth(original.View()).value();
    const int64_t expires = parsed.expires_at;
    EXPECT_TRUE(VerifyAt(original, expires).ok());
    EXPECT_TRUE(VerifyAt(original, expires - 7 * 86400).ok());  // SigV2 has no not-before
    const Status expired = VerifyAt(original, expires + 1);
    EXPECT_EQ(expired.code(), ErrorCode::kAccessDenied);
    EXPECT_NE(expired.message().find("Request has expired"), std::string::npos);
    // The same longest lifetime as SigV4: an Expires more than a week ahead is refused.
    const Status too_long = VerifyAt(original, expires - 7 * 86400 - 1);
    EXPECT_EQ(too_long.code(), ErrorCode::kAccessDenied);
    EXPECT_NE(too_long.message().find("at most 604800 s (7 days)"), std::string::npos)
        << too_long.message();

    auto code = [&](const Owned& o) { return VerifyAt(o, expires - 60).code(); };
    {
      Owned o = original;
      const size_t at = o.query.find("Signature=") + 10;
      o.query[at] = o.query[at] == 'A' ? 'B' : 'A';
      EXPECT_EQ(code(o), ErrorCode::kSignatureDoesNotMatch);
      o = original;
      ReplaceInQuery(&o, "Expires=" + std::to_string(expires),
                     "Expires=" + std::to_string(expires + 1));
      EXPECT_EQ(code(o), ErrorCode::kSignatureDoesNotMatch);
      o = original;
      o.path += "x";
      EXPECT_EQ(code(o), ErrorCode::kSignatureDoesNotMatch);
      o = original;
      o.method = "GET";
      EXPECT_EQ(code(o), ErrorCode::kSignatureDoesNotMatch);
      o = original;
      o.headers.emplace_back("Content-Type", "text/plain");  // signed in SigV2
      EXPECT_EQ(code(o), ErrorCode::kSignatureDoesNotMatch);
      o = original;
      o.headers.emplace_back("Content-MD5", "nuCg4MC8Dx/ynWY9H98HQw==");
      EXPECT_EQ(code(o), ErrorCode::kSignatureDoesNotMatch);
      o = original;
      o.headers.emplace_back("x-amz-meta-a", "1");  // every x-amz-* header is signed
      EXPECT_EQ(code(o), ErrorCode::kSignatureDoesNotMatch);
      o = original;
      o.query += "&uploadId=abc";  // a sub-resource is signed
      EXPECT_EQ(code(o), ErrorCode::kSignatureDoesNotMatch);
      o = original;
      o.query += "&foo=bar";  // other parameters are not
      o.headers.emplace_back("User-Agent", "other");
      EXPECT_EQ(code(o), ErrorCode::kOk);
    }
    const Status wrong = VerifyAt(original, expires, Secret("not-the-secret"));
    EXPECT_EQ(wrong.code(), ErrorCode::kSignatureDoesNotMatch);
    EXPECT_EQ(wrong.message().find(kSecret.reveal()), std::string::npos);
    Owned bad = original;
    ReplaceInQuery(&bad, "Expires=", "Expires=x");
    EXPECT_EQ(ParseCode(bad), ErrorCode::kInvalidArgument);
  }
}

TEST(AuthPresigned, V2StringToSignWithHeadersAndSubResources) {
  const Headers headers = {{"Host", "h"},
                           {"Content-Type", " text/csv "},
                           {"Content-MD5", "nuCg4MC8Dx/ynWY9H98HQw=="},
                           {"X-Amz-Meta-B", "two"},
                           {"x-amz-acl", "private"},
                           {"X-Amz-Meta-B", " three  words "}};
  const Request req{"PUT", "/b/k%20x",
                    "uploadId=u%2B1&partNumber=2&AWSAccessKeyId=AK&Expires=100&Signature=s&x=y",
                    &headers};
  const ParsedAuth p = ParseAuth(req).value();
  EXPECT_EQ(p.scheme, AuthScheme::kPresignedV2);
  EXPECT_EQ(StringToSignV2(req, p),
            "PUT\nnuCg4MC8Dx/ynWY9H98HQw==\ntext/csv\n100\n"
            "x-amz-acl:private\nx-amz-meta-b:two,three words\n"
            "/b/k%20x?partNumber=2&uploadId=u+1");
}

// ---------------------------------------------------------------- SigV2 header auth

// A SigV2 header-signed request; `bucket` is the virtual-hosted bucket (empty: path-style).
struct V2Request {
  std::string method, path, query;
  Headers headers;
  std::string bucket;
  Request View() const { return Request{method, path, query, &headers, bucket}; }
};

constexpr std::string_view kV2Key = "AKIDSLUICETEST000001";
// 2026-11-27T01:34:39Z, the request time of the vectors below.
constexpr int64_t kV2Time = 1795743279;

// Signed with Python's hmac/hashlib (base64(HMAC-SHA1(kSecret, string to sign))) from the
// string to sign written out by hand from the S3 SigV2 rules.
V2Request KnownGoodV2() {
  V2Request r{"PUT", "/conn-demo/orders/a.parquet", "", {}, ""};
  r.headers = {{"Host", "127.0.0.1:8787"},
               {"Date", "Fri, 27 Nov 2026 01:34:39 GMT"},
               {"Content-Type", "application/octet-stream"},
               {"Content-MD5", "1B2M2Y8AsgTpgAmY7PhCfg=="},
               {"X-Amz-Meta-Owner", " ops "},
               {"User-Agent", "s3cmd/2.3.0"},
               {"Authorization", "AWS AKIDSLUICETEST000001:x3UAk8u7Vwx8ymfVkwV/2V4DLsc="}};
  return r;
}

Status VerifyV2(const V2Request& r, int64_t now = kV2Time, const Secret& secret = kSecret) {
  auto parsed = ParseAuth(r.View());
  if (!parsed.ok()) return parsed.status();
  return Verify(r.View(), *parsed, secret, now, kSkew);
}

ErrorCode ParseCodeOf(const V2Request& r) {
  auto p = ParseAuth(r.View());
  return p.ok() ? ErrorCode::kOk : p.status().code();
}

using testing::RemoveHeader;

TEST(AuthV2Header, PublishedExampleVirtualHosted) {
  // AWS's SigV2 example ("Signing and authenticating REST requests", Object GET): the bucket
  // comes from the Host header and leads the CanonicalizedResource.
  V2Request r{"GET", "/photos/puppy.jpg", "", {}, "awsexamplebucket1"};
  r.headers = {{"Host", "awsexamplebucket1.us-west-1.s3.amazonaws.com"},
               {"Date", "Tue, 27 Mar 2007 19:36:42 +0000"},
               {"Authorization", "AWS AKIAIOSFODNN7EXAMPLE:qgk2+6Sv9/oM7G3qLEjTH1a1l1g="}};
  const Secret secret("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
  const ParsedAuth p = ParseAuth(r.View()).value();
  EXPECT_EQ(p.scheme, AuthScheme::kHeaderV2);
  EXPECT_EQ(p.access_key.str(), "AKIAIOSFODNN7EXAMPLE");
  EXPECT_EQ(p.amz_date, "20070327T193642Z");
  EXPECT_EQ(StringToSignV2(r.View(), p),
            "GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/awsexamplebucket1/photos/puppy.jpg");
  const int64_t at = ParseAmzDate("20070327T193642Z").value();
  EXPECT_TRUE(VerifyV2(r, at, secret).ok());
  // The same request read as path-style signs another resource.
  r.bucket.clear();
  EXPECT_EQ(VerifyV2(r, at, secret).code(), ErrorCode::kSignatureDoesNotMatch);
}

TEST(AuthV2Header, KnownGoodVectorAndTampering) {
  const V2Request good = KnownGoodV2();
  const ParsedAuth p = ParseAuth(good.View()).value();
  EXPECT_EQ(p.scheme, AuthScheme::kHeaderV2);
  EXPECT_EQ(p.access_key.str(), kV2Key);
  EXPECT_EQ(p.signature, "x3UAk8u7Vwx8ymfVkwV/2V4DLsc=");
  EXPECT_EQ(p.amz_date, "20261127T013439Z");
  EXPECT_EQ(p.payload_mode, PayloadMode::kUnsigned);  // SigV2 signs no body
  EXPECT_EQ(p.payload_hash, "UNSIGNED-PAYLOAD");
  EXPECT_EQ(StringToSignV2(good.View(), p),
            "PUT\n1B2M2Y8AsgTpgAmY7PhCfg==\napplication/octet-stream\n"
            "Fri, 27 Nov 2026 01:34:39 GMT\nx-amz-meta-owner:ops\n/conn-demo/orders/a.parquet");
  EXPECT_TRUE(VerifyV2(good).ok());

  const auto changed = [&](const std::function<void(V2Request&)>& edit) {
    V2Request r = good;
    edit(r);
    return VerifyV2(r).code();
  };
  constexpr ErrorCode kMismatch = ErrorCode::kSignatureDoesNotMatch;
  EXPECT_EQ(changed([](V2Request& r) { r.method = "POST"; }), kMismatch);
  EXPECT_EQ(changed([](V2Request& r) { r.path = "/conn-demo/orders/b.parquet"; }), kMismatch);
  EXPECT_EQ(changed([](V2Request& r) { r.bucket = "conn-demo"; }), kMismatch);
  EXPECT_EQ(changed([](V2Request& r) { SetHeader(&r.headers, "content-type", "text/csv"); }),
            kMismatch);
  EXPECT_EQ(changed([](V2Request& r) {
              SetHeader(&r.headers, "content-md5", "nuCg4MC8Dx/ynWY9H98HQw==");
            }),
            kMismatch);
  EXPECT_EQ(changed([](V2Request& r) { SetHeader(&r.headers, "x-amz-meta-owner", "dev"); }),
            kMismatch);
  // Every x-amz-* header is signed, so one added by a relay breaks the signature.
  EXPECT_EQ(changed([](V2Request& r) { r.headers.emplace_back("x-amz-meta-sluice-force", "1"); }),
            kMismatch);
  EXPECT_EQ(changed([](V2Request& r) {
              SetHeader(&r.headers, "date", "Fri, 27 Nov 2026 01:34:40 GMT");  // still in skew
            }),
            kMismatch);
  EXPECT_EQ(changed([](V2Request& r) { r.query = "uploads"; }), kMismatch);  // a sub-resource
  // The first and the last byte of the signature: refused alike (ConstantTimeEquals compares
  // every byte whatever differs).
  for (size_t at : {size_t{0}, size_t{26}}) {
    V2Request r = good;
    std::string auth = HeaderValue(r.headers, "authorization");
    const size_t pos = auth.find(':') + 1 + at;
    auth[pos] = auth[pos] == 'A' ? 'B' : 'A';
    SetHeader(&r.headers, "authorization", auth);
    const Status st = VerifyV2(r);
    EXPECT_EQ(st.code(), kMismatch) << at;
    EXPECT_EQ(st.message(), VerifyV2(r, kV2Time, Secret("other")).message());
  }
  // Neither unsigned headers nor query parameters that are not sub-resources are signed.
  EXPECT_EQ(changed([](V2Request& r) { SetHeader(&r.headers, "user-agent", "curl/8"); }),
            ErrorCode::kOk);
  EXPECT_EQ(changed([](V2Request& r) { r.query = "x-id=PutObject"; }), ErrorCode::kOk);

  // Another secret: refused, and the message holds neither secret nor the expected signature.
  const Status wrong = VerifyV2(good, kV2Time, Secret("not-the-secret"));
  EXPECT_EQ(wrong.code(), kMismatch);
  EXPECT_NE(wrong.message().find("SigV2"), std::string::npos) << wrong.message();
  EXPECT_EQ(wrong.message().find(kSecret.reveal()), std::string::npos);
  EXPECT_EQ(wrong.message().find("not-the-secret"), std::string::npos);
  const std::string expected =
      Base64Encode(internal::HmacSha1("not-the-secret", StringToSignV2(good.View(), p)));
  EXPECT_EQ(wrong.message().find(expected), std::string::npos);
  EXPECT_EQ(wrong.message().find(p.signature), std::string::npos);
}

TEST(AuthV2Header, ClockSkewLikeSigV4) {
  const V2Request good = KnownGoodV2();
  EXPECT_TRUE(VerifyV2(good, kV2Time + kSkew).ok());
  EXPECT_TRUE(VerifyV2(good, kV2Time - kSkew).ok());
  const Status late = VerifyV2(good, kV2Time + kSkew + 1);
  EXPECT_EQ(late.code(), ErrorCode::kRequestTimeTooSkewed);
  EXPECT_NE(late.message().find("901 s"), std::string::npos) << late.message();
  EXPECT_EQ(VerifyV2(good, kV2Time - kSkew - 1).code(), ErrorCode::kRequestTimeTooSkewed);
}

TEST(AuthV2Header, MissingOrInvalidDateIsS3sAccessDenied) {
  V2Request r = KnownGoodV2();
  RemoveHeader(&r.headers, "date");
  auto parsed = ParseAuth(r.View());
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), ErrorCode::kAccessDenied);
  EXPECT_EQ(parsed.status().message(),
            "AWS authentication requires a valid Date or x-amz-date header");
  for (const char* bad :
       {"yesterday", "Fri, 31 Nov 2026 01:34:39 GMT", "Fri, 27 Nov 2026 25:00:00 GMT",
        "Fri, 27 Nov 2026 01:34:39 +2400", "Fri, 27 Nov 2026 01:34:39 EST", "20261127T013439"}) {
    SetHeader(&r.headers, "date", bad);
    parsed = ParseAuth(r.View());
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.status().code(), ErrorCode::kAccessDenied) << bad;
    EXPECT_TRUE(parsed.status().message().starts_with(
        "AWS authentication requires a valid Date or x-amz-date header"));
  }
  // An invalid x-amz-date is not made good by a valid Date: x-amz-date decides.
  r = KnownGoodV2();
  r.headers.emplace_back("x-amz-date", "not a date");
  EXPECT_EQ(ParseCodeOf(r), ErrorCode::kAccessDenied);
}

TEST(AuthV2Header, XAmzDateTakesPrecedenceOverDate) {
  // s3cmd's form: x-amz-date in RFC 1123 with a numeric zone, and no Date line in the string.
  V2Request r{"PUT", "/conn-demo/orders/a.parquet", "", {}, ""};
  r.headers = {{"Host", "127.0.0.1:8787"},
               {"Date", "Thu, 01 Jan 2015 00:00:00 GMT"},
               {"x-amz-date", "Fri, 27 Nov 2026 01:34:39 +0000"},
               {"Authorization", "AWS AKIDSLUICETEST000001:seSALZIZXgm+jlGhvnucPeK2G1E="}};
  const ParsedAuth p = ParseAuth(r.View()).value();
  EXPECT_EQ(p.amz_date, "20261127T013439Z");  // the time is x-amz-date's, not Date's
  EXPECT_EQ(StringToSignV2(r.View(), p),
            "PUT\n\n\n\nx-amz-date:Fri, 27 Nov 2026 01:34:39 +0000\n/conn-demo/orders/a.parquet");
  EXPECT_TRUE(VerifyV2(r).ok());
  // Date is then unsigned and not the request time; x-amz-date is both.
  SetHeader(&r.headers, "date", "Sat, 28 Nov 2026 09:00:00 GMT");
  EXPECT_TRUE(VerifyV2(r).ok());
  SetHeader(&r.headers, "x-amz-date", "Fri, 27 Nov 2026 01:34:40 +0000");
  EXPECT_EQ(VerifyV2(r).code(), ErrorCode::kSignatureDoesNotMatch);
  SetHeader(&r.headers, "x-amz-date", "Fri, 27 Nov 2026 01:34:39 +0000");
  EXPECT_EQ(VerifyV2(r, ParseAmzDate("20150101T000000Z").value()).code(),
            ErrorCode::kRequestTimeTooSkewed);
}

TEST(AuthV2Header, SubResourcesAreSignedOtherParametersAreNot) {
  struct Case {
    const char* method;
    const char* path;
    const char* query;
    const char* signature;  // Python hmac over `resource` with Date below
    const char* resource;
  };
  const Case cases[] = {
      {"PUT", "/conn-demo/orders/big.parquet", "uploadId=abc%2Bdef&partNumber=2",
       "67AOJWFg09tLkIvfCCXJ0FLoi58=",
       "/conn-demo/orders/big.parquet?partNumber=2&uploadId=abc+def"},
      {"GET", "/conn-demo/", "acl", "bhDwCTd5YSNZ2JKVUCQhugDe5HI=", "/conn-demo/?acl"},
      {"GET", "/conn-demo/", "list-type=2&prefix=orders%2F",
       "ow5jxbQ5UMONpzCBQvlaLqZJhiA=", "/conn-demo/"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.query);
    V2Request r{c.method, c.path, c.query, {}, ""};
    r.headers = {{"Host", "127.0.0.1:8787"},
                 {"Date", "Fri, 27 Nov 2026 01:34:39 GMT"},
                 {"Authorization", std::string("AWS AKIDSLUICETEST000001:") + c.signature}};
    const ParsedAuth p = ParseAuth(r.View()).value();
    EXPECT_EQ(StringToSignV2(r.View(), p),
              std::string(c.method) + "\n\n\nFri, 27 Nov 2026 01:34:39 GMT\n" + c.resource);
    EXPECT_TRUE(VerifyV2(r).ok());
  }
  // Every name of S3's SigV2 sub-resource list is signed; a bare one has no '='.
  V2Request r{"GET", "/b/k", "", {{"Date", "Fri, 27 Nov 2026 01:34:39 GMT"}}, ""};
  ParsedAuth p;
  p.scheme = AuthScheme::kHeaderV2;
  for (const char* name : {"acl",
                           "cors",
                           "delete",
                           "lifecycle",
                           "location",
                           "logging",
                           "notification",
                           "partNumber",
                           "policy",
                           "requestPayment",
                           "restore",
                           "tagging",
                           "torrent",
                           "uploadId",
                           "uploads",
                           "versionId",
                           "versioning",
                           "versions",
                           "website",
                           "response-content-type",
                           "response-content-disposition",
                           "response-cache-control",
                           "response-expires"}) {
    r.query = std::string(name) + "&max-keys=3";
    EXPECT_TRUE(StringToSignV2(r.View(), p).ends_with("\n/b/k?" + std::string(name))) << name;
  }
}

TEST(AuthV2Header, MalformedHeadersAndPayloadModes) {
  const V2Request good = KnownGoodV2();
  for (const char* bad : {"AWS AKIDSLUICETEST000001", "AWS :x3UAk8u7Vwx8ymfVkwV/2V4DLsc=",
                          "AWS AKIDSLUICETEST000001:c2lnbmF0dXJl",
                          "AWS AKIDSLUICETEST000001:x3UAk8u7Vwx8ymfVkwV/2V4DLs!=",
                          "AWS AKIDSLUICETEST000001:x3UAk8u7Vwx8ymfVkwV/2V4DLsc=x"}) {
    V2Request r = good;
    SetHeader(&r.headers, "authorization", bad);
    EXPECT_EQ(ParseCodeOf(r), ErrorCode::kInvalidArgument) << bad;
  }
  V2Request r = good;
  SetHeader(&r.headers, "authorization",
            "AWS " + std::string(129, 'K') + ":x3UAk8u7Vwx8ymfVkwV/2V4DLsc=");
  EXPECT_EQ(ParseCodeOf(r), ErrorCode::kInvalidArgument);
  // Two Date headers, or two x-amz-date: which one was signed is not clear.
  r = good;
  r.headers.emplace_back("Date", "Fri, 27 Nov 2026 01:34:39 GMT");
  EXPECT_EQ(ParseCodeOf(r), ErrorCode::kInvalidArgument);

  // x-amz-content-sha256 is optional; when sent it is the payload mode (and signed, being an
  // x-amz-* header). The signed aws-chunked modes need SigV4's chaining.
  const auto mode = [&](const char* value) -> Result<ParsedAuth> {
    V2Request m = good;
    m.headers.emplace_back("x-amz-content-sha256", value);
    return ParseAuth(m.View());
  };
  EXPECT_EQ(mode(std::string(64, 'a').c_str())->payload_mode, PayloadMode::kSignedHex);
  EXPECT_EQ(mode("UNSIGNED-PAYLOAD")->payload_mode, PayloadMode::kUnsigned);
  EXPECT_EQ(mode("STREAMING-UNSIGNED-PAYLOAD-TRAILER")->payload_mode,
            PayloadMode::kStreamingUnsignedTrailer);
  EXPECT_EQ(mode("STREAMING-AWS4-HMAC-SHA256-PAYLOAD").status().code(), ErrorCode::kInvalidRequest);
  EXPECT_EQ(mode("abc").status().code(), ErrorCode::kInvalidRequest);
  V2Request hashed{"PUT", "/conn-demo/orders/v.parquet", "", {}, ""};
  hashed.headers = {{"x-amz-date", "Fri, 27 Nov 2026 01:34:39 +0000"},
                    {"Content-Type", "text/csv"},
                    {"X-Amz-Content-SHA256", "UNSIGNED-PAYLOAD"},
                    {"Authorization", "AWS AKIDSLUICETEST000001:2zuJwRuXdzOI6yNb3rGJxOG3i1c="}};
  EXPECT_TRUE(VerifyV2(hashed).ok());
  SetHeader(&hashed.headers, "x-amz-content-sha256", std::string(64, 'e'));
  EXPECT_EQ(VerifyV2(hashed).code(), ErrorCode::kSignatureDoesNotMatch);
}

TEST(AuthV2Header, RequestDateForms) {
  const int64_t t = kV2Time;  // Fri, 27 Nov 2026 01:34:39 GMT
  for (const char* form :
       {"Fri, 27 Nov 2026 01:34:39 GMT", "Fri, 27 Nov 2026 01:34:39 +0000",
        "Fri, 27 Nov 2026 01:34:39 UTC", "Friday, 27-Nov-26 01:34:39 GMT",
        "Fri Nov 27 01:34:39 2026", "20261127T013439Z", "  Fri, 27 Nov 2026 01:34:39 GMT "}) {
    EXPECT_EQ(internal::ParseRequestDate(form).ValueOr(-1), t) << form;
  }
  EXPECT_EQ(internal::ParseRequestDate("Fri, 27 Nov 2026 03:04:39 +0130").ValueOr(-1), t);
  EXPECT_EQ(internal::ParseRequestDate("Thu, 26 Nov 2026 20:34:39 -0500").ValueOr(-1), t);
  EXPECT_EQ(internal::ParseRequestDate("Sun Nov  6 08:49:37 1994").ValueOr(-1), 784111777);
  for (const char* bad : {"", "Fri, 27 Nov 2026", "Fri, 27 Nov 2026 01:34:39 +00:00",
                          "Fri, 27 Nov 2026 01:34:39 +0060", "Fri, 29 Feb 2026 01:34:39 GMT",
                          "Thu, 01 Jan 1970 00:00:00 +0100"}) {
    EXPECT_FALSE(internal::ParseRequestDate(bad).ok()) << bad;
  }
  // Past the length bound even when the rest would parse.
  EXPECT_FALSE(
      internal::ParseRequestDate("Fri, 27 Nov 2026" + std::string(50, ' ') + "01:34:39 GMT").ok());
}

// A virtual-hosted request's bucket leads the presigned SigV2 resource too: the recorded
// path-style URLs verify when the same request names its bucket in the Host instead.
TEST(AuthV2Presigned, VirtualHostedBucketInTheResource) {
  const auto all = PresignedOf("sigv2-presigned");
  ASSERT_FALSE(all.empty());
  for (const Owned& o : all) {
    const size_t slash = o.path.find('/', 1);
    ASSERT_NE(slash, std::string::npos);
    const std::string bucket = o.path.substr(1, slash - 1);
    V2Request r{o.method, o.path.substr(slash), o.query, o.headers, bucket};
    const ParsedAuth p = ParseAuth(r.View()).value();
    EXPECT_EQ(StringToSignV2(r.View(), p), StringToSignV2(o.View(), p));
    EXPECT_TRUE(Verify(r.View(), p, kSecret, p.expires_at, kSkew).ok());
    r.bucket.clear();
    EXPECT_EQ(Verify(r.View(), p, kSecret, p.expires_at, kSkew).code(),
              ErrorCode::kSignatureDoesNotMatch);
  }
}

std::string Crc(Digest::Kind kind, std::string_view data) { return Hex(DigestOf(kind, data)); }

TEST(AuthDigest, Crc32cAndCrc64NvmeCheckValues) {
  // The CRC catalogue's check values ("123456789") and the empty input.
  EXPECT_EQ(Crc(Digest::Kind::kCrc32c, "123456789"), "e3069283");
  EXPECT_EQ(Crc(Digest::Kind::kCrc64Nvme, "123456789"), "ae8b14860a799888");
  EXPECT_EQ(Crc(Digest::Kind::kCrc32c, ""), "00000000");
  EXPECT_EQ(Crc(Digest::Kind::kCrc64Nvme, ""), "0000000000000000");
  // RFC 3720 B.4 (iSCSI): 32 bytes of zeros, of ones, and 0..31.
  std::string inc(32, '\0');
  for (int i = 0; i < 32; ++i) inc[i] = static_cast<char>(i);
  EXPECT_EQ(Crc(Digest::Kind::kCrc32c, std::string(32, '\0')), "8a9136aa");
  EXPECT_EQ(Crc(Digest::Kind::kCrc32c, std::string(32, '\xff')), "62a8ab43");
  EXPECT_EQ(Crc(Digest::Kind::kCrc32c, inc), "46dd794e");
  // small.parquet of the transcripts, as the reference verifier (s3sig.py) prints them, and
  // AWS's trailer example (66560 x 'a' -> x-amz-checksum-crc32c: sOO8/Q==).
  const std::string small = Pattern(1024);
  EXPECT_EQ(Base64Encode(DigestOf(Digest::Kind::kCrc32c, small)), "KvYsDA==");
  EXPECT_EQ(Base64Encode(DigestOf(Digest::Kind::kCrc64Nvme, small)), "/uldx62sBj8=");
  EXPECT_EQ(Base64Encode(DigestOf(Digest::Kind::kCrc32c, std::string(66560, 'a'))), "sOO8/Q==");
  EXPECT_EQ(DigestOf(Digest::Kind::kCrc64Nvme, small).size(), 8u);
}

TEST(AuthDigest, CrcPiecesAndImplementationsAgree) {
  const std::string data = Pattern(4099);
  for (Digest::Kind kind : {Digest::Kind::kCrc32c, Digest::Kind::kCrc64Nvme}) {
    const std::string whole = DigestOf(kind, data);
    for (size_t piece : {1, 3, 7, 8, 9, 63, 1000}) {
      EXPECT_EQ(DigestOf(kind, data, piece), whole) << piece;
    }
  }
  // The SSE4.2 path (when the CPU has it) and the table agree at every length and alignment.
  for (size_t offset = 0; offset < 8; ++offset) {
    for (size_t len = 0; len < 70; ++len) {
      const ByteView v = AsBytes(std::string_view(data).substr(offset, len));
      EXPECT_EQ(internal::Crc32cUpdate(0, v), internal::Crc32cUpdatePortable(0, v));
      EXPECT_EQ(internal::Crc32cUpdate(0x12345678, v),
                internal::Crc32cUpdatePortable(0x12345678, v));
    }
  }
}

// The CRC of `data` as an integer: the big-endian digest bytes read back.
uint64_t CrcValue(Digest::Kind kind, std::string_view data) {
  uint64_t v = 0;
  for (const char c : DigestOf(kind, data)) v = (v << 8) | static_cast<uint8_t>(c);
  return v;
}

uint64_t Combined(Digest::Kind kind, uint64_t a, uint64_t b, uint64_t length_b) {
  switch (kind) {
    case Digest::Kind::kCrc32:
      return Crc32Combine(static_cast<uint32_t>(a), static_cast<uint32_t>(b), length_b);
    case Digest::Kind::kCrc32c:
      return Crc32cCombine(static_cast<uint32_t>(a), static_cast<uint32_t>(b), length_b);
    default:
      return Crc64NvmeCombine(a, b, length_b);
  }
}

TEST(AuthDigest, CrcCombineEqualsTheCrcOfTheConcatenation) {
  // Random bytes (a fixed seed), split at every length up to 70 (0, unaligned and word sizes
  // included) and at larger points around powers of two, for the three CRCs.
  std::mt19937_64 rng(14);
  std::string data(70000, '\0');
  for (char& c : data) c = static_cast<char>(rng());
  std::vector<size_t> cuts;
  for (size_t n = 0; n <= 70; ++n) cuts.push_back(n);
  for (size_t n : {127, 128, 129, 4095, 4096, 4097, 65535, 65536, 69999, 70000}) cuts.push_back(n);
  for (Digest::Kind kind :
       {Digest::Kind::kCrc32, Digest::Kind::kCrc32c, Digest::Kind::kCrc64Nvme}) {
    for (size_t total :
         {size_t{0}, size_t{1}, size_t{9}, size_t{70}, size_t{4097}, size_t{70000}}) {
      const std::string_view whole = std::string_view(data).substr(0, total);
      const uint64_t direct = CrcValue(kind, whole);
      for (size_t cut : cuts) {
        if (cut > total) continue;
        const uint64_t a = CrcValue(kind, whole.substr(0, cut));
        const uint64_t b = CrcValue(kind, whole.substr(cut));
        EXPECT_EQ(Combined(kind, a, b, total - cut), direct)
            << static_cast<int>(kind) << " total " << total << " cut " << cut;
      }
    }
    // A B of length 0 (crc 0) leaves A; an empty A gives B.
    const uint64_t a = CrcValue(kind, "123456789");
    EXPECT_EQ(Combined(kind, a, 0, 0), a);
    EXPECT_EQ(Combined(kind, 0, a, 9), a);
    // Many parts of random sizes folded left, as Complete folds a FULL_OBJECT upload's parts.
    uint64_t folded = 0;
    size_t at = 0;
    while (at < data.size()) {
      const size_t n = std::min<size_t>(rng() % 3000, data.size() - at);
      folded = Combined(kind, folded, CrcValue(kind, std::string_view(data).substr(at, n)), n);
      at += n;
    }
    EXPECT_EQ(folded, CrcValue(kind, data)) << static_cast<int>(kind);
  }
}

TEST(AuthDigest, CrcCombineOverLongRuns) {
  // A long B is where the x^(8n) powers matter: 5 MiB (S3's smallest part) and 64 MiB + 1 of
  // zeros after "head", against the CRC fed in pieces.
  const std::string zeros(1 << 20, '\0');
  for (Digest::Kind kind :
       {Digest::Kind::kCrc32, Digest::Kind::kCrc32c, Digest::Kind::kCrc64Nvme}) {
    for (uint64_t length : {uint64_t{5} << 20, (uint64_t{64} << 20) + 1}) {
      Digest whole(kind);
      Digest tail(kind);
      whole.Update(AsBytes(std::string_view("head")));
      for (uint64_t left = length; left > 0;) {
        const size_t n = static_cast<size_t>(std::min<uint64_t>(left, zeros.size()));
        whole.Update(AsBytes(std::string_view(zeros).substr(0, n)));
        tail.Update(AsBytes(std::string_view(zeros).substr(0, n)));
        left -= n;
      }
      uint64_t direct = 0;
      uint64_t b = 0;
      for (const char c : whole.Finish()) direct = (direct << 8) | static_cast<uint8_t>(c);
      for (const char c : tail.Finish()) b = (b << 8) | static_cast<uint8_t>(c);
      EXPECT_EQ(Combined(kind, CrcValue(kind, "head"), b, length), direct)
          << static_cast<int>(kind) << " " << length;
    }
    // Past what a test can hash (a 5 TiB object of 5 GiB parts): combining is associative,
    // (A·B)·C = A·(B·C), with lengths beyond 2^32 and up to 2^42.
    const uint64_t a = CrcValue(kind, "a");
    const uint64_t b = CrcValue(kind, "bb");
    const uint64_t c = CrcValue(kind, "ccc");
    for (uint64_t lb : {(uint64_t{1} << 32) + 7, uint64_t{5} << 30, uint64_t{3} << 40}) {
      for (uint64_t lc : {uint64_t{1}, (uint64_t{1} << 33) - 1, uint64_t{1} << 42}) {
        EXPECT_EQ(Combined(kind, Combined(kind, a, b, lb), c, lc),
                  Combined(kind, a, Combined(kind, b, c, lc), lb + lc))
            << static_cast<int>(kind) << " " << lb << " " << lc;
      }
    }
  }
}

}  // namespace
}  // namespace sluice::auth
