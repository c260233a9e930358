// The listings: ListObjectsV2 and v1 compared with what the recorded clients parsed, pages
// walked with continuation tokens and markers, roll-ups, encodings and bad parameters.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <regex>
#include <set>

#include "sluice/s3/s3.h"
#include "sluice/s3/s3_testing.h"

namespace sluice::s3 {
namespace {

using namespace s3test;  // NOLINT(google-build-using-namespace)

// ---------------------------------------------------------------- listings

struct ListingCase {
  std::string file;
  std::string operation;
};

TEST_F(S3Test, ListingsMatchWhatTheClientsParsed) {
  const std::vector<ListingCase> cases = {
      {"awscli-s3-ls-prefix.json", "ListObjectsV2"},
      {"awscli-s3-ls-recursive.json", "ListObjectsV2"},
      {"awscli-s3api-list-objects-v2.json", "ListObjectsV2"},
      {"boto3-list_objects_v2.json", "ListObjectsV2"},
      {"node-ListObjectsV2Command.json", "ListObjectsV2"},
      {"s3cmd-ls.json", "ListObjects"},
      {"rclone-ls.json", "ListObjects"},
      {"rclone-copy-dir-unicode.json", "ListObjects"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.file);
    const json doc = Load(c.file);
    json request;
    for (const json& r : doc.at("requests")) {
      if (r.at("operation") == c.operation) {
        request = r;
        break;
      }
    }
    const std::string captured = request.at("response").at("body_text");
    const bool url = Tag(captured, "EncodingType") == "url";
    const auto decode = [&](const std::string& s) {
      return url ? PercentDecode(s) : XmlUnescape(s);
    };
    // The bucket as the capture server had it: the listed objects, one object under each
    // common prefix, and keys outside the prefix.
    backend_.objects.clear();
    const std::regex contents(
        "<Contents><Key>([^<]*)</Key><LastModified>([^<]*)</LastModified><ETag>&quot;([^&]*)"
        "&quot;</ETag><Size>([0-9]+)</Size>");
    for (auto it = std::sregex_iterator(captured.begin(), captured.end(), contents);
         it != std::sregex_iterator(); ++it) {
      backend_.Put(decode((*it)[1]), std::string(std::stoull((*it)[4]), 'x'), "", (*it)[3],
                   IsoMicros((*it)[2]));
    }
    for (const std::string& p :
         All(captured, "<CommonPrefixes><Prefix>([^<]*)</Prefix></CommonPrefixes>")) {
      backend_.Put(decode(p) + "nested/deeper.parquet", "x");
    }
    if (!Tag(captured, "Prefix").empty()) {
      backend_.Put("aaa-before.parquet", "x");
      backend_.Put("zzz-after.parquet", "x");
    }

    const Outcome out = Run(FromJson(request));
    ASSERT_EQ(out.response.status, 200) << out.response.body;
    const std::string& ours = out.response.body;
    EXPECT_TRUE(
        ours.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult "
                         "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"));
    for (const char* tag : {"Name", "Prefix", "KeyCount", "MaxKeys", "Delimiter", "EncodingType",
                            "IsTruncated", "Marker", "StartAfter"}) {
      EXPECT_EQ(Tag(ours, tag), Tag(captured, tag)) << tag;
    }
    const std::string entry =
        "<Key>([^<]*)</Key><LastModified>([^<]*)</LastModified><ETag>([^<]*)</ETag><Size>([0-9]+)";
    const auto entries = [&](const std::string& xml) {
      std::vector<std::string> out;
      const std::regex re(entry);
      for (auto it = std::sregex_iterator(xml.begin(), xml.end(), re); it != std::sregex_iterator();
           ++it) {
        out.push_back((*it)[1].str() + "|" + (*it)[2].str() + "|" + (*it)[3].str() + "|" +
                      (*it)[4].str());
      }
      return out;
    };
    EXPECT_EQ(entries(ours), entries(captured));
    EXPECT_EQ(All(ours, "<CommonPrefixes><Prefix>([^<]*)</Prefix>"),
              All(captured, "<CommonPrefixes><Prefix>([^<]*)</Prefix>"));
    EXPECT_EQ(ours.find("<Owner>") != std::string::npos,
              captured.find("<Owner>") != std::string::npos);
  }
  // curl without x-amz-content-sha256 gets S3's InvalidRequest.
  const Outcome curl = Run(FirstOf("curl-aws-sigv4-get-list-objects-v2.json", "ListObjectsV2"));
  EXPECT_EQ(ErrorCodeOf(curl.response), "InvalidRequest");
}

class ListTest : public S3Test {
 protected:
  void SetUp() override {
    for (const char* k : {"a/1", "a/2", "a/3", "b.parquet", "c/x/1", "c/y/2", "d"}) {
      backend_.Put(k, "x");
    }
    for (int i = 0; i < 50; ++i) backend_.Put("big/" + std::to_string(100 + i), "x");
  }

  // Every entry (keys and common prefixes) across pages, following the continuation token.
  std::vector<std::string> Pages(const std::string& query, int* pages) {
    std::vector<std::string> all;
    std::string token;
    *pages = 0;
    while (true) {
      std::string q = "list-type=2&" + query;
      if (!token.empty()) q += "&continuation-token=" + UrlEncode(token);
      const Outcome out = Run(Signed("GET", "/conn-demo", q));
      EXPECT_EQ(out.response.status, 200) << out.response.body;
      ++*pages;
      const std::string& xml = out.response.body;
      const auto keys = All(xml, "<Key>([^<]*)</Key>");
      const auto prefixes = All(xml, "<CommonPrefixes><Prefix>([^<]*)</Prefix>");
      EXPECT_EQ(Tag(xml, "KeyCount"), std::to_string(keys.size() + prefixes.size()));
      // Sorted merge, as a client sees them.
      std::vector<std::string> page = keys;
      page.insert(page.end(), prefixes.begin(), prefixes.end());
      std::sort(page.begin(), page.end());
      all.insert(all.end(), page.begin(), page.end());
      if (Tag(xml, "IsTruncated") != "true" || *pages > 100) break;
      token = XmlUnescape(Tag(xml, "NextContinuationToken"));
      EXPECT_NE(token, "<absent>");
    }
    return all;
  }

  static std::string UrlEncode(const std::string& s) {
    std::string out;
    for (char c : s) {
      if (std::isalnum(static_cast<unsigned char>(c))) {
        out += c;
      } else {
        char buf[4];
        std::snprintf(buf, sizeof buf, "%%%02X", static_cast<unsigned char>(c));
        out += buf;
      }
    }
    return out;
  }
};

TEST_F(ListTest, ContinuationTokensWalkRollUpsWithoutRescanning) {
  int pages = 0;
  EXPECT_EQ(Pages("delimiter=%2F&max-keys=2", &pages),
            (std::vector<std::string>{"a/", "b.parquet", "big/", "c/", "d"}));
  EXPECT_EQ(pages, 3);
  // The 50 keys under big/ are skipped, not paged through 3 at a time.
  EXPECT_LT(backend_.list_calls, 12);

  std::vector<std::string> flat = Pages("max-keys=7", &pages);
  EXPECT_EQ(flat.size(), 57u);
  EXPECT_EQ(pages, 9);
  EXPECT_TRUE(std::is_sorted(flat.begin(), flat.end()));

  EXPECT_EQ(Pages("prefix=c%2F&delimiter=%2F", &pages), (std::vector<std::string>{"c/x/", "c/y/"}));
  EXPECT_EQ(Pages("start-after=big%2F148&max-keys=3", &pages),
            (std::vector<std::string>{"big/149", "c/x/1", "c/y/2", "d"}));
  // A start-after naming a roll-up resumes after the whole roll-up.
  EXPECT_EQ(Pages("delimiter=%2F&start-after=big%2F", &pages),
            (std::vector<std::string>{"c/", "d"}));
  Outcome out = Run(Signed("GET", "/conn-demo", "list-type=2&start-after=c&max-keys=0"));
  EXPECT_EQ(Tag(out.response.body, "KeyCount"), "0");
  EXPECT_EQ(Tag(out.response.body, "StartAfter"), "c");
  EXPECT_EQ(Tag(out.response.body, "MaxKeys"), "0");
  out = Run(Signed("GET", "/conn-demo", "list-type=2&max-keys=5000&prefix=a"));
  EXPECT_EQ(Tag(out.response.body, "MaxKeys"), "1000");
  EXPECT_EQ(Tag(out.response.body, "Prefix"), "a");
  EXPECT_EQ(out.response.body.find("<Owner>"), std::string::npos);
  out = Run(Signed("GET", "/conn-demo", "list-type=2&fetch-owner=true&prefix=d"));
  EXPECT_NE(out.response.body.find("<Owner><ID>conn-demo</ID>"), std::string::npos);
}

TEST_F(ListTest, VersionOneMarkers) {
  // With a delimiter S3 gives NextMarker; without, the client resumes after the last key.
  for (const std::string path : {"/conn-demo", "/conn-demo/"}) {
    Outcome out = Run(Signed("GET", path, "delimiter=%2F&max-keys=2"));
    ASSERT_EQ(out.response.status, 200) << out.response.body;
    EXPECT_EQ(Tag(out.response.body, "IsTruncated"), "true");
    EXPECT_EQ(Tag(out.response.body, "NextMarker"), "b.parquet");
    out = Run(Signed("GET", path, "delimiter=%2F&max-keys=2&marker=b.parquet"));
    EXPECT_EQ(All(out.response.body, "<Prefix>([^<]*)</Prefix></CommonPrefixes>"),
              (std::vector<std::string>{"big/", "c/"}));
    EXPECT_EQ(Tag(out.response.body, "Marker"), "b.parquet");
    EXPECT_EQ(Tag(out.response.body, "NextMarker"), "c/");
    out = Run(Signed("GET", path, "delimiter=%2F&marker=c%2F"));
    EXPECT_EQ(All(out.response.body, "<Key>([^<]*)</Key>"), std::vector<std::string>{"d"});
    EXPECT_EQ(Tag(out.response.body, "IsTruncated"), "false");
    out = Run(Signed("GET", path, "list-type=1&max-keys=1"));  // 1 (or none) is v1
    EXPECT_EQ(Tag(out.response.body, "IsTruncated"), "true");
    EXPECT_EQ(Tag(out.response.body, "NextMarker"), "<absent>");
    EXPECT_NE(out.response.body.find("<Owner>"), std::string::npos);
  }
}

TEST_F(ListTest, KeysAreUrlEncodedOrXmlEscaped) {
  backend_.Put("x y/\xC3\xBC&<.parquet", "x");
  Outcome out = Run(Signed("GET", "/conn-demo", "list-type=2&prefix=x%20y%2F&encoding-type=url"));
  EXPECT_EQ(Tag(out.response.body, "Key"), "x%20y/%C3%BC%26%3C.parquet");
  EXPECT_EQ(Tag(out.response.body, "Prefix"), "x%20y/");
  EXPECT_EQ(Tag(out.response.body, "EncodingType"), "url");
  out = Run(Signed("GET", "/conn-demo", "list-type=2&prefix=x%20y%2F"));
  EXPECT_EQ(Tag(out.response.body, "Key"), "x y/\xC3\xBC&amp;&lt;.parquet");
  EXPECT_EQ(Tag(out.response.body, "EncodingType"), "<absent>");
  out = Run(Signed("GET", "/conn-demo", "delimiter=%20&encoding-type=url&prefix=x"));
  EXPECT_EQ(Tag(out.response.body, "Delimiter"), "%20");
  EXPECT_EQ(All(out.response.body, "<Prefix>([^<]*)</Prefix></CommonPrefixes>"),
            std::vector<std::string>{"x%20"});
}

// `continuation-token=`, `start-after=` and `marker=` present but empty are absent, as in S3:
// the listing starts at the first key (some SDKs send the empty token for the first page).
TEST_F(ListTest, EmptyTokenStartAfterAndMarkerStartFromTheFirstKey) {
  const Outcome whole = Run(Signed("GET", "/conn-demo", "list-type=2&max-keys=3"));
  ASSERT_EQ(whole.response.status, 200) << whole.response.body;
  const std::vector<std::string> first = All(whole.response.body, "<Key>([^<]*)</Key>");
  ASSERT_EQ(first.size(), 3u);
  for (const std::string q :
       {"list-type=2&max-keys=3&continuation-token=", "list-type=2&max-keys=3&start-after=",
        "list-type=2&max-keys=3&continuation-token=&start-after=", "max-keys=3&marker=",
        "list-type=2&continuation-token&max-keys=3"}) {
    const Outcome out = Run(Signed("GET", "/conn-demo", q));
    ASSERT_EQ(out.response.status, 200) << q << "\n" << out.response.body;
    EXPECT_EQ(All(out.response.body, "<Key>([^<]*)</Key>"), first) << q;
    EXPECT_EQ(Tag(out.response.body, "IsTruncated"), "true") << q;
    // The empty token is not a token: none is echoed.
    EXPECT_EQ(Tag(out.response.body, "ContinuationToken"), "<absent>") << q;
  }
  // Beside a real token an empty start-after changes nothing: the page goes on after the token.
  const std::string next = Tag(whole.response.body, "NextContinuationToken");
  const Outcome second =
      Run(Signed("GET", "/conn-demo",
                 "list-type=2&max-keys=1&start-after=&continuation-token=" + UrlEncode(next)));
  ASSERT_EQ(second.response.status, 200) << second.response.body;
  const std::vector<std::string> after = All(second.response.body, "<Key>([^<]*)</Key>");
  ASSERT_EQ(after.size(), 1u);
  EXPECT_GT(after[0], first.back());
}

TEST_F(ListTest, BadParameters) {
  for (const std::string q :
       {"list-type=2&max-keys=-1", "list-type=2&max-keys=ten", "list-type=2&encoding-type=xml",
        "list-type=2&continuation-token=%21%21%21", "max-keys=1x"}) {
    const Outcome out = Run(Signed("GET", "/conn-demo", q));
    EXPECT_EQ(out.response.status, 400) << q;
    EXPECT_EQ(ErrorCodeOf(out.response), "InvalidArgument") << q;
  }
  EXPECT_EQ(ErrorCodeOf(Run(Signed("GET", "/conn-other", "list-type=2")).response), "AccessDenied");
  EXPECT_EQ(ErrorCodeOf(Run(Signed("GET", "/conn-gone", "list-type=2")).response), "NoSuchBucket");
}

TEST_F(ListTest, ADelimiterPageReadsABoundedNumberOfKeys) {
  // 40 common prefixes with 300 keys under each: a page of 40 prefixes seeks past each one
  // instead of reading its 300 keys.
  for (int p = 0; p < 40; ++p) {
    for (int k = 0; k < 300; ++k) {
      backend_.Put("deep/" + std::to_string(1000 + p) + "/" + std::to_string(k), "x");
    }
  }
  const size_t before = backend_.listed_objects;
  int pages = 0;
  const auto all = Pages("prefix=deep%2F&delimiter=%2F", &pages);
  EXPECT_EQ(all.size(), 40u);
  EXPECT_EQ(pages, 1);
  EXPECT_LE(backend_.listed_objects - before, 40u * 64u);
}

TEST_F(ListTest, MultipartUploadsPageThroughMarkers) {
  for (int i = 0; i < 9; ++i) {
    // Three uploads of one key, and keys created out of order.
    const std::string key = i % 3 == 0 ? "m/same" : "m/k" + std::to_string(9 - i);
    const Outcome out = Run(Signed("POST", "/conn-demo/" + key, "uploads="));
    ASSERT_EQ(out.response.status, 200) << out.response.body;
  }
  std::string key_marker, id_marker;
  std::vector<std::string> keys, ids;
  int pages = 0;
  while (pages < 20) {
    std::string q = "uploads&max-uploads=2";
    if (!key_marker.empty()) q += "&key-marker=" + UrlEncode(key_marker);
    if (!id_marker.empty()) q += "&upload-id-marker=" + UrlEncode(id_marker);
    const Outcome out = Run(Signed("GET", "/conn-demo", q));
    ASSERT_EQ(out.response.status, 200) << out.response.body;
    ++pages;
    const std::string& xml = out.response.body;
    for (const auto& k : All(xml, "<Upload><Key>([^<]*)</Key>")) keys.push_back(k);
    for (const auto& id : All(xml, "<UploadId>([^<]*)</UploadId>")) ids.push_back(id);
    if (Tag(xml, "IsTruncated") != "true") break;
    key_marker = Tag(xml, "NextKeyMarker");
    id_marker = Tag(xml, "NextUploadIdMarker");
  }
  EXPECT_EQ(pages, 5);
  EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end()));
  EXPECT_EQ(keys.size(), 9u);
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 9u);
  EXPECT_EQ(std::count(keys.begin(), keys.end(), "m/same"), 3);
  // Each page asked the backend for one more than it returns, never for everything.
  EXPECT_EQ(backend_.largest_upload_query, 3u);
}

TEST_F(ListTest, HiddenKeysEndAPageEarlyWithAMarkerPastThem) {
  // 400 keys that the backend reads but hides (deleted or purged), 20 read per call: a page
  // gives up after kMaxIdleListCalls empty calls and hands the client a marker past them.
  for (int i = 0; i < 400; ++i) {
    const std::string key = "h/" + std::to_string(1000 + i);
    backend_.Put(key, "x");
    backend_.hidden.insert(key);
  }
  backend_.Put("h/9999", "x");
  backend_.read_bound = 20;
  int pages = 0;
  EXPECT_EQ(Pages("prefix=h%2F", &pages), (std::vector<std::string>{"h/9999"}));
  EXPECT_EQ(pages, 3);  // 8 x 20 keys read per request
  EXPECT_EQ(Pages("prefix=h%2F&delimiter=%2F", &pages), (std::vector<std::string>{"h/9999"}));

  // v1 without a delimiter: NextMarker says where the truncated page ended.
  std::string marker;
  std::vector<std::string> keys;
  for (int i = 0; i < 10; ++i) {
    const Outcome out = Run(Signed("GET", "/conn-demo", "prefix=h%2F&marker=" + UrlEncode(marker)));
    ASSERT_EQ(out.response.status, 200) << out.response.body;
    for (const auto& k : All(out.response.body, "<Key>([^<]*)</Key>")) keys.push_back(k);
    if (Tag(out.response.body, "IsTruncated") != "true") break;
    marker = Tag(out.response.body, "NextMarker");
    ASSERT_NE(marker, "<absent>");
  }
  EXPECT_EQ(keys, std::vector<std::string>{"h/9999"});
}

TEST_F(ListTest, MultipartUploadsRollUpByDelimiter) {
  for (const char* key : {"m/a/1", "m/a/2", "m/b/1", "m/c", "m/d/x", "m/d/y", "n/z"}) {
    for (int i = 0; i < 2; ++i) {
      ASSERT_EQ(Run(Signed("POST", std::string("/conn-demo/") + key, "uploads=")).response.status,
                200);
    }
  }
  std::vector<std::string> entries;
  std::string key_marker, id_marker;
  int pages = 0;
  while (pages < 20) {
    std::string q = "uploads&prefix=m%2F&delimiter=%2F&max-uploads=2";
    if (!key_marker.empty()) q += "&key-marker=" + UrlEncode(key_marker);
    if (!id_marker.empty() && id_marker != "<absent>") {
      q += "&upload-id-marker=" + UrlEncode(id_marker);
    }
    const Outcome out = Run(Signed("GET", "/conn-demo", q));
    ASSERT_EQ(out.response.status, 200) << out.response.body;
    ++pages;
    const std::string& xml = out.response.body;
    EXPECT_EQ(Tag(xml, "Delimiter"), "/");
    for (const auto& k : All(xml, "<Upload><Key>([^<]*)</Key>")) entries.push_back(k);
    for (const auto& p : All(xml, "<CommonPrefixes><Prefix>([^<]*)</Prefix>")) {
      entries.push_back(p);
    }
    if (Tag(xml, "IsTruncated") != "true") break;
    key_marker = Tag(xml, "NextKeyMarker");
    id_marker = Tag(xml, "NextUploadIdMarker");
  }
  std::sort(entries.begin(), entries.end());
  EXPECT_EQ(entries, (std::vector<std::string>{"m/a/", "m/b/", "m/c", "m/c", "m/d/"}));
  EXPECT_EQ(pages, 3);
}

}  // namespace
}  // namespace sluice::s3
