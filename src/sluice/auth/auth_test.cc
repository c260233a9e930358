// SigV4 verification against the recorded client transcripts (../shared/s3-transcripts): every
// header-signed request must reproduce the recorded canonical request, string to sign and
// signing key and verify; tampered copies must not.

#include "sluice/auth/auth.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

namespace sluice::auth {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const Secret kSecret("sluice/test/secret/key/0000000000000000000");
constexpr int64_t kSkew = 15 * 60;

struct Recorded {
  std::string file;
  json request;
};

std::vector<Recorded> AllRequests() {
  std::vector<Recorded> out;
  const fs::path root = fs::path(SLUICE_SHARED_DIR) / "s3-transcripts";
  std::vector<fs::path> files;
  for (const fs::path& dir : {root, root / "faults"}) {
    if (!fs::is_directory(dir)) continue;
    for (const auto& e : fs::directory_iterator(dir)) {
      if (e.path().extension() == ".json") files.push_back(e.path());
    }
  }
  std::sort(files.begin(), files.end());
  for (const fs::path& f : files) {
    std::ifstream in(f);
    const json doc = json::parse(in);
    for (const json& r : doc.at("requests")) out.push_back({f.filename().string(), r});
  }
  return out;
}

const std::vector<Recorded>& Requests() {
  static const std::vector<Recorded> all = AllRequests();
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

bool HasHeader(const Headers& h, std::string_view name) {
  for (const auto& [n, v] : h) {
    if (n.size() == name.size() && std::equal(n.begin(), n.end(), name.begin(), [](char a, char b) {
          return std::tolower(a) == std::tolower(b);
        })) {
      return true;
    }
  }
  return false;
}

void SetHeader(Headers* h, std::string_view name, std::string value) {
  for (auto& [n, v] : *h) {
    std::string lower = n;
    for (char& c : lower) c = static_cast<char>(std::tolower(c));
    if (lower == name) {
      v = std::move(value);
      return;
    }
  }
  h->emplace_back(std::string(name), std::move(value));
}

std::string HeaderValue(const Headers& h, std::string_view name) {
  for (const auto& [n, v] : h) {
    std::string lower = n;
    for (char& c : lower) c = static_cast<char>(std::tolower(c));
    if (lower == name) return v;
  }
  return "";
}

int64_t NowOf(const ParsedAuth& p) { return ParseAmzDate(p.amz_date).value(); }

TEST(AuthTranscripts, EveryHeaderSignedRequestVerifies) {
  ASSERT_FALSE(Requests().empty()) << "no transcripts under " << SLUICE_SHARED_DIR;
  int verified = 0, without_payload_header = 0, query_or_v2 = 0, header_signed = 0;
  std::map<PayloadMode, int> modes;
  for (const Recorded& rec : Requests()) {
    const json& r = rec.request;
    SCOPED_TRACE(rec.file + " seq " + std::to_string(r.value("seq", -1)));
    if (!IsHeaderSigned(r)) {
      // Presigned SigV4 and SigV2 are later cuts.
      Owned o = OwnedOf(r);
      auto parsed = ParseAuth(o.View());
      ASSERT_FALSE(parsed.ok());
      EXPECT_EQ(parsed.status().code(), ErrorCode::kNotImplemented) << parsed.status().ToString();
      ++query_or_v2;
      continue;
    }
    ++header_signed;
    const json& sig = r.at("checks").at("signature");
    ASSERT_TRUE(sig.at("valid").get<bool>());
    Owned o = OwnedOf(r);
    if (!HasHeader(o.headers, "x-amz-content-sha256")) {
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
  }
  std::cout << "transcripts: " << header_signed << " sigv4-header requests, " << verified
            << " verified (" << without_payload_header
            << " without x-amz-content-sha256, refused as InvalidRequest), hex "
            << modes[PayloadMode::kSignedHex] << ", UNSIGNED-PAYLOAD "
            << modes[PayloadMode::kUnsigned] << ", STREAMING-UNSIGNED-PAYLOAD-TRAILER "
            << modes[PayloadMode::kStreamingUnsignedTrailer] << "; " << query_or_v2
            << " presigned/SigV2 -> NotImplemented\n";
  EXPECT_EQ(verified, header_signed);
  EXPECT_GE(header_signed, 370);  // the corpus README counts 379 requests, 373 header-signed
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
  EXPECT_EQ(ParseCode(o), ErrorCode::kNotImplemented);
  o.query = "AWSAccessKeyId=AKID&Signature=abc&Expires=1";
  EXPECT_EQ(ParseCode(o), ErrorCode::kNotImplemented);

  auto with_auth = [&](std::string value) {
    Owned c = base;
    SetHeader(&c.headers, "authorization", std::move(value));
    return ParseCode(c);
  };
  EXPECT_EQ(with_auth("Bearer abc"), ErrorCode::kInvalidArgument);
  EXPECT_EQ(with_auth("AWS4-HMAC-SHA256X Credential=a"), ErrorCode::kInvalidArgument);
  EXPECT_EQ(with_auth("AWS AKIDSLUICETEST000001:c2lnbmF0dXJl"), ErrorCode::kNotImplemented);
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
  EXPECT_EQ(mode("STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"), PayloadMode::kStreamingSigned);
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

}  // namespace
}  // namespace sluice::auth
