#include <algorithm>
#include <string>

#include "sluice/api/console_internal.h"

namespace sluice::api {
namespace {

constexpr std::string_view kAssetPrefix = "/assets/";

// What a console page may do: load its own scripts, styles, images and fonts and call its own
// origin and the S3 endpoint's (an upload goes there through a presigned URL), nothing inline,
// nothing framed. `data:` images are for the SVG icons CSS may carry. Downloads the console
// builds itself (CSV from a query) are blob: URLs opened by an <a download>, which is a
// download rather than a fetch or a navigation, so no directive needs `blob:`.
std::string ContentSecurityPolicy(std::string_view s3_origin) {
  return "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
         "connect-src 'self'" +
         (s3_origin.empty() ? std::string() : " " + std::string(s3_origin)) +
         "; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
}

http::Response ConsoleResponse(int status, std::string_view content_type, std::string body,
                               std::string_view cache_control, std::string_view s3_origin = {}) {
  http::Response r;
  r.status = status;
  r.headers.emplace_back("Content-Type", std::string(content_type));
  r.headers.emplace_back("Cache-Control", std::string(cache_control));
  r.headers.emplace_back("Content-Security-Policy", ContentSecurityPolicy(s3_origin));
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  r.body = std::move(body);
  return r;
}

const WebAsset* FindAsset(std::string_view path) {
  std::span<const WebAsset> assets = WebAssets();
  auto it = std::lower_bound(assets.begin(), assets.end(), path,
                             [](const WebAsset& a, std::string_view p) { return a.path < p; });
  return it != assets.end() && it->path == path ? &*it : nullptr;
}

// index.html with its asset references pointed at this build's hash: `"/assets/app.js"` in the
// source becomes `"/assets/<hash>/app.js"`. Only quoted attribute values are rewritten, so text
// that mentions /assets/ is left alone. Built once.
const std::string& IndexHtml() {
  static const std::string index = [] {
    const WebAsset* source = FindAsset("index.html");
    if (source == nullptr) return std::string("<!doctype html><p>the console was not built</p>");
    const std::string from = "\"" + std::string(kAssetPrefix);
    const std::string to = from + std::string(WebAssetsHash()) + "/";
    std::string out(source->bytes);
    for (size_t at = out.find(from); at != std::string::npos; at = out.find(from, at + to.size()))
      out.replace(at, from.size(), to);
    return out;
  }();
  return index;
}

std::string_view LastSegment(std::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

bool NotModified(const http::RequestHead& head, std::string_view etag) {
  std::optional<std::string_view> match = head.Header("If-None-Match");
  return match && match->find(etag) != std::string_view::npos;
}

http::Response ServeAsset(std::string_view rest) {
  const size_t slash = rest.find('/');
  const WebAsset* asset = nullptr;
  if (slash != std::string_view::npos && rest.substr(0, slash) == WebAssetsHash()) {
    asset = FindAsset(rest.substr(slash + 1));
  }
  // Another build's hash (a page open across an upgrade) is a miss too: serving today's bytes
  // under yesterday's immutable name would mix versions in the browser's cache.
  if (asset == nullptr || asset->path == "index.html") {
    return ConsoleResponse(404, "text/plain; charset=utf-8", "no such asset\n", "no-store");
  }
  return ConsoleResponse(200, asset->content_type, std::string(asset->bytes),
                         "public, max-age=31536000, immutable");
}

}  // namespace

std::string OriginOf(std::string_view url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return "";
  const size_t path = url.find('/', scheme + 3);
  return std::string(url.substr(0, path));
}

std::optional<http::Response> ServeConsole(const http::RequestHead& head,
                                           std::string_view s3_origin) {
  if (head.method != "GET" && head.method != "HEAD") return std::nullopt;
  std::string_view path = head.raw_path;
  if (path.starts_with("/api/")) return std::nullopt;
  if (path.starts_with(kAssetPrefix)) return ServeAsset(path.substr(kAssetPrefix.size()));
  if (LastSegment(path).find('.') != std::string_view::npos) return std::nullopt;

  // index.html is a function of the hash alone, so the hash is its ETag.
  const std::string etag = "\"" + std::string(WebAssetsHash()) + "\"";
  http::Response r =
      NotModified(head, etag)
          ? ConsoleResponse(304, "text/html; charset=utf-8", "", "no-cache", s3_origin)
          : ConsoleResponse(200, "text/html; charset=utf-8", IndexHtml(), "no-cache", s3_origin);
  r.headers.emplace_back("ETag", etag);
  return r;
}

}  // namespace sluice::api
