#pragma once
// Private to api: the web console, a browser application over /api/v1 served by the admin
// port. Its files (web/ at the repository root: index.html, ES modules, CSS, vendored Preact
// and htm) are compiled into the binary by cmake/EmbedWeb.cmake; nothing is read from disk or
// fetched elsewhere at run time.
//
// URL layout (console.cc):
//   /assets/<hash>/<path>   a file of web/, `Cache-Control: public, max-age=31536000,
//                           immutable`: <hash> changes whenever any file does.
//   any other GET path      index.html, its "/assets/ references rewritten to
//                           "/assets/<hash>/, `Cache-Control: no-cache` (with an ETag): the
//                           application routes client-side (/connections/shop/files ...).
//   a path whose last segment has a dot and is not an asset: not the console's (404), so a
//   browser asking for /favicon.ico or /robots.txt is not handed HTML.
// Every console answer carries a strict Content-Security-Policy (no inline script or style,
// nothing from another origin, not framed), `X-Content-Type-Options: nosniff` and
// `Referrer-Policy: no-referrer`.
//
// The console authenticates like any client of /api/v1 (a session cookie and a CSRF token);
// serving its files needs no credential, as they hold nothing secret.
//
// Thread-safety: everything here is immutable after static initialisation; ServeConsole may
// be called from any thread.

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "sluice/http/http.h"

namespace sluice::api {

// One file of web/, with static storage duration.
struct WebAsset {
  std::string_view path;          // relative to web/: "app.js", "vendor/preact.js"
  std::string_view content_type;  // by extension: "text/javascript; charset=utf-8"
  std::string_view bytes;
};

// Defined in the generated web_assets.cc: every file of web/, sorted by path, and a hash of
// them all (16 hex digits).
std::span<const WebAsset> WebAssets();
std::string_view WebAssetsHash();

// The console's answer to a request the admin API did not take, or nullopt when `head` is not
// a console path (a non-GET method, /api/..., a file name the console does not have).
// The console's page or asset for `head`, nullopt for a path it does not serve. `s3_origin`
// (scheme://host:port, may be empty) is the S3 endpoint the page may also call.
std::optional<http::Response> ServeConsole(const http::RequestHead& head,
                                           std::string_view s3_origin = {});
// "http://127.0.0.1:8787" of "http://127.0.0.1:8787/x"; empty for a string without "://".
std::string OriginOf(std::string_view url);

}  // namespace sluice::api
