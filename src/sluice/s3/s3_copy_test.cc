// CopyObject and UploadPartCopy, the standard headers an object keeps and the response-*
// overrides of GetObject, and the write conditions of PutObject.

#include <gtest/gtest.h>

#include "sluice/s3/s3.h"
#include "sluice/s3/s3_testing.h"

namespace sluice::s3 {
namespace {

using namespace s3test;  // NOLINT(google-build-using-namespace)

class S3CopyTest : public S3Test {
 protected:
  Outcome Put(const std::string& path, std::string body,
              std::vector<std::pair<std::string, std::string>> headers = {}) {
    Replay rp = Signed("PUT", path, "", std::move(body));
    for (auto& [name, value] : headers) SetHeader(&rp.head.headers, name, value);
    Resign(&rp);
    return Run(rp);
  }
  Outcome Copy(const std::string& path, const std::string& source,
               std::vector<std::pair<std::string, std::string>> headers = {},
               const std::string& query = "") {
    Replay rp = Signed("PUT", path, query);
    SetHeader(&rp.head.headers, "x-amz-copy-source", source);
    for (auto& [name, value] : headers) SetHeader(&rp.head.headers, name, value);
    Resign(&rp);
    return Run(rp);
  }
  Outcome Get(const std::string& path, const std::string& query = "") {
    return Run(Signed("GET", path, query));
  }
};

TEST_F(S3CopyTest, CopyObjectCopiesBytesAndMetadata) {
  ASSERT_EQ(Put("/conn-demo/src/a.bin", "0123456789",
                {{"Content-Type", "text/plain"},
                 {"Content-Encoding", "aws-chunked, gzip"},
                 {"Cache-Control", "max-age=60"},
                 {"x-amz-meta-origin", "one"}})
                .response.status,
            200);
  const Outcome out = Copy("/conn-demo/dst/b.bin", "/conn-demo/src/a.bin");
  ASSERT_EQ(out.response.status, 200) << out.response.body;
  EXPECT_EQ(Tag(out.response.body, "ETag"), "&quot;" + Md5Hex("0123456789") + "&quot;");
  EXPECT_NE(out.response.body.find("<CopyObjectResult"), std::string::npos);
  EXPECT_FALSE(HeaderOf(out.response.headers, "x-amz-version-id").empty());
  const auto& copied = backend_.objects.at("conn-demo/dst/b.bin");
  EXPECT_EQ(copied.bytes, "0123456789");
  EXPECT_EQ(copied.request.content_type, "text/plain");
  // aws-chunked is the request's framing, not the object's encoding: not stored.
  EXPECT_EQ(copied.request.headers,
            (StoredHeaders{{"cache-control", "max-age=60"}, {"content-encoding", "gzip"}}));
  EXPECT_EQ(copied.request.user_metadata,
            (std::vector<std::pair<std::string, std::string>>{{"x-amz-meta-origin", "one"}}));

  // REPLACE takes the request's.
  ASSERT_EQ(Copy("/conn-demo/dst/c.bin", "conn-demo/src/a.bin",
                 {{"x-amz-metadata-directive", "REPLACE"}, {"x-amz-meta-origin", "two"}})
                .response.status,
            200);
  const auto& replaced = backend_.objects.at("conn-demo/dst/c.bin");
  EXPECT_TRUE(replaced.request.headers.empty());
  EXPECT_EQ(replaced.request.user_metadata,
            (std::vector<std::pair<std::string, std::string>>{{"x-amz-meta-origin", "two"}}));
  // A URL-encoded source key.
  ASSERT_EQ(Put("/conn-demo/src/sp%20ace.bin", "x").response.status, 200);
  EXPECT_EQ(Copy("/conn-demo/dst/d.bin", "conn-demo/src/sp%20ace.bin").response.status, 200);
}

TEST_F(S3CopyTest, CopyObjectRefusals) {
  ASSERT_EQ(Put("/conn-demo/src/a.bin", "abc").response.status, 200);
  const std::string etag = "\"" + Md5Hex("abc") + "\"";
  EXPECT_EQ(ErrorCodeOf(Copy("/conn-demo/d", "conn-demo/src/none").response), "NoSuchKey");
  EXPECT_EQ(ErrorCodeOf(Copy("/conn-demo/d", "conn-demo").response), "InvalidArgument");
  EXPECT_EQ(ErrorCodeOf(Copy("/conn-demo/d", "/conn-demo/").response), "InvalidArgument");
  EXPECT_EQ(ErrorCodeOf(Copy("/conn-demo/d", "conn-demo/src/%zz").response), "InvalidArgument");
  EXPECT_EQ(ErrorCodeOf(Copy("/conn-demo/d", "conn-other/src/a.bin").response), "AccessDenied");
  EXPECT_EQ(ErrorCodeOf(Copy("/conn-demo/src/a.bin", "conn-demo/src/a.bin").response),
            "InvalidRequest");
  EXPECT_EQ(ErrorCodeOf(
                Copy("/conn-demo/d", "conn-demo/src/a.bin", {{"x-amz-metadata-directive", "MERGE"}})
                    .response),
            "InvalidArgument");
  // The source conditions.
  EXPECT_EQ(Copy("/conn-demo/d", "conn-demo/src/a.bin", {{"x-amz-copy-source-if-match", etag}})
                .response.status,
            200);
  EXPECT_EQ(ErrorCodeOf(Copy("/conn-demo/d", "conn-demo/src/a.bin",
                             {{"x-amz-copy-source-if-match", "\"00\""}})
                            .response),
            "PreconditionFailed");
  EXPECT_EQ(ErrorCodeOf(Copy("/conn-demo/d", "conn-demo/src/a.bin",
                             {{"x-amz-copy-source-if-none-match", etag}})
                            .response),
            "PreconditionFailed");
  // The fake's objects were modified in November 2026.
  EXPECT_EQ(
      ErrorCodeOf(Copy("/conn-demo/d", "conn-demo/src/a.bin",
                       {{"x-amz-copy-source-if-modified-since", "Wed, 01 Jan 2031 00:00:00 GMT"}})
                      .response),
      "PreconditionFailed");
  EXPECT_EQ(ErrorCodeOf(
                Copy("/conn-demo/d", "conn-demo/src/a.bin",
                     {{"x-amz-copy-source-if-unmodified-since", "Sunday, 01-Jan-23 00:00:00 GMT"}})
                    .response),
            "PreconditionFailed");
  EXPECT_EQ(Copy("/conn-demo/d", "conn-demo/src/a.bin",
                 {{"x-amz-copy-source-if-unmodified-since", "Wed Jan  1 00:00:00 2031"}})
                .response.status,
            200);
  // The destination's own condition.
  EXPECT_EQ(
      ErrorCodeOf(Copy("/conn-demo/d", "conn-demo/src/a.bin", {{"If-None-Match", "*"}}).response),
      "PreconditionFailed");
}

TEST_F(S3CopyTest, UploadPartCopyTakesARange) {
  ASSERT_EQ(Put("/conn-demo/src/a.bin", "0123456789").response.status, 200);
  Outcome out = Run(Signed("POST", "/conn-demo/dst/m.bin", "uploads"));
  ASSERT_EQ(out.response.status, 200) << out.response.body;
  const std::string id = Tag(out.response.body, "UploadId");
  const std::string q = "partNumber=1&uploadId=" + id;
  out = Copy("/conn-demo/dst/m.bin", "conn-demo/src/a.bin",
             {{"x-amz-copy-source-range", "bytes=2-5"}}, q);
  ASSERT_EQ(out.response.status, 200) << out.response.body;
  EXPECT_NE(out.response.body.find("<CopyPartResult"), std::string::npos);
  EXPECT_EQ(Tag(out.response.body, "ETag"), "&quot;" + Md5Hex("2345") + "&quot;");
  for (const char* bad : {"bytes=5-10", "bytes=5-4", "bytes=x-1", "items=0-1", "bytes=3"}) {
    EXPECT_EQ(ErrorCodeOf(Copy("/conn-demo/dst/m.bin", "conn-demo/src/a.bin",
                               {{"x-amz-copy-source-range", bad}}, q)
                              .response),
              "InvalidArgument")
        << bad;
  }
  // Without a range, the whole object.
  out = Copy("/conn-demo/dst/m.bin", "conn-demo/src/a.bin", {}, "partNumber=2&uploadId=" + id);
  EXPECT_EQ(Tag(out.response.body, "ETag"), "&quot;" + Md5Hex("0123456789") + "&quot;");
  EXPECT_EQ(ErrorCodeOf(Copy("/conn-demo/dst/m.bin", "conn-demo/src/a.bin", {},
                             "partNumber=2&uploadId=nope")
                            .response),
            "NoSuchUpload");
}

TEST_F(S3CopyTest, CopiesKeepTheSourcesChecksum) {
  ASSERT_EQ(Put("/conn-demo/src/a.bin", "0123456789", {{"x-amz-checksum-crc32", "poTHxg=="}})
                .response.status,
            200);
  Outcome out = Copy("/conn-demo/dst/b.bin", "conn-demo/src/a.bin");
  ASSERT_EQ(out.response.status, 200) << out.response.body;
  EXPECT_EQ(HeaderOf(out.response.headers, "x-amz-checksum-crc32"), "poTHxg==");
  EXPECT_EQ(Tag(out.response.body, "ChecksumCRC32"), "poTHxg==");
  EXPECT_EQ(backend_.objects.at("conn-demo/dst/b.bin").digests.checksums,
            (std::vector<std::pair<std::string, std::string>>{{"crc32", "poTHxg=="}}));
  // Another algorithm when asked; none when the source has none and none is asked.
  out =
      Copy("/conn-demo/dst/c.bin", "conn-demo/src/a.bin", {{"x-amz-checksum-algorithm", "SHA256"}});
  ASSERT_EQ(out.response.status, 200) << out.response.body;
  EXPECT_FALSE(HeaderOf(out.response.headers, "x-amz-checksum-sha256").empty());
  ASSERT_EQ(Put("/conn-demo/src/plain.bin", "2345").response.status, 200);
  out = Copy("/conn-demo/dst/d.bin", "conn-demo/src/plain.bin");
  EXPECT_TRUE(backend_.objects.at("conn-demo/dst/d.bin").digests.checksums.empty());
  // Asked for on a copy of a source without one.
  out = Copy("/conn-demo/dst/e.bin", "conn-demo/src/plain.bin",
             {{"x-amz-checksum-algorithm", "crc32"}});
  EXPECT_EQ(HeaderOf(out.response.headers, "x-amz-checksum-crc32"), "sNKDKw==");
  // A source whose bytes no longer match its checksum is not copied.
  backend_.objects.at("conn-demo/src/a.bin").bytes = "0123456780";
  out = Copy("/conn-demo/dst/f.bin", "conn-demo/src/a.bin");
  EXPECT_EQ(out.response.status, 500);
  EXPECT_FALSE(backend_.objects.count("conn-demo/dst/f.bin"));
}

TEST_F(S3CopyTest, StoredHeadersAndResponseOverrides) {
  ASSERT_EQ(Put("/conn-demo/w/p.gz", "zz",
                {{"Content-Encoding", "gzip"},
                 {"Content-Disposition", "attachment"},
                 {"Content-Language", "de"},
                 {"Expires", "Wed, 21 Oct 2026 07:28:00 GMT"}})
                .response.status,
            200);
  Outcome out = Get("/conn-demo/w/p.gz");
  ASSERT_EQ(out.response.status, 200);
  EXPECT_EQ(HeaderOf(out.response.headers, "Content-Encoding"), "gzip");
  EXPECT_EQ(HeaderOf(out.response.headers, "Content-Disposition"), "attachment");
  EXPECT_EQ(HeaderOf(out.response.headers, "Content-Language"), "de");
  EXPECT_EQ(HeaderOf(out.response.headers, "Expires"), "Wed, 21 Oct 2026 07:28:00 GMT");
  EXPECT_EQ(HeaderOf(out.response.headers, "Content-Type"), "binary/octet-stream");
  out = Get("/conn-demo/w/p.gz",
            "response-content-type=text%2Fplain&response-content-disposition=inline&"
            "response-cache-control=no-store");
  EXPECT_EQ(HeaderOf(out.response.headers, "Content-Type"), "text/plain");
  EXPECT_EQ(HeaderOf(out.response.headers, "Content-Disposition"), "inline");
  EXPECT_EQ(HeaderOf(out.response.headers, "Cache-Control"), "no-store");
  EXPECT_EQ(HeaderOf(out.response.headers, "Content-Encoding"), "gzip");
}

TEST_F(S3CopyTest, WriteConditionsOnPut) {
  EXPECT_EQ(Put("/conn-demo/c/a", "1", {{"If-None-Match", "*"}}).response.status, 200);
  EXPECT_EQ(ErrorCodeOf(Put("/conn-demo/c/a", "2", {{"If-None-Match", "*"}}).response),
            "PreconditionFailed");
  EXPECT_EQ(Put("/conn-demo/c/a", "2", {{"If-None-Match", "*"}}).response.status, 412);
  // If-None-Match with an ETag is not a write condition S3 has.
  EXPECT_EQ(ErrorCodeOf(Put("/conn-demo/c/a", "2", {{"If-None-Match", "\"abc\""}}).response),
            "NotImplemented");
  EXPECT_EQ(ErrorCodeOf(Put("/conn-demo/c/b", "2", {{"If-Match", "\"abc\""}}).response),
            "NoSuchKey");
  EXPECT_EQ(ErrorCodeOf(Put("/conn-demo/c/a", "2", {{"If-Match", "\"abc\""}}).response),
            "PreconditionFailed");
  EXPECT_EQ(ErrorCodeOf(Put("/conn-demo/c/a", "2", {{"If-Match", "\"\""}}).response),
            "InvalidArgument");
  EXPECT_EQ(Put("/conn-demo/c/a", "2", {{"If-Match", "\"" + Md5Hex("1") + "\""}}).response.status,
            200);
  EXPECT_EQ(backend_.objects.at("conn-demo/c/a").bytes, "2");
}

}  // namespace
}  // namespace sluice::s3
