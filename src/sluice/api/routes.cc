#include <cctype>

#include "sluice/api/routes_internal.h"

namespace sluice::api {
namespace {

// The segments of "/a/b/c": "a", "b", "c" (a trailing slash makes an empty last segment).
std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> out;
  if (path.empty() || path[0] != '/') return out;
  path.remove_prefix(1);
  while (true) {
    const size_t slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

nlohmann::json ParamJson(const ApiParam& p, const char* in) {
  return {{"name", p.name},
          {"in", in},
          {"required", p.required || std::string_view(in) == "path"},
          {"description", p.description},
          {"schema", {{"type", p.type}}}};
}

nlohmann::json ErrorResponse(const char* what) {
  return {
      {"description", what},
      {"content", {{"application/json", {{"schema", {{"$ref", "#/components/schemas/Error"}}}}}}}};
}

// The bodies the routes answer with (api/admin.cc builds them).
nlohmann::json Schemas() {
  const nlohmann::json string = {{"type", "string"}};
  const nlohmann::json integer = {{"type", "integer"}, {"format", "int64"}};
  const nlohmann::json time = {{"type", "string"},
                               {"description", "UTC, ISO 8601 with microseconds; empty if none"}};
  return {
      {"Error", {{"type", "object"}, {"required", {"error"}}, {"properties", {{"error", string}}}}},
      {"ErrorGroup",
       {{"type", "object"},
        {"required", {"table", "error_code", "files", "newest"}},
        {"properties",
         {{"table", string},
          {"error_code", string},
          {"files", integer},
          {"newest", {{"$ref", "#/components/schemas/File"}}}}}}},
      {"FileAction",
       {{"type", "object"},
        {"required", {"seq", "status", "message"}},
        {"properties",
         {{"seq", integer},
          {"status", {{"type", "string"}, {"description", "the file's status after the action"}}},
          {"message",
           {{"type", "string"}, {"description", "what happens next, in a sentence"}}}}}}},
      {"Connection",
       {{"type", "object"},
        {"required", {"id", "name", "created_at"}},
        {"properties", {{"id", string}, {"name", string}, {"created_at", time}}}}},
      {"File",
       {{"type", "object"},
        {"required", {"seq", "table", "key", "size", "status"}},
        {"properties",
         {{"seq", integer},
          {"table", string},
          {"key", string},
          {"size", integer},
          {"status",
           {{"type", "string"}, {"enum", {"queued", "loading", "loaded", "failed", "skipped"}}}},
          {"inserted", integer},
          {"updated", integer},
          {"refused", integer},
          {"error_code", string},
          {"error_message", string},
          {"received_at", time},
          {"purged_at", time},
          {"checksums",
           {{"type", "object"},
            {"description", "the checksums verified at upload, by algorithm"}}}}}}},
  };
}

}  // namespace

std::optional<PathParams> MatchPath(std::string_view pattern, std::string_view path) {
  const std::vector<std::string_view> want = Segments(pattern);
  const std::vector<std::string_view> got = Segments(path);
  if (want.empty() || want.size() != got.size()) return std::nullopt;
  PathParams params;
  for (size_t i = 0; i < want.size(); ++i) {
    const std::string_view w = want[i];
    if (w.size() > 2 && w.front() == '{' && w.back() == '}') {
      if (got[i].empty()) return std::nullopt;
      params.emplace(std::string(w.substr(1, w.size() - 2)), std::string(got[i]));
    } else if (w != got[i]) {
      return std::nullopt;
    }
  }
  return params;
}

nlohmann::json OpenApiDocument(const std::vector<ApiRoute>& routes, const std::string& version) {
  nlohmann::json paths = nlohmann::json::object();
  for (const ApiRoute& r : routes) {
    nlohmann::json params = nlohmann::json::array();
    for (const ApiParam& p : r.path_params) params.push_back(ParamJson(p, "path"));
    for (const ApiParam& p : r.query) params.push_back(ParamJson(p, "query"));
    nlohmann::json body = r.schema.empty()
                              ? nlohmann::json{{"type", "object"}}
                              : nlohmann::json{{"$ref", "#/components/schemas/" + r.schema}};
    if (r.array) body = {{"type", "array"}, {"items", body}};
    // "Bytes": the body is a file's bytes, of whatever type it was pushed with.
    nlohmann::json ok =
        r.schema == "Bytes"
            ? nlohmann::json{{"description", "the bytes"},
                             {"content",
                              {{"application/octet-stream",
                                {{"schema", {{"type", "string"}, {"format", "binary"}}}}}}}}
            : nlohmann::json{{"description", "OK"},
                             {"content", {{"application/json", {{"schema", body}}}}}};
    if (r.paged) {
      ok["headers"] = {
          {"Link",
           {{"description", "<next page>; rel=\"next\" while more may follow (RFC 8288)"},
            {"schema", {{"type", "string"}}}}}};
    }
    nlohmann::json op = {{"summary", r.summary},
                         {"description", r.description},
                         {"operationId", r.method + " " + r.path},
                         {"parameters", params},
                         {"responses", {{"200", ok}}}};
    if (!r.query.empty()) op["responses"]["400"] = ErrorResponse("a bad query parameter");
    if (!r.path_params.empty()) op["responses"]["404"] = ErrorResponse("no such resource");
    if (!r.conflict.empty()) op["responses"]["409"] = ErrorResponse(r.conflict.c_str());
    if (r.anonymous) {
      op["security"] = nlohmann::json::array();
    } else {
      op["responses"]["401"] = ErrorResponse("the admin token is missing or wrong");
    }
    std::string method = r.method;
    for (char& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    paths[r.path][method] = op;
  }
  return {{"openapi", "3.0.3"},
          {"info",
           {{"title", "sluice admin API"},
            {"version", version},
            {"description",
             "The admin side of a sluice server. Every route but this document needs the admin "
             "token (<data-dir>/admin.token) as a Bearer credential."}}},
          {"paths", paths},
          {"components",
           {{"schemas", Schemas()},
            {"securitySchemes", {{"adminToken", {{"type", "http"}, {"scheme", "bearer"}}}}}}},
          {"security", {{{"adminToken", nlohmann::json::array()}}}}};
}

}  // namespace sluice::api
