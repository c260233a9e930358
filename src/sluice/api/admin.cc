#include "sluice/api/admin.h"

#include <algorithm>
#include <cctype>

#include "sluice/api/admin_internal.h"
#include "sluice/api/console_internal.h"
#include "sluice/core/text.h"
#include "sluice/service/admins.h"

namespace sluice::api {
namespace {

// A route without a request body takes none. A request announcing more than this (or a chunked
// one, whose size is unknown) is answered 413 before any of it is read, and the connection
// closes; a smaller body is read and dropped, so clients that send an empty or tiny body keep
// working. Routes with a JSON body take up to kMaxJsonBodyBytes.
constexpr uint64_t kMaxEmptyBodyBytes = 1024;
// What a public route with a body (the login) takes before anyone is known.
constexpr uint64_t kMaxPublicBodyBytes = 4096;

http::Response TooLarge(uint64_t limit) {
  http::Response r = Json(413, {{"error", "the request body is over " + std::to_string(limit) +
                                              " bytes, the most this route takes"}});
  r.close = true;
  return r;
}

// Reads the request body (at most `limit` bytes) and then serves the route, or answers what
// was decided at the start.
class AdminExchange final : public http::Exchange {
 public:
  explicit AdminExchange(http::Response ready) : ready_(std::move(ready)) {}
  AdminExchange(const Endpoint* endpoint, ApiCall call, uint64_t limit)
      : endpoint_(endpoint), call_(std::move(call)), limit_(limit) {}

  Status OnBody(ByteView data) override {
    read_ += data.size();
    if (read_ > limit_) {
      return Err(ErrorCode::kEntityTooLarge,
                 "the request body is over " + std::to_string(limit_) + " bytes");
    }
    if (endpoint_ != nullptr)
      call_.body.append(reinterpret_cast<const char*>(data.data()), data.size());
    return Status::Ok();
  }

  http::Response Finish(const Status& body_status) override {
    if (!body_status.ok()) {
      http::Response r = body_status.code() == ErrorCode::kEntityTooLarge
                             ? TooLarge(limit_)
                             : Json(body_status.code() == ErrorCode::kRequestTimeout ? 408 : 400,
                                    {{"error", body_status.message()}});
      r.close = true;
      return r;
    }
    if (endpoint_ == nullptr) return std::move(ready_);
    http::Response r = endpoint_->serve(call_);
    // Answers carry secrets (a new key) and live state: never stored by a cache.
    r.headers.emplace_back("Cache-Control", "no-store");
    return r;
  }

 private:
  http::Response ready_;
  const Endpoint* endpoint_ = nullptr;
  ApiCall call_;
  uint64_t limit_ = kMaxEmptyBodyBytes;
  uint64_t read_ = 0;
};

std::vector<Endpoint> AllRoutes(AdminContext& ctx) {
  std::vector<Endpoint> all;
  for (auto make :
       {SessionRoutes, ConnectionRoutes, TableRoutes, FileRoutes, ConsoleRoutes, AlertRoutes}) {
    for (Endpoint& e : make(ctx)) all.push_back(std::move(e));
  }
  return all;
}

class AdminHandler final : public http::Handler {
 public:
  AdminHandler(catalog::Catalog& catalog, Secret token, Metrics& metrics, const Clock& clock,
               AdminOptions options)
      : ctx_{catalog, metrics, clock, std::move(options)},
        token_(std::move(token)),
        routes_(AllRoutes(ctx_)) {
    std::vector<ApiRoute> api;
    for (const Endpoint& r : routes_) api.push_back(r.api);
    api.push_back(OpenApiRoute());
    openapi_ = OpenApiDocument(api, "v1").dump(2) + "\n";
  }

  Started Start(const http::RequestHead& head) override {
    Started s;
    uint64_t limit = kMaxEmptyBodyBytes;
    std::unique_ptr<AdminExchange> exchange = Route(head, &limit);
    if (head.content_length.value_or(0) > limit || (head.chunked && limit == kMaxEmptyBodyBytes)) {
      s.response = TooLarge(limit);
      return s;
    }
    s.exchange = std::move(exchange);
    return s;
  }

 private:
  static ApiRoute OpenApiRoute() {
    return {.method = "GET",
            .path = "/api/v1/openapi.json",
            .summary = "This document",
            .description = "The OpenAPI 3 description of every route of /api/v1.",
            .anonymous = true};
  }

  std::unique_ptr<AdminExchange> Ready(http::Response r) {
    return std::make_unique<AdminExchange>(std::move(r));
  }

  std::unique_ptr<AdminExchange> Route(const http::RequestHead& head, uint64_t* limit) {
    const std::string& path = head.raw_path;
    if (path == "/api/v1/openapi.json" && (head.method == "GET" || head.method == "HEAD")) {
      return Ready(Text(200, openapi_, "application/json"));
    }
    if (path.rfind("/api/v1/", 0) == 0) return Api(head, limit);
    if (head.method != "GET" && head.method != "HEAD") {
      return Ready(Text(405, "only GET is served here\n"));
    }
    if (path == "/healthz") return Ready(Text(200, "ok\n"));
    if (path == "/metrics") {
      if (ctx_.options.metrics_token && !Authorized(head)) {
        http::Response r = Text(401,
                                "/metrics needs the admin token (serve --metrics-token): "
                                "Authorization: Bearer <token> (see <data-dir>/admin.token)\n");
        r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"sluice\"");
        return Ready(std::move(r));
      }
      return Ready(MetricsPage());
    }
    if (auto r = ServeConsole(head, OriginOf(ctx_.options.s3_endpoint)))
      return Ready(std::move(*r));
    return Ready(Text(404, "not found\n"));
  }

  // The route of `head` in routes_, else 404 or 405. Before anything is read: 401 unless the
  // route is public or the caller is known (the admin token, or a live session), 403 for a
  // session's write without its CSRF token, or a viewer's write.
  std::unique_ptr<AdminExchange> Api(const http::RequestHead& head, uint64_t* limit) {
    std::string allowed;  // the methods of the routes whose path matched
    for (const Endpoint& r : routes_) {
      std::optional<PathParams> params = MatchPath(r.api.path, head.raw_path);
      if (!params) continue;
      const bool same =
          r.api.method == head.method || (r.api.method == "GET" && head.method == "HEAD");
      if (!same) {
        allowed += (allowed.empty() ? "" : ", ") + r.api.method;
        continue;
      }
      std::optional<Caller> caller = CallerOf(head);
      if (!r.api.anonymous) {
        if (!caller) return Ready(Unauthorized());
        if (auto refused = Refused(r.api, head, *caller)) return Ready(std::move(*refused));
      }
      if (!r.api.request.empty())
        *limit = r.api.anonymous ? kMaxPublicBodyBytes : kMaxJsonBodyBytes;
      ApiCall call{caller.value_or(Caller{}), std::move(*params), head.raw_query, std::string(),
                   head.tls};
      return std::make_unique<AdminExchange>(&r, std::move(call), *limit);
    }
    if (!CallerOf(head)) return Ready(Unauthorized());  // says nothing of which paths exist
    if (!allowed.empty()) {
      http::Response r = Json(405, {{"error", head.method + " is not served on " + head.raw_path +
                                                  "; allowed: " + allowed}});
      r.headers.emplace_back("Allow", allowed);
      return Ready(std::move(r));
    }
    return Ready(Json(404, {{"error", "no such endpoint: " + head.raw_path +
                                          " (the routes are in /api/v1/openapi.json)"}}));
  }

  static http::Response Unauthorized() {
    return Json(401, {{"error",
                       "log in (POST /api/v1/session), or send the admin token: "
                       "Authorization: Bearer <token> (see <data-dir>/admin.token)"}});
  }

  // Why `caller` may not call `route` now (403), if it may not.
  static std::optional<http::Response> Refused(const ApiRoute& route, const http::RequestHead& head,
                                               const Caller& caller) {
    const bool write = route.method != "GET";
    if (!write) return std::nullopt;
    if (!caller.session_token.empty()) {
      auto sent = head.Header("X-CSRF-Token");
      if (!sent || !ConstantTimeEquals(*sent, service::CsrfToken(caller.session_token))) {
        return Json(403, {{"error",
                           "this request needs the session's CSRF token in the "
                           "X-CSRF-Token header (GET /api/v1/session gives it)"},
                          {"code", "ACCESS_DENIED"}});
      }
    }
    if (caller.role != catalog::AdminRole::kAdmin && !route.read_only) {
      return Json(403, {{"error",
                         "user '" + caller.user + "' is a viewer: only an admin may change things"},
                        {"code", "ACCESS_DENIED"}});
    }
    return std::nullopt;
  }

  // The admin token as a Bearer credential (compared in constant time), else a live session
  // of the request's cookie; nullopt: neither.
  std::optional<Caller> CallerOf(const http::RequestHead& head) const {
    if (Authorized(head)) return Caller{catalog::AdminRole::kAdmin, "", ""};
    const std::string token = SessionCookie(head);
    if (token.empty()) return std::nullopt;
    auto session = service::SessionOf(ctx_.catalog, token, ctx_.clock.NowMicros());
    if (!session.ok() || !*session) return std::nullopt;
    return Caller{(*session)->role, (*session)->user, token};
  }

  // The value of the session cookie in the request's Cookie headers; empty when absent.
  static std::string SessionCookie(const http::RequestHead& head) {
    const std::string prefix = std::string(kSessionCookie) + "=";
    for (const auto& [name, value] : head.headers) {
      if (!EqualsIgnoreCase(name, "Cookie")) continue;
      std::string_view rest = value;
      while (!rest.empty()) {
        const size_t semi = rest.find(';');
        std::string_view pair = TrimAscii(rest.substr(0, semi));
        if (pair.starts_with(prefix)) return std::string(pair.substr(prefix.size()));
        if (semi == std::string_view::npos) break;
        rest.remove_prefix(semi + 1);
      }
    }
    return "";
  }

  // The admin token as a Bearer credential, compared in constant time.
  bool Authorized(const http::RequestHead& head) const {
    auto auth = head.Header("Authorization");
    const std::string expected = "Bearer " + token_.reveal();
    return auth && ConstantTimeEquals(*auth, expected);
  }

  http::Response MetricsPage() {
    auto page = ctx_.metrics.Render(ctx_.catalog, ctx_.clock.NowMicros());
    if (!page.ok()) return Text(500, page.status().ToString() + "\n");
    return Text(200, std::move(page).value(), "text/plain; version=0.0.4; charset=utf-8");
  }

  AdminContext ctx_;
  Secret token_;
  const std::vector<Endpoint> routes_;
  std::string openapi_;  // the OpenAPI document of routes_, serialised once
};

}  // namespace

http::Response Text(int status, std::string body, std::string type) {
  http::Response r;
  r.status = status;
  r.headers.emplace_back("Content-Type", std::move(type));
  r.body = std::move(body);
  return r;
}

http::Response Json(int status, const nlohmann::json& body) {
  return Text(status, body.dump(2) + "\n", "application/json");
}

http::Response ErrorResponse(const Status& status) {
  int http_status = 500;
  switch (status.code()) {
    case ErrorCode::kNotFound:
    case ErrorCode::kNoSuchBucket:
    case ErrorCode::kNoSuchKey:
      http_status = 404;
      break;
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kPkNotFound:
    case ErrorCode::kAgeColumnNotFound:
    case ErrorCode::kSchemaMismatch:
    case ErrorCode::kLimitExceeded:
    case ErrorCode::kUnsupportedFormat:
    case ErrorCode::kCorruptFile:
      http_status = 400;
      break;
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kBucketNotEmpty:
    case ErrorCode::kBucketAlreadyExists:
    case ErrorCode::kBucketAlreadyOwnedByYou:
      http_status = 409;
      break;
    case ErrorCode::kUnavailable:
      http_status = 503;
      break;
    default:
      break;
  }
  return Json(http_status,
              {{"error", status.message()}, {"code", std::string(ErrorCodeName(status.code()))}});
}

http::Response BadQuery(const std::string& name, const std::string& allowed) {
  return Json(400, {{"error", "bad query parameter '" + name + "': use " + allowed}});
}

std::optional<http::Response> NoQuery(std::string_view raw_query) {
  for (const auto& [name, value] : AdminQuery(raw_query)) return BadQuery(name, "no parameter");
  return std::nullopt;
}

void AddNextLink(http::Response& r, const std::string& next) {
  r.headers.emplace_back("Link", "<" + next + ">; rel=\"next\"");
}

std::map<std::string, std::string, std::less<>> AdminQuery(std::string_view raw) {
  std::map<std::string, std::string, std::less<>> out;
  while (!raw.empty()) {
    const size_t amp = raw.find('&');
    const std::string_view pair = raw.substr(0, amp);
    const size_t eq = pair.find('=');
    out.emplace(std::string(pair.substr(0, eq)),
                eq == std::string_view::npos ? std::string() : std::string(pair.substr(eq + 1)));
    if (amp == std::string_view::npos) break;
    raw.remove_prefix(amp + 1);
  }
  return out;
}

std::optional<int64_t> Decimal(std::string_view text) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  int64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

bool IsConnectionId(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

bool IsTableName(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  }
  return true;
}

std::optional<nlohmann::json> BodyObject(const ApiCall& call, http::Response* error) {
  if (call.body.find_first_not_of(" \t\r\n") == std::string::npos) return nlohmann::json::object();
  nlohmann::json j = nlohmann::json::parse(call.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    *error = Json(400, {{"error", "the request body is not a JSON object"}});
    return std::nullopt;
  }
  return j;
}

std::optional<http::Response> UnknownMembers(const nlohmann::json& body,
                                             std::initializer_list<std::string_view> known) {
  for (const auto& [name, value] : body.items()) {
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      std::string list;
      for (std::string_view k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      return Json(400,
                  {{"error", "unknown member '" + name + "' (this route takes: " + list + ")"}});
    }
  }
  return std::nullopt;
}

std::optional<catalog::Connection> FindConnection(catalog::Catalog& catalog, const std::string& id,
                                                  http::Response* error) {
  auto conn = catalog.GetConnection(id);
  if (!conn.ok()) {
    *error = ErrorResponse(conn.status());
    return std::nullopt;
  }
  if (!*conn) {
    *error = Json(404, {{"error", "no connection '" + id + "'"}, {"code", "NOT_FOUND"}});
    return std::nullopt;
  }
  return std::move(**conn);
}

nlohmann::json TimeOrNull(int64_t micros) {
  return micros == 0 ? nlohmann::json(nullptr) : nlohmann::json(FormatIsoMicros(micros));
}

nlohmann::json FileJson(const catalog::FileRecord& f) {
  return {{"seq", f.seq},
          {"table", f.table},
          {"key", f.key},
          {"size", f.size},
          {"status", catalog::FileStatusName(f.status)},
          {"inserted", f.rows_inserted},
          {"updated", f.rows_updated},
          {"refused", f.rows_refused},
          {"error_code", f.error_code},
          {"error_message", f.error_message},
          {"received_at", FormatIsoMicros(f.received_at)},
          {"purged_at", f.purged_at == 0 ? "" : FormatIsoMicros(f.purged_at)},
          {"checksums", nlohmann::json::parse(f.checksums_json, nullptr, false)}};
}

std::unique_ptr<http::Handler> MakeAdminHandler(catalog::Catalog& catalog, Secret token,
                                                Metrics& metrics, const Clock& clock,
                                                AdminOptions options) {
  return std::make_unique<AdminHandler>(catalog, std::move(token), metrics, clock,
                                        std::move(options));
}

}  // namespace sluice::api
