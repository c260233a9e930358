// The S3 service driven through Start/OnBody/Finish with requests replayed from the recorded
// client transcripts (../shared/s3-transcripts), an in-memory backend and a pinned clock.

#include "sluice/s3/s3.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "sluice/auth/auth.h"
#include "sluice/auth/transcripts_testing.h"
#include "sluice/s3/s3_testing.h"

namespace sluice::s3 {
namespace {

using namespace s3test;  // NOLINT(google-build-using-namespace)

// ---------------------------------------------------------------- PutObject replays

TEST_F(S3Test, ReplaysEveryRecordedPutObject) {
  const auto recorded = auth::testing::LoadTranscriptRequests();
  std::set<std::string> files;
  for (const auto& rec : recorded) files.insert(rec.file);
  ASSERT_GT(files.size(), 100u);
  int stored = 0, streaming = 0, no_payload_hash = 0, no_bucket = 0, not_read = 0;
  int presigned = 0;
  for (const auto& rec : recorded) {
    const json& r = rec.request;
    if (r.value("operation", "") != "PutObject") continue;
    SCOPED_TRACE(rec.file + " seq " + std::to_string(r.value("seq", -1)));
    if (r.at("transfer").value("mode", "") == "not-read") {
      ++not_read;  // the capture server refused it before the body: no body to replay
      continue;
    }
    const Replay rp = FromJson(r);
    ASSERT_TRUE(rp.whole);
    const Outcome out = Run(rp, 4096);
    const std::string scheme = r.at("checks").at("signature").value("scheme", "");
    const std::string hash = HeaderOf(rp.head.headers, "x-amz-content-sha256");
    if (hash.empty() && scheme == "sigv4-header") {
      EXPECT_EQ(out.response.status, 400);
      EXPECT_EQ(ErrorCodeOf(out.response), "InvalidRequest");
      ++no_payload_hash;
      continue;
    }
    if (!rp.head.raw_path.starts_with("/" + kBucket + "/")) {
      EXPECT_EQ(out.response.status, 404);
      EXPECT_EQ(ErrorCodeOf(out.response), "NoSuchBucket");
      ++no_bucket;
      continue;
    }
    const json& payload = r.at("payload");
    ASSERT_EQ(out.response.status, 200) << out.response.body;
    EXPECT_EQ(HeaderOf(out.response.headers, "etag"),
              "\"" + payload.at("md5_hex").get<std::string>() + "\"");
    EXPECT_FALSE(HeaderOf(out.response.headers, "x-amz-meta-sluice-seq").empty());
    std::string crc = HeaderOf(rp.head.headers, "x-amz-checksum-crc32");
    if (hash.starts_with("STREAMING-")) {
      ++streaming;
      if (HasHeader(rp.head.headers, "x-amz-trailer")) crc = payload.at("crc32_b64");
    }
    if (scheme != "sigv4-header") ++presigned;
    EXPECT_EQ(HeaderOf(out.response.headers, "x-amz-checksum-crc32"), crc);
    if (!crc.empty()) {
      EXPECT_EQ(HeaderOf(out.response.headers, "x-amz-checksum-type"), "FULL_OBJECT");
    }
    // The stored object is the payload, under the once-decoded key.
    std::string raw_key = rp.head.raw_path.substr(kBucket.size() + 2);
    std::string key;
    for (size_t i = 0; i < raw_key.size(); ++i) {
      if (raw_key[i] == '%') {
        key += static_cast<char>(std::stoi(raw_key.substr(i + 1, 2), nullptr, 16));
        i += 2;
      } else {
        key += raw_key[i];
      }
    }
    const auto it = backend_.objects.find(kBucket + "/" + key);
    ASSERT_NE(it, backend_.objects.end()) << key;
    if (!hash.starts_with("STREAMING-")) {
      EXPECT_EQ(it->second.bytes, rp.body);
    }
    EXPECT_EQ(it->second.bytes.size(), payload.at("length").get<size_t>());
    EXPECT_EQ(Md5Hex(it->second.bytes), payload.at("md5_hex").get<std::string>());
    EXPECT_EQ(it->second.digests.size, it->second.bytes.size());
    EXPECT_EQ(it->second.digests.md5_hex, payload.at("md5_hex").get<std::string>());
    if (!hash.empty() && hash != "UNSIGNED-PAYLOAD" && !hash.starts_with("STREAMING-")) {
      EXPECT_EQ(it->second.digests.sha256_hex, hash);
    }
    EXPECT_EQ(it->second.request.content_type, HeaderOf(rp.head.headers, "content-type"));
    backend_.objects.erase(it);
    ++stored;
  }
  std::cout << "PutObject replays: " << stored << " stored (200 + ETag), " << streaming << " ("
            << streaming << " aws-chunked, " << presigned << " presigned), " << no_payload_hash
            << " curl without x-amz-content-sha256 "
            << "-> 400, " << no_bucket << " missing bucket -> 404, " << not_read
            << " not replayable (body never sent)\n";
  EXPECT_GE(stored, 70);
  EXPECT_GT(streaming, 5);
  EXPECT_GE(presigned, 6);
  EXPECT_GT(no_payload_hash, 0);
  EXPECT_EQ(backend_.aborted, 0);
}

TEST_F(S3Test, NamedTranscriptsStore) {
  for (const char* file :
       {"awscli-s3api-put-object.json", "boto3-put_object-bytes.json",
        "boto3-put_object-content-md5.json", "boto3-put_object-checksum-sha256.json",
        "rclone-copy-small.json", "s3cmd-put-small.json", "node-PutObjectCommand-buffer.json",
        "curl-aws-sigv4-put-unsigned-payload-header.json", "rclone-copy-dir-unicode.json",
        "node-PutObjectCommand-buffer-unicode-key.json"}) {
    SCOPED_TRACE(file);
    const Replay rp = FirstOf(file, "PutObject");
    const Outcome out = Run(rp);
    EXPECT_EQ(out.response.status, 200) << out.response.body;
    EXPECT_EQ(HeaderOf(out.response.headers, "etag"), "\"9ee0a0e0c0bc0f1ff29d663d1fdf0743\"");
    EXPECT_EQ(out.response.headers.at(0).first, "x-amz-request-id");
  }
  const Replay sha = FirstOf("boto3-put_object-checksum-sha256.json", "PutObject");
  const Outcome out = Run(sha);
  EXPECT_EQ(HeaderOf(out.response.headers, "x-amz-checksum-sha256"),
            "K84bpihyBmS+S5/dd6rgZ45fDz8C/G/2QeyHkJT2pAQ=");
  // Unicode keys are decoded once.
  const Replay uni = FirstOf("node-PutObjectCommand-buffer-unicode-key.json", "PutObject");
  EXPECT_EQ(Run(uni).response.status, 200);
  bool found = false;
  for (const auto& [name, obj] : backend_.objects) {
    if (name.find("\xC3\xBC") != std::string::npos) found = true;
  }
  EXPECT_TRUE(found) << uni.head.raw_path;
  // rclone's metadata is handed to the backend.
  const Replay rc = FirstOf("rclone-copy-small.json", "PutObject");
  ASSERT_EQ(Run(rc).response.status, 200);
  bool mtime = false;
  for (const auto& [name, obj] : backend_.objects) {
    for (const auto& [k, v] : obj.request.user_metadata) mtime |= k == "x-amz-meta-mtime";
  }
  EXPECT_TRUE(mtime);
}

// ---------------------------------------------------------------- tampered PutObject

TEST_F(S3Test, ChangedBodyByteWithSignedHashIsSha256Mismatch) {
  Replay rp = FirstOf("boto3-put_object-bytes.json", "PutObject");
  rp.body[500] ^= 1;
  const Outcome out = Run(rp);
  EXPECT_EQ(out.response.status, 400);
  EXPECT_EQ(ErrorCodeOf(out.response), "XAmzContentSHA256Mismatch");
  EXPECT_TRUE(backend_.objects.empty());
  EXPECT_EQ(backend_.aborted, 1);
}

TEST_F(S3Test, WrongContentMd5IsBadDigest) {
  Replay rp = FirstOf("boto3-put_object-content-md5.json", "PutObject");
  SetHeader(&rp.head.headers, "content-md5", "AAAAAAAAAAAAAAAAAAAAAA==");
  Resign(&rp);
  const Outcome out = Run(rp);
  EXPECT_EQ(out.response.status, 400);
  EXPECT_EQ(ErrorCodeOf(out.response), "BadDigest");
  EXPECT_TRUE(backend_.objects.empty());
  EXPECT_EQ(backend_.aborted, 1);

  SetHeader(&rp.head.headers, "content-md5", "not-an-md5");
  Resign(&rp);
  const Outcome bad = Run(rp);
  EXPECT_EQ(bad.response.status, 400);
  EXPECT_EQ(ErrorCodeOf(bad.response), "InvalidDigest");
  EXPECT_TRUE(bad.immediate);  // refused before the body
  EXPECT_TRUE(bad.response.close);
}

TEST_F(S3Test, WrongChecksumIsBadDigestAndNothingCommitted) {
  Replay rp = FirstOf("awscli-s3api-put-object.json", "PutObject");
  ASSERT_EQ(HeaderOf(rp.head.headers, "x-amz-checksum-crc32"), "e+Tf0A==");
  SetHeader(&rp.head.headers, "x-amz-checksum-crc32", "e+Tf0Q==");
  Resign(&rp);
  Outcome out = Run(rp);
  EXPECT_EQ(out.response.status, 400);
  EXPECT_EQ(ErrorCodeOf(out.response), "BadDigest");
  EXPECT_TRUE(backend_.objects.empty());
  EXPECT_EQ(backend_.aborted, 1);

  Replay sha = FirstOf("boto3-put_object-checksum-sha256.json", "PutObject");
  SetHeader(&sha.head.headers, "x-amz-checksum-sha256",
            "K84bpihyBmS+S5/dd6rgZ45fDz8C/G/2QeyHkJT2pAU=");
  Resign(&sha);
  EXPECT_EQ(ErrorCodeOf(Run(sha).response), "BadDigest");

  // An unsigned payload is still checked against its checksum.
  Replay unsigned_body = FirstOf("awscli-s3api-put-object.json", "PutObject");
  SetHeader(&unsigned_body.head.headers, "x-amz-content-sha256", "UNSIGNED-PAYLOAD");
  Resign(&unsigned_body);
  unsigned_body.body[3] ^= 0x40;
  EXPECT_EQ(ErrorCodeOf(Run(unsigned_body).response), "BadDigest");

  // Malformed or unsupported checksum headers are refused before the body.
  for (const auto& [name, value, code] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"x-amz-checksum-crc32", "e+Tf", "InvalidRequest"},
           {"x-amz-checksum-crc32", "not base64!", "InvalidRequest"},
           {"x-amz-checksum-md4", "AAAAAA==", "InvalidRequest"}}) {
    Replay m = FirstOf("awscli-s3api-put-object.json", "PutObject");
    RemoveHeader(&m.head.headers, "x-amz-checksum-crc32");
    m.head.headers.emplace_back(name, value);
    Resign(&m);
    const Outcome o = Run(m);
    EXPECT_TRUE(o.immediate) << name;
    EXPECT_EQ(ErrorCodeOf(o.response), code) << name << " " << value;
  }
  // CRC32C and CRC64NVME are verified too.
  for (const auto& [name, value] : std::vector<std::pair<std::string, std::string>>{
           {"x-amz-checksum-crc32c", "AAAAAA=="}, {"x-amz-checksum-crc64nvme", "AAAAAAAAAAA="}}) {
    Replay m = FirstOf("awscli-s3api-put-object.json", "PutObject");
    RemoveHeader(&m.head.headers, "x-amz-checksum-crc32");
    m.head.headers.emplace_back(name, value);
    Resign(&m);
    const Outcome o = Run(m);
    EXPECT_FALSE(o.immediate) << name;
    EXPECT_EQ(ErrorCodeOf(o.response), "BadDigest") << name;
  }
  EXPECT_TRUE(backend_.objects.empty());
}

TEST_F(S3Test, ShortOrStalledBodyIsNotStored) {
  const Replay rp = FirstOf("boto3-put_object-bytes.json", "PutObject");
  Outcome out = Run(rp, 100, 2, 1000);
  EXPECT_EQ(ErrorCodeOf(out.response), "IncompleteBody");
  out = Run(rp, 100, 2, 300, Status(ErrorCode::kRequestTimeout, "no body for 30 s"));
  EXPECT_EQ(out.response.status, 400);
  EXPECT_EQ(ErrorCodeOf(out.response), "RequestTimeout");
  EXPECT_TRUE(out.response.close);
  EXPECT_TRUE(backend_.objects.empty());
  EXPECT_EQ(backend_.aborted, 2);
  // Abandoned without Finish (connection lost): aborted too.
  clock_.Set((rp.amz_seconds + 1) * 1'000'000);
  auto service = MakeService(backend_, clock_);
  auto started = service->Start(rp.head);
  ASSERT_NE(started.exchange, nullptr);
  ASSERT_TRUE(started.exchange->OnBody(AsBytes(std::string_view(rp.body).substr(0, 10))).ok());
  started.exchange.reset();
  EXPECT_EQ(backend_.aborted, 3);
  EXPECT_TRUE(backend_.objects.empty());
}

TEST_F(S3Test, SizeRules) {
  Replay rp = FirstOf("boto3-put_object-bytes.json", "PutObject");
  options_.max_object_bytes = 1000;
  Outcome out = Run(rp);
  EXPECT_TRUE(out.immediate);
  EXPECT_EQ(ErrorCodeOf(out.response), "EntityTooLarge");
  options_.max_object_bytes = 1024;
  EXPECT_EQ(Run(rp).response.status, 200);

  // Neither a length nor chunked transfer coding: S3's 411.
  Replay unsized = rp;
  unsized.head.content_length.reset();
  RemoveHeader(&unsized.head.headers, "content-length");
  out = Run(unsized);
  EXPECT_EQ(out.response.status, 411);
  EXPECT_EQ(ErrorCodeOf(out.response), "MissingContentLength");
  // A chunked body without a length is held to the limit as it arrives (ChunkedWithoutLength
  // below).
  Replay chunked = unsized;
  chunked.head.chunked = true;
  options_.max_object_bytes = 1000;
  out = Run(chunked);
  EXPECT_FALSE(out.immediate);
  EXPECT_EQ(ErrorCodeOf(out.response), "EntityTooLarge");
  EXPECT_TRUE(out.response.close);
  options_.max_object_bytes = 1024;
  EXPECT_EQ(Run(chunked).response.status, 200);
}

// ---------------------------------------------------------------- chunked, no length

// A body in plain HTTP chunked transfer coding with neither Content-Length nor
// x-amz-decoded-content-length (not aws-chunked): read to its end and checked as a sized body.
Replay Unsized(Replay rp) {
  rp.head.content_length.reset();
  RemoveHeader(&rp.head.headers, "content-length");
  rp.head.chunked = true;
  return rp;
}

std::string Crc32Base64(std::string_view data) {
  auth::Digest d(auth::Digest::Kind::kCrc32);
  d.Update(AsBytes(data));
  return auth::Base64Encode(d.Finish());
}

TEST_F(S3Test, ChunkedWithoutLengthIsReadToItsEndAndVerified) {
  const std::string body = Pattern(5000);
  // Signed hex SHA-256 (Signed() signs the body's hash), Content-MD5 and a CRC32 checksum.
  Replay rp = Unsized(Signed("PUT", "/conn-demo/orders/chunked.parquet", "", body));
  rp.head.headers.emplace_back("Content-MD5", auth::Base64Encode(Md5Raw(body)));
  rp.head.headers.emplace_back("x-amz-checksum-crc32", Crc32Base64(body));
  Resign(&rp);
  Outcome out = Run(rp, 333);
  ASSERT_EQ(out.response.status, 200) << out.response.body;
  EXPECT_EQ(HeaderOf(out.response.headers, "etag"), "\"" + Md5Hex(body) + "\"");
  EXPECT_EQ(HeaderOf(out.response.headers, "x-amz-checksum-crc32"), Crc32Base64(body));
  const Stored& stored = backend_.objects.at("conn-demo/orders/chunked.parquet");
  EXPECT_EQ(stored.bytes, body);
  EXPECT_EQ(stored.request.size, 0u);  // unknown before the body
  EXPECT_EQ(stored.digests.size, body.size());
  EXPECT_EQ(stored.digests.sha256_hex, Sha256Hex(body));

  // Each check as for a sized body; nothing committed when one fails.
  backend_.objects.clear();
  Replay changed = rp;
  changed.body[4000] ^= 1;
  out = Run(changed, 333);
  EXPECT_EQ(out.response.status, 400);
  EXPECT_EQ(ErrorCodeOf(out.response), "XAmzContentSHA256Mismatch");
  Replay bad_md5 = rp;
  SetHeader(&bad_md5.head.headers, "content-md5", auth::Base64Encode(Md5Raw("other")));
  EXPECT_EQ(ErrorCodeOf(Run(bad_md5).response), "BadDigest");
  Replay bad_crc = rp;
  SetHeader(&bad_crc.head.headers, "x-amz-checksum-crc32", Crc32Base64("other"));
  Resign(&bad_crc);
  out = Run(bad_crc);
  EXPECT_EQ(ErrorCodeOf(out.response), "BadDigest");
  EXPECT_NE(out.response.body.find("x-amz-checksum-crc32"), std::string::npos);
  // A body cut short by the connection is not stored either.
  EXPECT_EQ(ErrorCodeOf(Run(rp, 333, 2, 1000, Status(ErrorCode::kIncompleteBody, "eof")).response),
            "IncompleteBody");
  EXPECT_TRUE(backend_.objects.empty());
  EXPECT_EQ(backend_.aborted, 4);

  // UNSIGNED-PAYLOAD: only what arrives is hashed, for the ETag.
  Replay unsigned_body = rp;
  RemoveHeader(&unsigned_body.head.headers, "content-md5");
  RemoveHeader(&unsigned_body.head.headers, "x-amz-checksum-crc32");
  SetHeader(&unsigned_body.head.headers, "x-amz-content-sha256", "UNSIGNED-PAYLOAD");
  Resign(&unsigned_body);
  unsigned_body.body = "";
  out = Run(unsigned_body);
  ASSERT_EQ(out.response.status, 200) << out.response.body;
  EXPECT_EQ(HeaderOf(out.response.headers, "etag"), "\"" + Md5Hex("") + "\"");
  EXPECT_EQ(backend_.objects.at("conn-demo/orders/chunked.parquet").bytes, "");
}

TEST_F(S3Test, ChunkedWithoutLengthIsRefusedOncePastTheLimit) {
  options_.max_object_bytes = 100;
  const std::string body = Pattern(130);
  Replay rp = Unsized(Signed("PUT", "/conn-demo/orders/big.parquet", "", body));
  SetHeader(&rp.head.headers, "x-amz-content-sha256", "UNSIGNED-PAYLOAD");
  Resign(&rp);
  clock_.Set((rp.amz_seconds + 1) * 1'000'000);
  auto service = MakeService(backend_, clock_, options_);
  auto started = service->Start(rp.head);
  ASSERT_NE(started.exchange, nullptr);  // the head cannot tell: the body is read
  const std::string_view all(rp.body);
  EXPECT_TRUE(started.exchange->OnBody(AsBytes(all.substr(0, 60))).ok());
  EXPECT_TRUE(started.exchange->OnBody(AsBytes(all.substr(60, 40))).ok());  // exactly 100
  const Status past = started.exchange->OnBody(AsBytes(all.substr(100, 1)));
  EXPECT_EQ(past.code(), ErrorCode::kEntityTooLarge);
  EXPECT_NE(past.message().find("100 bytes"), std::string::npos) << past.message();
  const http::Response r = started.exchange->Finish(past);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(ErrorCodeOf(r), "EntityTooLarge");
  EXPECT_TRUE(r.close);  // the rest of the body was not read
  EXPECT_EQ(backend_.aborted, 1);
  EXPECT_TRUE(backend_.objects.empty());
  // Exactly at the limit it is stored.
  rp.body.resize(100);
  ASSERT_EQ(Run(rp, 7).response.status, 200);
  EXPECT_EQ(backend_.objects.at("conn-demo/orders/big.parquet").bytes, rp.body);
}

TEST_F(S3Test, ChunkedUploadPartWithoutLength) {
  Outcome out = Run(Signed("POST", "/conn-demo/orders/mp.parquet", "uploads"));
  ASSERT_EQ(out.response.status, 200) << out.response.body;
  const std::string id = Tag(out.response.body, "UploadId");
  const std::string part = Pattern(3000, 7);
  Replay rp =
      Unsized(Signed("PUT", "/conn-demo/orders/mp.parquet", "partNumber=1&uploadId=" + id, part));
  out = Run(rp, 256);
  ASSERT_EQ(out.response.status, 200) << out.response.body;
  EXPECT_EQ(HeaderOf(out.response.headers, "etag"), "\"" + Md5Hex(part) + "\"");
  EXPECT_EQ(backend_.uploads.at(id).parts.at(1).bytes, part);
  Replay changed = rp;
  changed.body[10] ^= 1;
  EXPECT_EQ(ErrorCodeOf(Run(changed).response), "XAmzContentSHA256Mismatch");
  EXPECT_EQ(backend_.uploads.at(id).parts.at(1).bytes, part);
}

TEST_F(S3Test, BackendFailures) {
  const Replay rp = FirstOf("boto3-put_object-bytes.json", "PutObject");
  backend_.begin_error = Status(ErrorCode::kUnavailable, "table orders is behind: try later");
  Outcome out = Run(rp);
  EXPECT_EQ(out.response.status, 503);
  EXPECT_EQ(ErrorCodeOf(out.response), "SlowDown");
  backend_.begin_error = Status::Ok();
  backend_.append_error = Status(ErrorCode::kIoError, "write /var/lib/sluice/landing/x: ENOSPC");
  out = Run(rp);
  EXPECT_EQ(out.response.status, 500);
  EXPECT_EQ(ErrorCodeOf(out.response), "InternalError");
  EXPECT_EQ(out.response.body.find("/var/lib"), std::string::npos);  // detail only logged
  EXPECT_TRUE(backend_.objects.empty());
}

// ---------------------------------------------------------------- authentication

TEST_F(S3Test, AuthenticationFailures) {
  Replay rp = FirstOf("boto3-put_object-bytes.json", "PutObject");

  Replay tampered = rp;
  std::string auth = HeaderOf(tampered.head.headers, "authorization");
  auth.back() = auth.back() == '0' ? '1' : '0';
  SetHeader(&tampered.head.headers, "authorization", auth);
  Outcome out = Run(tampered);
  EXPECT_EQ(out.response.status, 403);
  EXPECT_EQ(ErrorCodeOf(out.response), "SignatureDoesNotMatch");
  EXPECT_TRUE(out.immediate);
  EXPECT_TRUE(out.response.close);  // a body would follow

  Replay unknown = rp;
  Resign(&unknown, "AKIDSLUICEUNKNOWN001");
  EXPECT_EQ(ErrorCodeOf(Run(unknown).response), "InvalidAccessKeyId");

  out = Run(rp, 777, 16 * 60);
  EXPECT_EQ(out.response.status, 403);
  EXPECT_EQ(ErrorCodeOf(out.response), "RequestTimeTooSkewed");
  EXPECT_EQ(ErrorCodeOf(Run(rp, 777, -16 * 60).response), "RequestTimeTooSkewed");
  EXPECT_EQ(Run(rp, 777, 14 * 60).response.status, 200);

  Replay anonymous = rp;
  RemoveHeader(&anonymous.head.headers, "authorization");
  out = Run(anonymous);
  EXPECT_EQ(out.response.status, 403);
  EXPECT_EQ(ErrorCodeOf(out.response), "AccessDenied");

  // Presigned URLs (X-Amz-Expires=900) are refused once expired, as S3 does.
  const Replay presigned = FirstOf("boto3-presigned-s3v4-put_object-curl.json", "PutObject");
  out = Run(presigned, 777, 901);
  EXPECT_EQ(out.response.status, 403);
  EXPECT_EQ(ErrorCodeOf(out.response), "AccessDenied");
  const Replay v2 = FirstOf("boto3-presigned-put_object-curl.json", "PutObject");
  EXPECT_EQ(ErrorCodeOf(Run(v2, 777, 3600).response), "AccessDenied");

  // A presigned-URL holder cannot add an x-amz-* header the URL did not sign (it would force a
  // duplicate load), nor can a relay add one to a header-signed request; nothing is stored.
  const size_t stored = backend_.objects.size();
  Replay forced = presigned;
  forced.head.headers.emplace_back("x-amz-meta-sluice-force", "true");
  out = Run(forced);
  EXPECT_EQ(out.response.status, 403);
  EXPECT_EQ(ErrorCodeOf(out.response), "AccessDenied");
  EXPECT_NE(out.response.body.find("x-amz-meta-sluice-force"), std::string::npos);
  Replay relayed = rp;
  relayed.head.headers.emplace_back("X-Amz-Meta-Sluice-Force", "true");
  EXPECT_EQ(ErrorCodeOf(Run(relayed).response), "AccessDenied");
  EXPECT_EQ(backend_.objects.size(), stored);

  const Replay curl = FirstOf("curl-aws-sigv4-put.json", "PutObject");
  out = Run(curl);
  EXPECT_EQ(out.response.status, 400);
  EXPECT_EQ(ErrorCodeOf(out.response), "InvalidRequest");
  EXPECT_NE(out.response.body.find("x-amz-content-sha256"), std::string::npos);
  EXPECT_EQ(backend_.begun, 1);  // only the in-skew PUT got as far as the backend
}

// ---------------------------------------------------------------- SigV2 header auth

// 2026-11-27T01:34:39Z, the time the SigV2 requests below are dated.
constexpr int64_t kV2Seconds = 1795743279;
const std::string kV2Date = "Fri, 27 Nov 2026 01:34:39 GMT";
const std::string kV2Body = "hello sluice v2";

// A request with `Authorization: AWS <key>:<signature>`. Each signature was computed with
// Python's base64(hmac.new(kSecret, string_to_sign, hashlib.sha1)) over the string to sign
// written out beside it (S3's SigV2 rules), not with auth/.
Replay SignedV2(std::string method, std::string path, std::string host,
                const std::string& signature, http::HeaderList headers, std::string body = "") {
  Replay rp;
  rp.amz_seconds = kV2Seconds;
  http::RequestHead& h = rp.head;
  h.method = std::move(method);
  h.raw_path = std::move(path);
  h.target = h.raw_path;
  h.headers = {{"Host", std::move(host)}};
  for (auto& kv : headers) h.headers.push_back(std::move(kv));
  h.headers.emplace_back("Authorization", "AWS " + kAccessKey + ":" + signature);
  if (!body.empty() || h.method == "PUT") {
    h.content_length = body.size();
    h.headers.emplace_back("Content-Length", std::to_string(body.size()));
  }
  rp.body = std::move(body);
  return rp;
}

TEST_F(S3Test, SigV2HeaderAuthPathStyle) {
  // "PUT\n\napplication/octet-stream\nFri, 27 Nov 2026 01:34:39 GMT\n/conn-demo/orders/v2.parquet"
  const Replay put = SignedV2(
      "PUT", "/conn-demo/orders/v2.parquet", "127.0.0.1:18080", "20BIzmipbY9wqltFSBZrf1kUwbI=",
      {{"Date", kV2Date}, {"Content-Type", "application/octet-stream"}}, kV2Body);
  Outcome out = Run(put);
  ASSERT_EQ(out.response.status, 200) << out.response.body;
  EXPECT_EQ(HeaderOf(out.response.headers, "etag"), "\"" + Md5Hex(kV2Body) + "\"");
  const Stored& stored = backend_.objects.at("conn-demo/orders/v2.parquet");
  EXPECT_EQ(stored.bytes, kV2Body);
  EXPECT_EQ(stored.request.content_type, "application/octet-stream");
  // "GET\n\n\nFri, 27 Nov 2026 01:34:39 GMT\n/conn-demo/orders/v2.parquet"
  out = Run(SignedV2("GET", "/conn-demo/orders/v2.parquet", "127.0.0.1:18080",
                     "5MGSABndTUFySt0fK2paIBCfW4E=", {{"Date", kV2Date}}));
  EXPECT_EQ(out.response.status, 200) << out.response.body;
  EXPECT_EQ(HeaderOf(out.response.headers, "etag"), "\"" + Md5Hex(kV2Body) + "\"");

  // Refusals, each before the body is read, nothing stored.
  backend_.objects.clear();
  Replay wrong = put;
  SetHeader(&wrong.head.headers, "authorization",
            "AWS " + kAccessKey + ":30BIzmipbY9wqltFSBZrf1kUwbI=");
  out = Run(wrong);
  EXPECT_TRUE(out.immediate);
  EXPECT_EQ(out.response.status, 403);
  EXPECT_EQ(ErrorCodeOf(out.response), "SignatureDoesNotMatch");
  Replay other_type = put;
  SetHeader(&other_type.head.headers, "content-type", "text/csv");  // signed in SigV2
  EXPECT_EQ(ErrorCodeOf(Run(other_type).response), "SignatureDoesNotMatch");
  Replay undated = put;
  RemoveHeader(&undated.head.headers, "date");
  out = Run(undated);
  EXPECT_EQ(out.response.status, 403);
  EXPECT_EQ(ErrorCodeOf(out.response), "AccessDenied");
  EXPECT_NE(out.response.body.find("requires a valid Date or x-amz-date header"),
            std::string::npos);
  out = Run(put, 777, 16 * 60);
  EXPECT_EQ(out.response.status, 403);
  EXPECT_EQ(ErrorCodeOf(out.response), "RequestTimeTooSkewed");
  Replay unknown = put;
  SetHeader(&unknown.head.headers, "authorization",
            "AWS AKIDSLUICEUNKNOWN001:20BIzmipbY9wqltFSBZrf1kUwbI=");
  EXPECT_EQ(ErrorCodeOf(Run(unknown).response), "InvalidAccessKeyId");
  EXPECT_TRUE(backend_.objects.empty());
  EXPECT_EQ(backend_.begun, 1);
}

TEST_F(S3Test, SigV2HeaderAuthVirtualHostedSignsTheBucket) {
  options_.base_domain = "s3.sluice.test";
  // "PUT\n\napplication/octet-stream\nFri, 27 Nov 2026 01:34:39 GMT\n"
  // "/conn-demo/orders/v2vh.parquet": the bucket from the Host leads the resource.
  const Replay put =
      SignedV2("PUT", "/orders/v2vh.parquet", "conn-demo.s3.sluice.test:8787",
               "ETUABML+p6xIUOZPMNXrYgy0Jis=",
               {{"Date", kV2Date}, {"Content-Type", "application/octet-stream"}}, kV2Body);
  Outcome out = Run(put);
  ASSERT_EQ(out.response.status, 200) << out.response.body;
  EXPECT_EQ(backend_.objects.at("conn-demo/orders/v2vh.parquet").bytes, kV2Body);
  // Another bucket in the Host is another signed resource.
  Replay other = put;
  SetHeader(&other.head.headers, "host", "conn-other.s3.sluice.test:8787");
  EXPECT_EQ(ErrorCodeOf(Run(other).response), "SignatureDoesNotMatch");
}

TEST_F(S3Test, SigV2HeaderAuthWithContentSha256AndXAmzDate) {
  // s3cmd's form: x-amz-date (so an empty Date line), and a payload hash, which SigV2 signs as
  // an x-amz-* header and the body is checked against:
  // "PUT\n2uxlsCCtcJCpfnUnKcLIxg==\napplication/octet-stream\n\nx-amz-content-sha256:0d05fc29..."
  // "\nx-amz-date:Fri, 27 Nov 2026 01:34:39 +0000\n/conn-demo/orders/v2sha.parquet"
  const std::string sha = "0d05fc29abed0eeb1d920c5679b87e3f6192b12462e5dafd2593f8604884e2c9";
  ASSERT_EQ(Sha256Hex(kV2Body), sha);
  const Replay put = SignedV2("PUT", "/conn-demo/orders/v2sha.parquet", "127.0.0.1:18080",
                              "D8STxUv/0yHzmC336MbPApusMog=",
                              {{"x-amz-date", "Fri, 27 Nov 2026 01:34:39 +0000"},
                               {"Content-Type", "application/octet-stream"},
                               {"Content-MD5", "2uxlsCCtcJCpfnUnKcLIxg=="},
                               {"x-amz-content-sha256", sha}},
                              kV2Body);
  Outcome out = Run(put);
  ASSERT_EQ(out.response.status, 200) << out.response.body;
  EXPECT_EQ(backend_.objects.at("conn-demo/orders/v2sha.parquet").digests.sha256_hex, sha);
  backend_.objects.clear();
  Replay changed = put;
  changed.body[0] = 'H';  // the signature holds (no body in it); the hash does not
  out = Run(changed);
  EXPECT_EQ(out.response.status, 400);
  EXPECT_EQ(ErrorCodeOf(out.response), "XAmzContentSHA256Mismatch");
  EXPECT_TRUE(backend_.objects.empty());
}

TEST_F(S3Test, BucketChecks) {
  Outcome out = Run(Signed("PUT", "/" + kOtherBucket + "/k.parquet", "", "abc"));
  EXPECT_EQ(out.response.status, 403);
  EXPECT_EQ(ErrorCodeOf(out.response), "AccessDenied");
  EXPECT_TRUE(out.response.close);

  out = Run(Signed("PUT", "/no-such-bucket/k.parquet", "", "abc"));
  EXPECT_EQ(out.response.status, 404);
  EXPECT_EQ(ErrorCodeOf(out.response), "NoSuchBucket");
  EXPECT_NE(out.response.body.find("<Resource>/no-such-bucket/k.parquet</Resource>"),
            std::string::npos);

  const Replay recorded = FirstOf("faults/boto3-nosuchbucket.json", "PutObject");
  EXPECT_EQ(ErrorCodeOf(Run(recorded).response), "NoSuchBucket");

  out = Run(Signed("PUT", "/" + kBucket + "/a%2Bb+c/%E2%82%AC.parquet", "x-id=PutObject", "abc"));
  ASSERT_EQ(out.response.status, 200) << out.response.body;
  EXPECT_EQ(backend_.objects.count(kBucket + "/a+b+c/\xE2\x82\xAC.parquet"), 1u);

  out = Run(Signed("PUT", "/" + kBucket + "/bad%zzescape", "", "abc"));
  EXPECT_EQ(ErrorCodeOf(out.response), "InvalidRequest");
  out = Run(Signed("PUT", "/" + kBucket + "/bad%FFutf8", "", "abc"));
  EXPECT_EQ(ErrorCodeOf(out.response), "InvalidRequest");
  out = Run(Signed("PUT", "/" + kBucket + "/" + std::string(1025, 'k'), "", "abc"));
  EXPECT_EQ(ErrorCodeOf(out.response), "InvalidRequest");
}

// ---------------------------------------------------------------- other operations

TEST_F(S3Test, HeadBucket) {
  Outcome out = Run(Signed("HEAD", "/" + kBucket));
  EXPECT_EQ(out.response.status, 200);
  EXPECT_EQ(HeaderOf(out.response.headers, "x-amz-bucket-region"), "us-east-1");
  EXPECT_TRUE(out.response.body.empty());
  EXPECT_FALSE(out.response.close);
  EXPECT_EQ(HeaderOf(out.response.headers, "server"), "sluice");

  out = Run(Signed("HEAD", "/" + kOtherBucket));
  EXPECT_EQ(out.response.status, 403);
  ErrorCodeOf(out.response, /*head=*/true);
  out = Run(Signed("HEAD", "/missing-bucket/"));
  EXPECT_EQ(out.response.status, 404);
  ErrorCodeOf(out.response, /*head=*/true);
}

TEST_F(S3Test, ListBuckets) {
  for (const char* file :
       {"awscli-s3-ls-buckets.json", "node-ListBucketsCommand.json", "s3cmd-ls-buckets.json"}) {
    SCOPED_TRACE(file);
    const Outcome out = Run(FirstOf(file, "ListBuckets"));
    ASSERT_EQ(out.response.status, 200) << out.response.body;
    EXPECT_EQ(HeaderOf(out.response.headers, "content-type"), "application/xml");
    EXPECT_EQ(out.response.body,
              "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListAllMyBucketsResult "
              "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Owner><ID>conn-demo</ID>"
              "<DisplayName>conn-demo</DisplayName></Owner><Buckets><Bucket><Name>conn-demo"
              "</Name><CreationDate>2026-11-27T01:13:36.123Z</CreationDate></Bucket></Buckets>"
              "</ListAllMyBucketsResult>");
  }
}

TEST_F(S3Test, UnservedOperationsAreNotImplementedAfterAuth) {
  for (const auto& [method, path, query, name] :
       std::vector<std::tuple<std::string, std::string, std::string, std::string>>{
           {"GET", "/conn-demo/k", "acl", "GetObject?acl"},
           {"HEAD", "/conn-demo/k", "versionId=3&acl", "HeadObject?acl"},
           {"GET", "/conn-demo", "versions&acl", "ListObjectVersions?acl"},
           {"GET", "/conn-demo", "policy", "GetBucket?policy"},
           {"PUT", "/conn-demo/k", "tagging", "PutObject?tagging"},
           {"PUT", "/conn-demo", "lifecycle", "PutBucket?lifecycle"},
           {"DELETE", "/conn-demo", "cors", "DeleteBucket?cors"},
           {"POST", "/conn-demo/k", "restore", "POST object?restore"},
           {"POST", "/", "", "POST /"}}) {
    const Outcome out = Run(Signed(method, path, query));
    EXPECT_EQ(out.response.status, 501) << name;
    if (method == "HEAD") {
      ErrorCodeOf(out.response, /*head=*/true);
      continue;
    }
    EXPECT_EQ(ErrorCodeOf(out.response), "NotImplemented");
    EXPECT_NE(out.response.body.find(name + " is not implemented"), std::string::npos)
        << out.response.body;
  }
  // A copy with a sub-resource S3 has but sluice does not serve.
  Replay copy = Signed("PUT", "/conn-demo/k", "tagging");
  copy.head.headers.emplace_back("x-amz-copy-source", "/conn-demo/j");
  Resign(&copy);
  Outcome out = Run(copy);
  EXPECT_NE(out.response.body.find("CopyObject?tagging is not implemented"), std::string::npos)
      << out.response.body;
  // Authentication comes first.
  Replay tampered = Signed("GET", "/conn-demo/k", "acl");
  SetHeader(&tampered.head.headers, "host", "127.0.0.1:18081");
  EXPECT_EQ(ErrorCodeOf(Run(tampered).response), "SignatureDoesNotMatch");
}

// The console's browser uploads: its origin may call the endpoint (a preflight answered without
// authentication, the real request's answer readable); no other origin may.
TEST_F(S3Test, CorsServesTheConsolesOriginOnly) {
  options_.cors_origin_allowed = [](std::string_view o) { return o == "http://127.0.0.1:8788"; };
  Replay preflight = Signed("OPTIONS", "/conn-demo/orders/a.json");
  preflight.head.headers = {{"Host", "127.0.0.1:8787"},
                            {"Origin", "http://127.0.0.1:8788"},
                            {"Access-Control-Request-Method", "PUT"},
                            {"Access-Control-Request-Headers", "content-type"}};
  Outcome out = Run(preflight);
  EXPECT_EQ(out.response.status, 200);
  EXPECT_EQ(HeaderOf(out.response.headers, "access-control-allow-origin"), "http://127.0.0.1:8788");
  EXPECT_EQ(HeaderOf(out.response.headers, "access-control-allow-headers"), "content-type");
  EXPECT_NE(HeaderOf(out.response.headers, "access-control-allow-methods").find("PUT"),
            std::string::npos);

  SetHeader(&preflight.head.headers, "Origin", "https://evil.example");
  out = Run(preflight);
  EXPECT_EQ(out.response.status, 403);
  EXPECT_EQ(ErrorCodeOf(out.response), "AccessDenied");
  EXPECT_EQ(HeaderOf(out.response.headers, "access-control-allow-origin"), "");

  Replay head = Signed("HEAD", "/" + kBucket);
  head.head.headers.emplace_back("Origin", "http://127.0.0.1:8788");
  out = Run(head);
  EXPECT_EQ(out.response.status, 200);
  EXPECT_EQ(HeaderOf(out.response.headers, "access-control-allow-origin"), "http://127.0.0.1:8788");
  EXPECT_NE(HeaderOf(out.response.headers, "access-control-expose-headers").find("ETag"),
            std::string::npos);
  options_.cors_origin_allowed = nullptr;
  EXPECT_EQ(HeaderOf(Run(head).response.headers, "access-control-allow-origin"), "");
}

TEST_F(S3Test, RequestIdsDifferAndDateIsTheClock) {
  const Replay rp = FirstOf("awscli-s3-ls-buckets.json", "ListBuckets");
  const Outcome a = Run(rp, 1, 5);
  const Outcome b = Run(rp, 1, 5);
  EXPECT_NE(HeaderOf(a.response.headers, "x-amz-request-id"),
            HeaderOf(b.response.headers, "x-amz-request-id"));
  EXPECT_EQ(HeaderOf(a.response.headers, "date"), FormatHttpDate(rp.amz_seconds + 5));
  EXPECT_EQ(HeaderOf(a.response.headers, "date"), "Fri, 27 Nov 2026 01:34:38 GMT");
}

TEST(S3ErrorTable, EveryCodeMaps) {
  for (int c = 1; c <= static_cast<int>(ErrorCode::kBucketAlreadyOwnedByYou); ++c) {
    const S3Error e = S3ErrorFor(static_cast<ErrorCode>(c));
    EXPECT_GE(e.http_status, 400) << c;
    EXPECT_LE(e.http_status, 503) << c;
    EXPECT_FALSE(e.code.empty()) << c;
  }
  const std::vector<std::tuple<ErrorCode, int, std::string_view>> expected = {
      {ErrorCode::kSignatureDoesNotMatch, 403, "SignatureDoesNotMatch"},
      {ErrorCode::kInvalidAccessKeyId, 403, "InvalidAccessKeyId"},
      {ErrorCode::kAccessDenied, 403, "AccessDenied"},
      {ErrorCode::kRequestTimeTooSkewed, 403, "RequestTimeTooSkewed"},
      {ErrorCode::kNoSuchBucket, 404, "NoSuchBucket"},
      {ErrorCode::kNotImplemented, 501, "NotImplemented"},
      {ErrorCode::kSlowDown, 503, "SlowDown"},
      {ErrorCode::kUnavailable, 503, "SlowDown"},
      {ErrorCode::kContentSha256Mismatch, 400, "XAmzContentSHA256Mismatch"},
      {ErrorCode::kBadDigest, 400, "BadDigest"},
      {ErrorCode::kInvalidDigest, 400, "InvalidDigest"},
      {ErrorCode::kInvalidRequest, 400, "InvalidRequest"},
      {ErrorCode::kMissingContentLength, 411, "MissingContentLength"},
      {ErrorCode::kEntityTooLarge, 400, "EntityTooLarge"},
      {ErrorCode::kIncompleteBody, 400, "IncompleteBody"},
      {ErrorCode::kRequestTimeout, 400, "RequestTimeout"},
      {ErrorCode::kInternal, 500, "InternalError"},
      {ErrorCode::kIoError, 500, "InternalError"},
      {ErrorCode::kMalformedXml, 400, "MalformedXML"},
      {ErrorCode::kBucketAlreadyOwnedByYou, 409, "BucketAlreadyOwnedByYou"},
  };
  for (const auto& [code, status, name] : expected) {
    EXPECT_EQ(S3ErrorFor(code).http_status, status) << name;
    EXPECT_EQ(S3ErrorFor(code).code, name);
  }
}

TEST(HeaderSafeTest, EscapesAndCuts) {
  EXPECT_EQ(HeaderSafe("plain text", 100), "plain text");
  EXPECT_EQ(HeaderSafe("100%", 100), "100%25");
  EXPECT_EQ(HeaderSafe("caf\xc3\xa9", 100), "caf%C3%A9");
  EXPECT_EQ(HeaderSafe("abcdefghij", 10), "abcdefghij");  // fits exactly
  EXPECT_EQ(HeaderSafe("abcdefghijk", 10), "abcdefg...");
  EXPECT_EQ(HeaderSafe("abcdef\n\n", 10), "abcdef...");  // never half an escape
}

}  // namespace
}  // namespace sluice::s3
