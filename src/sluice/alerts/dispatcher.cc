// The dispatcher's thread and its deliveries (alerts.h); the conditions it evaluates are in
// evaluate.cc.
#include <chrono>
#include <map>

#include "sluice/alerts/alerts.h"
#include "sluice/alerts/alerts_internal.h"
#include "sluice/alerts/webhook.h"
#include "sluice/core/log.h"

namespace sluice::alerts {

namespace {

constexpr size_t kClaimBatch = 20;  // deliveries claimed at once: a lease's worth of work

Event ToEvent(const catalog::AlertEvent& e) {
  Event out;
  out.id = e.id;
  out.type = e.type;
  out.source = e.connection_id.empty() ? "/sluice" : "/sluice/connections/" + e.connection_id;
  out.subject = e.subject;
  out.time_micros = e.time;
  out.data_json = e.data_json;
  return out;
}

}  // namespace

Dispatcher::Dispatcher(catalog::Catalog& catalog, pool::Pool& pool, const Clock& clock,
                       DispatcherOptions options)
    : catalog_(catalog), pool_(pool), clock_(clock), options_(std::move(options)) {}

Dispatcher::~Dispatcher() { Stop(); }

void Dispatcher::Start() {
  {
    MutexLock lock(&mu_);
    stop_ = false;
  }
  thread_ = std::thread([this] { Run(); });
}

void Dispatcher::Stop() {
  {
    MutexLock lock(&mu_);
    stop_ = true;
    wake_.SignalAll();
  }
  if (thread_.joinable()) thread_.join();
}

void Dispatcher::Notify() {
  MutexLock lock(&mu_);
  notified_ = true;
  wake_.SignalAll();
}

void Dispatcher::Run() {
  using std::chrono::steady_clock;
  auto next_evaluation = steady_clock::now();
  auto next_prune = steady_clock::now();
  while (true) {
    {
      MutexLock lock(&mu_);
      if (stop_) return;
    }
    Result<int> sent = DeliverDue();
    if (!sent.ok()) LogWarn("alerts", "delivering alerts: " + sent.status().ToString());
    if (steady_clock::now() >= next_evaluation) {
      Result<int> written = Evaluate();
      if (!written.ok()) LogWarn("alerts", "evaluating alerts: " + written.status().ToString());
      next_evaluation =
          steady_clock::now() + std::chrono::milliseconds(options_.evaluate_interval_ms);
    }
    if (steady_clock::now() >= next_prune) {
      const int64_t before = clock_.NowMicros() - options_.keep_log_days * 86'400'000'000;
      Result<int64_t> pruned = catalog_.PruneDeliveries(before);
      if (!pruned.ok())
        LogWarn("alerts", "pruning the delivery log: " + pruned.status().ToString());
      next_prune = steady_clock::now() + std::chrono::hours(1);
    }
    MutexLock lock(&mu_);
    // A full batch may have left more due: look again at once.
    if (!stop_ && !notified_ && !(sent.ok() && *sent == static_cast<int>(kClaimBatch))) {
      wake_.WaitFor(&mu_, std::chrono::milliseconds(options_.poll_interval_ms));
    }
    notified_ = false;
  }
}

Result<int> Dispatcher::DeliverDue() {
  const int64_t now = clock_.NowMicros();
  SLUICE_ASSIGN_OR_RETURN(
      std::vector<catalog::AlertDelivery> due,
      catalog_.ClaimDeliveries(now, now + options_.lease_seconds * 1'000'000, kClaimBatch));
  std::map<std::string, std::optional<catalog::AlertEndpoint>> endpoints;
  int sent = 0;
  for (const catalog::AlertDelivery& d : due) {
    auto it = endpoints.find(d.endpoint_id);
    if (it == endpoints.end()) {
      SLUICE_ASSIGN_OR_RETURN(std::optional<catalog::AlertEndpoint> e,
                              catalog_.GetAlertEndpoint(d.endpoint_id));
      it = endpoints.emplace(d.endpoint_id, std::move(e)).first;
    }
    if (!it->second || !it->second->enabled) continue;  // removed or disabled meanwhile
    {
      MutexLock lock(&mu_);
      if (stop_) break;  // the rest keep their lease and go after it ends, here or elsewhere
    }
    const catalog::DeliveryAttempt attempt = Attempt(d, *it->second);
    if (!attempt.delivered) {
      LogWarn(
          "alerts",
          "alert " + d.event.type + " to endpoint '" + EscapeForLog(it->second->name) + "' (" +
              it->second->id + ") failed: " + EscapeForLog(attempt.error, 300) +
              (attempt.retry_at != 0 ? "; will retry" : "; given up (redeliver it from the log)"));
    }
    SLUICE_RETURN_IF_ERROR(catalog_.RecordDeliveryAttempt(d.id, attempt));
    if (!attempt.disable_reason.empty()) {
      LogWarn("alerts", "endpoint '" + EscapeForLog(it->second->name) +
                            "' disabled: " + attempt.disable_reason);
      it->second->enabled = false;
    }
    ++sent;
  }
  return sent;
}

int64_t Dispatcher::RetryAt(int64_t attempts_before, int64_t now) const {
  if (attempts_before < 0 ||
      static_cast<size_t>(attempts_before) >= options_.retry_seconds.size()) {
    return 0;
  }
  return now + options_.retry_seconds[static_cast<size_t>(attempts_before)] * 1'000'000;
}

catalog::DeliveryAttempt Dispatcher::Attempt(const catalog::AlertDelivery& d,
                                             const catalog::AlertEndpoint& endpoint) {
  catalog::DeliveryAttempt a;
  a.at = clock_.NowMicros();
  auto fail = [&](int64_t status, std::string error) {
    a.status = status;
    a.error = std::move(error);
    a.retry_at = RetryAt(d.attempts, a.at);
    return a;
  };
  const Event event = ToEvent(d.event);
  if (endpoint.kind == catalog::AlertKind::kEmail) {
    if (options_.smtp.url.empty()) {
      return fail(0, "no SMTP server is configured (serve --smtp-url)");
    }
    const std::vector<std::string> to = SplitRecipients(endpoint.target);
    const Status st = SendMail(options_.smtp, to, EmailMessage(event, options_.smtp.from, to));
    if (!st.ok()) return fail(0, st.message());
    a.delivered = true;
    a.status = 250;  // SMTP's "accepted"
    return a;
  }
  Result<WebhookTarget> target = CheckWebhookUrl(endpoint.target, options_.allow_private);
  if (!target.ok()) return fail(0, target.status().message());
  Result<Secret> secret = catalog_.AlertSecret(endpoint.id);
  if (!secret.ok()) return fail(0, secret.status().message());
  const bool slack = endpoint.format == catalog::AlertFormat::kSlack;
  const std::string body = slack ? SlackJson(event) : CloudEventJson(event);
  std::vector<std::pair<std::string, std::string>> headers = {
      {"Content-Type", slack ? "application/json" : "application/cloudevents+json"},
      {"User-Agent", "sluice-alerts/1"}};
  if (!secret->empty()) {
    const int64_t timestamp = a.at / 1'000'000;
    Result<std::string> signature = SignWebhook(secret->reveal(), event.id, timestamp, body);
    if (!signature.ok()) return fail(0, signature.status().message());
    headers.emplace_back("webhook-id", event.id);
    headers.emplace_back("webhook-timestamp", std::to_string(timestamp));
    headers.emplace_back("webhook-signature", *signature);
  }
  const HttpOutcome outcome = PostJson(*target, headers, body, options_.post);
  if (outcome.status >= 200 && outcome.status < 300) {
    a.delivered = true;
    a.status = outcome.status;
    return a;
  }
  if (outcome.status == 410) {
    // Standard Webhooks: a 410 says the endpoint is gone for good; stop sending to it.
    a.status = 410;
    a.error = outcome.error;
    a.retry_at = 0;
    a.disable_reason = "the target answered 410 Gone at " + FormatIsoMicros(a.at);
    return a;
  }
  return fail(outcome.status, outcome.error);
}

}  // namespace sluice::alerts
