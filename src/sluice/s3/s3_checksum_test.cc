// Checksums of multipart uploads (multipart_checksum.h) and the stored checksum on GET and
// HEAD: S3's rules as functions (with S3's own composite example), then the whole flow through
// the service on the in-memory backend, every refusal included.

#include <gtest/gtest.h>

#include "sluice/s3/multipart_checksum.h"
#include "sluice/s3/s3.h"
#include "sluice/s3/s3_testing.h"

namespace sluice::s3 {
namespace {

using namespace s3test;  // NOLINT(google-build-using-namespace)
using Kind = auth::Digest::Kind;

constexpr uint64_t kMiB = 1024 * 1024;

std::string Raw(Kind kind, std::string_view data) {
  auth::Digest d(kind);
  d.Update(AsBytes(data));
  return d.Finish();
}
std::string B64(Kind kind, std::string_view data) { return auth::Base64Encode(Raw(kind, data)); }

// ---------------------------------------------------------------- the rules

TEST(MultipartChecksumRules, AlgorithmsTypesAndDefaults) {
  const auto parse = [](const char* algorithm, const char* type) {
    const std::string a = algorithm == nullptr ? "" : algorithm;
    const std::string t = type == nullptr ? "" : type;
    return ParseUploadChecksum(algorithm == nullptr ? nullptr : &a, type == nullptr ? nullptr : &t);
  };
  // Neither: no checksum. The defaults: COMPOSITE, but FULL_OBJECT for CRC64NVME.
  EXPECT_TRUE(parse(nullptr, nullptr)->algorithm.empty());
  for (const auto& [algorithm, type] :
       std::vector<std::pair<const char*, const char*>>{{"CRC32", "COMPOSITE"},
                                                        {"crc32c", "COMPOSITE"},
                                                        {"CRC64NVME", "FULL_OBJECT"},
                                                        {"SHA1", "COMPOSITE"},
                                                        {" Sha256 ", "COMPOSITE"}}) {
    auto spec = parse(algorithm, nullptr);
    ASSERT_TRUE(spec.ok()) << algorithm << " " << spec.status().ToString();
    EXPECT_EQ(spec->algorithm, AsciiLowered(TrimAscii(algorithm)));
    EXPECT_EQ(spec->type, type) << algorithm;
  }
  // Every pair of the table.
  const std::vector<std::tuple<const char*, const char*, bool>> table = {
      {"CRC32", "FULL_OBJECT", true},     {"CRC32", "COMPOSITE", true},
      {"CRC32C", "FULL_OBJECT", true},    {"CRC32C", "COMPOSITE", true},
      {"CRC64NVME", "FULL_OBJECT", true}, {"CRC64NVME", "COMPOSITE", false},
      {"SHA1", "FULL_OBJECT", false},     {"SHA1", "COMPOSITE", true},
      {"SHA256", "FULL_OBJECT", false},   {"SHA256", "COMPOSITE", true},
  };
  for (const auto& [algorithm, type, ok] : table) {
    auto spec = parse(algorithm, type);
    EXPECT_EQ(spec.ok(), ok) << algorithm << " " << type;
    if (spec.ok()) {
      EXPECT_EQ(spec->type, type);
    } else {
      EXPECT_EQ(spec.status().code(), ErrorCode::kInvalidRequest);
      // S3's words: "The FULL_OBJECT checksum type cannot be used with the sha256 checksum
      // algorithm."
      EXPECT_NE(spec.status().message().find("The " + std::string(type) +
                                             " checksum type cannot be used with the " +
                                             AsciiLowered(algorithm) + " checksum algorithm"),
                std::string::npos)
          << spec.status().message();
    }
  }
  for (const auto& [algorithm, type] :
       std::vector<std::pair<const char*, const char*>>{{"MD5", nullptr},
                                                        {"CRC16", nullptr},
                                                        {"", nullptr},  // unknown algorithms
                                                        {nullptr, "COMPOSITE"},  // a type alone
                                                        {"CRC32", "PARTIAL"},
                                                        {"CRC32", ""}}) {  // an unknown type
    auto spec = parse(algorithm, type);
    ASSERT_FALSE(spec.ok()) << (algorithm ? algorithm : "-") << " " << (type ? type : "-");
    EXPECT_EQ(spec.status().code(), ErrorCode::kInvalidRequest);
  }
  EXPECT_EQ(ChecksumAlgorithmName("crc64nvme"), "CRC64NVME");
}

TEST(MultipartChecksumRules, WhichPartsMayJoinAnUpload) {
  const ChecksumSpec none;
  const ChecksumSpec composite{"sha256", "COMPOSITE"};
  const ChecksumSpec full{"crc32c", "FULL_OBJECT"};
  EXPECT_TRUE(CheckPartChecksum(none, "").ok());
  EXPECT_TRUE(CheckPartChecksum(none, "crc32").ok());
  EXPECT_TRUE(CheckPartChecksum(composite, "sha256").ok());
  EXPECT_TRUE(CheckPartChecksum(full, "crc32c").ok());
  EXPECT_TRUE(CheckPartChecksum(full, "").ok());  // computed as it arrives, as S3 does
  const Status missing = CheckPartChecksum(composite, "");
  EXPECT_EQ(missing.code(), ErrorCode::kInvalidRequest);
  EXPECT_EQ(missing.message(),
            "Checksum Type mismatch occurred, expected checksum Type: sha256, actual checksum "
            "Type: null");
  EXPECT_EQ(CheckPartChecksum(composite, "crc32").code(), ErrorCode::kInvalidRequest);
  EXPECT_EQ(CheckPartChecksum(full, "crc32").code(), ErrorCode::kInvalidRequest);
}

// The parts as CompleteChecksum finds them.
struct Parts {
  std::vector<std::string> data;
  std::string algorithm;
  std::vector<std::string> values;  // base64, one per part; empty: computed from data
  std::vector<PartChecksum> stored;

  void Build(Kind kind) {
    if (values.empty()) {
      for (const std::string& d : data) values.push_back(B64(kind, d));
    }
    stored.clear();
    for (size_t i = 0; i < values.size(); ++i) {
      stored.push_back({i < data.size() ? data[i].size() : 0, algorithm, values[i]});
    }
  }
  std::vector<CompletedPart> Listed(bool with_checksums) const {
    std::vector<CompletedPart> out;
    for (size_t i = 0; i < values.size(); ++i) {
      out.push_back({static_cast<int>(i + 1), "etag"});
      if (with_checksums) out.back().checksum = {algorithm, values[i], ""};
    }
    return out;
  }
  FindPartChecksum Find() const {
    return [this](int n) -> const PartChecksum* {
      return n >= 1 && static_cast<size_t>(n) <= stored.size() ? &stored[n - 1] : nullptr;
    };
  }
};

TEST(MultipartChecksumRules, CompositeMatchesS3sOwnAnswer) {
  // S3's CompleteMultipartUpload for three SHA256 parts of 5, 5 and 1 MiB, from the part
  // checksums its UploadPart responses gave (multipart_checksum.h).
  Parts p;
  p.algorithm = "sha256";
  p.values = {"lcKa6Boe7a167tUCN5C4OaFygGSYD8MBnBARTrdL+1w=",
              "gHjhbUT4oo2tSCtSZJdlKi+jeNXJT+VImqdPXsXvkOc=",
              "4l9PQ3zOPZ0oGFvknFX+J4zZwE4WMzO+l3r8XrbWOeM="};
  p.Build(Kind::kSha256);
  auto got = CompleteChecksum({"sha256", "COMPOSITE"}, p.Listed(true), p.Find(), {});
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->algorithm, "sha256");
  EXPECT_EQ(got->type, "COMPOSITE");
  EXPECT_EQ(got->value, "rVWtNbadtsaKXJAcgWPWjifHzJaXde/iV4jaJAOdivc=-3");
  // The client's full value, with or without "-3", is accepted; another is BadDigest.
  for (const std::string sent : {"rVWtNbadtsaKXJAcgWPWjifHzJaXde/iV4jaJAOdivc=-3",
                                 "rVWtNbadtsaKXJAcgWPWjifHzJaXde/iV4jaJAOdivc="}) {
    EXPECT_TRUE(
        CompleteChecksum({"sha256", "COMPOSITE"}, p.Listed(true), p.Find(), {"sha256", sent, ""})
            .ok())
        << sent;
  }
  EXPECT_EQ(CompleteChecksum({"sha256", "COMPOSITE"}, p.Listed(true), p.Find(),
                             {"sha256", "lcKa6Boe7a167tUCN5C4OaFygGSYD8MBnBARTrdL+1w=", ""})
                .status()
                .code(),
            ErrorCode::kBadDigest);
}

TEST(MultipartChecksumRules, CompositeAndFullObjectOfRealData) {
  Parts p;
  p.data = {Pattern(5 * kMiB), Pattern(5 * kMiB + 3, 7), "tail"};
  const std::string whole = p.data[0] + p.data[1] + p.data[2];
  for (const auto& [kind, algorithm, full] :
       std::vector<std::tuple<Kind, std::string, bool>>{{Kind::kCrc32, "crc32", true},
                                                        {Kind::kCrc32c, "crc32c", true},
                                                        {Kind::kCrc64Nvme, "crc64nvme", true},
                                                        {Kind::kCrc32, "crc32", false},
                                                        {Kind::kCrc32c, "crc32c", false},
                                                        {Kind::kSha1, "sha1", false}}) {
    p.algorithm = algorithm;
    p.values.clear();
    p.Build(kind);
    const ChecksumSpec spec{algorithm, full ? "FULL_OBJECT" : "COMPOSITE"};
    auto got = CompleteChecksum(spec, p.Listed(true), p.Find(), {});
    ASSERT_TRUE(got.ok()) << algorithm << " " << got.status().ToString();
    if (full) {
      // The CRC of the whole object, as a client computes it over its file.
      EXPECT_EQ(got->value, B64(kind, whole)) << algorithm;
    } else {
      const std::string parts_raw = Raw(kind, p.data[0]) + Raw(kind, p.data[1]) + Raw(kind, "tail");
      EXPECT_EQ(got->value, B64(kind, parts_raw) + "-3") << algorithm;
    }
    EXPECT_EQ(got->type, spec.type);
    // FULL_OBJECT: the parts need not be listed with checksums.
    EXPECT_EQ(CompleteChecksum(spec, p.Listed(false), p.Find(), {}).ok(), full) << algorithm;
  }
  // One part, and an empty last part.
  Parts one;
  one.data = {"only part"};
  one.algorithm = "crc64nvme";
  one.Build(Kind::kCrc64Nvme);
  EXPECT_EQ(
      CompleteChecksum({"crc64nvme", "FULL_OBJECT"}, one.Listed(false), one.Find(), {})->value,
      B64(Kind::kCrc64Nvme, "only part"));
  Parts empty_last;
  empty_last.data = {Pattern(5 * kMiB), ""};
  empty_last.algorithm = "crc32c";
  empty_last.Build(Kind::kCrc32c);
  EXPECT_EQ(
      CompleteChecksum({"crc32c", "FULL_OBJECT"}, empty_last.Listed(true), empty_last.Find(), {})
          ->value,
      B64(Kind::kCrc32c, Pattern(5 * kMiB)));
  // No algorithm: no checksum, and listed part checksums are still compared.
  Parts plain;
  plain.data = {"a", "b"};
  plain.algorithm = "crc32";
  plain.Build(Kind::kCrc32);
  auto none = CompleteChecksum({}, plain.Listed(true), plain.Find(), {});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->algorithm.empty());
}

TEST(MultipartChecksumRules, CompleteRefusals) {
  Parts p;
  p.data = {Pattern(5 * kMiB), "tail"};
  p.algorithm = "crc32c";
  p.Build(Kind::kCrc32c);
  const ChecksumSpec composite{"crc32c", "COMPOSITE"};
  const ChecksumSpec full{"crc32c", "FULL_OBJECT"};
  const auto code = [&](const ChecksumSpec& spec, const std::vector<CompletedPart>& listed,
                        const Checksum& sent) {
    return CompleteChecksum(spec, listed, p.Find(), sent).status().code();
  };
  // A listed checksum that is not the part's: InvalidPart (value, then algorithm).
  auto wrong = p.Listed(true);
  wrong[1].checksum.value = B64(Kind::kCrc32c, "other");
  EXPECT_EQ(code(composite, wrong, {}), ErrorCode::kInvalidPart);
  EXPECT_EQ(code(full, wrong, {}), ErrorCode::kInvalidPart);
  wrong = p.Listed(true);
  wrong[0].checksum = {"crc32", B64(Kind::kCrc32, p.data[0]), ""};
  EXPECT_EQ(code(composite, wrong, {}), ErrorCode::kInvalidPart);
  // COMPOSITE needs every part's checksum listed: S3's InvalidRequest, naming the part.
  auto missing = p.Listed(true);
  missing[1].checksum = {};
  auto st = CompleteChecksum(composite, missing, p.Find(), {}).status();
  EXPECT_EQ(st.code(), ErrorCode::kInvalidRequest);
  EXPECT_NE(st.message().find("It was missing for part 2 in the request"), std::string::npos)
      << st.message();
  // The client's object checksum and type.
  const std::string whole = B64(Kind::kCrc32c, p.data[0] + p.data[1]);
  EXPECT_EQ(code(full, p.Listed(false), {"crc32c", whole, "FULL_OBJECT"}), ErrorCode::kOk);
  EXPECT_EQ(code(full, p.Listed(false), {"crc32c", B64(Kind::kCrc32c, "x"), ""}),
            ErrorCode::kBadDigest);
  EXPECT_EQ(code(full, p.Listed(false), {"", "", "COMPOSITE"}), ErrorCode::kBadDigest);
  EXPECT_EQ(code(composite, p.Listed(true), {"", "", "FULL_OBJECT"}), ErrorCode::kBadDigest);
  EXPECT_EQ(code(full, p.Listed(false), {"crc32", B64(Kind::kCrc32, "x"), ""}),
            ErrorCode::kInvalidRequest);
  EXPECT_EQ(code({}, p.Listed(false), {"crc32c", whole, ""}), ErrorCode::kInvalidRequest);
  EXPECT_EQ(code({}, p.Listed(false), {"", "", "FULL_OBJECT"}), ErrorCode::kInvalidRequest);
  // A part of the upload without its checksum recorded cannot be combined (an internal error:
  // UploadPart sees that every part has one).
  Parts bare = p;
  bare.stored[1].algorithm = "";
  bare.stored[1].value = "";
  EXPECT_EQ(CompleteChecksum(full, p.Listed(false), bare.Find(), {}).status().code(),
            ErrorCode::kInternal);
}

// ---------------------------------------------------------------- through the service

class ChecksumFlowTest : public S3Test {
 protected:
  static constexpr const char* kKey = "/conn-demo/t/mp.json";

  // CreateMultipartUpload with these headers (null: not sent); returns the outcome.
  Outcome Create(const char* algorithm, const char* type) {
    Replay create = Signed("POST", kKey, "uploads");
    if (algorithm != nullptr)
      create.head.headers.emplace_back("x-amz-checksum-algorithm", algorithm);
    if (type != nullptr) create.head.headers.emplace_back("x-amz-checksum-type", type);
    Resign(&create);
    return Run(create);
  }
  std::string CreateId(const char* algorithm, const char* type) {
    const Outcome out = Create(algorithm, type);
    EXPECT_EQ(out.response.status, 200) << out.response.body;
    return Tag(out.response.body, "UploadId");
  }
  // UploadPart with `checksum` = {header name, value} (empty name: none).
  Outcome Part(const std::string& id, int n, const std::string& body,
               const std::pair<std::string, std::string>& checksum = {}) {
    Replay part = Signed("PUT", kKey, "partNumber=" + std::to_string(n) + "&uploadId=" + id, body);
    if (!checksum.first.empty()) {
      part.head.headers.emplace_back(checksum.first, checksum.second);
      Resign(&part);
    }
    return Run(part, 1 << 20);
  }
  // The same part as an aws-chunked body with its checksum in the trailer (unsigned chunks),
  // as the SDKs send parts by default.
  Outcome TrailerPart(const std::string& id, int n, const std::string& body,
                      const std::string& trailer_name, const std::string& trailer_value) {
    char size[32];
    std::snprintf(size, sizeof size, "%zx", body.size());
    const std::string framed = std::string(size) + "\r\n" + body + "\r\n0\r\n" + trailer_name +
                               ":" + trailer_value + "\r\n\r\n";
    Replay part = Signed("PUT", kKey, "partNumber=" + std::to_string(n) + "&uploadId=" + id, "");
    SetHeader(&part.head.headers, "x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER");
    part.head.headers.emplace_back("Content-Encoding", "aws-chunked");
    part.head.headers.emplace_back("x-amz-trailer", trailer_name);
    part.head.headers.emplace_back("x-amz-decoded-content-length", std::to_string(body.size()));
    SetHeader(&part.head.headers, "content-length", std::to_string(framed.size()));
    part.head.content_length = framed.size();
    part.body = framed;
    Resign(&part);
    return Run(part, 1000);
  }
  Outcome Complete(const std::string& id, const std::string& parts,
                   const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    Replay complete = Signed("POST", kKey, "uploadId=" + id,
                             "<CompleteMultipartUpload>" + parts + "</CompleteMultipartUpload>");
    for (const auto& h : headers) complete.head.headers.push_back(h);
    Resign(&complete);
    return Run(complete);
  }
  static std::string PartXml(int n, const std::string& body, const std::string& element = "",
                             const std::string& value = "") {
    std::string xml = "<Part><PartNumber>" + std::to_string(n) + "</PartNumber><ETag>\"" +
                      Md5Hex(body) + "\"</ETag>";
    if (!element.empty()) xml += "<" + element + ">" + value + "</" + element + ">";
    return xml + "</Part>";
  }
  Outcome Get(const std::string& method, bool mode, const std::string& range = "") {
    Replay get = Signed(method, kKey);
    if (mode) get.head.headers.emplace_back("x-amz-checksum-mode", "ENABLED");
    if (!range.empty()) get.head.headers.emplace_back("Range", range);
    Resign(&get);
    return Run(get);
  }

  const std::string big_ = Pattern(5 * kMiB);
  const std::string tail_ = "{\"id\": 2}\n";
};

TEST_F(ChecksumFlowTest, CreateEchoesAndRefusesAsS3) {
  Outcome out = Create("crc32c", nullptr);
  ASSERT_EQ(out.response.status, 200) << out.response.body;
  EXPECT_EQ(HeaderOf(out.response.headers, "x-amz-checksum-algorithm"), "CRC32C");
  EXPECT_EQ(HeaderOf(out.response.headers, "x-amz-checksum-type"), "COMPOSITE");
  const std::string id = Tag(out.response.body, "UploadId");
  EXPECT_EQ(backend_.uploads.at(id).request.checksum.algorithm, "crc32c");
  EXPECT_EQ(backend_.uploads.at(id).request.checksum.type, "COMPOSITE");

  out = Create("CRC32", "FULL_OBJECT");
  EXPECT_EQ(HeaderOf(out.response.headers, "x-amz-checksum-algorithm"), "CRC32");
  EXPECT_EQ(HeaderOf(out.response.headers, "x-amz-checksum-type"), "FULL_OBJECT");
  out = Create("CRC64NVME", nullptr);
  EXPECT_EQ(HeaderOf(out.response.headers, "x-amz-checksum-type"), "FULL_OBJECT");
  out = Create(nullptr, nullptr);
  EXPECT_FALSE(HasHeader(out.response.headers, "x-amz-checksum-algorithm"));
  EXPECT_FALSE(HasHeader(out.response.headers, "x-amz-checksum-type"));

  const size_t uploads = backend_.uploads.size();
  for (const auto& [algorithm, type] :
       std::vector<std::pair<const char*, const char*>>{{"SHA256", "FULL_OBJECT"},
                                                        {"SHA1", "FULL_OBJECT"},
                                                        {"CRC64NVME", "COMPOSITE"},
                                                        {"MD5", nullptr},
                                                        {nullptr, "FULL_OBJECT"},
                                                        {"CRC32", "SOMETIMES"}}) {
    out = Create(algorithm, type);
    EXPECT_EQ(out.response.status, 400) << (algorithm ? algorithm : "-");
    EXPECT_EQ(ErrorCodeOf(out.response), "InvalidRequest") << (algorithm ? algorithm : "-");
  }
  EXPECT_EQ(backend_.uploads.size(), uploads);  // none was created
}

TEST_F(ChecksumFlowTest, CompositeUploadFromPartsToHead) {
  const std::string id = CreateId("CRC32C", nullptr);
  const std::string c1 = B64(Kind::kCrc32c, big_);
  const std::string c2 = B64(Kind::kCrc32c, tail_);
  // Part 1 with the header, part 2 with the trailer, as the SDKs send them; each echoed.
  Outcome out = Part(id, 1, big_, {"x-amz-checksum-crc32c", c1});
  ASSERT_EQ(out.response.status, 200) << out.response.body;
  EXPECT_EQ(HeaderOf(out.response.headers, "x-amz-checksum-crc32c"), c1);
  out = TrailerPart(id, 2, tail_, "x-amz-checksum-crc32c", c2);
  ASSERT_EQ(out.response.status, 200) << out.response.body;
  EXPECT_EQ(HeaderOf(out.response.headers, "x-amz-checksum-crc32c"), c2);
  EXPECT_FALSE(HasHeader(out.response.headers, "x-amz-checksum-type"));  // a part has none

  // ListParts gives each part's checksum.
  out = Run(Signed("GET", kKey, "uploadId=" + id));
  ASSERT_EQ(out.response.status, 200) << out.response.body;
  EXPECT_EQ(All(out.response.body, "<ChecksumCRC32C>([^<]*)</ChecksumCRC32C>"),
            (std::vector<std::string>{c1, c2}));

  // Complete: the checksum of the two raw part checksums, "-2".
  const std::string expected =
      B64(Kind::kCrc32c, Raw(Kind::kCrc32c, big_) + Raw(Kind::kCrc32c, tail_)) + "-2";
  out = Complete(id,
                 PartXml(1, big_, "ChecksumCRC32C", c1) + PartXml(2, tail_, "ChecksumCRC32C", c2));
  ASSERT_EQ(out.response.status, 200) << out.response.body;
  EXPECT_EQ(Tag(out.response.body, "ChecksumCRC32C"), expected);
  EXPECT_EQ(Tag(out.response.body, "ChecksumType"), "COMPOSITE");
  EXPECT_EQ(HeaderOf(out.response.headers, "x-amz-checksum-type"), "COMPOSITE");
  // The elements follow the ETag, as in S3's response.
  EXPECT_LT(out.response.body.find("</ETag>"), out.response.body.find("<ChecksumCRC32C>"));

  // HEAD and GET with x-amz-checksum-mode: ENABLED return it; without, or for a range, not.
  for (const std::string method : {"HEAD", "GET"}) {
    out = Get(method, true);
    ASSERT_EQ(out.response.status, 200) << method;
    EXPECT_EQ(HeaderOf(out.response.headers, "x-amz-checksum-crc32c"), expected) << method;
    EXPECT_EQ(HeaderOf(out.response.headers, "x-amz-checksum-type"), "COMPOSITE") << method;
    out = Get(method, false);
    EXPECT_FALSE(HasHeader(out.response.headers, "x-amz-checksum-crc32c")) << method;
    EXPECT_FALSE(HasHeader(out.response.headers, "x-amz-checksum-type")) << method;
  }
  out = Get("GET", true, "bytes=0-9");
  EXPECT_EQ(out.response.status, 206);
  EXPECT_FALSE(HasHeader(out.response.headers, "x-amz-checksum-crc32c"));
  EXPECT_FALSE(HasHeader(out.response.headers, "x-amz-checksum-type"));
}

TEST_F(ChecksumFlowTest, CompositePartsMustCarryTheirChecksum) {
  const std::string id = CreateId("SHA256", "COMPOSITE");
  const int aborted = backend_.aborted;
  // No checksum, or one of another algorithm: refused before the body, the sink given back.
  for (const auto& checksum : std::vector<std::pair<std::string, std::string>>{
           {}, {"x-amz-checksum-crc32", B64(Kind::kCrc32, tail_)}}) {
    const Outcome out = Part(id, 1, tail_, checksum);
    EXPECT_TRUE(out.immediate) << checksum.first;
    EXPECT_EQ(out.response.status, 400) << checksum.first;
    EXPECT_EQ(ErrorCodeOf(out.response), "InvalidRequest") << checksum.first;
    EXPECT_NE(out.response.body.find("expected checksum Type: sha256"), std::string::npos);
  }
  EXPECT_EQ(backend_.aborted, aborted + 2);
  EXPECT_TRUE(backend_.uploads.at(id).parts.empty());
  // A wrong value: BadDigest after the body, nothing stored.
  Outcome out = Part(id, 1, tail_, {"x-amz-checksum-sha256", B64(Kind::kSha256, "other")});
  EXPECT_EQ(ErrorCodeOf(out.response), "BadDigest");
  EXPECT_TRUE(backend_.uploads.at(id).parts.empty());
  const std::string sha = B64(Kind::kSha256, tail_);
  out = Part(id, 1, tail_, {"x-amz-checksum-sha256", sha});
  ASSERT_EQ(out.response.status, 200) << out.response.body;
  // Complete without the part's checksum: S3's InvalidRequest; with a wrong one: InvalidPart.
  out = Complete(id, PartXml(1, tail_));
  EXPECT_EQ(ErrorCodeOf(out.response), "InvalidRequest");
  EXPECT_NE(out.response.body.find("It was missing for part 1 in the request"), std::string::npos)
      << out.response.body;
  out = Complete(id, PartXml(1, tail_, "ChecksumSHA256", B64(Kind::kSha256, "other")));
  EXPECT_EQ(ErrorCodeOf(out.response), "InvalidPart");
  out = Complete(id, PartXml(1, tail_, "ChecksumCRC32", B64(Kind::kCrc32, tail_)));
  EXPECT_EQ(ErrorCodeOf(out.response), "InvalidPart");
  out = Complete(id,
                 "<Part><PartNumber>1</PartNumber><ETag>x</ETag><ChecksumSHA256>a</"
                 "ChecksumSHA256><ChecksumCRC32>b</ChecksumCRC32></Part>");
  EXPECT_EQ(ErrorCodeOf(out.response), "MalformedXML");
  EXPECT_TRUE(backend_.objects.empty());
  // The right list completes, a single part's composite ending in "-1".
  out = Complete(id, PartXml(1, tail_, "ChecksumSHA256", sha));
  ASSERT_EQ(out.response.status, 200) << out.response.body;
  EXPECT_EQ(Tag(out.response.body, "ChecksumSHA256"),
            B64(Kind::kSha256, Raw(Kind::kSha256, tail_)) + "-1");
}

TEST_F(ChecksumFlowTest, FullObjectUploadCombinesThePartCrcs) {
  const std::string id = CreateId("CRC64NVME", nullptr);
  // Part 1 sent without a checksum: computed as it arrives, echoed and recorded (S3 does so).
  Outcome out = Part(id, 1, big_);
  ASSERT_EQ(out.response.status, 200) << out.response.body;
  EXPECT_EQ(HeaderOf(out.response.headers, "x-amz-checksum-crc64nvme"),
            B64(Kind::kCrc64Nvme, big_));
  out = Part(id, 2, tail_, {"x-amz-checksum-crc64nvme", B64(Kind::kCrc64Nvme, tail_)});
  ASSERT_EQ(out.response.status, 200) << out.response.body;
  // A part of another algorithm is refused.
  out = Part(id, 3, tail_, {"x-amz-checksum-crc32", B64(Kind::kCrc32, tail_)});
  EXPECT_EQ(ErrorCodeOf(out.response), "InvalidRequest");

  const std::string whole = B64(Kind::kCrc64Nvme, big_ + tail_);
  const std::string parts = PartXml(1, big_) + PartXml(2, tail_);  // checksums not listed
  // The client's full-object value and type on Complete are checked, nothing stored on a
  // mismatch.
  for (const auto& [headers, code] :
       std::vector<std::pair<std::vector<std::pair<std::string, std::string>>, std::string>>{
           {{{"x-amz-checksum-crc64nvme", B64(Kind::kCrc64Nvme, big_)}}, "BadDigest"},
           {{{"x-amz-checksum-type", "COMPOSITE"}}, "BadDigest"},
           {{{"x-amz-checksum-crc32", B64(Kind::kCrc32, big_ + tail_)}}, "InvalidRequest"},
           {{{"x-amz-checksum-crc64nvme", whole}, {"x-amz-checksum-crc32", "AAAAAA=="}},
            "InvalidRequest"}}) {
    out = Complete(id, parts, headers);
    EXPECT_EQ(ErrorCodeOf(out.response), code) << headers[0].first;
    EXPECT_TRUE(backend_.objects.empty());
  }
  out = Complete(id, parts,
                 {{"x-amz-checksum-crc64nvme", whole}, {"x-amz-checksum-type", "FULL_OBJECT"}});
  ASSERT_EQ(out.response.status, 200) << out.response.body;
  EXPECT_EQ(Tag(out.response.body, "ChecksumCRC64NVME"), whole);
  EXPECT_EQ(Tag(out.response.body, "ChecksumType"), "FULL_OBJECT");
  EXPECT_EQ(HeaderOf(out.response.headers, "x-amz-checksum-type"), "FULL_OBJECT");
  out = Get("HEAD", true);
  EXPECT_EQ(HeaderOf(out.response.headers, "x-amz-checksum-crc64nvme"), whole);
  EXPECT_EQ(HeaderOf(out.response.headers, "x-amz-checksum-type"), "FULL_OBJECT");
}

TEST_F(ChecksumFlowTest, UploadsWithoutAnAlgorithmAndSinglePuts) {
  // No algorithm: parts may carry any checksum (verified, listed), the object has none.
  const std::string id = CreateId(nullptr, nullptr);
  ASSERT_EQ(Part(id, 1, tail_, {"x-amz-checksum-crc32", B64(Kind::kCrc32, tail_)}).response.status,
            200);
  Outcome out = Complete(id, PartXml(1, tail_, "ChecksumCRC32", B64(Kind::kCrc32, tail_)),
                         {{"x-amz-checksum-crc32", B64(Kind::kCrc32, tail_)}});
  EXPECT_EQ(ErrorCodeOf(out.response), "InvalidRequest");  // nothing to check it against
  out = Complete(id, PartXml(1, tail_, "ChecksumCRC32", B64(Kind::kCrc32, tail_)));
  ASSERT_EQ(out.response.status, 200) << out.response.body;
  EXPECT_EQ(out.response.body.find("<Checksum"), std::string::npos);
  EXPECT_FALSE(HasHeader(out.response.headers, "x-amz-checksum-type"));
  out = Get("HEAD", true);
  EXPECT_FALSE(HasHeader(out.response.headers, "x-amz-checksum-type"));

  // A single PUT's verified checksum comes back FULL_OBJECT.
  Replay put = Signed("PUT", kKey, "", tail_);
  put.head.headers.emplace_back("x-amz-checksum-sha1", B64(Kind::kSha1, tail_));
  Resign(&put);
  ASSERT_EQ(Run(put).response.status, 200);
  out = Get("GET", true);
  EXPECT_EQ(HeaderOf(out.response.headers, "x-amz-checksum-sha1"), B64(Kind::kSha1, tail_));
  EXPECT_EQ(HeaderOf(out.response.headers, "x-amz-checksum-type"), "FULL_OBJECT");
}

}  // namespace
}  // namespace sluice::s3
