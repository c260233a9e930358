// The admin API's file routes: a connection's ledger page by page, one file's record and bytes,
// its retry and skip (through the service layer the CLI calls too), and the open errors.
#include <algorithm>

#include "sluice/api/admin_internal.h"
#include "sluice/service/files.h"

namespace sluice::api {
namespace {

class FileApi {
 public:
  explicit FileApi(AdminContext& ctx) : ctx_(ctx) {}

  // GET /api/v1/connections/<id>/files?table=T&after=SEQ&limit=N: one page of the ledger in
  // sequence order (limit: default and at most catalog::kMaxListPage). The body is the array
  // of files; when more may follow, a Link header (RFC 8288) names the next page, as GitHub's
  // API does. A page may be short, even empty, and still have a next one (ListFilesPage).
  http::Response FilesPage(const ApiCall& call) {
    const std::string& id = call.param("id");
    std::string table;
    int64_t after = 0;
    int64_t limit = static_cast<int64_t>(catalog::kMaxListPage);
    for (const auto& [name, value] : AdminQuery(call.query)) {
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
    auto page = ctx_.catalog.ListFilesPage(id, table, after, static_cast<size_t>(limit));
    if (!page.ok()) return ErrorResponse(page.status());
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

  // GET /api/v1/connections/<id>/errors: catalog::Ledger::OpenErrors.
  http::Response Errors(const ApiCall& call) {
    if (auto bad = NoQuery(call.query)) return std::move(*bad);
    auto groups = ctx_.catalog.OpenErrors(call.param("id"));
    if (!groups.ok()) return ErrorResponse(groups.status());
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
  std::optional<catalog::FileRecord> FileOf(const ApiCall& call, http::Response* error) {
    const std::string& id = call.param("id");
    const std::optional<int64_t> seq = Decimal(call.param("seq"));
    if (!seq) {
      *error = Json(400, {{"error", "the file's sequence number is a decimal integer"}});
      return std::nullopt;
    }
    auto file = ctx_.catalog.GetFile(*seq);
    if (!file.ok()) {
      *error = ErrorResponse(file.status());
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
  http::Response File(const ApiCall& call, bool content) {
    if (auto bad = NoQuery(call.query)) return std::move(*bad);
    http::Response error;
    std::optional<catalog::FileRecord> f = FileOf(call, &error);
    if (!f) return error;
    if (!content) return Json(200, FileJson(*f));
    if (ctx_.options.landing == nullptr) {
      return Json(501, {{"error", "this server has no landing store to read files from"}});
    }
    if (f->purged_at != 0 || f->deleted) {
      return Json(410, {{"error", "the bytes of file " + std::to_string(f->seq) +
                                      " are gone (retention or a delete removed them)"}});
    }
    auto opened = ctx_.options.landing->Open(f->landed_id);
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

  // POST .../files/{seq}/retry (force=true|false) and .../skip: service::ApplyFileAction on a
  // file of the connection, while the server's loader runs.
  http::Response Action(const ApiCall& call, service::FileAction action) {
    for (const auto& [name, value] : AdminQuery(call.query)) {
      if (action != service::FileAction::kSkip && name == "force" &&
          (value == "true" || value == "false")) {
        if (value == "true") action = service::FileAction::kRetryForced;
      } else {
        return BadQuery(name,
                        action == service::FileAction::kSkip ? "no parameter" : "force=true|false");
      }
    }
    http::Response error;
    const std::optional<catalog::FileRecord> f = FileOf(call, &error);
    if (!f) return error;
    const int64_t seq = f->seq;
    auto done = service::ApplyFileAction(ctx_.catalog, seq, action);
    if (!done.ok()) {
      // Any refusal is the file's status not allowing the action.
      if (done.status().code() == ErrorCode::kInvalidArgument) {
        return Json(409, {{"error", done.status().message()},
                          {"code", std::string(ErrorCodeName(done.status().code()))}});
      }
      return ErrorResponse(done.status());
    }
    const catalog::FileStatus now = action == service::FileAction::kSkip
                                        ? catalog::FileStatus::kSkipped
                                        : catalog::FileStatus::kQueued;
    return Json(200, {{"seq", seq}, {"status", catalog::FileStatusName(now)}, {"message", *done}});
  }

 private:
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

  AdminContext& ctx_;
};

}  // namespace

std::vector<Endpoint> FileRoutes(AdminContext& ctx) {
  auto api = std::make_shared<FileApi>(ctx);
  const ApiParam limit{"limit", "integer",
                       "entries per page, 1.." + std::to_string(catalog::kMaxListPage) +
                           " (the default is the most)"};
  const ApiParam id{"id", "string", "the connection's id"};
  const std::vector<ApiParam> file_params = {id, {"seq", "integer", "the file's sequence number"}};
  std::vector<Endpoint> routes;
  routes.push_back(
      {{.method = "GET",
        .path = "/api/v1/connections/{id}/files",
        .summary = "List a connection's files",
        .description = "One page of the ledger in sequence order. A page may be "
                       "short, even empty, and still have a next one.",
        .path_params = {id},
        .query = {{"table", "string", "only this table's files"},
                  {"after", "integer", "the last sequence number of the previous page"},
                  limit},
        .schema = "File",
        .array = true,
        .paged = true},
       [api](const ApiCall& c) { return api->FilesPage(c); }});
  routes.push_back(
      {{.method = "GET",
        .path = "/api/v1/connections/{id}/errors",
        .summary = "A connection's open errors",
        .description = "Its files failed and not passed (blocking their table, or awaiting an "
                       "operator), grouped by table and error code, each with its count and "
                       "its newest file as the sample.",
        .path_params = {id},
        .schema = "ErrorGroup",
        .array = true},
       [api](const ApiCall& c) { return api->Errors(c); }});
  routes.push_back({{.method = "GET",
                     .path = "/api/v1/connections/{id}/files/{seq}",
                     .summary = "One file of the ledger",
                     .description = "Its status, counts, error and checksums.",
                     .path_params = file_params,
                     .schema = "File"},
                    [api](const ApiCall& c) { return api->File(c, /*content=*/false); }});
  routes.push_back(
      {{.method = "GET",
        .path = "/api/v1/connections/{id}/files/{seq}/content",
        .summary = "Download a file",
        .description = "The bytes as they were pushed (a failed file's sample, say), with its "
                       "content type and its key's last segment as the file name. 410 once "
                       "retention or a delete removed them.",
        .path_params = file_params,
        .schema = "Bytes"},
       [api](const ApiCall& c) { return api->File(c, /*content=*/true); }});
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
       [api](const ApiCall& c) { return api->Action(c, service::FileAction::kRetry); }});
  routes.push_back(
      {{.method = "POST",
        .path = "/api/v1/connections/{id}/files/{seq}/skip",
        .summary = "Skip a failed file",
        .description = "Passes a failed file: its table moves on to the next file.",
        .path_params = file_params,
        .schema = "FileAction",
        .conflict = "the file's status does not allow it (not failed)"},
       [api](const ApiCall& c) { return api->Action(c, service::FileAction::kSkip); }});
  return routes;
}

}  // namespace sluice::api
