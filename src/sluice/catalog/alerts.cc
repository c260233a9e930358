// Alert endpoints and their outbox (alerts.h), once for both engines: the SQL below runs
// through SharedSql, inside the transaction RunSharedSql or the ledger opened. The SQLite
// engine's SharedSql is here too.
#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "sluice/catalog/alerts_internal.h"
#include "sluice/catalog/catalog_internal.h"
#include "sluice/core/text.h"

namespace sluice::catalog {

namespace {

constexpr const char* kEndpointColumns =
    "SELECT id, name, connection_id, kind, target, format, events, lag_age_seconds, lag_files, "
    "idle_hours, digest, enabled, disabled_reason, created_at FROM alert_endpoints ";
constexpr const char* kDeliveryColumns =
    "id, endpoint_id, event_id, type, connection_id, table_name, subject, data, created_at, "
    "status, attempts, next_attempt_at, last_attempt_at, last_status, last_error, delivered_at";

// The fan-out: one delivery per enabled endpoint that takes the event (all of its type and
// connection, or the one it names).
constexpr const char* kEnqueueSql =
    "INSERT INTO alert_deliveries (id, endpoint_id, event_id, type, connection_id, table_name, "
    "subject, data, created_at, status, next_attempt_at) "
    "SELECT $1 || ':' || id, id, $1, $2, $3, $4, $5, $6, $7, 'pending', $7 FROM alert_endpoints "
    "WHERE enabled = 1 AND (($8 = '' AND (connection_id = '' OR connection_id = $3) AND "
    "events LIKE '%,' || $2 || ',%') OR id = $8) ON CONFLICT DO NOTHING";

Result<std::string> FromHex(std::string_view hex) {
  if (hex.size() % 2 != 0 || !IsHexString(hex)) {
    return Err(ErrorCode::kInternal, "catalog: a sealed alert secret is not hex");
  }
  std::string out(hex.size() / 2, '\0');
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<char>(HexDigitValue(hex[2 * i]) * 16 + HexDigitValue(hex[2 * i + 1]));
  }
  return out;
}

std::string JoinEvents(const std::vector<std::string>& events) {
  std::string out = ",";
  for (const std::string& e : events) out += e + ",";
  return out;
}

std::vector<std::string> SplitEvents(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

Result<AlertEndpoint> EndpointFromRow(const std::vector<std::string>& r) {
  AlertEndpoint e;
  e.id = r[0];
  e.name = r[1];
  e.connection_id = r[2];
  const std::optional<AlertKind> kind = AlertKindFromName(r[3]);
  const std::optional<AlertFormat> format = AlertFormatFromName(r[5]);
  if (!kind || !format) return Err(ErrorCode::kInternal, "alert endpoint " + e.id + ": bad kind");
  e.kind = *kind;
  e.target = r[4];
  e.format = *format;
  e.events = SplitEvents(r[6]);
  e.lag_age_seconds = SqlInt(r[7]);
  e.lag_files = SqlInt(r[8]);
  e.idle_hours = SqlInt(r[9]);
  e.digest = r[10];
  e.enabled = SqlInt(r[11]) != 0;
  e.disabled_reason = r[12];
  e.created_at = SqlInt(r[13]);
  return e;
}

AlertDelivery DeliveryFromRow(const std::vector<std::string>& r) {
  AlertDelivery d;
  d.id = r[0];
  d.endpoint_id = r[1];
  d.event.id = r[2];
  d.event.type = r[3];
  d.event.connection_id = r[4];
  d.event.table = r[5];
  d.event.subject = r[6];
  d.event.data_json = r[7];
  d.event.time = SqlInt(r[8]);
  d.event.endpoint_id = r[1];
  d.status = r[9] == "delivered" ? DeliveryStatus::kDelivered
             : r[9] == "failed"  ? DeliveryStatus::kFailed
                                 : DeliveryStatus::kPending;
  d.attempts = SqlInt(r[10]);
  d.next_attempt_at = SqlInt(r[11]);
  d.last_attempt_at = SqlInt(r[12]);
  d.last_status = SqlInt(r[13]);
  d.last_error = r[14];
  d.delivered_at = SqlInt(r[15]);
  return d;
}

Status CheckEndpoint(const AlertEndpoint& e) {
  if (e.name.empty() || e.name.size() > 200) {
    return Err(ErrorCode::kInvalidArgument, "an alert endpoint's name is 1 to 200 characters");
  }
  if (e.target.empty() || e.target.size() > 2048) {
    return Err(ErrorCode::kInvalidArgument,
               "an alert endpoint's target is 1 to 2048 characters (a URL or e-mail addresses)");
  }
  if ((e.kind == AlertKind::kEmail) != (e.format == AlertFormat::kEmail)) {
    return Err(ErrorCode::kInvalidArgument,
               "an e-mail endpoint has format email, and a webhook cloudevents or slack");
  }
  if (e.events.empty()) {
    return Err(ErrorCode::kInvalidArgument, "an alert endpoint subscribes to at least one event");
  }
  for (const std::string& type : e.events) {
    if (!IsEventType(type)) {
      std::string known;
      for (std::string_view t : kEventTypes) known += (known.empty() ? "" : ", ") + std::string(t);
      return Err(ErrorCode::kInvalidArgument,
                 "unknown alert event '" + type + "' (one of " + known + ")");
    }
  }
  if (e.lag_age_seconds < 0 || e.lag_files < 0 || e.idle_hours < 0) {
    return Err(ErrorCode::kInvalidArgument, "alert thresholds are not negative");
  }
  return Status::Ok();
}

Status NoEndpoint(const std::string& id) {
  return Err(ErrorCode::kNotFound, "no alert endpoint '" + id + "'");
}

Status Enqueue(SharedSql& sql, const AlertEvent& e) {
  return sql
      .Run(kEnqueueSql,
           {e.id, e.type, e.connection_id, e.table, e.subject, e.data_json, e.time, e.endpoint_id})
      .status();
}

// The file's place and outcome as an event's data.
struct FileFacts {
  std::string connection_id;
  std::string table;
  std::string key;
  int64_t size = 0;
  std::string error_code;
  std::string error_message;
  std::string status;
  bool passed = false;
  std::string on_error;  // empty when the table is not configured
};

Result<std::optional<FileFacts>> ReadFileFacts(SharedSql& sql, int64_t seq) {
  SLUICE_ASSIGN_OR_RETURN(
      SqlRows r,
      sql.Run("SELECT f.connection_id, f.table_name, f.key, f.size, f.error_code, "
              "f.error_message, f.status, f.passed, COALESCE(t.on_error, '') FROM files f "
              "LEFT JOIN tables t ON t.connection_id = f.connection_id AND t.name = f.table_name "
              "WHERE f.seq = $1",
              {seq}));
  if (r.rows.empty()) return std::optional<FileFacts>();
  const std::vector<std::string>& row = r.rows[0];
  return std::optional<FileFacts>(FileFacts{row[0], row[1], row[2], SqlInt(row[3]), row[4], row[5],
                                            row[6], SqlInt(row[7]) != 0, row[8]});
}

// Whether any enabled endpoint takes `type` of `connection_id`: the hooks on the ledger's
// hot path (a file loaded) read one small table and write nothing when none does.
Result<bool> Subscribed(SharedSql& sql, std::string_view type, const std::string& connection_id) {
  SLUICE_ASSIGN_OR_RETURN(
      SqlRows r, sql.Run("SELECT 1 FROM alert_endpoints WHERE enabled = 1 AND (connection_id = '' "
                         "OR connection_id = $1) AND events LIKE '%,' || $2 || ',%' LIMIT 1",
                         {connection_id, std::string(type)}));
  return !r.rows.empty();
}

AlertEvent FileEvent(std::string_view type, int64_t seq, const FileFacts& f, int64_t now,
                     nlohmann::json data) {
  data["connection"] = f.connection_id;
  data["table"] = f.table;
  data["key"] = f.key;
  data["seq"] = seq;
  data["size"] = f.size;
  AlertEvent e;
  e.id = NewAlertEventId();
  e.type = type;
  e.connection_id = f.connection_id;
  e.table = f.table;
  e.subject = type.starts_with("table.") ? f.table : f.key;
  e.data_json = data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  e.time = now;
  return e;
}

}  // namespace

bool IsEventType(std::string_view type) {
  return std::find(std::begin(kEventTypes), std::end(kEventTypes), type) != std::end(kEventTypes);
}

std::string_view AlertKindName(AlertKind kind) {
  return kind == AlertKind::kEmail ? "email" : "webhook";
}

std::optional<AlertKind> AlertKindFromName(std::string_view name) {
  if (name == "webhook") return AlertKind::kWebhook;
  if (name == "email") return AlertKind::kEmail;
  return std::nullopt;
}

std::string_view AlertFormatName(AlertFormat format) {
  switch (format) {
    case AlertFormat::kCloudEvents:
      return "cloudevents";
    case AlertFormat::kSlack:
      return "slack";
    case AlertFormat::kEmail:
      return "email";
  }
  return "cloudevents";
}

std::optional<AlertFormat> AlertFormatFromName(std::string_view name) {
  if (name == "cloudevents") return AlertFormat::kCloudEvents;
  if (name == "slack") return AlertFormat::kSlack;
  if (name == "email") return AlertFormat::kEmail;
  return std::nullopt;
}

std::string_view DeliveryStatusName(DeliveryStatus status) {
  switch (status) {
    case DeliveryStatus::kPending:
      return "pending";
    case DeliveryStatus::kDelivered:
      return "delivered";
    case DeliveryStatus::kFailed:
      return "failed";
  }
  return "pending";
}

std::string NewAlertEventId() {
  uint8_t raw[16];
  // Without a random generator an id could repeat and a receiver would drop a real event as
  // a duplicate: nothing sensible is left to do.
  if (!RandomBytes(raw, sizeof raw).ok()) std::abort();
  return "evt_" + ToHex(ByteView(raw, sizeof raw));
}

Result<SqlRows> LiteSharedSql::Run(std::string_view sql, std::initializer_list<SqlArg> args) {
  std::string text(sql);
  std::replace(text.begin(), text.end(), '$', '?');
  SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q, db_.Cached(text));
  int i = 0;
  for (const SqlArg& arg : args) {
    ++i;
    if (const auto* n = std::get_if<int64_t>(&arg)) {
      q.Bind(i, *n);
    } else {
      q.Bind(i, std::get<std::string>(arg));
    }
  }
  SqlRows out;
  const int columns = sqlite3_column_count(q.get());
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    std::vector<std::string>& r = out.rows.emplace_back();
    for (int c = 0; c < columns; ++c) r.push_back(q.Text(c));
  }
  out.affected = db_.Changes();
  return out;
}

Status SqliteCatalog::RunSharedSql(bool write, const std::function<Status(SharedSql&)>& body) {
  MutexLock lock(&mu_);
  LiteSharedSql sql(*db_, box_);
  if (!write) return body(sql);
  return Write([&]() REQUIRES(mu_) -> Status { return body(sql); });
}

// ---- The hooks the ledger calls ----

Status FileFailedEvents(SharedSql& sql, int64_t seq, const Status& error, int64_t now) {
  SLUICE_ASSIGN_OR_RETURN(std::optional<FileFacts> f, ReadFileFacts(sql, seq));
  if (!f) return Status::Ok();
  SLUICE_ASSIGN_OR_RETURN(bool failed, Subscribed(sql, kEventFileFailed, f->connection_id));
  const nlohmann::json error_data = {{"error_code", std::string(ErrorCodeName(error.code()))},
                                     {"error_message", error.message()}};
  if (failed)
    SLUICE_RETURN_IF_ERROR(Enqueue(sql, FileEvent(kEventFileFailed, seq, *f, now, error_data)));
  if (f->on_error != "block") return Status::Ok();
  SLUICE_ASSIGN_OR_RETURN(bool blocked, Subscribed(sql, kEventTableBlocked, f->connection_id));
  if (!blocked) return Status::Ok();
  return Enqueue(sql, FileEvent(kEventTableBlocked, seq, *f, now, error_data));
}

Status FileLoadedEvent(SharedSql& sql, int64_t seq, const LoadCounts& counts, int64_t now) {
  SLUICE_ASSIGN_OR_RETURN(SqlRows any, sql.Run("SELECT 1 FROM alert_endpoints WHERE enabled = 1 "
                                               "AND events LIKE '%,file.loaded,%' LIMIT 1",
                                               {}));
  if (any.rows.empty()) return Status::Ok();  // the common case: one indexless read of a tiny table
  SLUICE_ASSIGN_OR_RETURN(std::optional<FileFacts> f, ReadFileFacts(sql, seq));
  if (!f) return Status::Ok();
  const nlohmann::json data = {{"rows_inserted", counts.inserted},
                               {"rows_updated", counts.updated},
                               {"rows_refused", counts.refused},
                               {"rows_deleted", counts.deleted}};
  return Enqueue(sql, FileEvent(kEventFileLoaded, seq, *f, now, data));
}

Status UnblockedEvent(SharedSql& sql, int64_t seq, std::string_view action, int64_t now) {
  SLUICE_ASSIGN_OR_RETURN(std::optional<FileFacts> f, ReadFileFacts(sql, seq));
  if (!f || f->status != "failed" || f->passed || f->on_error != "block") return Status::Ok();
  SLUICE_ASSIGN_OR_RETURN(bool subscribed, Subscribed(sql, kEventTableUnblocked, f->connection_id));
  if (!subscribed) return Status::Ok();
  return Enqueue(sql, FileEvent(kEventTableUnblocked, seq, *f, now,
                                {{"action", std::string(action)},
                                 {"error_code", f->error_code},
                                 {"error_message", f->error_message}}));
}

std::string PgLoadedInPoolEventSql(int64_t seq, int64_t finished_at) {
  // The event id is drawn here, as the statement is written: a repeated statement (a second
  // applier) rolls back with its event.
  const std::string id = NewAlertEventId();
  const std::string at = std::to_string(finished_at);
  return "INSERT INTO _sluice_catalog.alert_deliveries (id, endpoint_id, event_id, type, "
         "connection_id, table_name, subject, data, created_at, status, next_attempt_at) "
         "SELECT '" +
         id + ":' || e.id, e.id, '" + id +
         "', 'file.loaded', f.connection_id, f.table_name, f.key, json_build_object("
         "'rows_inserted', c.inserted, 'rows_updated', c.updated, 'rows_refused', c.refused, "
         "'rows_deleted', c.deleted, 'connection', f.connection_id, 'table', f.table_name, "
         "'key', f.key, 'seq', " +
         std::to_string(seq) + ", 'size', f.size)::text, " + at + ", 'pending', " + at +
         " FROM _sluice_catalog.alert_endpoints e, f, c WHERE e.enabled = 1 AND "
         "(e.connection_id = '' OR e.connection_id = f.connection_id) AND "
         "e.events LIKE '%,file.loaded,%' ON CONFLICT DO NOTHING RETURNING 1";
}

// ---- Alerts ----

Result<AlertEndpoint> Alerts::CreateAlertEndpoint(AlertEndpoint endpoint, const Secret& secret) {
  SLUICE_RETURN_IF_ERROR(CheckEndpoint(endpoint));
  uint8_t raw[8];
  SLUICE_RETURN_IF_ERROR(RandomBytes(raw, sizeof raw));
  endpoint.id = "ep_" + ToHex(ByteView(raw, sizeof raw));
  endpoint.disabled_reason.clear();
  SLUICE_RETURN_IF_ERROR(RunSharedSql(true, [&](SharedSql& sql) -> Status {
    if (!endpoint.connection_id.empty()) {
      SLUICE_ASSIGN_OR_RETURN(
          SqlRows c, sql.Run("SELECT 1 FROM connections WHERE id = $1", {endpoint.connection_id}));
      if (c.rows.empty()) {
        return Err(ErrorCode::kNotFound, "no connection '" + endpoint.connection_id + "'");
      }
    }
    SLUICE_ASSIGN_OR_RETURN(SqlRows n, sql.Run("SELECT count(*) FROM alert_endpoints", {}));
    if (SqlInt(n.rows[0][0]) >= static_cast<int64_t>(kMaxAlertEndpoints)) {
      return Err(ErrorCode::kLimitExceeded, "sluice keeps at most " +
                                                std::to_string(kMaxAlertEndpoints) +
                                                " alert endpoints; remove one first");
    }
    std::string nonce;
    std::string sealed;
    if (!secret.empty()) {
      SLUICE_ASSIGN_OR_RETURN(Sealed s, sql.box().Seal(secret, endpoint.id));
      nonce = ToHex(AsBytes(s.nonce));
      sealed = ToHex(AsBytes(s.ciphertext));
    }
    return sql
        .Run(
            "INSERT INTO alert_endpoints (id, name, connection_id, kind, target, format, events, "
            "lag_age_seconds, lag_files, idle_hours, digest, enabled, disabled_reason, "
            "secret_nonce, secret_sealed, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, "
            "$9, $10, $11, $12, '', $13, $14, $15)",
            {endpoint.id, endpoint.name, endpoint.connection_id,
             std::string(AlertKindName(endpoint.kind)), endpoint.target,
             std::string(AlertFormatName(endpoint.format)), JoinEvents(endpoint.events),
             endpoint.lag_age_seconds, endpoint.lag_files, endpoint.idle_hours, endpoint.digest,
             int64_t{endpoint.enabled ? 1 : 0}, nonce, sealed, endpoint.created_at})
        .status();
  }));
  return endpoint;
}

Result<std::vector<AlertEndpoint>> Alerts::ListAlertEndpoints() {
  std::vector<AlertEndpoint> out;
  SLUICE_RETURN_IF_ERROR(RunSharedSql(false, [&](SharedSql& sql) -> Status {
    SLUICE_ASSIGN_OR_RETURN(SqlRows r,
                            sql.Run(std::string(kEndpointColumns) + "ORDER BY created_at, id", {}));
    for (const auto& row : r.rows) {
      SLUICE_ASSIGN_OR_RETURN(AlertEndpoint e, EndpointFromRow(row));
      out.push_back(std::move(e));
    }
    return Status::Ok();
  }));
  return out;
}

Result<std::optional<AlertEndpoint>> Alerts::GetAlertEndpoint(const std::string& id) {
  std::optional<AlertEndpoint> out;
  SLUICE_RETURN_IF_ERROR(RunSharedSql(false, [&](SharedSql& sql) -> Status {
    SLUICE_ASSIGN_OR_RETURN(SqlRows r,
                            sql.Run(std::string(kEndpointColumns) + "WHERE id = $1", {id}));
    if (r.rows.empty()) return Status::Ok();
    SLUICE_ASSIGN_OR_RETURN(out, EndpointFromRow(r.rows[0]));
    return Status::Ok();
  }));
  return out;
}

Status Alerts::UpdateAlertEndpoint(const AlertEndpoint& e) {
  SLUICE_RETURN_IF_ERROR(CheckEndpoint(e));
  return RunSharedSql(true, [&](SharedSql& sql) -> Status {
    SLUICE_ASSIGN_OR_RETURN(
        SqlRows r,
        sql.Run(
            "UPDATE alert_endpoints SET name = $2, target = $3, format = $4, events = $5, "
            "lag_age_seconds = $6, lag_files = $7, idle_hours = $8, digest = $9, "
            "enabled = $10, disabled_reason = CASE WHEN $10 = 1 THEN '' ELSE $11 END "
            "WHERE id = $1 AND kind = $12",
            {e.id, e.name, e.target, std::string(AlertFormatName(e.format)), JoinEvents(e.events),
             e.lag_age_seconds, e.lag_files, e.idle_hours, e.digest, int64_t{e.enabled ? 1 : 0},
             e.disabled_reason.empty() ? std::string("disabled by an admin") : e.disabled_reason,
             std::string(AlertKindName(e.kind))}));
    return r.affected == 0 ? NoEndpoint(e.id) : Status::Ok();
  });
}

Status Alerts::DeleteAlertEndpoint(const std::string& id) {
  return RunSharedSql(true, [&](SharedSql& sql) -> Status {
    // The cascade would do; said explicitly for a SQLite opened without foreign keys.
    SLUICE_RETURN_IF_ERROR(
        sql.Run("DELETE FROM alert_deliveries WHERE endpoint_id = $1", {id}).status());
    SLUICE_RETURN_IF_ERROR(
        sql.Run("DELETE FROM alert_state WHERE endpoint_id = $1", {id}).status());
    SLUICE_ASSIGN_OR_RETURN(SqlRows r, sql.Run("DELETE FROM alert_endpoints WHERE id = $1", {id}));
    return r.affected == 0 ? NoEndpoint(id) : Status::Ok();
  });
}

Result<Secret> Alerts::AlertSecret(const std::string& id) {
  Secret out;
  SLUICE_RETURN_IF_ERROR(RunSharedSql(false, [&](SharedSql& sql) -> Status {
    SLUICE_ASSIGN_OR_RETURN(
        SqlRows r,
        sql.Run("SELECT secret_nonce, secret_sealed FROM alert_endpoints WHERE id = $1", {id}));
    if (r.rows.empty()) return NoEndpoint(id);
    if (r.rows[0][1].empty()) return Status::Ok();
    Sealed sealed;
    SLUICE_ASSIGN_OR_RETURN(sealed.nonce, FromHex(r.rows[0][0]));
    SLUICE_ASSIGN_OR_RETURN(sealed.ciphertext, FromHex(r.rows[0][1]));
    SLUICE_ASSIGN_OR_RETURN(out, sql.box().Open(sealed, id));
    return Status::Ok();
  }));
  return out;
}

Result<int64_t> Alerts::EnqueueAlert(const AlertEvent& event) {
  int64_t n = 0;
  SLUICE_RETURN_IF_ERROR(RunSharedSql(true, [&](SharedSql& sql) -> Status {
    SLUICE_ASSIGN_OR_RETURN(
        SqlRows r,
        sql.Run(kEnqueueSql, {event.id, event.type, event.connection_id, event.table, event.subject,
                              event.data_json, event.time, event.endpoint_id}));
    n = r.affected;
    return Status::Ok();
  }));
  return n;
}

Result<bool> Alerts::AdvanceAlertState(const std::string& endpoint_id,
                                       const std::string& connection_id, const std::string& table,
                                       std::string_view name, int64_t expected, int64_t next,
                                       const AlertEvent* event) {
  bool moved = false;
  SLUICE_RETURN_IF_ERROR(RunSharedSql(true, [&](SharedSql& sql) -> Status {
    const std::string n(name);
    SLUICE_ASSIGN_OR_RETURN(
        SqlRows r, sql.Run("UPDATE alert_state SET value = $5 WHERE endpoint_id = $1 AND "
                           "connection_id = $2 AND table_name = $3 AND name = $4 AND value = $6",
                           {endpoint_id, connection_id, table, n, next, expected}));
    if (r.affected == 0 && expected == 0) {
      // Never set (0), or set by another node meanwhile: the insert tells which.
      SLUICE_ASSIGN_OR_RETURN(
          r, sql.Run("INSERT INTO alert_state (endpoint_id, connection_id, table_name, name, "
                     "value) SELECT $1, $2, $3, $4, $5 WHERE EXISTS (SELECT 1 FROM "
                     "alert_endpoints WHERE id = $1) ON CONFLICT DO NOTHING",
                     {endpoint_id, connection_id, table, n, next}));
    }
    if (r.affected == 0) return Status::Ok();
    moved = true;
    return event == nullptr ? Status::Ok() : Enqueue(sql, *event);
  }));
  return moved;
}

Result<std::vector<Alerts::StateRow>> Alerts::ListAlertStates(const std::string& endpoint_id) {
  std::vector<StateRow> out;
  SLUICE_RETURN_IF_ERROR(RunSharedSql(false, [&](SharedSql& sql) -> Status {
    SLUICE_ASSIGN_OR_RETURN(
        SqlRows r, sql.Run("SELECT connection_id, table_name, name, value FROM alert_state "
                           "WHERE endpoint_id = $1 ORDER BY connection_id, table_name, name",
                           {endpoint_id}));
    for (const auto& row : r.rows) out.push_back(StateRow{row[0], row[1], row[2], SqlInt(row[3])});
    return Status::Ok();
  }));
  return out;
}

Result<int64_t> Alerts::AlertState(const std::string& endpoint_id, const std::string& connection_id,
                                   const std::string& table, std::string_view name) {
  int64_t value = 0;
  SLUICE_RETURN_IF_ERROR(RunSharedSql(false, [&](SharedSql& sql) -> Status {
    SLUICE_ASSIGN_OR_RETURN(SqlRows r,
                            sql.Run("SELECT value FROM alert_state WHERE endpoint_id = $1 AND "
                                    "connection_id = $2 AND table_name = $3 AND name = $4",
                                    {endpoint_id, connection_id, table, std::string(name)}));
    if (!r.rows.empty()) value = SqlInt(r.rows[0][0]);
    return Status::Ok();
  }));
  return value;
}

Result<std::vector<AlertDelivery>> Alerts::ClaimDeliveries(int64_t now, int64_t lease_until,
                                                           size_t limit) {
  std::vector<AlertDelivery> out;
  // A read first: the dispatcher asks every second, and mostly nothing is due.
  bool due = false;
  SLUICE_RETURN_IF_ERROR(RunSharedSql(false, [&](SharedSql& sql) -> Status {
    SLUICE_ASSIGN_OR_RETURN(
        SqlRows r, sql.Run("SELECT 1 FROM alert_deliveries d JOIN alert_endpoints e ON e.id = "
                           "d.endpoint_id WHERE d.status = 'pending' AND d.next_attempt_at <= $1 "
                           "AND d.lease_until <= $1 AND e.enabled = 1 LIMIT 1",
                           {now}));
    due = !r.rows.empty();
    return Status::Ok();
  }));
  if (!due) return out;
  SLUICE_RETURN_IF_ERROR(RunSharedSql(true, [&](SharedSql& sql) -> Status {
    SLUICE_ASSIGN_OR_RETURN(
        SqlRows r,
        sql.Run("UPDATE alert_deliveries SET lease_until = $2 WHERE id IN (SELECT d.id FROM "
                "alert_deliveries d JOIN alert_endpoints e ON e.id = d.endpoint_id WHERE "
                "d.status = 'pending' AND d.next_attempt_at <= $1 AND d.lease_until <= $1 AND "
                "e.enabled = 1 ORDER BY d.next_attempt_at, d.created_at LIMIT $3" +
                    std::string(sql.SkipLocked()) + ") RETURNING " + kDeliveryColumns,
                {now, lease_until, static_cast<int64_t>(limit)}));
    for (const auto& row : r.rows) out.push_back(DeliveryFromRow(row));
    return Status::Ok();
  }));
  std::sort(out.begin(), out.end(), [](const AlertDelivery& a, const AlertDelivery& b) {
    return a.event.time != b.event.time ? a.event.time < b.event.time : a.id < b.id;
  });
  return out;
}

Status Alerts::RecordDeliveryAttempt(const std::string& id, const DeliveryAttempt& a) {
  const char* status = a.delivered ? "delivered" : (a.retry_at == 0 ? "failed" : "pending");
  return RunSharedSql(true, [&](SharedSql& sql) -> Status {
    SLUICE_ASSIGN_OR_RETURN(
        SqlRows r,
        sql.Run("UPDATE alert_deliveries SET attempts = attempts + 1, last_attempt_at = $2, "
                "last_status = $3, last_error = $4, lease_until = 0, status = $5, "
                "next_attempt_at = $6, delivered_at = $7 WHERE id = $1 RETURNING endpoint_id",
                {id, a.at, a.status, a.error.substr(0, 1000), std::string(status),
                 a.delivered ? a.at : a.retry_at, a.delivered ? a.at : int64_t{0}}));
    if (r.rows.empty()) return Err(ErrorCode::kNotFound, "no alert delivery '" + id + "'");
    if (a.disable_reason.empty()) return Status::Ok();
    return sql
        .Run("UPDATE alert_endpoints SET enabled = 0, disabled_reason = $2 WHERE id = $1",
             {r.rows[0][0], a.disable_reason})
        .status();
  });
}

Result<std::vector<AlertDelivery>> Alerts::ListDeliveries(const std::string& endpoint_id,
                                                          int64_t before, size_t limit) {
  std::vector<AlertDelivery> out;
  limit = std::min(limit, kMaxDeliveryPage);
  SLUICE_RETURN_IF_ERROR(RunSharedSql(false, [&](SharedSql& sql) -> Status {
    SLUICE_ASSIGN_OR_RETURN(
        SqlRows r, sql.Run("SELECT " + std::string(kDeliveryColumns) +
                               " FROM alert_deliveries WHERE ($1 = '' OR endpoint_id = $1) AND "
                               "($2 = 0 OR created_at < $2) ORDER BY created_at DESC, id DESC "
                               "LIMIT $3",
                           {endpoint_id, before, static_cast<int64_t>(limit)}));
    for (const auto& row : r.rows) out.push_back(DeliveryFromRow(row));
    return Status::Ok();
  }));
  return out;
}

Result<std::optional<AlertDelivery>> Alerts::GetDelivery(const std::string& id) {
  std::optional<AlertDelivery> out;
  SLUICE_RETURN_IF_ERROR(RunSharedSql(false, [&](SharedSql& sql) -> Status {
    SLUICE_ASSIGN_OR_RETURN(SqlRows r, sql.Run("SELECT " + std::string(kDeliveryColumns) +
                                                   " FROM alert_deliveries WHERE id = $1",
                                               {id}));
    if (!r.rows.empty()) out = DeliveryFromRow(r.rows[0]);
    return Status::Ok();
  }));
  return out;
}

Status Alerts::Redeliver(const std::string& id, int64_t now) {
  return RunSharedSql(true, [&](SharedSql& sql) -> Status {
    SLUICE_ASSIGN_OR_RETURN(
        SqlRows r, sql.Run("UPDATE alert_deliveries SET status = 'pending', attempts = 0, "
                           "next_attempt_at = $2, lease_until = 0, delivered_at = 0 WHERE id = $1",
                           {id, now}));
    return r.affected == 0 ? Err(ErrorCode::kNotFound, "no alert delivery '" + id + "'")
                           : Status::Ok();
  });
}

Result<int64_t> Alerts::PruneDeliveries(int64_t before) {
  int64_t n = 0;
  SLUICE_RETURN_IF_ERROR(RunSharedSql(true, [&](SharedSql& sql) -> Status {
    SLUICE_ASSIGN_OR_RETURN(SqlRows r,
                            sql.Run("DELETE FROM alert_deliveries WHERE status <> 'pending' AND "
                                    "created_at < $1",
                                    {before}));
    n = r.affected;
    return Status::Ok();
  }));
  return n;
}

}  // namespace sluice::catalog
