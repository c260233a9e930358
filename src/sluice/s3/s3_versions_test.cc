// Versions through the S3 surface: routing, GetBucketVersioning and PutBucketVersioning,
// ListObjectVersions (XML, markers, paging, roll-ups), GetObject / HeadObject / DeleteObject of
// a version, and DeleteObjects with version ids, over the fake backend (a versioned bucket as
// S3 keeps one; the store's own rules are tested in store/).

#include <gtest/gtest.h>

#include <regex>
#include <tuple>

#include "sluice/s3/multipart_xml_internal.h"
#include "sluice/s3/response_internal.h"
#include "sluice/s3/route_internal.h"
#include "sluice/s3/s3.h"
#include "sluice/s3/s3_testing.h"

namespace sluice::s3 {
namespace {

using namespace s3test;  // NOLINT(google-build-using-namespace)

std::string Base64Md5(std::string_view data) { return auth::Base64Encode(Md5Raw(data)); }

http::RequestHead Head(std::string method, std::string path, std::string query = "") {
  http::RequestHead h;
  h.method = std::move(method);
  h.raw_path = std::move(path);
  h.raw_query = std::move(query);
  return h;
}

// (key, version id, latest, delete marker) of each <Version> / <DeleteMarker>, in order.
using Entry = std::tuple<std::string, std::string, bool, bool>;
std::vector<Entry> Entries(const std::string& xml) {
  std::vector<Entry> out;
  const std::regex entry(
      "<(Version|DeleteMarker)><Key>([^<]*)</Key><VersionId>([^<]*)</VersionId><IsLatest>"
      "(true|false)</IsLatest>");
  for (auto it = std::sregex_iterator(xml.begin(), xml.end(), entry); it != std::sregex_iterator();
       ++it) {
    out.emplace_back((*it)[2], (*it)[3], (*it)[4] == "true", (*it)[1] == "DeleteMarker");
  }
  return out;
}

class VersionsTest : public S3Test {
 protected:
  // a.parquet three times, b/x.parquet once then deleted (a delete marker), b/y.parquet once.
  void SetUp() override {
    backend_.Put("a.parquet", "one");
    backend_.Put("a.parquet", "two!");
    backend_.Put("a.parquet", "three");
    backend_.Put("b/x.parquet", "x");
    ASSERT_TRUE(
        backend_.DeleteObject({AccessKeyId(kAccessKey), kBucket}, kBucket, "b/x.parquet").ok());
    backend_.Put("b/y.parquet", "y");
  }

  Outcome List(const std::string& query) {
    return Run(Signed("GET", "/conn-demo", "versions" + (query.empty() ? "" : "&" + query)));
  }

  const std::vector<Entry> all_ = {
      {"a.parquet", "v3", true, false},    {"a.parquet", "v2", false, false},
      {"a.parquet", "v1", false, false},   {"b/x.parquet", "m5", true, true},
      {"b/x.parquet", "v4", false, false}, {"b/y.parquet", "v6", true, false}};
};

TEST(VersionsRouteTest, VersionOperationsAreNamedAsS3NamesThem) {
  const struct {
    http::RequestHead head;
    Operation op;
    std::string name;
  } cases[] = {
      {Head("GET", "/b", "versions"), Operation::kListObjectVersions, "ListObjectVersions"},
      {Head("GET", "/b", "versions&prefix=a&key-marker=k&version-id-marker=1"),
       Operation::kListObjectVersions, "ListObjectVersions"},
      {Head("GET", "/b", "versioning"), Operation::kGetBucketVersioning, "GetBucketVersioning"},
      {Head("PUT", "/b", "versioning"), Operation::kPutBucketVersioning, "PutBucketVersioning"},
      {Head("GET", "/b/k", "versionId=12"), Operation::kGetObject, "GetObject"},
      {Head("HEAD", "/b/k", "versionId=12"), Operation::kHeadObject, "HeadObject"},
      {Head("DELETE", "/b/k", "versionId=12"), Operation::kDeleteObject, "DeleteObject"},
      // Still not served: other sub-resources beside them.
      {Head("GET", "/b", "versions&acl"), Operation::kUnsupported, "ListObjectVersions?acl"},
      {Head("PUT", "/b", "versioning&tagging"), Operation::kUnsupported, "PutBucket?versioning"},
      {Head("GET", "/b/k", "versionId=1&tagging"), Operation::kUnsupported, "GetObject?tagging"},
      {Head("PUT", "/b/k", "versionId=1"), Operation::kUnsupported, "PutObject?versionId"},
  };
  for (const auto& c : cases) {
    const Route r = RouteRequest(c.head);
    EXPECT_TRUE(r.error.ok()) << c.name;
    EXPECT_EQ(r.op, c.op) << c.head.method << " " << c.head.raw_query;
    EXPECT_EQ(r.name, c.name) << c.head.method << " " << c.head.raw_query;
  }
}

TEST(VersionsXmlTest, DeleteObjectsVersionIdsAndVersioningConfiguration) {
  auto d = ParseDeleteObjects(
      "<Delete><Object><Key>a</Key><VersionId>12</VersionId></Object><Object><Key>b</Key>"
      "</Object><Object><VersionId></VersionId><Key>c</Key></Object></Delete>");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->keys, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(d->version_ids,
            (std::vector<std::optional<std::string>>{"12", std::nullopt, std::string()}));
  EXPECT_EQ(ParseDeleteObjects("<Delete><Object><Key>a</Key><VersionId>1</VersionId><VersionId>2"
                               "</VersionId></Object></Delete>")
                .status()
                .code(),
            ErrorCode::kMalformedXml);

  auto v = ParseVersioningConfiguration(
      "<?xml version=\"1.0\"?><VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/"
      "2006-03-01/\"><Status> Enabled </Status><MfaDelete>Disabled</MfaDelete>"
      "</VersioningConfiguration>");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->status, "Enabled");
  EXPECT_EQ(v->mfa_delete, "Disabled");
  EXPECT_EQ(ParseVersioningConfiguration("<VersioningConfiguration/>")->status, "");
  for (const char* bad : {"<Versioning/>", "<VersioningConfiguration>",
                          "<VersioningConfiguration><Status>Enabled</Status><Status>Enabled"
                          "</Status></VersioningConfiguration>"}) {
    EXPECT_EQ(ParseVersioningConfiguration(bad).status().code(), ErrorCode::kMalformedXml) << bad;
  }
}

TEST_F(S3Test, GetBucketVersioningIsAlwaysEnabled) {
  Outcome out = Run(Signed("GET", "/conn-demo", "versioning"));
  ASSERT_EQ(out.response.status, 200) << out.response.body;
  EXPECT_EQ(out.response.body,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<VersioningConfiguration "
            "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Status>Enabled</Status>"
            "</VersioningConfiguration>");
  EXPECT_EQ(ErrorCodeOf(Run(Signed("GET", "/conn-other", "versioning")).response), "AccessDenied");
  EXPECT_EQ(ErrorCodeOf(Run(Signed("GET", "/nope", "versioning")).response), "NoSuchBucket");
}

TEST_F(S3Test, PutBucketVersioningTakesEnabledAndRefusesTheRest) {
  const auto put = [&](const std::string& body, bool mfa = false) {
    Replay rp = Signed("PUT", "/conn-demo", "versioning", body);
    rp.head.headers.emplace_back("Content-MD5", Base64Md5(body));
    if (mfa) rp.head.headers.emplace_back("x-amz-mfa", "serial 123456");
    Resign(&rp);
    return Run(rp);
  };
  const std::string wrap =
      "<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
  Outcome out = put(wrap + "<Status>Enabled</Status></VersioningConfiguration>");
  EXPECT_EQ(out.response.status, 200) << out.response.body;
  EXPECT_TRUE(out.response.body.empty());

  out = put(wrap + "<Status>Suspended</Status></VersioningConfiguration>");
  EXPECT_EQ(out.response.status, 409);
  EXPECT_EQ(ErrorCodeOf(out.response), "InvalidBucketState");
  EXPECT_NE(out.response.body.find("cannot be suspended"), std::string::npos) << out.response.body;

  out = put(wrap +
            "<Status>Enabled</Status><MfaDelete>Enabled</MfaDelete></VersioningConfiguration>");
  EXPECT_EQ(out.response.status, 501);
  EXPECT_EQ(ErrorCodeOf(out.response), "NotImplemented");
  out = put(wrap + "<Status>Enabled</Status></VersioningConfiguration>", /*mfa=*/true);
  EXPECT_TRUE(out.immediate);  // refused before the body
  EXPECT_EQ(ErrorCodeOf(out.response), "NotImplemented");

  EXPECT_EQ(ErrorCodeOf(put(wrap + "<Status>On</Status></VersioningConfiguration>").response),
            "MalformedXML");
  EXPECT_EQ(ErrorCodeOf(put("<Versioning/>").response), "MalformedXML");
  EXPECT_EQ(ErrorCodeOf(Run(Signed("PUT", "/conn-other", "versioning", "<x/>")).response),
            "AccessDenied");
}

TEST_F(VersionsTest, ListsEveryVersionNewestFirstWithDeleteMarkers) {
  Outcome out = List("");
  ASSERT_EQ(out.response.status, 200) << out.response.body;
  const std::string& xml = out.response.body;
  EXPECT_TRUE(
      xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListVersionsResult "
                      "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>conn-demo"
                      "</Name><Prefix></Prefix><KeyMarker></KeyMarker><VersionIdMarker>"
                      "</VersionIdMarker><MaxKeys>1000</MaxKeys><IsTruncated>false"
                      "</IsTruncated>"))
      << xml;
  EXPECT_EQ(Entries(xml), all_);
  // A version in full, and a delete marker (no ETag, Size or StorageClass).
  const std::string owner = "<Owner><ID>conn-demo</ID><DisplayName>conn-demo</DisplayName></Owner>";
  EXPECT_NE(
      xml.find("<Version><Key>a.parquet</Key><VersionId>v2</VersionId><IsLatest>false"
               "</IsLatest><LastModified>2026-11-27T01:13:38.000Z</LastModified><ETag>&quot;" +
               Md5Hex("two!") +
               "&quot;</ETag><Size>4</Size><StorageClass>STANDARD"
               "</StorageClass>" +
               owner + "</Version>"),
      std::string::npos)
      << xml;
  EXPECT_NE(xml.find("<DeleteMarker><Key>b/x.parquet</Key><VersionId>m5</VersionId><IsLatest>"
                     "true</IsLatest><LastModified>2026-11-27T01:13:41.000Z</LastModified>" +
                     owner + "</DeleteMarker>"),
            std::string::npos)
      << xml;

  // A prefix, and key-marker alone (after every entry of that key).
  EXPECT_EQ(Entries(List("prefix=b%2F").response.body),
            std::vector<Entry>(all_.begin() + 3, all_.end()));
  EXPECT_EQ(Entries(List("key-marker=a.parquet").response.body),
            std::vector<Entry>(all_.begin() + 3, all_.end()));
  // With version-id-marker: after that entry of the key.
  EXPECT_EQ(Entries(List("key-marker=a.parquet&version-id-marker=v3").response.body),
            std::vector<Entry>(all_.begin() + 1, all_.end()));
  EXPECT_EQ(Entries(List("key-marker=b%2Fx.parquet&version-id-marker=m5").response.body),
            std::vector<Entry>(all_.begin() + 4, all_.end()));
}

TEST_F(VersionsTest, PagesOneEntryAtATimeWithNextMarkers) {
  std::vector<Entry> seen;
  std::string key_marker, version_marker;
  int pages = 0;
  while (true) {
    std::string query = "max-keys=1";
    if (!key_marker.empty()) {
      query += "&key-marker=" + UrlEncode(key_marker) + "&version-id-marker=" + version_marker;
    }
    const Outcome out = List(query);
    ASSERT_EQ(out.response.status, 200) << out.response.body;
    const std::string& xml = out.response.body;
    const auto page = Entries(xml);
    ASSERT_EQ(page.size(), 1u) << xml;
    seen.push_back(page[0]);
    ++pages;
    ASSERT_LT(pages, 20);
    if (Tag(xml, "IsTruncated") == "false") {
      EXPECT_EQ(Tag(xml, "NextKeyMarker"), "<absent>");
      break;
    }
    key_marker = XmlUnescape(Tag(xml, "NextKeyMarker"));
    version_marker = Tag(xml, "NextVersionIdMarker");
    EXPECT_EQ(key_marker, std::get<0>(page[0]));
    EXPECT_EQ(version_marker, std::get<1>(page[0]));
  }
  EXPECT_EQ(seen, all_);
  // Each backend call asked one entry more than the page holds, to see whether it was the last.
  EXPECT_EQ(backend_.largest_version_query, 2u);
}

TEST_F(VersionsTest, DelimiterRollsKeysUpIntoCommonPrefixes) {
  backend_.Put("b/deep/z.parquet", "z");
  Outcome out = List("delimiter=%2F");
  ASSERT_EQ(out.response.status, 200) << out.response.body;
  EXPECT_EQ(Entries(out.response.body), std::vector<Entry>(all_.begin(), all_.begin() + 3));
  EXPECT_EQ(All(out.response.body, "<CommonPrefixes><Prefix>([^<]*)</Prefix></CommonPrefixes>"),
            std::vector<std::string>{"b/"});
  EXPECT_EQ(Tag(out.response.body, "Delimiter"), "/");
  EXPECT_EQ(backend_.largest_version_query, 64u);  // kDelimiterPageKeys with a delimiter

  // Within the prefix, one level down: b/deep/ sorts first, and a page of one ends on it.
  out = List("delimiter=%2F&prefix=b%2F&max-keys=2");
  EXPECT_EQ(Entries(out.response.body),
            (std::vector<Entry>{{"b/x.parquet", "m5", true, true}}));  // and the prefix
  out = List("delimiter=%2F&prefix=b%2F&max-keys=1");
  const std::string& xml = out.response.body;
  EXPECT_TRUE(Entries(xml).empty());
  EXPECT_EQ(All(xml, "<CommonPrefixes><Prefix>([^<]*)</Prefix></CommonPrefixes>"),
            std::vector<std::string>{"b/deep/"});
  EXPECT_EQ(Tag(xml, "IsTruncated"), "true");
  EXPECT_EQ(Tag(xml, "NextKeyMarker"), "b/deep/");
  EXPECT_EQ(Tag(xml, "NextVersionIdMarker"), "<absent>");
  // Going on from the common prefix skips the keys under it.
  out = List("delimiter=%2F&prefix=b%2F&key-marker=b%2Fdeep%2F");
  EXPECT_EQ(Entries(out.response.body), std::vector<Entry>(all_.begin() + 3, all_.end()));
}

TEST_F(VersionsTest, ABackendThatStopsAtItsReadBoundIsFollowed) {
  // Versions the backend reads without returning them (the store's purged files), two read per
  // call: the walk goes on from where each call stopped.
  for (int i = 0; i < 5; ++i) backend_.Put("b/x.parquet", "hidden");
  for (int i = 0; i < 5; ++i) backend_.hidden_versions.insert("v" + std::to_string(7 + i));
  backend_.read_bound = 2;
  Outcome out = List("");
  ASSERT_EQ(out.response.status, 200) << out.response.body;
  std::vector<Entry> want = all_;
  // b/x.parquet's hidden versions took the marker's place as its newest.
  want[3] = {"b/x.parquet", "m5", false, true};
  EXPECT_EQ(Entries(out.response.body), want);
  EXPECT_EQ(Tag(out.response.body, "IsTruncated"), "false");

  // A page that keeps finding nothing ends early, truncated, with the markers read up to.
  for (int i = 0; i < 40; ++i) backend_.Put("b/x.parquet", "hidden");
  for (int i = 0; i < 40; ++i) backend_.hidden_versions.insert("v" + std::to_string(12 + i));
  out = List("key-marker=a.parquet");
  const std::string& xml = out.response.body;
  EXPECT_TRUE(Entries(xml).empty()) << xml;
  EXPECT_EQ(Tag(xml, "IsTruncated"), "true");
  EXPECT_EQ(Tag(xml, "NextKeyMarker"), "b/x.parquet");
  EXPECT_EQ(Tag(xml, "NextVersionIdMarker"), "v36");  // 8 calls of 2 from the newest, v51
}

TEST_F(VersionsTest, UrlEncodingAndBadParameters) {
  backend_.Put("sp ace/\xC3\xBC.parquet", "u");
  Outcome out = List("encoding-type=url&prefix=sp");
  ASSERT_EQ(out.response.status, 200) << out.response.body;
  EXPECT_EQ(Tag(out.response.body, "EncodingType"), "url");
  EXPECT_EQ(std::get<0>(Entries(out.response.body).at(0)), "sp%20ace/%C3%BC.parquet");
  EXPECT_EQ(Tag(out.response.body, "Prefix"), "sp");

  EXPECT_EQ(ErrorCodeOf(List("version-id-marker=v1").response), "InvalidArgument");
  EXPECT_EQ(ErrorCodeOf(List("max-keys=-1").response), "InvalidArgument");
  EXPECT_EQ(ErrorCodeOf(List("encoding-type=base64").response), "InvalidArgument");
  EXPECT_EQ(Entries(List("max-keys=0").response.body).size(), 0u);
  EXPECT_EQ(ErrorCodeOf(Run(Signed("GET", "/conn-other", "versions")).response), "AccessDenied");
}

TEST_F(VersionsTest, GetAndHeadAVersion) {
  for (const auto& [id, body] : std::vector<std::pair<std::string, std::string>>{
           {"v1", "one"}, {"v2", "two!"}, {"v3", "three"}}) {
    Outcome out = Run(Signed("GET", "/conn-demo/a.parquet", "versionId=" + id));
    ASSERT_EQ(out.response.status, 200) << out.response.body;
    ASSERT_TRUE(out.response.file);
    std::vector<uint8_t> got;
    ASSERT_TRUE(out.response.file->ReadAt(0, out.response.file->size(), &got).ok());
    EXPECT_EQ(std::string(got.begin(), got.end()), body);
    EXPECT_EQ(HeaderOf(out.response.headers, "x-amz-version-id"), id);
    EXPECT_EQ(HeaderOf(out.response.headers, "etag"), "\"" + Md5Hex(body) + "\"");

    out = Run(Signed("HEAD", "/conn-demo/a.parquet", "versionId=" + id));
    EXPECT_EQ(out.response.status, 200);
    EXPECT_EQ(HeaderOf(out.response.headers, "content-length"), std::to_string(body.size()));
    EXPECT_EQ(HeaderOf(out.response.headers, "x-amz-version-id"), id);
  }
  // The plain GET names the current version.
  Outcome out = Run(Signed("GET", "/conn-demo/a.parquet"));
  EXPECT_EQ(HeaderOf(out.response.headers, "x-amz-version-id"), "v3");
  // "null" (versioning never off here) is the current object.
  out = Run(Signed("GET", "/conn-demo/a.parquet", "versionId=null"));
  EXPECT_EQ(out.response.status, 200);
  EXPECT_EQ(HeaderOf(out.response.headers, "x-amz-version-id"), "v3");

  out = Run(Signed("GET", "/conn-demo/a.parquet", "versionId=v6"));  // b/y.parquet's
  EXPECT_EQ(out.response.status, 404);
  EXPECT_EQ(ErrorCodeOf(out.response), "NoSuchVersion");
  EXPECT_EQ(ErrorCodeOf(Run(Signed("GET", "/conn-demo/a.parquet", "versionId=x")).response),
            "InvalidArgument");

  // A delete marker: 405, and the headers that say so (HEAD: no body).
  for (const char* method : {"GET", "HEAD"}) {
    out = Run(Signed(method, "/conn-demo/b/x.parquet", "versionId=m5"));
    EXPECT_EQ(out.response.status, 405) << method;
    EXPECT_EQ(HeaderOf(out.response.headers, "x-amz-delete-marker"), "true");
    EXPECT_EQ(HeaderOf(out.response.headers, "x-amz-version-id"), "m5");
    EXPECT_EQ(HeaderOf(out.response.headers, "allow"), "DELETE");
    EXPECT_EQ(ErrorCodeOf(out.response, std::string(method) == "HEAD"),
              std::string(method) == "HEAD" ? "" : "MethodNotAllowed");
  }
}

TEST_F(VersionsTest, WritesAndDeletesSayWhichVersion) {
  Outcome out = Run(Signed("PUT", "/conn-demo/c.parquet", "", "cee"));
  ASSERT_EQ(out.response.status, 200) << out.response.body;
  EXPECT_EQ(HeaderOf(out.response.headers, "x-amz-version-id"), "v7");

  // A version by id: gone for good, the previous one is current again.
  out = Run(Signed("DELETE", "/conn-demo/a.parquet", "versionId=v3"));
  EXPECT_EQ(out.response.status, 204);
  EXPECT_EQ(HeaderOf(out.response.headers, "x-amz-version-id"), "v3");
  EXPECT_FALSE(HasHeader(out.response.headers, "x-amz-delete-marker"));
  EXPECT_EQ(
      HeaderOf(Run(Signed("GET", "/conn-demo/a.parquet")).response.headers, "x-amz-version-id"),
      "v2");
  // Deleting it again is no error (S3 answers 204).
  EXPECT_EQ(Run(Signed("DELETE", "/conn-demo/a.parquet", "versionId=v3")).response.status, 204);
  EXPECT_EQ(ErrorCodeOf(Run(Signed("DELETE", "/conn-demo/a.parquet", "versionId=")).response),
            "InvalidArgument");

  // A plain delete makes a delete marker and names it.
  out = Run(Signed("DELETE", "/conn-demo/a.parquet"));
  EXPECT_EQ(out.response.status, 204);
  EXPECT_EQ(HeaderOf(out.response.headers, "x-amz-delete-marker"), "true");
  EXPECT_EQ(HeaderOf(out.response.headers, "x-amz-version-id"), "m8");
  EXPECT_EQ(ErrorCodeOf(Run(Signed("GET", "/conn-demo/a.parquet")).response), "NoSuchKey");
  // Deleting the marker brings the key back (S3's undelete).
  out = Run(Signed("DELETE", "/conn-demo/a.parquet", "versionId=m8"));
  EXPECT_EQ(out.response.status, 204);
  EXPECT_EQ(HeaderOf(out.response.headers, "x-amz-delete-marker"), "true");
  EXPECT_EQ(HeaderOf(out.response.headers, "x-amz-version-id"), "m8");
  EXPECT_EQ(Run(Signed("GET", "/conn-demo/a.parquet")).response.status, 200);
}

TEST_F(VersionsTest, DeleteObjectsWithVersionIds) {
  const std::string xml =
      "<Delete><Object><Key>a.parquet</Key><VersionId>v1</VersionId></Object>"
      "<Object><Key>b/x.parquet</Key><VersionId>m5</VersionId></Object>"
      "<Object><Key>b/y.parquet</Key></Object>"
      "<Object><Key>a.parquet</Key><VersionId>bogus</VersionId></Object></Delete>";
  Replay rp = Signed("POST", "/conn-demo", "delete", xml);
  rp.head.headers.emplace_back("Content-MD5", Base64Md5(xml));
  const Outcome out = Run(rp);
  ASSERT_EQ(out.response.status, 200) << out.response.body;
  EXPECT_EQ(out.response.body,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<DeleteResult "
            "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
            "<Deleted><Key>a.parquet</Key><VersionId>v1</VersionId></Deleted>"
            "<Deleted><Key>b/x.parquet</Key><VersionId>m5</VersionId><DeleteMarker>true"
            "</DeleteMarker><DeleteMarkerVersionId>m5</DeleteMarkerVersionId></Deleted>"
            "<Deleted><Key>b/y.parquet</Key><DeleteMarker>true</DeleteMarker>"
            "<DeleteMarkerVersionId>m7</DeleteMarkerVersionId></Deleted>"
            "<Error><Key>a.parquet</Key><VersionId>bogus</VersionId><Code>InvalidArgument</Code>"
            "<Message>Invalid version id specified</Message></Error></DeleteResult>");
  EXPECT_EQ(Entries(List("").response.body),
            (std::vector<Entry>{{"a.parquet", "v3", true, false},
                                {"a.parquet", "v2", false, false},
                                {"b/x.parquet", "v4", true, false},
                                {"b/y.parquet", "m7", true, true},
                                {"b/y.parquet", "v6", false, false}}));
}

}  // namespace
}  // namespace sluice::s3
