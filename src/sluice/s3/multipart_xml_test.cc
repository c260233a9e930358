// The two XML request bodies: every shape the recorded clients send, and malformed, hostile and
// oversized documents failing with MalformedXML.

#include <gtest/gtest.h>

#include <string>

#include "sluice/s3/multipart_xml_internal.h"

namespace sluice::s3 {
namespace {

std::vector<std::pair<int, std::string>> Parts(std::string_view xml) {
  auto parts = ParseCompleteMultipartUpload(xml);
  EXPECT_TRUE(parts.ok()) << parts.status().ToString();
  std::vector<std::pair<int, std::string>> out;
  if (!parts.ok()) return out;
  for (const CompletedPart& p : *parts) out.emplace_back(p.part_number, p.etag);
  return out;
}

ErrorCode CompleteError(std::string_view xml) {
  return ParseCompleteMultipartUpload(xml).status().code();
}

TEST(MultipartXml, EveryClientShape) {
  const std::vector<std::pair<int, std::string>> two = {{1, "aa11"}, {2, "bb22"}};
  // botocore: namespace, quoted ETags, ChecksumCRC32 after PartNumber.
  EXPECT_EQ(Parts("<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                  "<Part><ETag>\"aa11\"</ETag><PartNumber>1</PartNumber><ChecksumCRC32>f7XNdQ=="
                  "</ChecksumCRC32></Part><Part><ETag>\"bb22\"</ETag><PartNumber>2</PartNumber>"
                  "</Part></CompleteMultipartUpload>"),
            two);
  // s3cmd: no namespace, unquoted, PartNumber first.
  EXPECT_EQ(Parts("<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>aa11</ETag>"
                  "</Part><Part><PartNumber>2</PartNumber><ETag>bb22</ETag></Part>"
                  "</CompleteMultipartUpload>"),
            two);
  // rclone: &#34; entities, mixed order.
  EXPECT_EQ(Parts("<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                  "<Part><ETag>&#34;aa11&#34;</ETag><PartNumber>1</PartNumber></Part><Part>"
                  "<PartNumber>2</PartNumber><ETag>&#34;bb22&#34;</ETag></Part>"
                  "</CompleteMultipartUpload>"),
            two);
  // JS: XML declaration, &quot; entities, checksum between.
  EXPECT_EQ(Parts("<?xml version=\"1.0\" encoding=\"UTF-8\"?><CompleteMultipartUpload "
                  "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Part><ETag>&quot;aa11&quot;"
                  "</ETag><ChecksumCRC32>yIv8rA==</ChecksumCRC32><PartNumber>1</PartNumber>"
                  "</Part><Part><ETag>&quot;bb22&quot;</ETag><PartNumber>2</PartNumber></Part>"
                  "</CompleteMultipartUpload>"),
            two);
  // A namespace prefix, whitespace and an unknown element are fine.
  EXPECT_EQ(Parts("<s3:CompleteMultipartUpload xmlns:s3=\"http://s3.amazonaws.com/doc/"
                  "2006-03-01/\">\n  <s3:Part>\n    <s3:PartNumber> 1 </s3:PartNumber>\n"
                  "    <s3:ETag> \"aa11\" </s3:ETag><s3:Extra>z</s3:Extra>\n  </s3:Part>\n"
                  "</s3:CompleteMultipartUpload>"),
            (std::vector<std::pair<int, std::string>>{{1, "aa11"}}));
}

TEST(MultipartXml, PartChecksums) {
  // Each S3 checksum element, any namespace prefix, trimmed; a Part without one has none.
  auto parts = ParseCompleteMultipartUpload(
      "<CompleteMultipartUpload xmlns:s3=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
      "<s3:Part><s3:PartNumber>1</s3:PartNumber><s3:ETag>a</s3:ETag>"
      "<s3:ChecksumCRC32C> MqjfaQ== </s3:ChecksumCRC32C></s3:Part>"
      "<Part><PartNumber>2</PartNumber><ETag>b</ETag><ChecksumCRC64NVME>AAAAAAAAAAA="
      "</ChecksumCRC64NVME></Part><Part><PartNumber>3</PartNumber><ETag>c</ETag>"
      "<ChecksumSHA1>x</ChecksumSHA1></Part><Part><PartNumber>4</PartNumber><ETag>d</ETag>"
      "<ChecksumSHA256>y</ChecksumSHA256><ChecksumType>COMPOSITE</ChecksumType></Part>"
      "<Part><PartNumber>5</PartNumber><ETag>e</ETag><ChecksumCRC32>z</ChecksumCRC32></Part>"
      "<Part><PartNumber>6</PartNumber><ETag>f</ETag><ChecksumXXHASH64>w</ChecksumXXHASH64>"
      "</Part></CompleteMultipartUpload>");
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  std::vector<std::pair<std::string, std::string>> got;
  for (const CompletedPart& p : *parts) got.emplace_back(p.checksum.algorithm, p.checksum.value);
  EXPECT_EQ(got, (std::vector<std::pair<std::string, std::string>>{{"crc32c", "MqjfaQ=="},
                                                                   {"crc64nvme", "AAAAAAAAAAA="},
                                                                   {"sha1", "x"},
                                                                   {"sha256", "y"},
                                                                   {"crc32", "z"},
                                                                   {"", ""}}));
  // Two checksums in one Part, or an empty one: MalformedXML naming the part.
  auto two = ParseCompleteMultipartUpload(
      "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>a</ETag><ChecksumCRC32>z"
      "</ChecksumCRC32><ChecksumSHA1>x</ChecksumSHA1></Part></CompleteMultipartUpload>");
  EXPECT_EQ(two.status().code(), ErrorCode::kMalformedXml);
  EXPECT_NE(two.status().message().find("Part 1 has more than one checksum"), std::string::npos)
      << two.status().message();
  EXPECT_EQ(
      CompleteError("<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>a"
                    "</ETag><ChecksumCRC32> </ChecksumCRC32></Part></CompleteMultipartUpload>"),
      ErrorCode::kMalformedXml);
}

TEST(MultipartXml, MalformedAndHostile) {
  for (const std::string xml :
       {"", "<CompleteMultipartUpload>", "<CompleteMultipartUpload></CompleteMultipartUpload>",
        "<Complete><Part><PartNumber>1</PartNumber><ETag>a</ETag></Part></Complete>",
        "<CompleteMultipartUpload><Part><ETag>a</ETag></Part></CompleteMultipartUpload>",
        "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part>"
        "</CompleteMultipartUpload>",
        "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><PartNumber>2</PartNumber>"
        "<ETag>a</ETag></Part></CompleteMultipartUpload>",
        "<CompleteMultipartUpload><Part><PartNumber>1x</PartNumber><ETag>a</ETag></Part>"
        "</CompleteMultipartUpload>",
        "<CompleteMultipartUpload><Part><PartNumber>99999999999</PartNumber><ETag>a</ETag>"
        "</Part></CompleteMultipartUpload>",
        "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"\"</ETag></Part>"
        "</CompleteMultipartUpload>",
        "<CompleteMultipartUpload/><x/>",
        // Entity expansion is refused outright.
        "<!DOCTYPE d [<!ENTITY a \"aaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;\">]>"
        "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&b;</ETag></Part>"
        "</CompleteMultipartUpload>",
        "<!DOCTYPE d SYSTEM \"file:///etc/passwd\"><CompleteMultipartUpload/>"}) {
    EXPECT_EQ(CompleteError(xml), ErrorCode::kMalformedXml) << xml;
  }
  EXPECT_EQ(CompleteError("<CompleteMultipartUpload><Part><PartNumber>0</PartNumber><ETag>a"
                          "</ETag></Part></CompleteMultipartUpload>"),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(CompleteError("<CompleteMultipartUpload><Part><PartNumber>10001</PartNumber><ETag>a"
                          "</ETag></Part></CompleteMultipartUpload>"),
            ErrorCode::kInvalidArgument);
  const Status st = ParseCompleteMultipartUpload("<CompleteMultipartUpload><Part>").status();
  EXPECT_NE(st.message().find("line 1"), std::string::npos) << st.ToString();
}

TEST(MultipartXml, Bounds) {
  const std::string part = "<Part><PartNumber>1</PartNumber><ETag>a</ETag></Part>";
  std::string xml = "<CompleteMultipartUpload>";
  for (int i = 0; i < kMaxParts; ++i) xml += part;
  EXPECT_EQ(ParseCompleteMultipartUpload(xml + "</CompleteMultipartUpload>")->size(),
            static_cast<size_t>(kMaxParts));
  EXPECT_EQ(CompleteError(xml + part + "</CompleteMultipartUpload>"), ErrorCode::kMalformedXml);
  EXPECT_EQ(CompleteError(std::string(kMaxCompleteXmlBytes + 1, ' ')), ErrorCode::kMalformedXml);
  std::string deep = "<CompleteMultipartUpload>";
  for (int i = 0; i < 100; ++i) deep += "<a>";
  EXPECT_EQ(CompleteError(deep), ErrorCode::kMalformedXml);

  std::string del = "<Delete>";
  for (size_t i = 0; i <= kMaxDeleteKeys; ++i) del += "<Object><Key>k</Key></Object>";
  EXPECT_EQ(ParseDeleteObjects(del + "</Delete>").status().code(), ErrorCode::kMalformedXml);
}

TEST(MultipartXml, Delete) {
  auto d = ParseDeleteObjects(
      "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Object><Key> spaced &amp; "
      "kept </Key><VersionId>null</VersionId></Object><Quiet>true</Quiet><Object><Key>"
      "x/\xC3\xBC</Key></Object></Delete>");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_TRUE(d->quiet);
  EXPECT_EQ(d->keys, (std::vector<std::string>{" spaced & kept ", "x/\xC3\xBC"}));
  EXPECT_FALSE(ParseDeleteObjects("<Delete><Object><Key>a</Key></Object></Delete>")->quiet);
}

}  // namespace
}  // namespace sluice::s3
