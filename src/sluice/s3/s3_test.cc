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

#include "sluice/auth/auth.h"

namespace sluice::s3 {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kAccessKey = "AKIDSLUICETEST000001";
const std::string kSecret = "sluice/test/secret/key/0000000000000000000";
const std::string kBucket = "conn-demo";
const std::string kOtherBucket = "conn-other";
constexpr int64_t kCreatedMicros = 1795742016'000000;  // 2026-11-27T01:13:36Z

// ---------------------------------------------------------------- fakes

struct Stored {
  std::string bytes;
  ObjectDigests digests;
  PutRequest request;
};

class FakeBackend;

class FakeSink final : public ObjectSink {
 public:
  FakeSink(FakeBackend& backend, PutRequest request)
      : backend_(backend), request_(std::move(request)) {}
  Status Append(ByteView data) override;
  Result<http::HeaderList> Commit(const ObjectDigests& digests) override;
  void Abort() override;

 private:
  FakeBackend& backend_;
  PutRequest request_;
  std::string bytes_;
};

class FakeBackend final : public Backend {
 public:
  Status CreateBucket(const Identity&, const std::string&) override { return NotBuilt(); }
  Status DeleteBucket(const Identity&, const std::string&) override { return NotBuilt(); }
  Result<ObjectData> GetObject(const Identity&, const std::string&, const std::string&,
                               bool) override {
    return NotBuilt();
  }
  Result<ListPage> ListObjects(const Identity&, const std::string&, const ListQuery&) override {
    return NotBuilt();
  }
  Status DeleteObject(const Identity&, const std::string&, const std::string&) override {
    return NotBuilt();
  }
  Result<std::string> CreateMultipartUpload(const Identity&, const PutRequest&) override {
    return NotBuilt();
  }
  Result<std::unique_ptr<ObjectSink>> BeginUploadPart(const Identity&, const std::string&,
                                                      const std::string&, const std::string&,
                                                      int) override {
    return NotBuilt();
  }
  Result<CompleteResult> CompleteMultipartUpload(const Identity&, const std::string&,
                                                 const std::string&, const std::string&,
                                                 const std::vector<CompletedPart>&) override {
    return NotBuilt();
  }
  Status AbortMultipartUpload(const Identity&, const std::string&, const std::string&,
                              const std::string&) override {
    return NotBuilt();
  }
  Result<std::vector<PartInfo>> ListParts(const Identity&, const std::string&, const std::string&,
                                          const std::string&) override {
    return NotBuilt();
  }
  Result<std::vector<UploadInfo>> ListMultipartUploads(const Identity&, const std::string&,
                                                       const std::string&) override {
    return NotBuilt();
  }
  static Status NotBuilt() { return Err(ErrorCode::kNotImplemented, "not built yet"); }
  Result<std::pair<Secret, std::string>> LookupKey(const AccessKeyId& key) override {
    if (key.str() == kAccessKey) return std::pair(Secret(kSecret), kBucket);
    return Status(ErrorCode::kInvalidAccessKeyId,
                  "the access key id " + key.str() + " does not exist");
  }
  Result<std::vector<BucketInfo>> ListBuckets(const Identity& who) override {
    return std::vector<BucketInfo>{{who.connection_id, kCreatedMicros + 123456}};
  }
  Status CheckBucket(const Identity& who, const std::string& bucket) override {
    if (bucket != kBucket && bucket != kOtherBucket) {
      return Status(ErrorCode::kNoSuchBucket, "the specified bucket does not exist");
    }
    if (bucket != who.connection_id) {
      return Status(ErrorCode::kAccessDenied, "access denied to bucket " + bucket);
    }
    return Status::Ok();
  }
  Result<std::unique_ptr<ObjectSink>> BeginPut(const Identity& who,
                                               const PutRequest& request) override {
    SLUICE_RETURN_IF_ERROR(CheckBucket(who, request.bucket));
    if (!begin_error.ok()) return begin_error;
    ++begun;
    return std::unique_ptr<ObjectSink>(std::make_unique<FakeSink>(*this, request));
  }

  Status begin_error;
  Status append_error;
  int begun = 0, aborted = 0;
  std::map<std::string, Stored> objects;  // "bucket/key"
};

Status FakeSink::Append(ByteView data) {
  if (!backend_.append_error.ok()) return backend_.append_error;
  bytes_.append(AsChars(data));
  return Status::Ok();
}
Result<http::HeaderList> FakeSink::Commit(const ObjectDigests& digests) {
  const std::string name = request_.bucket + "/" + request_.key;
  backend_.objects[name] = Stored{bytes_, digests, request_};
  return http::HeaderList{{"x-amz-meta-sluice-seq", std::to_string(backend_.objects.size())}};
}
void FakeSink::Abort() { ++backend_.aborted; }

// ---------------------------------------------------------------- transcripts

const fs::path kRoot = fs::path(SLUICE_SHARED_DIR) / "s3-transcripts";

json Load(const std::string& file) {
  std::ifstream in(kRoot / file);
  EXPECT_TRUE(in.good()) << file;
  return json::parse(in);
}

struct Replay {
  http::RequestHead head;
  std::string body;
  bool whole = true;  // `body` is the entire recorded body
  int64_t amz_seconds = 0;
};

std::string Pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(i % 251);
  return s;
}

std::string HeaderOf(const http::HeaderList& h, std::string_view name) {
  for (const auto& [n, v] : h) {
    if (n.size() == name.size() && std::equal(n.begin(), n.end(), name.begin(), [](char a, char b) {
          return std::tolower(a) == std::tolower(b);
        })) {
      return v;
    }
  }
  return "";
}

bool HasHeader(const http::HeaderList& h, std::string_view name) {
  for (const auto& [n, v] : h) {
    if (n.size() == name.size() && std::equal(n.begin(), n.end(), name.begin(), [](char a, char b) {
          return std::tolower(a) == std::tolower(b);
        })) {
      return true;
    }
  }
  return false;
}

void SetHeader(http::HeaderList* h, std::string_view name, std::string value) {
  for (auto& [n, v] : *h) {
    if (n.size() == name.size() && std::equal(n.begin(), n.end(), name.begin(), [](char a, char b) {
          return std::tolower(a) == std::tolower(b);
        })) {
      v = std::move(value);
      return;
    }
  }
  h->emplace_back(std::string(name), std::move(value));
}

void RemoveHeader(http::HeaderList* h, std::string_view name) {
  std::erase_if(*h, [&](const auto& kv) {
    return kv.first.size() == name.size() &&
           std::equal(kv.first.begin(), kv.first.end(), name.begin(),
                      [](char a, char b) { return std::tolower(a) == std::tolower(b); });
  });
}

Replay FromJson(const json& r) {
  Replay out;
  http::RequestHead& h = out.head;
  h.method = r.at("method");
  h.raw_path = r.at("raw_path");
  h.raw_query = r.at("raw_query");
  h.target = h.raw_path + (h.raw_query.empty() ? "" : "?" + h.raw_query);
  for (const json& kv : r.at("headers")) h.headers.emplace_back(kv.at(0), kv.at(1));
  const std::string length = HeaderOf(h.headers, "content-length");
  if (!length.empty()) h.content_length = std::stoull(length);
  h.chunked = HeaderOf(h.headers, "transfer-encoding") == "chunked";
  h.expect_continue = HasHeader(h.headers, "expect");
  const json& body = r.at("body");
  out.body = auth::Base64Decode(body.value("first_bytes_b64", "")).value();
  if (body.value("truncated", false)) {
    // A larger body that is a whole generated file is rebuilt (and proven to be the recorded
    // one by its SHA-256); other truncated bodies (multipart parts) stay a prefix.
    out.whole = false;
    std::string rebuilt = Pattern(body.at("length").get<size_t>());
    if (rebuilt.starts_with(out.body)) {
      auth::Digest d(auth::Digest::Kind::kSha256);
      d.Update(AsBytes(rebuilt));
      const std::string sha = d.Finish();
      if (ToHex(AsBytes(sha)) == body.at("sha256").get<std::string>()) {
        out.body = std::move(rebuilt);
        out.whole = true;
      }
    }
  }
  const std::string date = HeaderOf(h.headers, "x-amz-date");
  out.amz_seconds = auth::ParseAmzDate(date).ValueOr(0);
  return out;
}

// The first request of `file` routed as `operation` by the capture server.
Replay FirstOf(const std::string& file, const std::string& operation) {
  const json doc = Load(file);
  for (const json& r : doc.at("requests")) {
    if (r.value("operation", "") == operation) return FromJson(r);
  }
  ADD_FAILURE() << "no " << operation << " in " << file;
  return {};
}

// Re-signs a (modified) request with the test secret, keeping its signed-header list: a
// client that signed what it sent, e.g. a wrong Content-MD5.
void Resign(Replay* rp, std::string access_key = kAccessKey) {
  http::RequestHead& h = rp->head;
  const auth::Request req{h.method, h.raw_path, h.raw_query, &h.headers};
  auto parsed = auth::ParseAuth(req);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  parsed->access_key = AccessKeyId(access_key);
  const std::string sig =
      auth::HmacSha256Hex(auth::SigningKey(Secret(kSecret), *parsed),
                          auth::StringToSign(*parsed, auth::CanonicalRequest(req, *parsed)));
  std::string signed_headers;
  for (const std::string& s : parsed->signed_headers) {
    signed_headers += (signed_headers.empty() ? "" : ";") + s;
  }
  SetHeader(&h.headers, "authorization",
            "AWS4-HMAC-SHA256 Credential=" + access_key + "/" + parsed->scope_date + "/" +
                parsed->region + "/s3/aws4_request, SignedHeaders=" + signed_headers +
                ", Signature=" + sig);
}

// A request signed here, for operations the transcripts do not hold (HeadBucket, other
// buckets).
Replay Signed(std::string method, std::string path, std::string query = "", std::string body = "",
              std::string access_key = kAccessKey) {
  Replay rp;
  rp.amz_seconds = auth::ParseAmzDate("20261127T013439Z").value();
  http::RequestHead& h = rp.head;
  h.method = std::move(method);
  h.raw_path = std::move(path);
  h.raw_query = std::move(query);
  h.target = h.raw_path + (h.raw_query.empty() ? "" : "?" + h.raw_query);
  auth::Digest d(auth::Digest::Kind::kSha256);
  d.Update(AsBytes(body));
  const std::string sha = d.Finish();
  h.headers = {{"Host", "127.0.0.1:18080"},
               {"X-Amz-Date", "20261127T013439Z"},
               {"X-Amz-Content-SHA256", ToHex(AsBytes(sha))},
               {"Authorization",
                "AWS4-HMAC-SHA256 Credential=X/20261127/us-east-1/s3/aws4_request, "
                "SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=" +
                    std::string(64, '0')}};
  if (!body.empty() || h.method == "PUT") {
    h.content_length = body.size();
    h.headers.emplace_back("Content-Length", std::to_string(body.size()));
  }
  rp.body = std::move(body);
  Resign(&rp, std::move(access_key));
  return rp;
}

// ---------------------------------------------------------------- driving

struct Outcome {
  http::Response response;
  bool immediate = false;  // answered from Start, body not read
};

class S3Test : public ::testing::Test {
 protected:
  Outcome Run(const Replay& rp, size_t piece = 777, int64_t clock_offset = 2,
              std::optional<size_t> deliver = std::nullopt, Status body_status = Status::Ok()) {
    clock_.Set((rp.amz_seconds + clock_offset) * 1'000'000);
    auto service = MakeService(backend_, clock_, options_);
    http::Handler::Started started = service->Start(rp.head);
    Outcome out;
    if (started.response.has_value()) {
      EXPECT_EQ(started.exchange, nullptr);
      out.response = std::move(*started.response);
      out.immediate = true;
      return out;
    }
    EXPECT_NE(started.exchange, nullptr);
    const size_t n = deliver.value_or(rp.body.size());
    Status st = body_status;
    for (size_t i = 0; i < n && st.ok(); i += piece) {
      st = started.exchange->OnBody(
          AsBytes(std::string_view(rp.body).substr(i, std::min(piece, n - i))));
    }
    out.response = started.exchange->Finish(st);
    return out;
  }

  // Checks an S3 error response and returns its code.
  std::string ErrorCodeOf(const http::Response& r, bool head = false) {
    EXPECT_EQ(HeaderOf(r.headers, "content-type"), "application/xml");
    const std::string id = HeaderOf(r.headers, "x-amz-request-id");
    EXPECT_TRUE(std::regex_match(id, std::regex("[0-9A-F]{16}"))) << id;
    EXPECT_EQ(HeaderOf(r.headers, "date"), FormatHttpDate(clock_.NowSeconds()));
    EXPECT_EQ(HeaderOf(r.headers, "server"), "sluice");
    if (head) {
      EXPECT_TRUE(r.body.empty());
      return "";
    }
    std::smatch m;
    const std::regex shape(
        "<\\?xml version=\"1\\.0\" encoding=\"UTF-8\"\\?>\n<Error><Code>([A-Za-z0-9]+)</Code>"
        "<Message>([^<]*)</Message><Resource>([^<]*)</Resource><RequestId>([0-9A-F]{16})"
        "</RequestId></Error>");
    EXPECT_TRUE(std::regex_match(r.body, m, shape)) << r.body;
    if (m.empty()) return "";
    EXPECT_EQ(m[4].str(), id);
    EXPECT_FALSE(m[2].str().empty());
    EXPECT_EQ(m[2].str().find(kSecret), std::string::npos);
    return m[1].str();
  }

  FakeBackend backend_;
  FakeClock clock_;
  ServiceOptions options_;
};

// ---------------------------------------------------------------- PutObject replays

TEST_F(S3Test, ReplaysEveryRecordedPutObject) {
  std::vector<fs::path> files;
  for (const fs::path& dir : {kRoot, kRoot / "faults"}) {
    for (const auto& e : fs::directory_iterator(dir)) {
      if (e.path().extension() == ".json") files.push_back(e.path());
    }
  }
  std::sort(files.begin(), files.end());
  ASSERT_GT(files.size(), 100u);
  int stored = 0, streaming = 0, no_payload_hash = 0, no_bucket = 0, not_read = 0;
  for (const fs::path& f : files) {
    std::ifstream in(f);
    const json doc = json::parse(in);
    for (const json& r : doc.at("requests")) {
      if (r.value("operation", "") != "PutObject") continue;
      if (r.at("checks").at("signature").value("scheme", "") != "sigv4-header") continue;
      SCOPED_TRACE(f.filename().string() + " seq " + std::to_string(r.value("seq", -1)));
      if (r.at("transfer").value("mode", "") == "not-read") {
        ++not_read;  // the capture server refused it before the body: no body to replay
        continue;
      }
      const Replay rp = FromJson(r);
      ASSERT_TRUE(rp.whole);
      const Outcome out = Run(rp, 4096);
      const std::string hash = HeaderOf(rp.head.headers, "x-amz-content-sha256");
      if (hash.empty()) {
        EXPECT_EQ(out.response.status, 400);
        EXPECT_EQ(ErrorCodeOf(out.response), "InvalidRequest");
        ++no_payload_hash;
        continue;
      }
      if (hash.starts_with("STREAMING-")) {
        EXPECT_EQ(out.response.status, 501);
        EXPECT_EQ(ErrorCodeOf(out.response), "NotImplemented");
        EXPECT_TRUE(out.immediate);
        EXPECT_TRUE(out.response.close);
        ++streaming;
        continue;
      }
      if (!rp.head.raw_path.starts_with("/" + kBucket + "/")) {
        EXPECT_EQ(out.response.status, 404);
        EXPECT_EQ(ErrorCodeOf(out.response), "NoSuchBucket");
        ++no_bucket;
        continue;
      }
      ASSERT_EQ(out.response.status, 200) << out.response.body;
      EXPECT_EQ(HeaderOf(out.response.headers, "etag"),
                "\"" + r.at("payload").at("md5_hex").get<std::string>() + "\"");
      EXPECT_FALSE(HeaderOf(out.response.headers, "x-amz-meta-sluice-seq").empty());
      const std::string crc = HeaderOf(rp.head.headers, "x-amz-checksum-crc32");
      EXPECT_EQ(HeaderOf(out.response.headers, "x-amz-checksum-crc32"), crc);
      if (!crc.empty()) {
        EXPECT_EQ(HeaderOf(out.response.headers, "x-amz-checksum-type"), "FULL_OBJECT");
      }
      // The stored object is the body, under the once-decoded key.
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
      EXPECT_EQ(it->second.bytes, rp.body);
      EXPECT_EQ(it->second.digests.size, rp.body.size());
      EXPECT_EQ(it->second.digests.md5_hex, r.at("payload").at("md5_hex").get<std::string>());
      if (hash != "UNSIGNED-PAYLOAD") {
        EXPECT_EQ(it->second.digests.sha256_hex, hash);
      }
      EXPECT_EQ(it->second.request.content_type, HeaderOf(rp.head.headers, "content-type"));
      backend_.objects.erase(it);
      ++stored;
    }
  }
  std::cout << "PutObject replays: " << stored << " stored (200 + ETag), " << streaming
            << " aws-chunked -> 501, " << no_payload_hash << " curl without x-amz-content-sha256 "
            << "-> 400, " << no_bucket << " missing bucket -> 404, " << not_read
            << " not replayable (body never sent)\n";
  EXPECT_GE(stored, 60);
  EXPECT_GT(streaming, 0);
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
           {"x-amz-checksum-crc32c", "AAAAAA==", "NotImplemented"},
           {"x-amz-checksum-md4", "AAAAAA==", "InvalidRequest"}}) {
    Replay m = FirstOf("awscli-s3api-put-object.json", "PutObject");
    RemoveHeader(&m.head.headers, "x-amz-checksum-crc32");
    m.head.headers.emplace_back(name, value);
    Resign(&m);
    const Outcome o = Run(m);
    EXPECT_TRUE(o.immediate) << name;
    EXPECT_EQ(ErrorCodeOf(o.response), code) << name << " " << value;
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

  Replay chunked = rp;
  chunked.head.content_length.reset();
  chunked.head.chunked = true;
  RemoveHeader(&chunked.head.headers, "content-length");
  out = Run(chunked);
  EXPECT_EQ(out.response.status, 411);
  EXPECT_EQ(ErrorCodeOf(out.response), "MissingContentLength");
  EXPECT_TRUE(out.response.close);
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

  const Replay presigned = FirstOf("boto3-presigned-s3v4-put_object-curl.json", "PutObject");
  EXPECT_EQ(ErrorCodeOf(Run(presigned).response), "NotImplemented");

  const Replay curl = FirstOf("curl-aws-sigv4-put.json", "PutObject");
  out = Run(curl);
  EXPECT_EQ(out.response.status, 400);
  EXPECT_EQ(ErrorCodeOf(out.response), "InvalidRequest");
  EXPECT_NE(out.response.body.find("x-amz-content-sha256"), std::string::npos);
  EXPECT_EQ(backend_.begun, 1);  // only the in-skew PUT got as far as the backend
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

TEST_F(S3Test, UnbuiltOperationsAreNotImplementedAfterAuth) {
  const std::vector<std::tuple<std::string, std::string, std::string>> ops = {
      {"awscli-s3-cp-20mb-multipart.json", "CreateMultipartUpload", "CreateMultipartUpload"},
      {"awscli-s3-cp-20mb-multipart.json", "CompleteMultipartUpload", "CompleteMultipartUpload"},
      {"rclone-copy-small.json", "HeadObject", "HeadObject"},
      {"rclone-copy-small.json", "CreateBucket", "CreateBucket"},
      {"awscli-s3api-list-objects-v2.json", "ListObjectsV2", "ListObjectsV2"},
      {"s3cmd-ls.json", "ListObjects", "ListObjects"},
  };
  for (const auto& [file, op, name] : ops) {
    SCOPED_TRACE(file + " " + op);
    const Replay rp = FirstOf(file, op);
    const Outcome out = Run(rp);
    EXPECT_EQ(out.response.status, 501);
    if (rp.head.method == "HEAD") {
      ErrorCodeOf(out.response, true);
      continue;
    }
    EXPECT_EQ(ErrorCodeOf(out.response), "NotImplemented");
    EXPECT_NE(out.response.body.find(name), std::string::npos) << out.response.body;
  }
  // UploadPart with a body: refused at once, connection closed.
  const Replay part = FirstOf("awscli-s3-cp-20mb-multipart.json", "UploadPart");
  Outcome out = Run(part);
  EXPECT_EQ(ErrorCodeOf(out.response), "NotImplemented");
  EXPECT_NE(out.response.body.find("UploadPart"), std::string::npos);
  EXPECT_TRUE(out.response.close);
  // Authentication comes first.
  Replay tampered = FirstOf("rclone-copy-small.json", "HeadObject");
  SetHeader(&tampered.head.headers, "host", "127.0.0.1:18081");
  EXPECT_EQ(Run(tampered).response.status, 403);
  for (const auto& [method, path, query, name] :
       std::vector<std::tuple<std::string, std::string, std::string, std::string>>{
           {"GET", "/conn-demo/k", "", "GetObject"},
           {"DELETE", "/conn-demo/k", "", "DeleteObject"},
           {"DELETE", "/conn-demo/k", "uploadId=u", "AbortMultipartUpload"},
           {"GET", "/conn-demo", "location", "GetBucketLocation"},
           {"PUT", "/conn-demo/k", "tagging", "PutObject?tagging"},
           {"POST", "/conn-demo", "delete", "DeleteObjects"}}) {
    out = Run(Signed(method, path, query));
    EXPECT_EQ(out.response.status, 501) << name;
    EXPECT_NE(out.response.body.find(name + " is not implemented"), std::string::npos)
        << out.response.body;
  }
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

}  // namespace
}  // namespace sluice::s3
