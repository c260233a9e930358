#pragma once
// catalog: alert endpoints (webhooks and e-mail recipients) and the outbox of their deliveries.
//
// An event (a file failed, a table blocked, a digest...) becomes one delivery row per enabled
// endpoint that subscribes to its type, written in the same transaction as the state change
// that caused it: MarkFailed writes file.failed (and table.blocked under on_error: block) with
// the file's status, a retry or skip of a blocking file writes table.unblocked, MarkLoaded (and
// the PostgreSQL catalog's LoadedInPool) writes file.loaded. Conditions the catalog cannot see
// (a lagging backlog, an idle table, a schema change, a digest due) are found by the alert
// dispatcher (alerts/), which records each condition's state and its event together with
// AdvanceAlertState: of several nodes watching, exactly one writes the event.
//
// Deliveries are sent at least once: a node claims due ones for a lease, and records each
// attempt; a delivery whose attempt was cut short by a crash is claimed again when its lease
// ends. Every node sharing a PostgreSQL catalog sees the same endpoints and outbox.
//
// The methods here are shared by both engines (alerts.cc): each engine provides only
// RunSharedSql, which runs the shared SQL inside one of its transactions. Thread-safety as the
// Catalog's.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/core/core.h"

namespace sluice::catalog {

class SharedSql;  // shared_sql_internal.h

// Event types (what an endpoint subscribes to).
inline constexpr std::string_view kEventFileFailed = "file.failed";
inline constexpr std::string_view kEventFileLoaded = "file.loaded";
inline constexpr std::string_view kEventTableBlocked = "table.blocked";
inline constexpr std::string_view kEventTableUnblocked = "table.unblocked";
inline constexpr std::string_view kEventBacklogLagging = "backlog.lagging";
inline constexpr std::string_view kEventBacklogRecovered = "backlog.recovered";
inline constexpr std::string_view kEventTableIdle = "table.idle";
inline constexpr std::string_view kEventSchemaChanged = "schema.changed";
inline constexpr std::string_view kEventDigest = "digest";
inline constexpr std::string_view kEventPing = "ping";  // a test delivery, always sent
inline constexpr std::string_view kEventTypes[] = {
    kEventFileFailed,     kEventFileLoaded,     kEventTableBlocked,
    kEventTableUnblocked, kEventBacklogLagging, kEventBacklogRecovered,
    kEventTableIdle,      kEventSchemaChanged,  kEventDigest};
bool IsEventType(std::string_view type);

enum class AlertKind { kWebhook, kEmail };
std::string_view AlertKindName(AlertKind kind);  // "webhook", "email"
std::optional<AlertKind> AlertKindFromName(std::string_view name);

// How a webhook's body is written: CloudEvents 1.0 JSON (signed the Standard Webhooks way), or
// Slack's incoming-webhook {"text": ...}. E-mail endpoints use kEmail.
enum class AlertFormat { kCloudEvents, kSlack, kEmail };
std::string_view AlertFormatName(AlertFormat format);  // "cloudevents", "slack", "email"
std::optional<AlertFormat> AlertFormatFromName(std::string_view name);

struct AlertEndpoint {
  std::string id;             // "ep_" + 16 hex, chosen by CreateAlertEndpoint
  std::string name;           // a label for people
  std::string connection_id;  // empty: events of every connection
  AlertKind kind = AlertKind::kWebhook;
  std::string target;  // the URL of a webhook; the recipients of e-mail, comma-separated
  AlertFormat format = AlertFormat::kCloudEvents;
  std::vector<std::string> events;  // event types it receives (IsEventType)
  // backlog.lagging when a table's oldest pending file is older than lag_age_seconds, or its
  // backlog holds more than lag_files files (0: no file limit); backlog.recovered when neither
  // holds any more.
  int64_t lag_age_seconds = 900;
  int64_t lag_files = 0;
  // table.idle when a configured table received no file for this long (0: never).
  int64_t idle_hours = 0;
  // When a digest is sent (alerts/schedule.h: "hourly", "daily@HH:MM", a cron expression);
  // empty: none.
  std::string digest;
  bool enabled = true;
  std::string disabled_reason;  // why it was disabled (410 Gone from the target, an admin)
  int64_t created_at = 0;       // micros
};

// An event: the fact, without its encoding (alerts/ writes CloudEvents, Slack or e-mail).
struct AlertEvent {
  std::string id;  // unique (the CloudEvents id and webhook-id); NewAlertEventId()
  std::string type;
  std::string connection_id;  // empty for an event of no connection (a digest)
  std::string table;
  std::string subject;    // the key of a file event, the table of a table event
  std::string data_json;  // a JSON object
  int64_t time = 0;       // micros
  // Only this endpoint receives it (a condition of the endpoint's own thresholds, its digest,
  // a test); empty: every enabled endpoint that subscribes to the type and the connection.
  std::string endpoint_id;
};
std::string NewAlertEventId();  // "evt_" + 32 hex

enum class DeliveryStatus { kPending, kDelivered, kFailed };
std::string_view DeliveryStatusName(DeliveryStatus status);  // "pending", "delivered", "failed"

struct AlertDelivery {
  std::string id;  // "<event id>:<endpoint id>"
  std::string endpoint_id;
  AlertEvent event;
  DeliveryStatus status = DeliveryStatus::kPending;
  int64_t attempts = 0;
  int64_t next_attempt_at = 0;  // micros; when a pending delivery is due
  int64_t last_attempt_at = 0;
  int64_t last_status = 0;  // the target's HTTP status (0: no answer; 250 for mail accepted)
  std::string last_error;
  int64_t delivered_at = 0;
};

// What one attempt at a delivery came to (RecordDeliveryAttempt).
struct DeliveryAttempt {
  int64_t at = 0;
  bool delivered = false;
  int64_t status = 0;
  std::string error;
  // When not delivered: when to try again; 0 gives up (the delivery is `failed`).
  int64_t retry_at = 0;
  // The target said it is gone (HTTP 410): the endpoint is disabled with this reason.
  std::string disable_reason;
};

// The most deliveries ListDeliveries returns.
inline constexpr size_t kMaxDeliveryPage = 500;
// The most endpoints the catalog keeps: each event is one row per subscriber.
inline constexpr size_t kMaxAlertEndpoints = 100;

class Alerts {
 public:
  virtual ~Alerts() = default;

  // Stores a new endpoint (its id and created_at are chosen here) with `secret`, the webhook's
  // signing secret (sealed; empty for e-mail). kInvalidArgument for an unknown event type or
  // kind/format mismatch, kNotFound for an unknown connection, kLimitExceeded past
  // kMaxAlertEndpoints.
  Result<AlertEndpoint> CreateAlertEndpoint(AlertEndpoint endpoint, const Secret& secret);
  Result<std::vector<AlertEndpoint>> ListAlertEndpoints();
  Result<std::optional<AlertEndpoint>> GetAlertEndpoint(const std::string& id);
  // Replaces everything but the id, connection, kind, secret and created_at; enabling clears
  // the disabled reason. kNotFound.
  Status UpdateAlertEndpoint(const AlertEndpoint& endpoint);
  // The endpoint with its outbox and condition state. kNotFound.
  Status DeleteAlertEndpoint(const std::string& id);
  // The webhook's signing secret. kNotFound.
  Result<Secret> AlertSecret(const std::string& id);

  // Writes `event`'s deliveries now (its own transaction). Returns how many.
  Result<int64_t> EnqueueAlert(const AlertEvent& event);
  // A condition of endpoint `endpoint_id` about a table, named
  // `name` (empty connection and table: the endpoint itself), whose value (0 until first set) moves
  // from `expected` to `next`, with `event` (when not null) enqueued in the same transaction.
  // False, and nothing written, when the stored value is not `expected` (another node moved it
  // first).
  Result<bool> AdvanceAlertState(const std::string& endpoint_id, const std::string& connection_id,
                                 const std::string& table, std::string_view name, int64_t expected,
                                 int64_t next, const AlertEvent* event);
  // Every condition stored for an endpoint.
  struct StateRow {
    std::string connection_id;
    std::string table;
    std::string name;
    int64_t value = 0;
  };
  Result<std::vector<StateRow>> ListAlertStates(const std::string& endpoint_id);
  // The stored value of that condition (0 when never set).
  Result<int64_t> AlertState(const std::string& endpoint_id, const std::string& connection_id,
                             const std::string& table, std::string_view name);

  // At most `limit` pending deliveries due at `now` to enabled endpoints and not leased,
  // leased to the caller until `lease_until`, oldest first.
  Result<std::vector<AlertDelivery>> ClaimDeliveries(int64_t now, int64_t lease_until,
                                                     size_t limit);
  // Records an attempt (and ends the lease). kNotFound when the delivery is gone.
  Status RecordDeliveryAttempt(const std::string& delivery_id, const DeliveryAttempt& attempt);
  // The newest deliveries first (of one endpoint unless `endpoint_id` is empty), at most
  // `limit` (capped at kMaxDeliveryPage), created before `before` (micros; 0: no bound).
  Result<std::vector<AlertDelivery>> ListDeliveries(const std::string& endpoint_id, int64_t before,
                                                    size_t limit);
  Result<std::optional<AlertDelivery>> GetDelivery(const std::string& id);
  // Sends a delivery again from the first attempt, whatever its status. kNotFound.
  Status Redeliver(const std::string& id, int64_t now);
  // Forgets delivered and failed deliveries created before `before`; returns how many.
  Result<int64_t> PruneDeliveries(int64_t before);

 protected:
  // Runs `body` with the engine's SQL inside one transaction (a durable write transaction
  // when `write`).
  virtual Status RunSharedSql(bool write, const std::function<Status(SharedSql&)>& body) = 0;
};

}  // namespace sluice::catalog
