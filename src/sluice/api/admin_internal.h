#pragma once
// Private to api: what the admin API's route files share. Each file builds the endpoints of one
// resource (connections and credentials, tables, files, the SQL console and status) over an
// AdminContext; admin.cc dispatches requests to them, checks access and reads bodies.

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/api/admin.h"
#include "sluice/api/routes_internal.h"
#include "sluice/catalog/admins.h"
#include "sluice/http/http.h"

namespace sluice::api {

// Who sent a request: the admin token (automation: an admin, no CSRF token needed), or a
// person's session cookie (service/admins.h), whose writes carry its CSRF token.
struct Caller {
  catalog::AdminRole role = catalog::AdminRole::kViewer;
  std::string user;           // empty for the admin token
  std::string session_token;  // the cookie's value; empty for the admin token
};

// A request as a route sees it: who sent it, its path parameters, raw query and body (JSON for
// routes with a request schema; at most kMaxJsonBodyBytes) and whether it came over TLS.
struct ApiCall {
  Caller caller;
  PathParams params;
  std::string query;
  std::string body;
  bool tls = false;

  const std::string& param(const std::string& name) const { return params.find(name)->second; }
};

// A route of the API and what serves it.
struct Endpoint {
  ApiRoute api;
  std::function<http::Response(const ApiCall&)> serve;
};

// What the routes work on; outlives the handler.
struct AdminContext {
  catalog::Catalog& catalog;
  Metrics& metrics;
  const Clock& clock;
  AdminOptions options;
};

std::vector<Endpoint> ConnectionRoutes(AdminContext& ctx);
std::vector<Endpoint> TableRoutes(AdminContext& ctx);
std::vector<Endpoint> FileRoutes(AdminContext& ctx);
std::vector<Endpoint> ConsoleRoutes(AdminContext& ctx);  // SQL, status
std::vector<Endpoint> SessionRoutes(AdminContext& ctx);  // login, logout, who am I
std::vector<Endpoint> AlertRoutes(AdminContext& ctx);    // endpoints, deliveries

// The session cookie's name.
inline constexpr const char* kSessionCookie = "sluice_session";

// The largest JSON body a route takes (a table configuration with its example record, a query).
inline constexpr uint64_t kMaxJsonBodyBytes = uint64_t{1} << 20;

http::Response Text(int status, std::string body, std::string type = "text/plain");
http::Response Json(int status, const nlohmann::json& body);
// The answer to a failed operation: its HTTP status by error code (kNotFound 404, refusals of
// the request 400, conflicts with the current state 409, kUnavailable 503, else 500) and
// {"error": message, "code": ErrorCodeName}.
http::Response ErrorResponse(const Status& status);
http::Response BadQuery(const std::string& name, const std::string& allowed);
// 400 for a route that takes no query parameter, when the request has one.
std::optional<http::Response> NoQuery(std::string_view raw_query);
void AddNextLink(http::Response& r, const std::string& next);

// The query of an admin request as name=value pairs. Admin parameters are names and numbers,
// so nothing is percent-decoded: a value outside those characters fails validation.
std::map<std::string, std::string, std::less<>> AdminQuery(std::string_view raw);
// A decimal of at most 18 digits (it cannot overflow); nullopt otherwise.
std::optional<int64_t> Decimal(std::string_view text);
bool IsConnectionId(std::string_view s);
bool IsTableName(std::string_view s);

// The request body as a JSON object; nullopt and `*error` (400) when it is not one. An empty
// body is an empty object.
std::optional<nlohmann::json> BodyObject(const ApiCall& call, http::Response* error);
// 400 naming the first member of `body` not in `known`.
std::optional<http::Response> UnknownMembers(const nlohmann::json& body,
                                             std::initializer_list<std::string_view> known);

// Connection `id`; nullopt and `*error` (404, or the catalog's failure) when there is none.
std::optional<catalog::Connection> FindConnection(catalog::Catalog& catalog, const std::string& id,
                                                  http::Response* error);

// Micros as the API writes times: ISO 8601 UTC, null when 0 (never, none).
nlohmann::json TimeOrNull(int64_t micros);
nlohmann::json FileJson(const catalog::FileRecord& f);

}  // namespace sluice::api
