#pragma once
// Private to catalog: the alert tables' schema and SQL, the same text for both engines ($N
// parameters, run through SharedSql). The ledger's writes call the event hooks below in their
// transaction, so that an event commits exactly when its cause does.

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "sluice/catalog/alerts.h"
#include "sluice/catalog/catalog.h"
#include "sluice/catalog/shared_sql_internal.h"

namespace sluice::catalog {

// Schema (SQLite version 9, PostgreSQL version 3; IF NOT EXISTS as admins_internal.h).
// `events` is the subscribed types between commas (",file.failed,digest,"), matched with LIKE;
// no type holds a LIKE wildcard. A delivery's id is its event's id and its endpoint's, so an
// event reaches an endpoint once. The webhook secret is sealed (secret_box_internal.h) and
// stored as hex.
inline constexpr const char* kAlertSchemaSql = R"sql(
CREATE TABLE IF NOT EXISTS alert_endpoints (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  connection_id TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('webhook', 'email')),
  target TEXT NOT NULL,
  format TEXT NOT NULL CHECK (format IN ('cloudevents', 'slack', 'email')),
  events TEXT NOT NULL,
  lag_age_seconds BIGINT NOT NULL,
  lag_files BIGINT NOT NULL,
  idle_hours BIGINT NOT NULL,
  digest TEXT NOT NULL,
  enabled BIGINT NOT NULL,
  disabled_reason TEXT NOT NULL,
  secret_nonce TEXT NOT NULL,
  secret_sealed TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS alert_deliveries (
  id TEXT PRIMARY KEY,
  endpoint_id TEXT NOT NULL REFERENCES alert_endpoints(id) ON DELETE CASCADE,
  event_id TEXT NOT NULL,
  type TEXT NOT NULL,
  connection_id TEXT NOT NULL,
  table_name TEXT NOT NULL,
  subject TEXT NOT NULL,
  data TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts BIGINT NOT NULL DEFAULT 0,
  next_attempt_at BIGINT NOT NULL,
  lease_until BIGINT NOT NULL DEFAULT 0,
  last_attempt_at BIGINT NOT NULL DEFAULT 0,
  last_status BIGINT NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  delivered_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS alert_deliveries_due ON alert_deliveries(next_attempt_at)
  WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS alert_deliveries_by_endpoint ON alert_deliveries(endpoint_id, created_at);
CREATE INDEX IF NOT EXISTS alert_deliveries_by_time ON alert_deliveries(created_at);
CREATE TABLE IF NOT EXISTS alert_state (
  endpoint_id TEXT NOT NULL REFERENCES alert_endpoints(id) ON DELETE CASCADE,
  connection_id TEXT NOT NULL,
  table_name TEXT NOT NULL,
  name TEXT NOT NULL,
  value BIGINT NOT NULL,
  PRIMARY KEY (endpoint_id, connection_id, table_name, name)
);
)sql";

// Event hooks, called by the ledger inside the transaction of the change (after the file's
// status was read, before or after its update as each says). Each writes nothing when no
// enabled endpoint subscribes.
// After `seq` was marked failed with `error`: file.failed, and table.blocked when its table
// blocks on errors.
Status FileFailedEvents(SharedSql& sql, int64_t seq, const Status& error, int64_t now);
// After `seq` was marked loaded.
Status FileLoadedEvent(SharedSql& sql, int64_t seq, const LoadCounts& counts, int64_t now);
// Before an operator's `action` ("retry", "skip", "move past") on `seq` changes its status:
// table.unblocked when the file is the failed file blocking its table.
Status UnblockedEvent(SharedSql& sql, int64_t seq, std::string_view action, int64_t now);

// The file.loaded deliveries as part of the PostgreSQL catalog's LoadedInPool statement: a
// data-modifying CTE body reading the loaded file from CTE `f` (connection_id, table_name, key,
// size) and the counts from CTE `c` (inserted, updated, refused, deleted).
std::string PgLoadedInPoolEventSql(int64_t seq, int64_t finished_at);

}  // namespace sluice::catalog
