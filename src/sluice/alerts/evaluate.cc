// The conditions the ledger cannot raise as it changes (alerts.h): a lagging backlog, an idle
// table, a schema change, a digest due. Each round reads the backlog (one grouped query over
// the unfinished files), the tables in each endpoint's scope and its stored conditions, and
// moves a condition with its event in one catalog transaction (AdvanceAlertState): when
// several nodes evaluate at once, one of them writes each event.
#include <map>
#include <nlohmann/json.hpp>

#include "sluice/alerts/alerts.h"
#include "sluice/alerts/alerts_internal.h"
#include "sluice/alerts/schedule.h"

namespace sluice::alerts {

namespace {

constexpr int64_t kMicrosPerSecond = 1'000'000;
// State names (catalog alert_state.name).
constexpr std::string_view kLagging = "lagging";
constexpr std::string_view kIdle = "idle";
constexpr std::string_view kSchema = "schema";  // the changed_at of the last change told
constexpr std::string_view kDigest = "digest";  // when the next digest is due

using Key = std::pair<std::string, std::string>;  // connection, table

struct World {
  std::vector<catalog::TableConfig> tables;  // every configured table
  std::map<Key, catalog::Ledger::TableBacklog> backlog;
  std::map<Key, std::map<std::string, int64_t>> failed;  // open errors by code
};

std::string Dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

bool InScope(const catalog::AlertEndpoint& e, const std::string& connection_id) {
  return e.connection_id.empty() || e.connection_id == connection_id;
}

catalog::AlertEvent TableEvent(const catalog::AlertEndpoint& e, std::string_view type,
                               const Key& table, int64_t now, nlohmann::json data) {
  data["connection"] = table.first;
  data["table"] = table.second;
  catalog::AlertEvent ev;
  ev.id = catalog::NewAlertEventId();
  ev.type = type;
  ev.connection_id = table.first;
  ev.table = table.second;
  ev.subject = table.second;
  ev.data_json = Dump(data);
  ev.time = now;
  ev.endpoint_id = e.id;
  return ev;
}

}  // namespace

Result<int> Dispatcher::Evaluate() {
  SLUICE_ASSIGN_OR_RETURN(std::vector<catalog::AlertEndpoint> endpoints,
                          catalog_.ListAlertEndpoints());
  std::erase_if(endpoints, [](const catalog::AlertEndpoint& e) { return !e.enabled; });
  const auto watches = [&](std::initializer_list<std::string_view> types) {
    for (const auto& e : endpoints) {
      for (std::string_view t : types) {
        if (Subscribes(e, t)) return true;
      }
    }
    return false;
  };
  if (!watches({catalog::kEventBacklogLagging, catalog::kEventBacklogRecovered,
                catalog::kEventTableIdle, catalog::kEventSchemaChanged, catalog::kEventDigest})) {
    return 0;
  }

  const int64_t now = clock_.NowMicros();
  World world;
  SLUICE_ASSIGN_OR_RETURN(std::vector<catalog::Connection> connections, catalog_.ListConnections());
  for (const catalog::Connection& c : connections) {
    SLUICE_ASSIGN_OR_RETURN(std::vector<catalog::TableConfig> tables, catalog_.ListTables(c.id));
    for (catalog::TableConfig& t : tables) world.tables.push_back(std::move(t));
  }
  SLUICE_ASSIGN_OR_RETURN(std::vector<catalog::Ledger::TableBacklog> backlog,
                          catalog_.BacklogByTable());
  for (auto& b : backlog) world.backlog[{b.table.connection_id, b.table.table}] = b;
  SLUICE_ASSIGN_OR_RETURN(std::vector<catalog::Ledger::StatusCount> pending,
                          catalog_.CountPending());
  for (const auto& p : pending) {
    if (p.status != catalog::FileStatus::kFailed) continue;
    world.failed[{p.table.connection_id, p.table.table}][p.error_code] += p.files;
  }

  int written = 0;
  auto advance = [&](const catalog::AlertEndpoint& e, const Key& table, std::string_view name,
                     int64_t expected, int64_t next, const catalog::AlertEvent* ev) -> Status {
    SLUICE_ASSIGN_OR_RETURN(bool moved, catalog_.AdvanceAlertState(e.id, table.first, table.second,
                                                                   name, expected, next, ev));
    if (moved && ev != nullptr) ++written;
    return Status::Ok();
  };

  for (const catalog::AlertEndpoint& e : endpoints) {
    SLUICE_ASSIGN_OR_RETURN(std::vector<catalog::Alerts::StateRow> rows,
                            catalog_.ListAlertStates(e.id));
    std::map<std::pair<Key, std::string>, int64_t> state;
    for (auto& r : rows) state[{{r.connection_id, r.table}, r.name}] = r.value;
    const auto stored = [&](const Key& k, std::string_view name) {
      auto it = state.find({k, std::string(name)});
      return it == state.end() ? int64_t{0} : it->second;
    };

    // Backlog lagging / recovered, for every table in scope (a table may recover by being
    // removed: its stored state is looked at too).
    if (Subscribes(e, catalog::kEventBacklogLagging) ||
        Subscribes(e, catalog::kEventBacklogRecovered)) {
      std::map<Key, bool> lagging;
      for (const auto& t : world.tables) {
        if (InScope(e, t.connection_id)) lagging[{t.connection_id, t.name}] = false;
      }
      for (const auto& [k, v] : state) {
        if (k.second == kLagging && v != 0) lagging[k.first] = false;
      }
      for (auto& [k, lag] : lagging) {
        auto b = world.backlog.find(k);
        const int64_t age = b == world.backlog.end() || b->second.oldest_queued_at == 0
                                ? 0
                                : (now - b->second.oldest_queued_at) / kMicrosPerSecond;
        const int64_t files = b == world.backlog.end() ? 0 : b->second.files;
        lag = (e.lag_age_seconds > 0 && age > e.lag_age_seconds) ||
              (e.lag_files > 0 && files > e.lag_files);
        const int64_t was = stored(k, kLagging);
        if (lag == (was != 0)) continue;
        const nlohmann::json data = {{"pending_files", files},
                                     {"oldest_age_seconds", age},
                                     {"lag_age_seconds", e.lag_age_seconds},
                                     {"lag_files", e.lag_files}};
        const std::string_view type =
            lag ? catalog::kEventBacklogLagging : catalog::kEventBacklogRecovered;
        const catalog::AlertEvent ev = TableEvent(e, type, k, now, data);
        SLUICE_RETURN_IF_ERROR(
            advance(e, k, kLagging, was, lag ? 1 : 0, Subscribes(e, type) ? &ev : nullptr));
      }
    }

    // No file for idle_hours: measured from the table's newest file, or from the endpoint's
    // creation for a table that never received one.
    if (Subscribes(e, catalog::kEventTableIdle) && e.idle_hours > 0) {
      for (const auto& t : world.tables) {
        if (!InScope(e, t.connection_id)) continue;
        const Key k{t.connection_id, t.name};
        catalog::FileFilter newest;
        newest.table = t.name;
        newest.newest_first = true;
        SLUICE_ASSIGN_OR_RETURN(catalog::FilePage page,
                                catalog_.ListFilesPage(t.connection_id, newest, 1));
        const int64_t last = page.files.empty() ? 0 : page.files[0].received_at;
        const int64_t since = std::max(last, e.created_at);
        const bool idle = now - since > e.idle_hours * 3600 * kMicrosPerSecond;
        const int64_t was = stored(k, kIdle);
        if (idle == (was != 0)) continue;
        nlohmann::json data = {{"idle_hours", e.idle_hours}};
        data["last_file_at"] =
            last == 0 ? nlohmann::json(nullptr) : nlohmann::json(FormatIsoMicros(last));
        const catalog::AlertEvent ev = TableEvent(e, catalog::kEventTableIdle, k, now, data);
        SLUICE_RETURN_IF_ERROR(advance(e, k, kIdle, was, idle ? 1 : 0, idle ? &ev : nullptr));
      }
    }

    // Schema changes since the last one told (or since the endpoint was made).
    if (Subscribes(e, catalog::kEventSchemaChanged)) {
      for (const auto& t : world.tables) {
        if (!InScope(e, t.connection_id)) continue;
        const Key k{t.connection_id, t.name};
        SLUICE_ASSIGN_OR_RETURN(std::vector<pool::SchemaChange> history,
                                pool_.SchemaHistory(t.connection_id, t.name));
        const int64_t was = stored(k, kSchema);
        const int64_t told = was != 0 ? was : e.created_at;
        nlohmann::json changes = nlohmann::json::array();
        int64_t newest = told;
        for (const pool::SchemaChange& c : history) {
          if (c.changed_at <= told) continue;
          changes.push_back({{"table", c.table},
                             {"seq", c.seq},
                             {"kind", pool::SchemaChangeKindName(c.kind)},
                             {"column", c.column},
                             {"old_type", c.old_type},
                             {"new_type", c.new_type},
                             {"changed_at", FormatIsoMicros(c.changed_at)}});
          newest = std::max(newest, c.changed_at);
        }
        if (changes.empty()) continue;
        const catalog::AlertEvent ev =
            TableEvent(e, catalog::kEventSchemaChanged, k, now, {{"changes", changes}});
        SLUICE_RETURN_IF_ERROR(advance(e, k, kSchema, was, newest, &ev));
      }
    }

    // The digest: the state of every table in scope when it is due.
    if (Subscribes(e, catalog::kEventDigest) && !e.digest.empty()) {
      Result<Schedule> schedule = ParseSchedule(e.digest);
      if (!schedule.ok()) continue;  // checked when stored; a newer sluice's form, say
      const Key self{"", ""};
      const int64_t due = stored(self, kDigest);
      const int64_t next = NextFire(*schedule, now);
      if (due == 0) {
        SLUICE_RETURN_IF_ERROR(advance(e, self, kDigest, 0, next, nullptr));
        continue;
      }
      if (now < due) continue;
      nlohmann::json tables = nlohmann::json::array();
      int64_t open_errors = 0;
      int64_t blocked = 0;
      for (const auto& t : world.tables) {
        if (!InScope(e, t.connection_id)) continue;
        const Key k{t.connection_id, t.name};
        auto b = world.backlog.find(k);
        auto f = world.failed.find(k);
        int64_t errors = 0;
        nlohmann::json codes = nlohmann::json::object();
        if (f != world.failed.end()) {
          for (const auto& [code, n] : f->second) {
            codes[code] = n;
            errors += n;
          }
        }
        open_errors += errors;
        const bool is_blocked = errors > 0 && t.on_error == catalog::OnError::kBlock;
        blocked += is_blocked ? 1 : 0;
        const int64_t files = b == world.backlog.end() ? 0 : b->second.files;
        const int64_t age = b == world.backlog.end() || b->second.oldest_queued_at == 0
                                ? 0
                                : (now - b->second.oldest_queued_at) / kMicrosPerSecond;
        tables.push_back({{"connection", t.connection_id},
                          {"table", t.name},
                          {"state", is_blocked   ? "blocked"
                                    : errors > 0 ? "failing"
                                                 : "ok"},
                          {"pending_files", files},
                          {"oldest_age_seconds", age},
                          {"open_errors", codes}});
      }
      catalog::AlertEvent ev;
      ev.id = catalog::NewAlertEventId();
      ev.type = catalog::kEventDigest;
      ev.connection_id = e.connection_id;
      ev.subject = e.name;
      ev.data_json = Dump({{"schedule", e.digest},
                           {"tables", tables},
                           {"open_errors", open_errors},
                           {"blocked_tables", blocked},
                           {"next_digest_at", FormatIsoMicros(next)}});
      ev.time = now;
      ev.endpoint_id = e.id;
      SLUICE_RETURN_IF_ERROR(advance(e, self, kDigest, due, next, &ev));
    }
  }
  return written;
}

}  // namespace sluice::alerts
