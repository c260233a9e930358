#pragma once
// alerts: tells people when ingestion needs them. Endpoints (webhooks, e-mail recipients) live
// in the catalog with the outbox of their deliveries (catalog/alerts.h); this module
//
// - sets endpoints up for the admin API (CreateEndpoint checks what the catalog cannot: the
//   target's form, the digest schedule, and draws the webhook's signing secret);
// - runs the Dispatcher, one thread per server: every second it claims the deliveries due and
//   sends them (CloudEvents JSON signed the Standard Webhooks way, Slack's format, or an e-mail
//   through SMTP), retrying with backoff and disabling an endpoint whose target answers 410
//   Gone; every few seconds it evaluates the conditions the ledger cannot see as it changes (a
//   lagging backlog, an idle table, a schema change, a digest due) and writes each change of
//   state with its event in one catalog transaction (Alerts::AdvanceAlertState), so that of
//   several nodes sharing a catalog one writes it.
//
// Delivery is at least once: a delivery is marked delivered only after the target answered
// 2xx (or the SMTP server accepted the mail); a crash before that leaves it leased, and it is
// sent again when the lease ends. Receivers deduplicate by webhook-id (the event id).
//
// Thread-safety: the free functions are thread-safe; a Dispatcher is started and stopped by one
// thread, and Notify may be called from any.

#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "sluice/alerts/transport.h"
#include "sluice/catalog/catalog.h"
#include "sluice/core/core.h"
#include "sluice/core/mutex.h"
#include "sluice/load/load.h"
#include "sluice/pool/pool.h"

namespace sluice::alerts {

struct DispatcherOptions {
  // Webhook targets on loopback, private or link-local addresses are refused unless allowed
  // (serve --alert-allow-private): an admin API must not become a way into the local network.
  bool allow_private = false;
  // The SMTP server for e-mail endpoints; an empty url fails their deliveries with a message
  // that says so.
  SmtpConfig smtp;
  int poll_interval_ms = 1000;      // how often due deliveries are looked for
  int evaluate_interval_ms = 5000;  // how often conditions and digests are evaluated
  // The waits after each failed attempt; after the last, the delivery is `failed` (an admin
  // may redeliver it). Standard Webhooks' suggested schedule, a little denser at first.
  std::vector<int64_t> retry_seconds = {5, 30, 120, 600, 1800, 3600, 7200, 18000, 36000};
  int64_t lease_seconds = 120;  // a claimed delivery is another node's after this
  int64_t keep_log_days = 30;   // delivered and failed deliveries are forgotten after
  PostOptions post;
};

// The admin API's view of a new endpoint: checked, with its secret drawn.
struct NewEndpoint {
  catalog::AlertEndpoint endpoint;
  Secret secret;  // a webhook's "whsec_..." signing secret, shown once; empty for e-mail
};
// Checks what the catalog does not (a webhook target's URL form; e-mail addresses; the digest
// schedule; a digest subscription has a schedule and a schedule a subscription) and stores the
// endpoint. kInvalidArgument naming what is wrong.
Result<NewEndpoint> CreateEndpoint(catalog::Catalog& catalog, catalog::AlertEndpoint endpoint,
                                   const Clock& clock);
// The same checks for a changed endpoint, then stores it.
Status UpdateEndpoint(catalog::Catalog& catalog, const catalog::AlertEndpoint& endpoint);
// Queues a "ping" event to one endpoint (the console's "Send test"); returns the delivery id.
Result<std::string> SendTest(catalog::Catalog& catalog, const std::string& endpoint_id,
                             const Clock& clock);
// kInvalidArgument unless `text` is a schedule ParseSchedule takes (or empty).
Status CheckDigestSchedule(const std::string& text);

// Observes the loader (load.h): a file's outcome may have written an event (file.failed,
// table.blocked, file.loaded), which then goes at once rather than at the next poll.
class Dispatcher final : public load::LoadObserver {
 public:
  // The references must outlive the dispatcher.
  Dispatcher(catalog::Catalog& catalog, pool::Pool& pool, const Clock& clock,
             DispatcherOptions options);
  ~Dispatcher() override;
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  void Start() EXCLUDES(mu_);
  // Finishes the attempt in progress (bounded by the post timeout), then joins the thread.
  void Stop() EXCLUDES(mu_);
  // A delivery may be due now (a test, a redeliver): look without waiting for the next poll.
  void Notify() EXCLUDES(mu_);
  void OnFileFinished(const load::LoadEvent& /*event*/) override { Notify(); }

  // One round of each, on the caller's thread (the thread's body; tests call them directly).
  // Returns how many deliveries were attempted / events written.
  Result<int> DeliverDue();
  Result<int> Evaluate();

 private:
  void Run() EXCLUDES(mu_);
  // Sends one delivery; what came of it, for the catalog.
  catalog::DeliveryAttempt Attempt(const catalog::AlertDelivery& delivery,
                                   const catalog::AlertEndpoint& endpoint);
  int64_t RetryAt(int64_t attempts_before, int64_t now) const;

  catalog::Catalog& catalog_;
  pool::Pool& pool_;
  const Clock& clock_;
  const DispatcherOptions options_;

  Mutex mu_;
  CondVar wake_;
  bool stop_ GUARDED_BY(mu_) = false;
  bool notified_ GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace sluice::alerts
