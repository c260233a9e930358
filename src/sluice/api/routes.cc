#include <cctype>

#include "sluice/api/routes_internal.h"
#include "sluice/catalog/alerts.h"

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
  nlohmann::json out = {{"name", p.name},
                        {"in", in},
                        {"required", p.required || std::string_view(in) == "path"},
                        {"description", p.description},
                        {"schema", {{"type", p.type}}}};
  if (!p.example.empty()) out["example"] = p.example;
  return out;
}

nlohmann::json ErrorDoc(const char* what) {
  return {
      {"description", what},
      {"content", {{"application/json", {{"schema", {{"$ref", "#/components/schemas/Error"}}}}}}}};
}

nlohmann::json Object(const std::vector<std::string>& required, nlohmann::json properties,
                      std::string description = "") {
  nlohmann::json o = {{"type", "object"}, {"properties", std::move(properties)}};
  if (!required.empty()) o["required"] = required;
  if (!description.empty()) o["description"] = std::move(description);
  return o;
}

nlohmann::json Ref(const std::string& schema) {
  return {{"$ref", "#/components/schemas/" + schema}};
}

nlohmann::json ArrayOf(nlohmann::json items) {
  return {{"type", "array"}, {"items", std::move(items)}};
}

// The bodies the routes take and answer with (api/*_api.cc build them).
nlohmann::json Schemas() {
  const nlohmann::json string = {{"type", "string"}};
  const nlohmann::json boolean = {{"type", "boolean"}};
  const nlohmann::json integer = {{"type", "integer"}, {"format", "int64"}};
  const nlohmann::json strings = ArrayOf(string);
  const nlohmann::json time = {{"type", "string"},
                               {"description", "UTC, ISO 8601 with microseconds; empty if none"}};
  const nlohmann::json time_or_null = {
      {"type", "string"}, {"nullable", true}, {"description", "UTC, ISO 8601; null: never"}};
  const nlohmann::json policy = {
      {"type", "string"},
      {"enum", {"hold", "refuse", "store"}},
      {"description", "what becomes of keys outside a configured table"}};
  const nlohmann::json quota = {
      {"type", "integer"},
      {"format", "int64"},
      {"nullable", true},
      {"description",
       "bytes the connection may keep on disk; 0: no quota; null: the server's default"}};
  const nlohmann::json secret = {
      {"type", "string"},
      {"description", "the secret access key: shown in this answer only, never again"}};
  const nlohmann::json alert_kind = {{"type", "string"}, {"enum", {"webhook", "email"}}};
  const nlohmann::json alert_format = {
      {"type", "string"},
      {"enum", {"cloudevents", "slack", "email"}},
      {"description",
       "a webhook's body: CloudEvents 1.0 JSON (default) or Slack's; email for "
       "e-mail"}};
  const nlohmann::json alert_target = {
      {"type", "string"},
      {"description", "a webhook's http(s) URL, or e-mail addresses, comma-separated"}};
  nlohmann::json event_types = nlohmann::json::array();
  for (std::string_view t : catalog::kEventTypes) event_types.push_back(t);
  const nlohmann::json alert_events = {{"type", "array"},
                                       {"items", {{"type", "string"}, {"enum", event_types}}}};
  const nlohmann::json lag_age = {
      {"type", "integer"},
      {"description", "backlog.lagging when a table's oldest pending file is older (seconds)"}};
  const nlohmann::json lag_files = {
      {"type", "integer"},
      {"description", "...or its backlog holds more files than this (0: no limit)"}};
  const nlohmann::json idle_hours = {
      {"type", "integer"},
      {"description", "table.idle after this many hours without a file (0: off)"}};
  const nlohmann::json digest = {
      {"type", "string"},
      {"description",
       "when a digest is sent (UTC): hourly, daily@HH:MM or a five-field cron "
       "expression; empty: none"}};
  return {
      {"Error", Object({"error"}, {{"error", string}, {"code", string}})},
      {"ErrorGroup", Object({"table", "error_code", "files", "newest"}, {{"table", string},
                                                                         {"error_code", string},
                                                                         {"files", integer},
                                                                         {"newest", Ref("File")}})},
      {"FileAction",
       Object(
           {"seq", "status", "message"},
           {{"seq", integer},
            {"status", {{"type", "string"}, {"description", "the file's status after the action"}}},
            {"message",
             {{"type", "string"}, {"description", "what happens next, in a sentence"}}}})},
      {"Connection",
       Object(
           {"id", "name", "created_at", "unconfigured_keys", "quota_bytes"},
           {{"id", string},
            {"name", string},
            {"created_at", time},
            {"unconfigured_keys", policy},
            {"quota_bytes", quota},
            {"disk_bytes",
             {{"type", "integer"},
              {"description", "bytes kept now (one connection's answer only)"}}},
            {"tables", strings},
            {"endpoint",
             {{"type", "string"},
              {"description", "the S3 endpoint clients push to (one connection's answer only)"}}},
            {"region", string}})},
      {"NewConnection", Object({"name"}, {{"name", string}})},
      {"Login", Object({"user", "password"}, {{"user", string}, {"password", string}})},
      {"Session",
       Object({"role"},
              {{"user",
                {{"type", "string"}, {"nullable", true}, {"description", "null: the admin token"}}},
               {"role", {{"type", "string"}, {"enum", {"admin", "viewer"}}}},
               {"csrf_token",
                {{"type", "string"},
                 {"nullable", true},
                 {"description", "what writes with the session cookie send in X-CSRF-Token"}}},
               {"expires_at", time_or_null}})},
      {"ConnectionChange", Object({}, {{"unconfigured_keys", policy}, {"quota_bytes", quota}},
                                  "the members given are changed")},
      {"CreatedConnection",
       Object({"connection", "bucket", "access_key_id", "secret_access_key", "endpoint", "region"},
              {{"connection", Ref("Connection")},
               {"bucket", string},
               {"access_key_id", string},
               {"secret_access_key", secret},
               {"endpoint", string},
               {"region", string}})},
      {"Key",
       Object({"access_key_id", "connection", "created_at", "state"},
              {{"access_key_id", string},
               {"connection",
                {{"type", "string"}, {"nullable", true}, {"description", "null: an account key"}}},
               {"created_at", time},
               {"expires_at", time_or_null},
               {"last_used_at", time_or_null},
               {"state", {{"type", "string"}, {"enum", {"active", "revoked", "expired"}}}}})},
      {"NewKey",
       Object({}, {{"connection",
                    {{"type", "string"},
                     {"description",
                      "a connection: a new key beside its current ones (rotation); absent: an "
                      "account key, which reaches every bucket"}}},
                   {"expires_in_seconds",
                    {{"type", "integer"}, {"description", "the key stops working after this"}}}})},
      {"CreatedKey", Object({"access_key_id", "secret_access_key", "endpoint", "region"},
                            {{"access_key_id", string},
                             {"secret_access_key", secret},
                             {"connection", {{"type", "string"}, {"nullable", true}}},
                             {"expires_at", time_or_null},
                             {"endpoint", string},
                             {"region", string}})},
      {"History",
       Object({"minutes", "complete"},
              {{"minutes", ArrayOf(Object({"time", "files_loaded", "rows", "backlog_files"},
                                          {{"time", time},
                                           {"files_loaded", integer},
                                           {"rows", integer},
                                           {"backlog_files", integer}}))},
               {"complete", boolean}})},
      {"UploadUrlRequest",
       Object({"key"}, {{"key", {{"type", "string"}, {"description", "<table>/<file name>"}}},
                        {"content_type", string}})},
      {"UploadUrl",
       Object({"url", "method", "headers", "key", "expires_at"},
              {{"url", {{"type", "string"}, {"description", "PUT the file's bytes here"}}},
               {"method", string},
               {"headers", {{"type", "object"}, {"description", "headers to send with the PUT"}}},
               {"key", string},
               {"expires_at", time}})},
      {"AlertEndpoint",
       Object({"id", "name", "connection", "kind", "target", "format", "events", "enabled"},
              {{"id", string},
               {"name", string},
               {"connection", {{"type", "string"}, {"description", "empty: every connection"}}},
               {"kind", alert_kind},
               {"target", alert_target},
               {"format", alert_format},
               {"events", alert_events},
               {"lag_age_seconds", lag_age},
               {"lag_files", lag_files},
               {"idle_hours", idle_hours},
               {"digest", digest},
               {"enabled", boolean},
               {"disabled_reason", string},
               {"created_at", time}})},
      {"NewAlertEndpoint",
       Object({"name", "target"},
              {{"name", string},
               {"kind", alert_kind},
               {"connection",
                {{"type", "string"}, {"description", "a connection id; empty: every connection"}}},
               {"target", alert_target},
               {"format", alert_format},
               {"events", alert_events},
               {"lag_age_seconds", lag_age},
               {"lag_files", lag_files},
               {"idle_hours", idle_hours},
               {"digest", digest}})},
      {"AlertEndpointChange", Object({},
                                     {{"name", string},
                                      {"target", alert_target},
                                      {"format", alert_format},
                                      {"events", alert_events},
                                      {"lag_age_seconds", lag_age},
                                      {"lag_files", lag_files},
                                      {"idle_hours", idle_hours},
                                      {"digest", digest},
                                      {"enabled", boolean}},
                                     "the members given are changed")},
      {"CreatedAlertEndpoint",
       Object({"endpoint"},
              {{"endpoint", Ref("AlertEndpoint")},
               {"secret",
                {{"type", "string"},
                 {"description",
                  "a webhook's signing secret (whsec_...): in this answer only, never again"}}}})},
      {"AlertDelivery",
       Object({"id", "endpoint", "event_id", "type", "status", "attempts"},
              {{"id", string},
               {"endpoint", string},
               {"event_id",
                {{"type", "string"}, {"description", "the webhook-id and CloudEvents id"}}},
               {"type", string},
               {"connection", string},
               {"table", string},
               {"subject", string},
               {"time", time},
               {"data", {{"type", "object"}, {"description", "the event's data"}}},
               {"status", {{"type", "string"}, {"enum", {"pending", "delivered", "failed"}}}},
               {"attempts", integer},
               {"next_attempt_at", time_or_null},
               {"last_attempt_at", time_or_null},
               {"last_status",
                {{"type", "integer"},
                 {"description", "the target's last HTTP status (250: mail accepted; 0: none)"}}},
               {"last_error", string},
               {"delivered_at", time_or_null}})},
      {"TableConfig",
       Object({"table"},
              {{"table", string},
               {"primary_key", {{"description", "column names: an array, or one string \"a,b\""}}},
               {"age_column", string},
               {"delete_column", string},
               {"on_error", {{"type", "string"}, {"enum", {"block", "skip"}}}},
               {"load_hidden_keys",
                {{"type", "boolean"},
                 {"description",
                  "load keys with a segment starting with '_' or '.' (default false: stored, "
                  "not loaded)"}}},
               {"example",
                {{"type", "object"}, {"description", "a nested table: one record as JSON"}}},
               {"schema", {{"type", "array"}, {"description", "a nested table: its record type"}}},
               {"children", {{"type", "object"}, {"description", "PATH: {primary_key, mode}"}}},
               {"keep_as_json", strings}},
              "a table's configuration, as docs/table-config.md describes the file")},
      {"DerivedTable",
       Object({"name", "columns", "primary_key"},
              {{"name", {{"type", "string"}, {"description", "its name in the pool"}}},
               {"path", string},
               {"columns", ArrayOf(Object({"name", "type"}, {{"name", string}, {"type", string}}))},
               {"primary_key", strings},
               {"foreign_key", strings},
               {"parent", string},
               {"parent_key", strings},
               {"mode", {{"type", "string"}, {"enum", {"replace", "upsert"}}}},
               {"age_column", string},
               {"delete_column", string}})},
      {"Table", Object({"connection", "table", "nested", "on_error", "tables", "config"},
                       {{"connection", string},
                        {"table", string},
                        {"nested", boolean},
                        {"on_error", string},
                        {"tables", ArrayOf(Ref("DerivedTable"))},
                        {"config", Ref("TableConfig")},
                        {"conflict",
                         {{"type", "string"},
                          {"description",
                           "a preview only: why saving it would be refused (a name taken), "
                           "empty when it would not"}}}})},
      {"SchemaChange",
       Object({"seq", "changed_at", "change", "column", "new_type"},
              {{"seq", integer},
               {"changed_at", time},
               {"change", {{"type", "string"}, {"enum", {"create", "add", "widen"}}}},
               {"column", string},
               {"old_type", {{"type", "string"}, {"nullable", true}}},
               {"new_type", string}})},
      {"Query",
       Object({"sql"},
              {{"sql", {{"type", "string"}, {"description", "one read-only statement"}}},
               {"connection",
                {{"type", "string"},
                 {"description",
                  "unqualified table names are this connection's (default: the only "
                  "connection, when there is one)"}}},
               {"max_rows", {{"type", "integer"}, {"description", "1..10000, default 1000"}}},
               {"timeout_ms", {{"type", "integer"}, {"description", "1..60000, default 10000"}}}})},
      {"QueryResult",
       Object({"columns", "rows", "truncated"},
              {{"columns", strings},
               {"rows", ArrayOf(ArrayOf({{"type", "string"}, {"nullable", true}}))},
               {"truncated", {{"type", "boolean"}, {"description", "more rows were there"}}},
               {"elapsed_ms", {{"type", "number"}}}})},
      {"TableStatus",
       Object(
           {"connection", "table", "state"},
           {{"connection", string},
            {"table", string},
            {"state",
             {{"type", "string"},
              {"enum", {"blocked", "failing", "loading", "idle"}},
              {"description",
               "blocked: a failed file stops it; failing: files failed in the last 24 h and it "
               "moved past them; loading: files wait; idle: nothing waits"}}},
            {"backlog_files", integer},
            {"backlog_bytes", integer},
            {"oldest_pending_seconds", {{"type", "number"}, {"nullable", true}}},
            {"open_errors", integer},
            {"errors_by_code", {{"type", "object"}, {"description", "open errors by error code"}}},
            {"last_loaded_at", time_or_null},
            {"files_24h", {{"type", "integer"}, {"description", "files loaded in the last 24 h"}}},
            {"failed_24h",
             {{"type", "integer"},
              {"description", "files failed in the last 24 h and still failed (moved past)"}}},
            {"rows_24h",
             {{"type", "integer"},
              {"description", "rows written (inserted, updated, deleted) in the last 24 h"}}}})},
      {"Status", Object({"tables", "open_errors"}, {{"tables", ArrayOf(Ref("TableStatus"))},
                                                    {"open_errors", integer},
                                                    {"backlog_files", integer},
                                                    {"unconfigured_files", integer}})},
      {"File", Object({"seq", "table", "key", "size", "status"},
                      {{"seq", integer},
                       {"table", string},
                       {"key", string},
                       {"size", integer},
                       {"status",
                        {{"type", "string"},
                         {"enum", {"queued", "loading", "loaded", "failed", "skipped"}}}},
                       {"inserted", integer},
                       {"updated", integer},
                       {"refused", integer},
                       {"error_code", string},
                       {"error_message", string},
                       {"received_at", time},
                       {"purged_at", time},
                       {"checksums",
                        {{"type", "object"},
                         {"description", "the checksums verified at upload, by algorithm"}}}})},
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
    nlohmann::json body = r.schema.empty() ? nlohmann::json{{"type", "object"}} : Ref(r.schema);
    if (r.array) body = {{"type", "array"}, {"items", body}};
    // "Bytes": the body is a file's bytes, of whatever type it was pushed with.
    nlohmann::json ok =
        r.schema == "Bytes"
            ? nlohmann::json{{"description", "the bytes"},
                             {"content",
                              {{"application/octet-stream",
                                {{"schema", {{"type", "string"}, {"format", "binary"}}}}}}}}
            : nlohmann::json{{"description", r.status == 201 ? "Created" : "OK"},
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
                         {"responses", {{std::to_string(r.status), ok}}}};
    if (!r.request.empty()) {
      op["requestBody"] = {{"required", true},
                           {"content", {{"application/json", {{"schema", Ref(r.request)}}}}}};
      op["responses"]["400"] = ErrorDoc("a bad request: the body, or a parameter");
    }
    if (!r.query.empty() && r.request.empty()) {
      op["responses"]["400"] = ErrorDoc("a bad query parameter");
    }
    if (!r.path_params.empty()) op["responses"]["404"] = ErrorDoc("no such resource");
    if (!r.conflict.empty()) op["responses"]["409"] = ErrorDoc(r.conflict.c_str());
    if (r.anonymous) {
      op["security"] = nlohmann::json::array();
    } else {
      op["responses"]["401"] = ErrorDoc("neither the admin token nor a live session");
      if (r.method != "GET") {
        op["responses"]["403"] =
            ErrorDoc(r.read_only ? "a session's request without its CSRF token"
                                 : "a viewer, or a session's request without its CSRF token");
      }
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
             "The admin side of a sluice server. Every route but this document and the login "
             "needs the admin token (<data-dir>/admin.token) as a Bearer credential, or a "
             "session cookie (POST /api/v1/session) whose writes send X-CSRF-Token. A viewer "
             "may only read (and run read-only queries)."}}},
          {"paths", paths},
          {"components",
           {{"schemas", Schemas()},
            {"securitySchemes",
             {{"adminToken", {{"type", "http"}, {"scheme", "bearer"}}},
              {"session", {{"type", "apiKey"}, {"in", "cookie"}, {"name", "sluice_session"}}}}}}},
          {"security",
           {{{"adminToken", nlohmann::json::array()}}, {{"session", nlohmann::json::array()}}}}};
}

}  // namespace sluice::api
