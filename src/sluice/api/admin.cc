#include "sluice/api/admin.h"

#include <algorithm>
#include <cctype>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

#include "sluice/api/routes_internal.h"
#include "sluice/service/files.h"

namespace sluice::api {
namespace {

// No admin route takes a body. A request announcing more than this (or a chunked one, whose
// size is unknown) is answered 413 before any of it is read, and the connection closes; a
// smaller body is read and dropped, so clients that send an empty or tiny body keep working.
constexpr uint64_t kMaxAdminBodyBytes = 1024;

http::Response Text(int status, std::string body, std::string type = "text/plain") {
  http::Response r;
  r.status = status;
  r.headers.emplace_back("Content-Type", std::move(type));
  r.body = std::move(body);
  return r;
}

http::Response Json(int status, const nlohmann::json& body) {
  return Text(status, body.dump(2) + "\n", "application/json");
}

class ReadyExchange final : public http::Exchange {
 public:
  explicit ReadyExchange(http::Response r) : response_(std::move(r)) {}
  Status OnBody(ByteView data) override {
    read_ += data.size();
    if (read_ > kMaxAdminBodyBytes) {
      return Err(ErrorCode::kInvalidRequest,
                 "admin request body over " + std::to_string(kMaxAdminBodyBytes) + " bytes");
    }
    return Status::Ok();
  }
  http::Response Finish(const Status& body_status) override {
    if (!body_status.ok()) {
      http::Response r = Text(body_status.code() == ErrorCode::kRequestTimeout ? 408 : 400,
                              body_status.message() + "\n");
      r.close = true;
      return r;
    }
    return std::move(response_);
  }

 private:
  http::Response response_;
  uint64_t read_ = 0;
};

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

// The query of an admin request as name=value pairs. Admin parameters are table names and
// numbers, so nothing is percent-decoded: a value outside those characters fails validation.
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

// A decimal of at most 18 digits (it cannot overflow); nullopt otherwise.
std::optional<int64_t> Decimal(std::string_view text) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  int64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

// [a-z0-9-], at most 63: what a connection id may hold (catalog/names.h).
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

// A route of the API (ApiRoute) and what serves it.
struct Endpoint {
  ApiRoute api;
  std::function<http::Response(const PathParams&, std::string_view raw_query)> serve;
};

class AdminHandler final : public http::Handler {
 public:
  AdminHandler(catalog::Catalog& catalog, Secret token, Metrics& metrics, const Clock& clock,
               AdminOptions options)
      : catalog_(catalog),
        token_(std::move(token)),
        metrics_(metrics),
        clock_(clock),
        options_(options),
        routes_(MakeRoutes()) {
    std::vector<ApiRoute> api;
    for (const Endpoint& r : routes_) api.push_back(r.api);
    openapi_ = OpenApiDocument(api, "v1").dump(2) + "\n";
  }

  Started Start(const http::RequestHead& head) override {
    Started s;
    if (head.chunked || head.content_length.value_or(0) > kMaxAdminBodyBytes) {
      http::Response r =
          Text(413, "the admin side takes no request body (at most " +
                        std::to_string(kMaxAdminBodyBytes) + " bytes, not chunked)\n");
      r.close = true;
      s.response = std::move(r);
      return s;
    }
    s.exchange = std::make_unique<ReadyExchange>(Route(head));
    return s;
  }

 private:
  http::Response Route(const http::RequestHead& head) {
    const std::string& path = head.raw_path;
    if (path.rfind("/api/v1/", 0) == 0) return Api(head);
    if (head.method != "GET" && head.method != "HEAD") {
      return Text(405, "only GET is served here\n");
    }
    if (path == "/healthz") return Text(200, "ok\n");
    if (path == "/metrics") {
      if (options_.metrics_token && !Authorized(head)) {
        http::Response r = Text(401,
                                "/metrics needs the admin token (serve --metrics-token): "
                                "Authorization: Bearer <token> (see <data-dir>/admin.token)\n");
        r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"sluice\"");
        return r;
      }
      return MetricsPage();
    }
    return Text(404, "not found\n");
  }

  // The route of `head` in routes_ (401 before anything else without the token, unless the
  // route is public), else 404.
  http::Response Api(const http::RequestHead& head) {
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
      if (!r.api.anonymous && !Authorized(head)) return Unauthorized();
      return r.serve(*params, head.raw_query);
    }
    if (!Authorized(head)) return Unauthorized();  // says nothing of which paths exist
    if (!allowed.empty()) {
      http::Response r = Json(405, {{"error", head.method + " is not served on " + head.raw_path +
                                                  "; allowed: " + allowed}});
      r.headers.emplace_back("Allow", allowed);
      return r;
    }
    return Json(404, {{"error", "no such endpoint: " + head.raw_path +
                                    " (the routes are in /api/v1/openapi.json)"}});
  }

  std::vector<Endpoint> MakeRoutes() {
    const ApiParam limit{"limit", "integer",
                         "entries per page, 1.." + std::to_string(catalog::kMaxListPage) +
                             " (the default is the most)"};
    std::vector<Endpoint> routes;
    routes.push_back(
        {{.method = "GET",
          .path = "/api/v1/connections",
          .summary = "List connections",
          .description = "One page of connections by id.",
          .query = {{"after", "string", "the last connection id of the previous page"}, limit},
          .schema = "Connection",
          .array = true,
          .paged = true},
         [this](const PathParams&, std::string_view q) { return ConnectionsPage(q); }});
    routes.push_back(
        {{.method = "GET",
          .path = "/api/v1/connections/{id}/files",
          .summary = "List a connection's files",
          .description = "One page of the ledger in sequence order. A page may be short, even "
                         "empty, and still have a next one.",
          .path_params = {{"id", "string", "the connection's id"}},
          .query = {{"table", "string", "only this table's files"},
                    {"after", "integer", "the last sequence number of the previous page"},
                    limit},
          .schema = "File",
          .array = true,
          .paged = true},
         [this](const PathParams& p, std::string_view q) {
           return FilesPage(p.find("id")->second, q);
         }});
    routes.push_back(
        {{.method = "GET",
          .path = "/api/v1/connections/{id}/errors",
          .summary = "A connection's open errors",
          .description = "Its files failed and not passed (blocking their table, or awaiting an "
                         "operator), grouped by table and error code, each with its count and "
                         "its newest file as the sample.",
          .path_params = {{"id", "string", "the connection's id"}},
          .schema = "ErrorGroup",
          .array = true},
         [this](const PathParams& p, std::string_view q) {
           return ErrorsPage(p.find("id")->second, q);
         }});
    const std::vector<ApiParam> file_params = {{"id", "string", "the connection's id"},
                                               {"seq", "integer", "the file's sequence number"}};
    routes.push_back({{.method = "GET",
                       .path = "/api/v1/connections/{id}/files/{seq}",
                       .summary = "One file of the ledger",
                       .description = "Its status, counts, error and checksums.",
                       .path_params = file_params,
                       .schema = "File"},
                      [this](const PathParams& p, std::string_view q) {
                        return FileRoute(p, q, /*content=*/false);
                      }});
    routes.push_back(
        {{.method = "GET",
          .path = "/api/v1/connections/{id}/files/{seq}/content",
          .summary = "Download a file",
          .description = "The bytes as they were pushed (a failed file's sample, say), with its "
                         "content type and its key's last segment as the file name. 410 once "
                         "retention or a delete removed them.",
          .path_params = file_params,
          .schema = "Bytes"},
         [this](const PathParams& p, std::string_view q) {
           return FileRoute(p, q, /*content=*/true);
         }});
    routes.push_back(
        {{.method = "POST",
          .path = "/api/v1/connections/{id}/files/{seq}/retry",
          .summary = "Retry a file",
          .description = "Queues a failed file again: it is the next file its table loads. A "
                         "skipped file (a duplicate, say) is retried only with force=true, and "
                         "is then loaded even when it repeats a loaded file.",
          .path_params = file_params,
          .query = {{"force", "boolean", "load it even if it repeats a loaded file"}},
          .schema = "FileAction",
          .conflict = "the file's status does not allow it (queued, loading, loaded)"},
         [this](const PathParams& p, std::string_view q) {
           return FileActionRoute(p, q, service::FileAction::kRetry);
         }});
    routes.push_back({{.method = "POST",
                       .path = "/api/v1/connections/{id}/files/{seq}/skip",
                       .summary = "Skip a failed file",
                       .description = "Passes a failed file: its table moves on to the next file.",
                       .path_params = file_params,
                       .schema = "FileAction",
                       .conflict = "the file's status does not allow it (not failed)"},
                      [this](const PathParams& p, std::string_view q) {
                        return FileActionRoute(p, q, service::FileAction::kSkip);
                      }});
    routes.push_back({{.method = "GET",
                       .path = "/api/v1/openapi.json",
                       .summary = "This document",
                       .description = "The OpenAPI 3 description of every route of /api/v1.",
                       .anonymous = true},
                      [this](const PathParams&, std::string_view) {
                        return Text(200, openapi_, "application/json");
                      }});
    return routes;
  }

  static http::Response Unauthorized() {
    return Json(401, {{"error",
                       "an admin token is required: Authorization: Bearer <token> "
                       "(see <data-dir>/admin.token)"}});
  }

  // The admin token as a Bearer credential, compared in constant time.
  bool Authorized(const http::RequestHead& head) const {
    auto auth = head.Header("Authorization");
    const std::string expected = "Bearer " + token_.reveal();
    return auth && ConstantTimeEquals(*auth, expected);
  }

  // GET /api/v1/connections?after=ID&limit=N: one page of connections by id, with a Link
  // header to the next page as for files.
  http::Response ConnectionsPage(std::string_view raw_query) {
    std::string after;
    int64_t limit = static_cast<int64_t>(catalog::kMaxListPage);
    for (const auto& [name, value] : AdminQuery(raw_query)) {
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
    auto conns = catalog_.ListConnectionsPage(after, static_cast<size_t>(limit) + 1);
    if (!conns.ok()) return Json(500, {{"error", conns.status().ToString()}});
    const bool more = conns->size() > static_cast<size_t>(limit);
    if (more) conns->resize(static_cast<size_t>(limit));
    nlohmann::json out = nlohmann::json::array();
    for (const auto& c : *conns) {
      out.push_back(
          {{"id", c.id}, {"name", c.name}, {"created_at", FormatIsoMicros(c.created_at)}});
    }
    http::Response r = Json(200, out);
    if (more) {
      AddNextLink(
          r, "/api/v1/connections?after=" + conns->back().id + "&limit=" + std::to_string(limit));
    }
    return r;
  }

  // GET /api/v1/connections/<id>/errors: catalog::Ledger::OpenErrors.
  http::Response ErrorsPage(const std::string& id, std::string_view raw_query) {
    if (auto bad = NoQuery(raw_query)) return std::move(*bad);
    auto groups = catalog_.OpenErrors(id);
    if (!groups.ok()) {
      const int status = groups.status().code() == ErrorCode::kNotFound ? 404 : 500;
      return Json(status, {{"error", groups.status().ToString()}});
    }
    nlohmann::json out = nlohmann::json::array();
    for (const catalog::ErrorGroup& g : *groups) {
      out.push_back({{"table", g.newest.table},
                     {"error_code", g.newest.error_code},
                     {"files", g.files},
                     {"newest", FileJson(g.newest)}});
    }
    return Json(200, out);
  }

  // The file {seq} of connection {id}: nullopt and `*error` set when there is none (404), the
  // number is malformed (400) or the ledger fails (500).
  std::optional<catalog::FileRecord> FileOf(const PathParams& params, http::Response* error) {
    const std::string& id = params.find("id")->second;
    const std::optional<int64_t> seq = Decimal(params.find("seq")->second);
    if (!seq) {
      *error = Json(400, {{"error", "the file's sequence number is a decimal integer"}});
      return std::nullopt;
    }
    auto file = catalog_.GetFile(*seq);
    if (!file.ok()) {
      *error = Json(500, {{"error", file.status().ToString()}});
      return std::nullopt;
    }
    if (!*file || (*file)->connection_id != id) {
      *error =
          Json(404, {{"error", "connection '" + id + "' has no file " + std::to_string(*seq)}});
      return std::nullopt;
    }
    return std::move(**file);
  }

  // GET .../files/{seq} (the record) and .../files/{seq}/content (the bytes).
  http::Response FileRoute(const PathParams& params, std::string_view raw_query, bool content) {
    if (auto bad = NoQuery(raw_query)) return std::move(*bad);
    http::Response error;
    std::optional<catalog::FileRecord> f = FileOf(params, &error);
    if (!f) return error;
    if (!content) return Json(200, FileJson(*f));
    if (options_.landing == nullptr) {
      return Json(501, {{"error", "this server has no landing store to read files from"}});
    }
    if (f->purged_at != 0 || f->deleted) {
      return Json(410, {{"error", "the bytes of file " + std::to_string(f->seq) +
                                      " are gone (retention or a delete removed them)"}});
    }
    auto opened = options_.landing->Open(f->landed_id);
    if (!opened.ok()) {
      return Json(
          500, {{"error", "file " + std::to_string(f->seq) + ": " + opened.status().ToString()}});
    }
    http::Response r;
    r.headers.emplace_back("Content-Type",
                           f->content_type.empty() ? "application/octet-stream" : f->content_type);
    r.headers.emplace_back("Content-Disposition", AttachmentName(f->key));
    r.file_length = (*opened)->size();
    r.file = std::shared_ptr<const RandomAccessFile>(std::move(opened).value());
    return r;
  }

  // `attachment; filename="<the key's last segment>"`, with anything outside printable ASCII
  // and the quote and backslash replaced by '_' (the name is a hint; the key is the client's).
  static std::string AttachmentName(std::string_view key) {
    const size_t slash = key.rfind('/');
    std::string_view last = slash == std::string_view::npos ? key : key.substr(slash + 1);
    if (last.empty()) last = "file";
    std::string name;
    for (char c : last) {
      const auto u = static_cast<unsigned char>(c);
      name += (u < 0x20 || u > 0x7e || c == '"' || c == '\\') ? '_' : c;
    }
    return "attachment; filename=\"" + name + "\"";
  }

  // POST .../files/{seq}/retry (force=true|false) and .../skip: service::ApplyFileAction on a
  // file of the connection, while the server's loader runs.
  http::Response FileActionRoute(const PathParams& params, std::string_view raw_query,
                                 service::FileAction action) {
    for (const auto& [name, value] : AdminQuery(raw_query)) {
      if (action != service::FileAction::kSkip && name == "force" &&
          (value == "true" || value == "false")) {
        if (value == "true") action = service::FileAction::kRetryForced;
      } else {
        return BadQuery(name,
                        action == service::FileAction::kSkip ? "no parameter" : "force=true|false");
      }
    }
    http::Response error;
    const std::optional<catalog::FileRecord> f = FileOf(params, &error);
    if (!f) return error;
    const int64_t seq = f->seq;
    auto done = service::ApplyFileAction(catalog_, seq, action);
    if (!done.ok()) {
      const ErrorCode code = done.status().code();
      const int status = code == ErrorCode::kNotFound          ? 404
                         : code == ErrorCode::kInvalidArgument ? 409
                                                               : 500;
      return Json(status, {{"error", done.status().message()}});
    }
    const catalog::FileStatus now = action == service::FileAction::kSkip
                                        ? catalog::FileStatus::kSkipped
                                        : catalog::FileStatus::kQueued;
    return Json(200, {{"seq", seq}, {"status", catalog::FileStatusName(now)}, {"message", *done}});
  }

  // 400 for a route that takes no query parameter, when the request has one.
  static std::optional<http::Response> NoQuery(std::string_view raw_query) {
    for (const auto& [name, value] : AdminQuery(raw_query)) return BadQuery(name, "no parameter");
    return std::nullopt;
  }

  static http::Response BadQuery(const std::string& name, const std::string& allowed) {
    return Json(400, {{"error", "bad query parameter '" + name + "': use " + allowed}});
  }

  static void AddNextLink(http::Response& r, const std::string& next) {
    r.headers.emplace_back("Link", "<" + next + ">; rel=\"next\"");
  }

  // GET /api/v1/connections/<id>/files?table=T&after=SEQ&limit=N: one page of the ledger in
  // sequence order (limit: default and at most catalog::kMaxListPage). The body is the array
  // of files; when more may follow, a Link header (RFC 8288) names the next page, as GitHub's
  // API does. A page may be short, even empty, and still have a next one (ListFilesPage).
  http::Response FilesPage(const std::string& id, std::string_view raw_query) {
    const auto query = AdminQuery(raw_query);
    std::string table;
    int64_t after = 0;
    int64_t limit = static_cast<int64_t>(catalog::kMaxListPage);
    for (const auto& [name, value] : query) {
      const std::optional<int64_t> number = Decimal(value);
      if (name == "table" && IsTableName(value)) {
        table = value;
      } else if (name == "after" && number) {
        after = *number;
      } else if (name == "limit" && number.value_or(0) > 0) {
        limit = std::min(*number, limit);
      } else {
        return BadQuery(name, "table=<name>, after=<seq> and limit=<1.." +
                                  std::to_string(catalog::kMaxListPage) + ">");
      }
    }
    auto page = catalog_.ListFilesPage(id, table, after, static_cast<size_t>(limit));
    if (!page.ok()) {
      const int status = page.status().code() == ErrorCode::kNotFound ? 404 : 500;
      return Json(status, {{"error", page.status().ToString()}});
    }
    nlohmann::json out = nlohmann::json::array();
    for (const auto& f : page->files) out.push_back(FileJson(f));
    http::Response r = Json(200, out);
    if (page->next_after != 0) {
      std::string next = "/api/v1/connections/" + id +
                         "/files?after=" + std::to_string(page->next_after) +
                         "&limit=" + std::to_string(limit);
      if (!table.empty()) next += "&table=" + table;
      AddNextLink(r, next);
    }
    return r;
  }

  http::Response MetricsPage() {
    auto page = metrics_.Render(catalog_, clock_.NowMicros());
    if (!page.ok()) return Text(500, page.status().ToString() + "\n");
    return Text(200, std::move(page).value(), "text/plain; version=0.0.4; charset=utf-8");
  }

  catalog::Catalog& catalog_;
  Secret token_;
  Metrics& metrics_;
  const Clock& clock_;
  const AdminOptions options_;
  const std::vector<Endpoint> routes_;
  std::string openapi_;  // the OpenAPI document of routes_, serialised once
};

}  // namespace

std::unique_ptr<http::Handler> MakeAdminHandler(catalog::Catalog& catalog, Secret token,
                                                Metrics& metrics, const Clock& clock,
                                                AdminOptions options) {
  return std::make_unique<AdminHandler>(catalog, std::move(token), metrics, clock, options);
}

}  // namespace sluice::api
