// The admin API's connection and credential routes: create (the secret shown once), list,
// show, change (unconfigured-key policy, disk quota) and delete connections; list, create,
// rotate and revoke access keys.
#include <algorithm>
#include <map>

#include "sluice/api/admin_internal.h"
#include "sluice/api/console_internal.h"
#include "sluice/auth/auth.h"

namespace sluice::api {
namespace {

std::string_view PolicyName(catalog::UnconfiguredPolicy p) {
  return p == catalog::UnconfiguredPolicy::kHold     ? "hold"
         : p == catalog::UnconfiguredPolicy::kRefuse ? "refuse"
                                                     : "store";
}

std::optional<catalog::UnconfiguredPolicy> PolicyFromName(std::string_view name) {
  if (name == "hold") return catalog::UnconfiguredPolicy::kHold;
  if (name == "refuse") return catalog::UnconfiguredPolicy::kRefuse;
  if (name == "store") return catalog::UnconfiguredPolicy::kStore;
  return std::nullopt;
}

nlohmann::json ConnectionJson(const catalog::Connection& c) {
  return {
      {"id", c.id},
      {"name", c.name},
      {"created_at", FormatIsoMicros(c.created_at)},
      {"unconfigured_keys", PolicyName(c.unconfigured)},
      {"quota_bytes", c.quota_bytes ? nlohmann::json(*c.quota_bytes) : nlohmann::json(nullptr)}};
}

nlohmann::json KeyJson(const catalog::KeyInfo& k) {
  return {{"access_key_id", k.access_key.str()},
          {"connection",
           k.connection_id.empty() ? nlohmann::json(nullptr) : nlohmann::json(k.connection_id)},
          {"created_at", FormatIsoMicros(k.created_at)},
          {"expires_at", TimeOrNull(k.expires_at)},
          {"last_used_at", TimeOrNull(k.last_used_at)},
          {"state", catalog::KeyStateName(k.state)}};
}

class ConnectionApi {
 public:
  explicit ConnectionApi(AdminContext& ctx) : ctx_(ctx) {}

  // GET /api/v1/connections?after=ID&limit=N: one page of connections by id, with a Link
  // header to the next page as for files.
  http::Response List(const ApiCall& call) {
    std::string after;
    int64_t limit = static_cast<int64_t>(catalog::kMaxListPage);
    for (const auto& [name, value] : AdminQuery(call.query)) {
      const std::optional<int64_t> number = Decimal(value);
      if (name == "after" && IsConnectionId(value)) {
        after = value;
      } else if (name == "limit" && number.value_or(0) > 0) {
        limit = std::min(*number, limit);
      } else {
        return BadQuery(name, "after=<connection id> and limit=<1.." +
                                  std::to_string(catalog::kMaxListPage) + ">");
      }
    }
    // One more than asked tells whether a next page exists.
    auto conns = ctx_.catalog.ListConnectionsPage(after, static_cast<size_t>(limit) + 1);
    if (!conns.ok()) return ErrorResponse(conns.status());
    const bool more = conns->size() > static_cast<size_t>(limit);
    if (more) conns->resize(static_cast<size_t>(limit));
    nlohmann::json out = nlohmann::json::array();
    for (const auto& c : *conns) out.push_back(ConnectionJson(c));
    http::Response r = Json(200, out);
    if (more) {
      AddNextLink(
          r, "/api/v1/connections?after=" + conns->back().id + "&limit=" + std::to_string(limit));
    }
    return r;
  }

  // POST /api/v1/connections {"name"}: the connection and its first key, the secret shown
  // this once.
  http::Response Create(const ApiCall& call) {
    if (auto bad = NoQuery(call.query)) return std::move(*bad);
    http::Response error;
    auto body = BodyObject(call, &error);
    if (!body) return error;
    if (auto bad = UnknownMembers(*body, {"name"})) return std::move(*bad);
    if (!body->contains("name") || !(*body)["name"].is_string()) {
      return Json(400, {{"error", "\"name\" (a string) is required"}});
    }
    auto created = ctx_.catalog.CreateConnection((*body)["name"].get<std::string>());
    if (!created.ok()) return ErrorResponse(created.status());
    return Json(201, {{"connection", ConnectionJson(created->connection)},
                      {"bucket", created->connection.id},
                      {"access_key_id", created->access_key.str()},
                      {"secret_access_key", created->secret.reveal()},
                      {"endpoint", ctx_.options.s3_endpoint},
                      {"region", ctx_.options.region}});
  }

  // GET /api/v1/connections/{id}: the connection, its bytes on disk and its tables.
  http::Response Show(const ApiCall& call) {
    if (auto bad = NoQuery(call.query)) return std::move(*bad);
    http::Response error;
    auto conn = Find(call.param("id"), &error);
    if (!conn) return error;
    nlohmann::json out = ConnectionJson(*conn);
    auto stored = ctx_.catalog.StoredBytesByConnection();
    if (!stored.ok()) return ErrorResponse(stored.status());
    uint64_t disk = 0;
    for (const auto& [id, bytes] : *stored) {
      if (id == conn->id) disk = bytes;
    }
    out["disk_bytes"] = disk;
    out["endpoint"] = ctx_.options.s3_endpoint;
    out["region"] = ctx_.options.region;
    auto tables = ctx_.catalog.ListTables(conn->id);
    if (!tables.ok()) return ErrorResponse(tables.status());
    out["tables"] = nlohmann::json::array();
    for (const catalog::TableConfig& t : *tables) out["tables"].push_back(t.name);
    return Json(200, out);
  }

  // PATCH /api/v1/connections/{id} {"unconfigured_keys", "quota_bytes"}: the members given.
  http::Response Change(const ApiCall& call) {
    if (auto bad = NoQuery(call.query)) return std::move(*bad);
    http::Response error;
    auto body = BodyObject(call, &error);
    if (!body) return error;
    if (auto bad = UnknownMembers(*body, {"unconfigured_keys", "quota_bytes"})) {
      return std::move(*bad);
    }
    const std::string& id = call.param("id");
    std::optional<catalog::UnconfiguredPolicy> policy;
    if (body->contains("unconfigured_keys")) {
      const nlohmann::json& p = (*body)["unconfigured_keys"];
      if (p.is_string()) policy = PolicyFromName(p.get<std::string>());
      if (!policy) return Json(400, {{"error", "unconfigured_keys is hold, refuse or store"}});
    }
    if (body->contains("quota_bytes")) {
      const nlohmann::json& q = (*body)["quota_bytes"];
      if (!q.is_null() && !q.is_number_unsigned()) {
        return Json(400, {{"error",
                           "quota_bytes is a byte count (0: no quota) or null (the "
                           "server's default)"}});
      }
      Status st = ctx_.catalog.SetConnectionQuota(
          id, q.is_null() ? std::nullopt : std::optional<uint64_t>(q.get<uint64_t>()));
      if (!st.ok()) return ErrorResponse(st);
    }
    if (policy) {
      Status st = ctx_.catalog.SetUnconfiguredPolicy(id, *policy);
      if (!st.ok()) return ErrorResponse(st);
    }
    auto conn = Find(id, &error);
    if (!conn) return error;
    return Json(200, ConnectionJson(*conn));
  }

  // DELETE /api/v1/connections/{id}: an empty connection (409 otherwise), as S3 DeleteBucket.
  http::Response Delete(const ApiCall& call) {
    if (auto bad = NoQuery(call.query)) return std::move(*bad);
    if (ctx_.options.backend == nullptr) {
      return Json(501, {{"error", "this server cannot delete connections"}});
    }
    const std::string& id = call.param("id");
    Status st = ctx_.options.backend->DeleteConnection(id, "the admin API");
    if (!st.ok()) return ErrorResponse(st);
    return Json(200, {{"id", id}, {"message", "Connection '" + id + "' deleted."}});
  }

  // GET /api/v1/credentials?connection=ID: every key, or a connection's; never a secret.
  http::Response Keys(const ApiCall& call) {
    std::string connection;
    for (const auto& [name, value] : AdminQuery(call.query)) {
      if (name == "connection" && IsConnectionId(value)) {
        connection = value;
      } else {
        return BadQuery(name, "connection=<connection id>");
      }
    }
    http::Response error;
    if (!connection.empty() && !Find(connection, &error)) return error;
    auto keys = ctx_.catalog.ListKeys(connection);
    if (!keys.ok()) return ErrorResponse(keys.status());
    nlohmann::json out = nlohmann::json::array();
    for (const catalog::KeyInfo& k : *keys) out.push_back(KeyJson(k));
    return Json(200, out);
  }

  // POST /api/v1/credentials {"connection", "expires_in_seconds"}: a connection's new key
  // beside its current ones (rotation), or an account key; the secret shown this once.
  http::Response CreateKey(const ApiCall& call) {
    if (auto bad = NoQuery(call.query)) return std::move(*bad);
    http::Response error;
    auto body = BodyObject(call, &error);
    if (!body) return error;
    if (auto bad = UnknownMembers(*body, {"connection", "expires_in_seconds"})) {
      return std::move(*bad);
    }
    int64_t expires_at = 0;
    if (body->contains("expires_in_seconds")) {
      const nlohmann::json& e = (*body)["expires_in_seconds"];
      constexpr int64_t kCentury = int64_t{100} * 365 * 86400;
      if (!e.is_number_unsigned() || e.get<uint64_t>() == 0 ||
          e.get<uint64_t>() > static_cast<uint64_t>(kCentury)) {
        return Json(400, {{"error", "expires_in_seconds is a positive number of seconds"}});
      }
      expires_at = ctx_.clock.NowMicros() + e.get<int64_t>() * 1'000'000;
    }
    std::string connection;
    if (body->contains("connection")) {
      if (!(*body)["connection"].is_string()) {
        return Json(400, {{"error", "connection is a connection id"}});
      }
      connection = (*body)["connection"].get<std::string>();
    }
    auto created = connection.empty() ? ctx_.catalog.CreateAccountKey(expires_at)
                                      : ctx_.catalog.RotateKey(connection, expires_at);
    if (!created.ok()) return ErrorResponse(created.status());
    return Json(201, {{"access_key_id", created->access_key.str()},
                      {"secret_access_key", created->secret.reveal()},
                      {"connection",
                       connection.empty() ? nlohmann::json(nullptr) : nlohmann::json(connection)},
                      {"expires_at", TimeOrNull(expires_at)},
                      {"endpoint", ctx_.options.s3_endpoint},
                      {"region", ctx_.options.region}});
  }

  // POST /api/v1/credentials/{key}/revoke: its next request is refused.
  http::Response Revoke(const ApiCall& call) {
    if (auto bad = NoQuery(call.query)) return std::move(*bad);
    const std::string& key = call.param("key");
    Status st = ctx_.catalog.RevokeKey(AccessKeyId(key));
    if (st.code() == ErrorCode::kInvalidArgument) {
      return Json(409, {{"error", st.message()}, {"code", std::string(ErrorCodeName(st.code()))}});
    }
    if (!st.ok()) return ErrorResponse(st);
    return Json(200, {{"access_key_id", key},
                      {"state", "revoked"},
                      {"message", "Access key " + key +
                                      " revoked: its next request is refused with "
                                      "InvalidAccessKeyId."}});
  }

  // POST /api/v1/connections/{id}/upload-url {"key", "content_type"}: a presigned S3 PUT of
  // `key` on the S3 endpoint, signed with the connection's newest active key, valid
  // kUploadUrlSeconds: the console's uploads go from the browser straight to S3, as any
  // client's would (the endpoint answers the console's CORS preflight).
  http::Response UploadUrl(const ApiCall& call) {
    if (auto bad = NoQuery(call.query)) return std::move(*bad);
    http::Response error;
    auto body = BodyObject(call, &error);
    if (!body) return error;
    if (auto bad = UnknownMembers(*body, {"key", "content_type"})) return std::move(*bad);
    auto conn = Find(call.param("id"), &error);
    if (!conn) return error;
    const nlohmann::json& k = body->value("key", nlohmann::json());
    const std::string key = k.is_string() ? k.get<std::string>() : "";
    const size_t slash = key.find('/');
    if (key.size() > 1024 || slash == std::string::npos || slash == 0 || slash + 1 == key.size()) {
      return Json(400, {{"error", "key is \"<table>/<file name>\" (at most 1024 bytes)"}});
    }
    auto table = ctx_.catalog.GetTable(conn->id, key.substr(0, slash));
    if (!table.ok()) return ErrorResponse(table.status());
    if (!table->has_value()) {
      return Json(400, {{"error", "no table '" + key.substr(0, slash) + "' in connection '" +
                                      conn->id + "': a file uploaded here would not load"}});
    }
    auto keys = ctx_.catalog.ListKeys(conn->id);
    if (!keys.ok()) return ErrorResponse(keys.status());
    std::optional<Credential> signer;
    for (auto it = keys->rbegin(); it != keys->rend() && !signer; ++it) {
      if (it->state != catalog::KeyState::kActive || it->connection_id != conn->id) continue;
      auto cred = ctx_.catalog.LookupAccessKey(it->access_key);
      if (!cred.ok()) return ErrorResponse(cred.status());
      if (cred->has_value()) signer = Credential{it->access_key, (*cred)->secret};
    }
    if (!signer) {
      return Json(409, {{"error", "connection '" + conn->id +
                                      "' has no active access key to sign the upload with: "
                                      "create one first"}});
    }
    const std::string origin = OriginOf(ctx_.options.s3_endpoint);
    std::string path = "/" + conn->id;
    for (size_t start = 0; start <= key.size();) {
      size_t end = key.find('/', start);
      if (end == std::string::npos) end = key.size();
      path += "/" + auth::UriEncode(std::string_view(key).substr(start, end - start));
      start = end + 1;
    }
    const int64_t now = ctx_.clock.NowSeconds();
    const std::string query =
        auth::PresignV4Query({"PUT", origin.substr(origin.find("://") + 3), path,
                              ctx_.options.region, now, kUploadUrlSeconds},
                             signer->key, signer->secret);
    nlohmann::json headers = nlohmann::json::object();
    if (body->contains("content_type") && (*body)["content_type"].is_string()) {
      headers["Content-Type"] = (*body)["content_type"];
    }
    return Json(200, {{"url", origin + path + "?" + query},
                      {"method", "PUT"},
                      {"headers", headers},
                      {"key", key},
                      {"expires_at", FormatIsoMicros((now + kUploadUrlSeconds) * 1'000'000)}});
  }

 private:
  // How long an upload URL is good for: enough for a large file over a slow link, short
  // enough that a leaked one is soon useless.
  static constexpr int64_t kUploadUrlSeconds = 900;

  struct Credential {
    AccessKeyId key;
    Secret secret;
  };

  std::optional<catalog::Connection> Find(const std::string& id, http::Response* error) {
    return FindConnection(ctx_.catalog, id, error);
  }

  AdminContext& ctx_;
};

}  // namespace

std::vector<Endpoint> ConnectionRoutes(AdminContext& ctx) {
  auto api = std::make_shared<ConnectionApi>(ctx);
  const ApiParam id{"id", "string", "the connection's id"};
  std::vector<Endpoint> routes;
  routes.push_back({{.method = "GET",
                     .path = "/api/v1/connections",
                     .summary = "List connections",
                     .description = "One page of connections by id.",
                     .query = {{"after", "string", "the last connection id of the previous page"},
                               {"limit", "integer",
                                "entries per page, 1.." + std::to_string(catalog::kMaxListPage)}},
                     .schema = "Connection",
                     .array = true,
                     .paged = true},
                    [api](const ApiCall& c) { return api->List(c); }});
  routes.push_back(
      {{.method = "POST",
        .path = "/api/v1/connections",
        .summary = "Create a connection",
        .description = "A connection (an S3 bucket, its id derived from the name) and its first "
                       "access key. The secret is in this answer only.",
        .request = "NewConnection",
        .status = 201,
        .schema = "CreatedConnection",
        .conflict = "a connection of that id exists"},
       [api](const ApiCall& c) { return api->Create(c); }});
  routes.push_back({{.method = "GET",
                     .path = "/api/v1/connections/{id}",
                     .summary = "One connection",
                     .description = "Its settings, the bytes it keeps on disk and its tables.",
                     .path_params = {id},
                     .schema = "Connection"},
                    [api](const ApiCall& c) { return api->Show(c); }});
  routes.push_back(
      {{.method = "PATCH",
        .path = "/api/v1/connections/{id}",
        .summary = "Change a connection",
        .description = "What becomes of keys outside a configured table, and its disk quota (a "
                       "running server applies it from the next upload on).",
        .path_params = {id},
        .request = "ConnectionChange",
        .schema = "Connection"},
       [api](const ApiCall& c) { return api->Change(c); }});
  routes.push_back(
      {{.method = "DELETE",
        .path = "/api/v1/connections/{id}",
        .summary = "Delete a connection",
        .description = "An empty one, as S3 DeleteBucket: no table configured, no object, no "
                       "upload in progress, no file waiting. Its keys go with it.",
        .path_params = {id},
        .conflict = "the connection is not empty"},
       [api](const ApiCall& c) { return api->Delete(c); }});
  routes.push_back(
      {{.method = "GET",
        .path = "/api/v1/credentials",
        .summary = "List access keys",
        .description = "Every key, or one connection's: created, expires, last used, state. "
                       "Never a secret.",
        .query = {{"connection", "string", "only this connection's keys"}},
        .schema = "Key",
        .array = true},
       [api](const ApiCall& c) { return api->Keys(c); }});
  routes.push_back(
      {{.method = "POST",
        .path = "/api/v1/credentials",
        .summary = "Create an access key",
        .description = "With a connection: a new key beside its current ones (rotation: revoke "
                       "the old one once every client uses the new one). Without: an account "
                       "key, which reaches every bucket and may create and delete buckets. The "
                       "secret is in this answer only.",
        .request = "NewKey",
        .status = 201,
        .schema = "CreatedKey"},
       [api](const ApiCall& c) { return api->CreateKey(c); }});
  routes.push_back(
      {{.method = "POST",
        .path = "/api/v1/connections/{id}/upload-url",
        .summary = "A presigned upload URL",
        .description = "A SigV4-presigned S3 PutObject URL for a key of a configured table, "
                       "signed with the connection's newest active key and valid 15 minutes: the "
                       "console's uploads go from the browser straight to the S3 endpoint.",
        .path_params = {id},
        .request = "UploadUrlRequest",
        .schema = "UploadUrl",
        .conflict = "the connection has no active key"},
       [api](const ApiCall& c) { return api->UploadUrl(c); }});
  routes.push_back({{.method = "POST",
                     .path = "/api/v1/credentials/{key}/revoke",
                     .summary = "Revoke an access key",
                     .description = "At once: its next request is refused with InvalidAccessKeyId.",
                     .path_params = {{"key", "string", "the access key id"}},
                     .conflict = "the key is revoked already"},
                    [api](const ApiCall& c) { return api->Revoke(c); }});
  return routes;
}

}  // namespace sluice::api
