// The admin API's session routes: a person logs in with a user name and password (an admin
// user: `sluice admin user add`), gets an HttpOnly, SameSite=Strict session cookie and a CSRF
// token for its writes, and logs out. The admin token needs none of this.
#include "sluice/api/admin_internal.h"
#include "sluice/service/admins.h"

namespace sluice::api {
namespace {

nlohmann::json SessionJson(const Caller& caller, int64_t expires_at) {
  return {{"user", caller.user.empty() ? nlohmann::json(nullptr) : nlohmann::json(caller.user)},
          {"role", catalog::AdminRoleName(caller.role)},
          {"csrf_token", caller.session_token.empty()
                             ? nlohmann::json(nullptr)
                             : nlohmann::json(service::CsrfToken(caller.session_token))},
          {"expires_at", expires_at == 0 ? nlohmann::json(nullptr)
                                         : nlohmann::json(FormatIsoMicros(expires_at))}};
}

// The session cookie: `token` for `max_age` seconds (0: removed), never readable by scripts,
// never sent cross-site, only over TLS when the request came over TLS.
std::string Cookie(const std::string& token, int64_t max_age, bool tls) {
  return std::string(kSessionCookie) + "=" + token +
         "; Path=/; Max-Age=" + std::to_string(max_age) + "; HttpOnly; SameSite=Strict" +
         (tls ? "; Secure" : "");
}

class SessionApi {
 public:
  explicit SessionApi(AdminContext& ctx) : ctx_(ctx) {}

  // POST /api/v1/session {"user", "password"}
  http::Response LogIn(const ApiCall& call) {
    if (auto bad = NoQuery(call.query)) return std::move(*bad);
    http::Response error;
    auto body = BodyObject(call, &error);
    if (!body) return error;
    if (auto bad = UnknownMembers(*body, {"user", "password"})) return std::move(*bad);
    const nlohmann::json& user = (*body)["user"];
    const nlohmann::json& password = (*body)["password"];
    if (!user.is_string() || !password.is_string()) {
      return Json(400, {{"error", "\"user\" and \"password\" (strings) are required"}});
    }
    int64_t retry_after = 0;
    auto login = service::LogIn(ctx_.catalog, user.get<std::string>(), password.get<std::string>(),
                                ctx_.clock.NowMicros(), &retry_after);
    if (!login.ok()) {
      const ErrorCode code = login.status().code();
      if (code == ErrorCode::kSlowDown) {
        http::Response r = Json(429, {{"error", login.status().message()}, {"code", "SLOW_DOWN"}});
        r.headers.emplace_back("Retry-After", std::to_string(retry_after));
        return r;
      }
      if (code == ErrorCode::kAccessDenied) {
        return Json(401, {{"error", login.status().message()}, {"code", "ACCESS_DENIED"}});
      }
      return ErrorResponse(login.status());
    }
    const Caller caller{login->session.role, login->session.user, login->token};
    http::Response r = Json(200, SessionJson(caller, login->session.expires_at));
    r.headers.emplace_back("Set-Cookie",
                           Cookie(login->token, service::kSessionMicros / 1'000'000, call.tls));
    return r;
  }

  // GET /api/v1/session: who is calling, and the session's CSRF token.
  http::Response Show(const ApiCall& call) {
    if (auto bad = NoQuery(call.query)) return std::move(*bad);
    int64_t expires_at = 0;
    if (!call.caller.session_token.empty()) {
      auto session =
          service::SessionOf(ctx_.catalog, call.caller.session_token, ctx_.clock.NowMicros());
      if (!session.ok()) return ErrorResponse(session.status());
      if (*session) expires_at = (*session)->expires_at;
    }
    return Json(200, SessionJson(call.caller, expires_at));
  }

  // DELETE /api/v1/session: logout (the cookie is removed; the session ends on every node).
  http::Response LogOut(const ApiCall& call) {
    if (auto bad = NoQuery(call.query)) return std::move(*bad);
    if (!call.caller.session_token.empty()) {
      Status st = service::LogOut(ctx_.catalog, call.caller.session_token);
      if (!st.ok()) return ErrorResponse(st);
    }
    http::Response r = Json(200, {{"message", "logged out"}});
    r.headers.emplace_back("Set-Cookie", Cookie("", 0, call.tls));
    return r;
  }

 private:
  AdminContext& ctx_;
};

}  // namespace

std::vector<Endpoint> SessionRoutes(AdminContext& ctx) {
  auto api = std::make_shared<SessionApi>(ctx);
  std::vector<Endpoint> routes;
  routes.push_back(
      {{.method = "POST",
        .path = "/api/v1/session",
        .summary = "Log in",
        .description = "With an admin user's name and password (`sluice admin user add`): sets "
                       "the session cookie (HttpOnly, SameSite=Strict; Secure over TLS), valid "
                       "12 hours, and answers its CSRF token, which every write with the cookie "
                       "sends in X-CSRF-Token. 401 for a wrong name or password; 429 with "
                       "Retry-After while the user is locked out after repeated failures.",
        .request = "Login",
        .schema = "Session",
        .anonymous = true},
       [api](const ApiCall& c) { return api->LogIn(c); }});
  routes.push_back({{.method = "GET",
                     .path = "/api/v1/session",
                     .summary = "Who is calling",
                     .description = "The session's user, role and CSRF token (null user for "
                                    "the admin token).",
                     .schema = "Session"},
                    [api](const ApiCall& c) { return api->Show(c); }});
  routes.push_back({{.method = "DELETE",
                     .path = "/api/v1/session",
                     .summary = "Log out",
                     .description = "Ends the session on every node and removes the cookie.",
                     .read_only = true},
                    [api](const ApiCall& c) { return api->LogOut(c); }});
  return routes;
}

}  // namespace sluice::api
