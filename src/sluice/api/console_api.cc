// The admin API's console routes: a read-only SQL console over the pool (row limit, timeout)
// and the live status of every configured table (state, backlog, oldest pending age, open
// errors), as the web console's overview shows them.
#include <chrono>
#include <map>
#include <set>

#include "sluice/api/admin_internal.h"

namespace sluice::api {
namespace {

constexpr int64_t kDefaultQueryRows = 1000;
constexpr int64_t kMaxQueryRows = 10000;
constexpr int64_t kDefaultQueryTimeoutMs = 10'000;
constexpr int64_t kMaxQueryTimeoutMs = 60'000;

class ConsoleApi {
 public:
  explicit ConsoleApi(AdminContext& ctx) : ctx_(ctx) {}

  // POST /api/v1/query {"sql", "connection", "max_rows", "timeout_ms"}
  http::Response Query(const ApiCall& call) {
    if (auto bad = NoQuery(call.query)) return std::move(*bad);
    if (ctx_.options.pool == nullptr) {
      return Json(501, {{"error", "this server has no pool to query"}});
    }
    http::Response error;
    auto body = BodyObject(call, &error);
    if (!body) return error;
    if (auto bad = UnknownMembers(*body, {"sql", "connection", "max_rows", "timeout_ms"})) {
      return std::move(*bad);
    }
    if (!body->contains("sql") || !(*body)["sql"].is_string()) {
      return Json(400, {{"error", "\"sql\" (one read-only statement) is required"}});
    }
    pool::QueryLimits limits;
    limits.max_rows = static_cast<size_t>(kDefaultQueryRows);
    limits.timeout_ms = kDefaultQueryTimeoutMs;
    auto bounded = [&](const char* name, int64_t max, auto* out) -> std::optional<http::Response> {
      if (!body->contains(name)) return std::nullopt;
      const nlohmann::json& v = (*body)[name];
      if (!v.is_number_unsigned() || v.get<uint64_t>() == 0 ||
          v.get<uint64_t>() > static_cast<uint64_t>(max)) {
        return Json(400, {{"error", std::string(name) + " is 1.." + std::to_string(max)}});
      }
      *out = static_cast<std::remove_pointer_t<decltype(out)>>(v.get<uint64_t>());
      return std::nullopt;
    };
    if (auto bad = bounded("max_rows", kMaxQueryRows, &limits.max_rows)) return std::move(*bad);
    if (auto bad = bounded("timeout_ms", kMaxQueryTimeoutMs, &limits.timeout_ms)) {
      return std::move(*bad);
    }
    std::string schema;
    if (body->contains("connection")) {
      if (!(*body)["connection"].is_string()) {
        return Json(400, {{"error", "connection is a connection id"}});
      }
      schema = (*body)["connection"].get<std::string>();
    } else {
      // As `sluice query`: the only connection, when there is one.
      auto conns = ctx_.catalog.ListConnectionsPage("", 2);
      if (!conns.ok()) return ErrorResponse(conns.status());
      if (conns->size() == 1) schema = conns->front().id;
    }
    const auto start = std::chrono::steady_clock::now();
    auto result = ctx_.options.pool->ReadQuery((*body)["sql"].get<std::string>(), schema, limits);
    if (!result.ok()) return ErrorResponse(result.status());
    const double elapsed_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& row : result->rows) {
      nlohmann::json r = nlohmann::json::array();
      for (const auto& v : row) r.push_back(v ? nlohmann::json(*v) : nlohmann::json(nullptr));
      rows.push_back(std::move(r));
    }
    nlohmann::json out = nlohmann::json::object();
    out["columns"] = result->columns;
    out["rows"] = std::move(rows);
    out["truncated"] = result->truncated;
    out["elapsed_ms"] = elapsed_ms;
    return Json(200, out);
  }

  // GET /api/v1/status: every configured table's state from two grouped ledger queries over
  // the unfinished files (their cost follows the backlog, not the ledger's history).
  http::Response Status(const ApiCall& call) {
    if (auto bad = NoQuery(call.query)) return std::move(*bad);
    struct Row {
      catalog::OnError on_error = catalog::OnError::kBlock;
      int64_t files = 0;
      uint64_t bytes = 0;
      int64_t oldest = 0;
      int64_t open_errors = 0;
      std::map<std::string, int64_t> by_code;
    };
    std::map<catalog::TableKey, Row> tables;
    std::set<std::string> connections;
    std::string after;
    while (true) {
      auto page = ctx_.catalog.ListConnectionsPage(after, catalog::kMaxListPage);
      if (!page.ok()) return ErrorResponse(page.status());
      for (const catalog::Connection& c : *page) {
        connections.insert(c.id);
        auto configured = ctx_.catalog.ListTables(c.id);
        if (!configured.ok()) return ErrorResponse(configured.status());
        for (const auto& t : *configured) tables[{t.connection_id, t.name}].on_error = t.on_error;
      }
      if (page->size() < catalog::kMaxListPage) break;
      after = page->back().id;
    }
    auto backlog = ctx_.catalog.BacklogByTable();
    if (!backlog.ok()) return ErrorResponse(backlog.status());
    auto pending = ctx_.catalog.CountPending();
    if (!pending.ok()) return ErrorResponse(pending.status());
    for (const auto& b : *backlog) {
      auto it = tables.find(b.table);
      if (it == tables.end()) continue;
      it->second.files = b.files;
      it->second.bytes = b.bytes;
      it->second.oldest = b.oldest_queued_at;
    }
    int64_t unconfigured = 0;
    int64_t open_errors = 0;
    int64_t backlog_files = 0;
    for (const auto& c : *pending) {
      auto it = tables.find(c.table);
      if (it == tables.end()) {
        if (connections.count(c.table.connection_id)) unconfigured += c.files;
        continue;
      }
      if (c.status == catalog::FileStatus::kFailed) {
        it->second.open_errors += c.files;
        it->second.by_code[c.error_code] += c.files;
        open_errors += c.files;
      }
    }
    const int64_t now = ctx_.clock.NowMicros();
    auto recent = ctx_.catalog.LoadedSince(now - kDayMicros);
    if (!recent.ok()) return ErrorResponse(recent.status());
    std::map<catalog::TableKey, catalog::Catalog::TableActivity> activity;
    for (const auto& a : *recent) activity[a.table] = a;
    nlohmann::json out = nlohmann::json::array();
    for (const auto& [key, row] : tables) {
      backlog_files += row.files;
      auto a = activity.find(key);
      const int64_t failed_24h = a == activity.end() ? 0 : a->second.failed;
      // A failed file not passed stops its table (on_error block, or an INTERNAL failure); a
      // table that moved past failures of the last day (on_error skip) is failing.
      const char* state = row.open_errors > 0 ? "blocked"
                          : failed_24h > 0    ? "failing"
                          : row.files > 0     ? "loading"
                                              : "idle";
      out.push_back(
          {{"connection", key.connection_id},
           {"table", key.table},
           {"state", state},
           {"backlog_files", row.files},
           {"backlog_bytes", row.bytes},
           {"oldest_pending_seconds",
            row.oldest == 0 ? nlohmann::json(nullptr)
                            : nlohmann::json(static_cast<double>(now - row.oldest) / 1e6)},
           {"open_errors", row.open_errors},
           {"errors_by_code", row.by_code}});
      nlohmann::json& t = out.back();
      int64_t last = a == activity.end() ? 0 : a->second.last_loaded_at;
      if (last == 0) {
        // Nothing in the last day: the table's newest loaded file, from one bounded page.
        catalog::FileFilter newest;
        newest.table = key.table;
        newest.statuses = {catalog::FileStatus::kLoaded};
        newest.newest_first = true;
        auto page = ctx_.catalog.ListFilesPage(key.connection_id, newest, 1);
        if (!page.ok()) return ErrorResponse(page.status());
        if (!page->files.empty()) last = page->files[0].finished_at;
      }
      t["last_loaded_at"] = TimeOrNull(last);
      t["files_24h"] = a == activity.end() ? 0 : a->second.files;
      t["rows_24h"] = a == activity.end() ? 0 : a->second.rows;
      t["failed_24h"] = failed_24h;
    }
    return Json(200, {{"tables", std::move(out)},
                      {"open_errors", open_errors},
                      {"backlog_files", backlog_files},
                      {"unconfigured_files", unconfigured}});
  }

  // GET /api/v1/status/history?minutes=N: the whole pool's activity by minute, for charts.
  http::Response History(const ApiCall& call) {
    int64_t minutes = 60;
    for (const auto& [name, value] : AdminQuery(call.query)) {
      const std::optional<int64_t> number = Decimal(value);
      if (name == "minutes" && number.value_or(0) > 0 && *number <= 1440) {
        minutes = *number;
      } else {
        return BadQuery(name, "minutes=<1..1440>");
      }
    }
    const int64_t now = ctx_.clock.NowMicros();
    bool complete = true;
    auto history = ctx_.catalog.ActivitySince(now - (minutes - 1) * kMinuteMicros, now,
                                              kMaxHistoryFiles, &complete);
    if (!history.ok()) return ErrorResponse(history.status());
    nlohmann::json out = nlohmann::json::array();
    for (const auto& m : *history) {
      out.push_back({{"time", FormatIsoMicros(m.minute)},
                     {"files_loaded", m.files_loaded},
                     {"rows", m.rows},
                     {"backlog_files", m.backlog_files}});
    }
    return Json(200, {{"minutes", std::move(out)}, {"complete", complete}});
  }

 private:
  static constexpr int64_t kMinuteMicros = 60'000'000;
  static constexpr int64_t kDayMicros = 24 * 60 * kMinuteMicros;
  // The ledger entries one history read may hold in memory (a few MB).
  static constexpr size_t kMaxHistoryFiles = 200'000;

  AdminContext& ctx_;
};

}  // namespace

std::vector<Endpoint> ConsoleRoutes(AdminContext& ctx) {
  auto api = std::make_shared<ConsoleApi>(ctx);
  std::vector<Endpoint> routes;
  routes.push_back(
      {{.method = "POST",
        .path = "/api/v1/query",
        .summary = "Run read-only SQL on the pool",
        .description = "One statement that reads (SELECT, WITH, VALUES, EXPLAIN); anything that "
                       "would write is refused. At most max_rows rows come back (`truncated` "
                       "says more were there); a statement past timeout_ms is cancelled. Tables "
                       "are <connection>.<table>, or unqualified in `connection`.",
        .request = "Query",
        .schema = "QueryResult",
        .read_only = true},
       [api](const ApiCall& c) { return api->Query(c); }});
  routes.push_back(
      {{.method = "GET",
        .path = "/api/v1/status",
        .summary = "Live status",
        .description = "Every configured table: blocked (a failed file stops it), loading "
                       "(files wait) or idle, with its backlog, the age of its oldest pending "
                       "file and its open errors by code; totals, and files waiting under no "
                       "configured table.",
        .schema = "Status"},
       [api](const ApiCall& c) { return api->Status(c); }});
  routes.push_back(
      {{.method = "GET",
        .path = "/api/v1/status/history",
        .summary = "Activity by minute",
        .description = "For the whole pool, per minute: files loaded, rows they wrote and the "
                       "backlog at the minute's end. `complete` is false when the window held "
                       "more files than one read takes (the counts are then a lower bound).",
        .query = {{"minutes", "integer", "how far back, 1..1440 (default 60)"}},
        .schema = "History"},
       [api](const ApiCall& c) { return api->History(c); }});
  return routes;
}

}  // namespace sluice::api
