#pragma once
// Private to api: the admin API's routes, as one table: the handler dispatches by it and the
// OpenAPI document
// (/api/v1/openapi.json) is written from it, so the document cannot name a route the server
// does not serve, nor miss one it does.
//
// A route's path is OpenAPI's: literal segments and `{name}` parameters, each one whole path
// segment ("/api/v1/connections/{id}/files"). Query parameters are listed with their type and
// meaning; a request with any other is refused (400) by the route itself.

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::api {

struct ApiParam {
  std::string name;
  std::string type;  // "string", "integer" or "boolean"
  std::string description;
  bool required = false;
  std::string example;  // a valid value, shown in the document (empty: none)
};

struct ApiRoute {
  std::string method;  // "GET"
  std::string path;    // "/api/v1/connections/{id}/files"
  std::string summary;
  std::string description;
  std::vector<ApiParam> path_params;  // one per `{name}`, in order
  std::vector<ApiParam> query;
  // The request body: a schema of OpenApiDocument's components (JSON); empty: none.
  std::string request;
  // The success response's status (200, 201 for a creation) and body: a schema of
  // OpenApiDocument's components ("Connection"), as an array of them when `array`; empty: a
  // JSON object.
  int status = 200;
  std::string schema;
  bool array = false;
  bool paged = false;      // a Link header names the next page (RFC 8288)
  bool anonymous = false;  // served without the admin token
  // A POST that changes nothing (a preview, a read-only query): a viewer may call it.
  bool read_only = false;
  // When the route may answer 409 Conflict: what conflicts.
  std::string conflict;
};

// The values of a path's `{name}` segments, by name.
using PathParams = std::map<std::string, std::string, std::less<>>;

// Matches `path` (the raw request path, no query) against `pattern`; the parameters' values
// (raw: no percent-decoding) on a match. An empty segment never matches a parameter.
std::optional<PathParams> MatchPath(std::string_view pattern, std::string_view path);

// The OpenAPI 3.0 document of `routes`: their paths, parameters, responses (200 with the
// route's schema; 400, 401, 404 and 409 with the Error schema) and the bearer security scheme.
nlohmann::json OpenApiDocument(const std::vector<ApiRoute>& routes, const std::string& version);

}  // namespace sluice::api
