// The admin API's table routes: list, show, add, replace and remove a connection's tables, a
// preview of what a configuration derives (from its example record, or from a landed file)
// before it is saved, and a table's schema history. Configurations go through the service
// layer `sluice table` calls too (service/tables.h).
#include "sluice/api/admin_internal.h"
#include "sluice/load/load.h"
#include "sluice/service/tables.h"

namespace sluice::api {
namespace {

// A table as the API answers: what it derives, and its configuration document.
Result<nlohmann::json> TableJson(const catalog::TableConfig& t,
                                 const batch::Schema* record = nullptr) {
  SLUICE_ASSIGN_OR_RETURN(nlohmann::ordered_json described, service::DescribeTable(t, record));
  described["config"] = service::TableDocument(t);
  // As the other answers: a nlohmann::json (its members sorted by name).
  return nlohmann::json::parse(described.dump());
}

class TableApi {
 public:
  explicit TableApi(AdminContext& ctx) : ctx_(ctx) {}

  // GET /api/v1/connections/{id}/tables
  http::Response List(const ApiCall& call) {
    if (auto bad = NoQuery(call.query)) return std::move(*bad);
    http::Response error;
    if (!ConnectionExists(call.param("id"), &error)) return error;
    auto tables = ctx_.catalog.ListTables(call.param("id"));
    if (!tables.ok()) return ErrorResponse(tables.status());
    nlohmann::json out = nlohmann::json::array();
    for (const catalog::TableConfig& t : *tables) {
      auto j = TableJson(t);
      if (!j.ok()) return ErrorResponse(j.status().WithContext("table " + t.name));
      out.push_back(std::move(*j));
    }
    return Json(200, out);
  }

  // GET /api/v1/connections/{id}/tables/{table}
  http::Response Show(const ApiCall& call) {
    if (auto bad = NoQuery(call.query)) return std::move(*bad);
    http::Response error;
    auto t = Find(call, &error);
    if (!t) return error;
    auto j = TableJson(*t);
    return j.ok() ? Json(200, *j) : ErrorResponse(j.status());
  }

  // POST .../tables (add), PUT .../tables/{table} (replace the whole configuration).
  http::Response Save(const ApiCall& call, service::TableWrite write) {
    if (auto bad = NoQuery(call.query)) return std::move(*bad);
    http::Response error;
    auto t = FromBody(call, &error);
    if (!t) return error;
    Status st = service::SaveTable(ctx_.catalog, *t, write);
    if (!st.ok()) return ErrorResponse(st);
    auto j = TableJson(*t);
    if (!j.ok()) return ErrorResponse(j.status());
    return Json(write == service::TableWrite::kAdd ? 201 : 200, *j);
  }

  // POST .../tables/preview?file=SEQ: what the configuration derives, saving nothing; with
  // `file`, planned for the records of that landed file rather than for the example.
  http::Response Preview(const ApiCall& call) {
    std::optional<int64_t> seq;
    for (const auto& [name, value] : AdminQuery(call.query)) {
      seq = Decimal(value);
      if (name != "file" || !seq) return BadQuery(name, "file=<sequence number>");
    }
    http::Response error;
    auto t = FromBody(call, &error);
    if (!t) return error;
    std::optional<batch::Schema> record;
    if (seq) {
      auto type = RecordTypeOf(t->connection_id, *seq);
      if (!type.ok()) return ErrorResponse(type.status());
      record = std::move(*type);
    }
    auto j = TableJson(*t, record ? &*record : nullptr);
    if (!j.ok()) return ErrorResponse(j.status());
    const Status free = service::CheckTableNamesFree(ctx_.catalog, *t);
    (*j)["conflict"] = free.ok() ? "" : free.message();
    return Json(200, *j);
  }

  // DELETE .../tables/{table}
  http::Response Remove(const ApiCall& call) {
    if (auto bad = NoQuery(call.query)) return std::move(*bad);
    const std::string& id = call.param("id");
    const std::string& table = call.param("table");
    Status st = ctx_.catalog.RemoveTable(id, table);
    if (st.code() == ErrorCode::kInvalidArgument) {
      return Json(409, {{"error", st.message()}, {"code", std::string(ErrorCodeName(st.code()))}});
    }
    if (!st.ok()) return ErrorResponse(st);
    return Json(200, {{"table", table},
                      {"message", "Table " + id + "/" + table +
                                      " removed: its keys now follow the connection's "
                                      "unconfigured-key policy; its rows stay in the pool."}});
  }

  // GET .../tables/{table}/history: the pool's record of the table's schema changes.
  http::Response History(const ApiCall& call) {
    if (auto bad = NoQuery(call.query)) return std::move(*bad);
    if (ctx_.options.pool == nullptr) {
      return Json(501, {{"error", "this server has no pool to read the history from"}});
    }
    http::Response error;
    auto t = Find(call, &error);
    if (!t) return error;
    auto history = ctx_.options.pool->SchemaHistory(t->connection_id, t->name);
    if (!history.ok()) return ErrorResponse(history.status());
    nlohmann::json out = nlohmann::json::array();
    for (const pool::SchemaChange& c : *history) {
      out.push_back(
          {{"seq", c.seq},
           {"changed_at", FormatIsoMicros(c.changed_at)},
           {"change", pool::SchemaChangeKindName(c.kind)},
           {"column", c.column},
           {"old_type", c.old_type.empty() ? nlohmann::json(nullptr) : nlohmann::json(c.old_type)},
           {"new_type", c.new_type}});
    }
    return Json(200, out);
  }

 private:
  bool ConnectionExists(const std::string& id, http::Response* error) {
    return FindConnection(ctx_.catalog, id, error).has_value();
  }

  std::optional<catalog::TableConfig> Find(const ApiCall& call, http::Response* error) {
    const std::string& id = call.param("id");
    const std::string& table = call.param("table");
    auto t = ctx_.catalog.GetTable(id, table);
    if (!t.ok()) {
      *error = ErrorResponse(t.status());
      return std::nullopt;
    }
    if (!*t) {
      *error = Json(404, {{"error", "no table '" + table + "' on connection '" + id + "'"},
                          {"code", "NOT_FOUND"}});
      return std::nullopt;
    }
    return std::move(**t);
  }

  // The configuration in the body, for the connection of the path (and the table of the path,
  // which the body may omit but not contradict).
  std::optional<catalog::TableConfig> FromBody(const ApiCall& call, http::Response* error) {
    const std::string& id = call.param("id");
    if (!ConnectionExists(id, error)) return std::nullopt;
    auto body = BodyObject(call, error);
    if (!body) return std::nullopt;
    nlohmann::ordered_json doc =
        nlohmann::ordered_json::parse(call.body.empty() ? "{}" : call.body);
    const auto named = call.params.find("table");
    if (named != call.params.end()) {
      if (!doc.contains("table")) doc["table"] = named->second;
      if (doc["table"] != named->second) {
        *error = Json(400, {{"error", "the body names table " + doc["table"].dump() +
                                          " but the path '" + named->second + "'"}});
        return std::nullopt;
      }
    }
    auto t = service::TableFromDocument(std::move(doc), id);
    if (!t.ok()) {
      *error = ErrorResponse(t.status());
      return std::nullopt;
    }
    return std::move(*t);
  }

  // The record type of landed file `seq` of connection `id`.
  Result<batch::Schema> RecordTypeOf(const std::string& id, int64_t seq) {
    const std::string n = std::to_string(seq);
    SLUICE_ASSIGN_OR_RETURN(std::optional<catalog::FileRecord> f, ctx_.catalog.GetFile(seq));
    if (!f || f->connection_id != id) {
      return Err(ErrorCode::kNotFound, "connection '" + id + "' has no file " + n);
    }
    if (ctx_.options.landing == nullptr) {
      return Err(ErrorCode::kNotImplemented, "this server has no landing store to read files from");
    }
    if (f->purged_at != 0 || f->deleted) {
      return Err(ErrorCode::kNotFound, "the bytes of file " + n + " are gone");
    }
    SLUICE_ASSIGN_OR_RETURN(auto opened, ctx_.options.landing->Open(f->landed_id));
    return load::ReadRecordType(std::move(opened), f->key, batch::ReadLimits{});
  }

  AdminContext& ctx_;
};

}  // namespace

std::vector<Endpoint> TableRoutes(AdminContext& ctx) {
  auto api = std::make_shared<TableApi>(ctx);
  const ApiParam id{"id", "string", "the connection's id"};
  const std::vector<ApiParam> table_params = {id, {"table", "string", "the table's name"}};
  std::vector<Endpoint> routes;
  routes.push_back({{.method = "GET",
                     .path = "/api/v1/connections/{id}/tables",
                     .summary = "List a connection's tables",
                     .description = "Each with what it derives and its configuration.",
                     .path_params = {id},
                     .schema = "Table",
                     .array = true},
                    [api](const ApiCall& c) { return api->List(c); }});
  routes.push_back(
      {{.method = "POST",
        .path = "/api/v1/connections/{id}/tables",
        .summary = "Add a table",
        .description = "Files pushed under <table>/ load into it from now on. A nested table is "
                       "configured from one example record; everything is checked before "
                       "anything is stored.",
        .path_params = {id},
        .request = "TableConfig",
        .status = 201,
        .schema = "Table",
        .conflict = "a table name (or a derived one) is taken"},
       [api](const ApiCall& c) { return api->Save(c, service::TableWrite::kAdd); }});
  routes.push_back(
      {{.method = "POST",
        .path = "/api/v1/connections/{id}/tables/preview",
        .summary = "Preview a table configuration",
        .description = "The derived tables, columns, types, keys and physical names a "
                       "configuration makes, saving nothing; with file=SEQ, planned for the "
                       "records of that landed file. `conflict` says why saving it would be "
                       "refused.",
        .path_params = {id},
        .query = {{"file", "integer", "a landed file of the connection, by sequence number"}},
        .request = "TableConfig",
        .schema = "Table",
        .read_only = true},
       [api](const ApiCall& c) { return api->Preview(c); }});
  routes.push_back({{.method = "GET",
                     .path = "/api/v1/connections/{id}/tables/{table}",
                     .summary = "One table",
                     .description = "What it derives and its configuration.",
                     .path_params = table_params,
                     .schema = "Table"},
                    [api](const ApiCall& c) { return api->Show(c); }});
  routes.push_back(
      {{.method = "PUT",
        .path = "/api/v1/connections/{id}/tables/{table}",
        .summary = "Replace a table's configuration",
        .description = "The whole configuration (keys, age and delete columns, on_error, "
                       "nesting); the next file loads with it.",
        .path_params = table_params,
        .request = "TableConfig",
        .schema = "Table",
        .conflict = "a derived table name is taken"},
       [api](const ApiCall& c) { return api->Save(c, service::TableWrite::kUpdate); }});
  routes.push_back(
      {{.method = "DELETE",
        .path = "/api/v1/connections/{id}/tables/{table}",
        .summary = "Remove a table",
        .description = "Its keys then follow the connection's unconfigured-key policy; its rows "
                       "stay in the pool and its files in the ledger.",
        .path_params = table_params,
        .conflict = "files of the table are queued or loading"},
       [api](const ApiCall& c) { return api->Remove(c); }});
  routes.push_back({{.method = "GET",
                     .path = "/api/v1/connections/{id}/tables/{table}/history",
                     .summary = "A table's schema history",
                     .description = "Every column created, added or widened, with the file "
                                    "that caused it, oldest first.",
                     .path_params = table_params,
                     .schema = "SchemaChange",
                     .array = true},
                    [api](const ApiCall& c) { return api->History(c); }});
  return routes;
}

}  // namespace sluice::api
