// The console's URL layout and headers, on the files this build embedded from web/.
#include <gtest/gtest.h>

#include <string>

#include "sluice/api/console_internal.h"

namespace sluice::api {
namespace {

http::RequestHead Get(std::string path, std::string method = "GET") {
  http::RequestHead head;
  head.method = std::move(method);
  head.raw_path = path;
  head.target = std::move(path);
  return head;
}

std::string Header(const http::Response& r, std::string_view name) {
  for (const auto& [n, v] : r.headers) {
    if (n == name) return v;
  }
  return "";
}

std::string AssetPath(std::string_view file) {
  return "/assets/" + std::string(WebAssetsHash()) + "/" + std::string(file);
}

TEST(ConsoleTest, EmbedsTheTreeSortedWithTypes) {
  std::span<const WebAsset> assets = WebAssets();
  ASSERT_FALSE(assets.empty());
  EXPECT_EQ(WebAssetsHash().size(), 16u);
  for (size_t i = 1; i < assets.size(); ++i) EXPECT_LT(assets[i - 1].path, assets[i].path);
  bool has_app = false;
  for (const WebAsset& a : assets) {
    EXPECT_FALSE(a.content_type.empty()) << a.path;
    EXPECT_FALSE(a.path.ends_with(".md")) << a.path;
    if (a.path == "app.js") {
      has_app = true;
      EXPECT_EQ(a.content_type, "text/javascript; charset=utf-8");
    }
  }
  EXPECT_TRUE(has_app);
}

TEST(ConsoleTest, IndexForClientRoutesWithHashedReferencesAndNoCache) {
  for (const char* path : {"/", "/connections/shop", "/connections/shop/files", "/sql"}) {
    std::optional<http::Response> r = ServeConsole(Get(path));
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 200) << path;
    EXPECT_EQ(Header(*r, "Content-Type"), "text/html; charset=utf-8");
    EXPECT_EQ(Header(*r, "Cache-Control"), "no-cache");
    EXPECT_NE(r->body.find("\"" + AssetPath("app.js") + "\""), std::string::npos) << r->body;
    EXPECT_EQ(r->body.find("\"/assets/app.js"), std::string::npos);
  }
}

TEST(ConsoleTest, IndexRevalidatesByEtag) {
  std::optional<http::Response> first = ServeConsole(Get("/"));
  ASSERT_TRUE(first);
  const std::string etag = Header(*first, "ETag");
  ASSERT_FALSE(etag.empty());
  http::RequestHead again = Get("/");
  again.headers.emplace_back("If-None-Match", etag);
  std::optional<http::Response> second = ServeConsole(again);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->status, 304);
  EXPECT_TRUE(second->body.empty());
}

TEST(ConsoleTest, AssetsAreImmutableUnderTheHash) {
  std::optional<http::Response> r = ServeConsole(Get(AssetPath("vendor/preact.js")));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(Header(*r, "Cache-Control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(Header(*r, "Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_FALSE(r->body.empty());

  for (std::string miss :
       {AssetPath("nope.js"), std::string("/assets/0123456789abcdef/app.js"),
        std::string("/assets/app.js"), AssetPath("../index.html"), AssetPath("index.html")}) {
    std::optional<http::Response> m = ServeConsole(Get(miss));
    ASSERT_TRUE(m) << miss;
    EXPECT_EQ(m->status, 404) << miss;
  }
}

TEST(ConsoleTest, EveryAnswerCarriesTheSecurityHeaders) {
  for (std::string path : {std::string("/"), AssetPath("app.js"), AssetPath("missing.js")}) {
    std::optional<http::Response> r = ServeConsole(Get(path));
    ASSERT_TRUE(r) << path;
    const std::string csp = Header(*r, "Content-Security-Policy");
    EXPECT_NE(csp.find("default-src 'none'"), std::string::npos) << path;
    EXPECT_NE(csp.find("script-src 'self'"), std::string::npos) << path;
    EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos) << path;
    EXPECT_EQ(csp.find("unsafe"), std::string::npos) << path;
    EXPECT_EQ(Header(*r, "X-Content-Type-Options"), "nosniff");
    EXPECT_EQ(Header(*r, "Referrer-Policy"), "no-referrer");
  }
}

TEST(ConsoleTest, LeavesOtherPathsAndMethodsAlone) {
  EXPECT_FALSE(ServeConsole(Get("/api/v1/nope")));
  EXPECT_FALSE(ServeConsole(Get("/favicon.ico")));
  EXPECT_FALSE(ServeConsole(Get("/connections/x/robots.txt")));
  EXPECT_FALSE(ServeConsole(Get("/", "POST")));
  EXPECT_TRUE(ServeConsole(Get("/", "HEAD")));
}

}  // namespace
}  // namespace sluice::api
