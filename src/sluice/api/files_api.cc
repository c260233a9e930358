// The admin API's file routes: a connection's ledger page by page, one file's record and bytes,
// its retry and skip (through the service layer the CLI calls too), and the open errors.
#include <algorithm>

#include "sluice/api/admin_internal.h"
#include "sluice/core/text.h"
#include "sluice/service/files.h"

namespace sluice::api {
namespace {

// The values of the file listing's query are %XX-decoded: `status` and `since`/`until` hold
// ',' and ':', which clients commonly escape (JavaScript's URLSearchParams does), and
// AdminQuery passes values raw. nullopt for a malformed escape.
std::optional<std::string> Unescaped(std::string_view raw) {
  std::string out;
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '%') {
      out += raw[i];
      continue;
    }
    if (i + 2 >= raw.size() || !IsHexString(raw.substr(i + 1, 2))) return std::nullopt;
    out += static_cast<char>(HexDigitValue(raw[i + 1]) * 16 + HexDigitValue(raw[i + 2]));
    i += 2;
  }
  return out;
}

// Micros since the epoch: an ISO 8601 UTC time as the API writes them (ParseIsoMicros: the
// fraction shorter or absent, or a date, its midnight UTC), or a decimal count of micros.
std::optional<int64_t> ParseTime(std::string_view text) {
  if (std::optional<int64_t> micros = Decimal(text)) return micros;
  return ParseIsoMicros(text);
}

// "failed,skipped" as statuses; nullopt unless each item names one.
std::optional<std::vector<catalog::FileStatus>> ParseStatuses(std::string_view text) {
  std::vector<catalog::FileStatus> out;
  while (true) {
    const size_t comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    const auto* status =
        std::find_if(std::begin(catalog::kFileStatuses), std::end(catalog::kFileStatuses),
                     [&](catalog::FileStatus s) { return catalog::FileStatusName(s) == item; });
    if (status == std::end(catalog::kFileStatuses)) return std::nullopt;
    out.push_back(*status);
    if (comma == std::string_view::npos) return out;
    text.remove_prefix(comma + 1);
  }
}

// Takes parameter `name` of the file listing into `filter` and `limit`; false when the name is
// unknown or the value is not one it takes.
bool ParseFilesQuery(std::string_view name, const std::string& value, catalog::FileFilter* filter,
                     int64_t* limit) {
  const std::optional<int64_t> number = Decimal(value);
  if (name == "table") {
    filter->table = value;
    return IsTableName(value);
  }
  if (name == "status") {
    auto statuses = ParseStatuses(value);
    if (statuses) filter->statuses = std::move(*statuses);
    return statuses.has_value();
  }
  if (name == "error_code") {
    filter->error_code = value;
    const ErrorCode code = ErrorCodeFromName(value);
    return code != ErrorCode::kOk && ErrorCodeName(code) == value;
  }
  if (name == "since" || name == "until") {
    const std::optional<int64_t> micros = ParseTime(value);
    (name == "since" ? filter->since : filter->until) = micros.value_or(0);
    return micros.has_value();
  }
  if (name == "order") {
    filter->newest_first = value == "desc";
    return value == "asc" || value == "desc";
  }
  if (name == "after") {
    filter->after_seq = number.value_or(0);
    return number.has_value();
  }
  if (name == "before") {
    filter->before_seq = number.value_or(0);
    return number.value_or(0) > 0;
  }
  if (name == "limit") {
    *limit = std::min(number.value_or(0), *limit);
    return number.value_or(0) > 0;
  }
  return false;
}

// What the 400 for parameter `name` of the file listing says it takes.
std::string FilesQueryAllowed(std::string_view name) {
  if (name == "table") return "table=<a table name>";
  if (name == "status") {
    return "status=<status>[,<status>...], each queued, loading, loaded, failed or skipped";
  }
  if (name == "error_code") return "error_code=<an error code, such as PK_NULL>";
  if (name == "since" || name == "until") {
    return std::string(name) +
           "=<a UTC time in ISO 8601, such as 2026-12-07T10:00:00Z, or microseconds since the "
           "epoch>";
  }
  if (name == "order") return "order=asc or order=desc";
  if (name == "after") return "after=<seq>";
  if (name == "before") return "before=<seq, 1 or more>";
  if (name == "limit") return "limit=<1.." + std::to_string(catalog::kMaxListPage) + ">";
  return "table, status, error_code, since, until, order, after, before or limit";
}

// The query of the file listing `filter` and `limit` ask for, as FilesPage reads it back
// (times in micros, so that nothing needs escaping).
std::string FilesQuery(const catalog::FileFilter& filter, int64_t limit) {
  std::string q;
  auto add = [&](std::string_view name, const std::string& value) {
    q += (q.empty() ? "" : "&") + std::string(name) + "=" + value;
  };
  if (!filter.table.empty()) add("table", filter.table);
  if (!filter.statuses.empty()) {
    std::string list;
    for (catalog::FileStatus s : filter.statuses) {
      list += (list.empty() ? "" : ",") + std::string(catalog::FileStatusName(s));
    }
    add("status", list);
  }
  if (!filter.error_code.empty()) add("error_code", filter.error_code);
  if (filter.since != 0) add("since", std::to_string(filter.since));
  if (filter.until != 0) add("until", std::to_string(filter.until));
  if (filter.newest_first) add("order", "desc");
  if (filter.after_seq != 0) add("after", std::to_string(filter.after_seq));
  if (filter.before_seq != 0) add("before", std::to_string(filter.before_seq));
  add("limit", std::to_string(limit));
  return q;
}

class FileApi {
 public:
  explicit FileApi(AdminContext& ctx) : ctx_(ctx) {}

  // GET /api/v1/connections/<id>/files: one page of the ledger (catalog::Ledger::ListFilesPage),
  // filtered by table, statuses, error code and received_at, oldest or newest first, at most
  // `limit` files (default and at most catalog::kMaxListPage). The body is the array of files;
  // when more may follow, a Link header (RFC 8288) names the next page, as GitHub's API does:
  // the same query with `after` (oldest first) or `before` (newest first) moved past this page.
  // A page may be short, even empty, and still have a next one.
  http::Response FilesPage(const ApiCall& call) {
    const std::string& id = call.param("id");
    catalog::FileFilter filter;
    int64_t limit = static_cast<int64_t>(catalog::kMaxListPage);
    for (const auto& [name, raw] : AdminQuery(call.query)) {
      const std::optional<std::string> value = Unescaped(raw);
      if (!value || !ParseFilesQuery(name, *value, &filter, &limit)) {
        return BadQuery(name, FilesQueryAllowed(name));
      }
    }
    if (filter.since != 0 && filter.until != 0 && filter.since >= filter.until) {
      return BadQuery("until", "until=<a time after since>");
    }
    auto page = ctx_.catalog.ListFilesPage(id, filter, static_cast<size_t>(limit));
    if (!page.ok()) return ErrorResponse(page.status());
    nlohmann::json out = nlohmann::json::array();
    for (const auto& f : page->files) out.push_back(FileJson(f));
    http::Response r = Json(200, out);
    if (page->next_after != 0 || page->next_before != 0) {
      (filter.newest_first ? filter.before_seq : filter.after_seq) =
          filter.newest_first ? page->next_before : page->next_after;
      AddNextLink(r, "/api/v1/connections/" + id + "/files?" + FilesQuery(filter, limit));
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
        .description =
            "One page of the ledger in sequence order, oldest first (order=desc: newest "
            "first), of the files that pass every filter given. `after` and `before` are "
            "exclusive bounds on the sequence number: an oldest-first listing moves `after` "
            "from page to page, a newest-first one `before`, and the Link header names the next "
            "page so, with the other parameters kept. A page reads at most " +
            std::to_string(catalog::kFileScanWindow) +
            " ledger entries (unless it lists one table with no other filter), so it may be "
            "short, even empty, and still have a next one. `since` and `until` filter the "
            "entries a page reads but do not end the listing early: the time a file was "
            "received is not quite in sequence order.",
        .path_params = {id},
        .query = {{"table", "string", "only this table's files"},
                  {.name = "status",
                   .type = "string",
                   .description = "only files in these statuses, comma-separated: queued, "
                                  "loading, loaded, failed, skipped",
                   .example = "failed,skipped"},
                  {.name = "error_code",
                   .type = "string",
                   .description = "only files with this error code",
                   .example = "PK_NULL"},
                  {.name = "since",
                   .type = "string",
                   .description = "only files received at or after this time: UTC in ISO 8601 "
                                  "or microseconds since the epoch",
                   .example = "2026-12-07T10:00:00Z"},
                  {.name = "until",
                   .type = "string",
                   .description = "only files received before this time (as since)",
                   .example = "2026-12-07T11:00:00Z"},
                  {.name = "order",
                   .type = "string",
                   .description = "asc (oldest first, the default) or desc (newest first)",
                   .example = "desc"},
                  {"after", "integer",
                   "only sequence numbers above this one (oldest first: the last sequence number "
                   "of the previous page)"},
                  {"before", "integer",
                   "only sequence numbers below this one (newest first: the last sequence "
                   "number of the previous page)"},
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
