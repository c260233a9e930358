// Setting endpoints up (alerts.h): the checks the catalog leaves to this module.
#include <algorithm>

#include "sluice/alerts/alerts.h"
#include "sluice/alerts/alerts_internal.h"
#include "sluice/alerts/schedule.h"
#include "sluice/alerts/webhook.h"

namespace sluice::alerts {

namespace {

// RFC 5321's limit on a path; the rest is left to the SMTP server, which knows its domains.
constexpr size_t kMaxAddress = 254;
constexpr size_t kMaxRecipients = 20;

Status CheckRecipients(std::string_view target) {
  const std::vector<std::string> to = SplitRecipients(target);
  if (to.empty() || to.size() > kMaxRecipients) {
    return Err(ErrorCode::kInvalidArgument, "an e-mail endpoint has 1 to " +
                                                std::to_string(kMaxRecipients) +
                                                " recipients, comma-separated");
  }
  for (const std::string& a : to) {
    const size_t at = a.find('@');
    const bool plain = std::none_of(a.begin(), a.end(), [](char c) {
      return static_cast<unsigned char>(c) <= ' ' || c == '<' || c == '>' || c == ',' ||
             c == '\x7f';
    });
    if (a.size() > kMaxAddress || !plain || at == std::string::npos || at == 0 ||
        at + 1 == a.size() || a.find('@', at + 1) != std::string::npos) {
      return Err(ErrorCode::kInvalidArgument, "'" + a + "' is not an e-mail address");
    }
  }
  return Status::Ok();
}

// The form of a webhook URL; whether its host resolves to an address sluice may reach is
// checked at each delivery (a name's addresses change), and shows in the delivery log.
Status CheckWebhookForm(std::string_view url) {
  const bool scheme = url.starts_with("https://") || url.starts_with("http://");
  const bool printable = std::all_of(url.begin(), url.end(), [](char c) {
    return static_cast<unsigned char>(c) > ' ' && static_cast<unsigned char>(c) < 0x7f;
  });
  if (!scheme || !printable) {
    return Err(ErrorCode::kInvalidArgument,
               "a webhook target is an http:// or https:// URL without spaces");
  }
  return Status::Ok();
}

Status CheckEndpoint(catalog::AlertEndpoint& e) {
  if (e.kind == catalog::AlertKind::kEmail) {
    e.format = catalog::AlertFormat::kEmail;
    SLUICE_RETURN_IF_ERROR(CheckRecipients(e.target));
  } else {
    if (e.format == catalog::AlertFormat::kEmail) e.format = catalog::AlertFormat::kCloudEvents;
    SLUICE_RETURN_IF_ERROR(CheckWebhookForm(e.target));
  }
  SLUICE_RETURN_IF_ERROR(CheckDigestSchedule(e.digest));
  const bool digest = Subscribes(e, catalog::kEventDigest);
  if (!e.digest.empty() && !digest) e.events.emplace_back(catalog::kEventDigest);
  if (e.digest.empty() && digest) {
    return Err(ErrorCode::kInvalidArgument,
               "a digest needs a schedule: \"hourly\", \"daily@HH:MM\" (UTC) or a cron "
               "expression");
  }
  std::sort(e.events.begin(), e.events.end());
  e.events.erase(std::unique(e.events.begin(), e.events.end()), e.events.end());
  return Status::Ok();
}

}  // namespace

std::vector<std::string> SplitRecipients(std::string_view target) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= target.size()) {
    size_t end = target.find(',', start);
    if (end == std::string_view::npos) end = target.size();
    std::string_view a = target.substr(start, end - start);
    while (!a.empty() && (a.front() == ' ' || a.front() == '\t')) a.remove_prefix(1);
    while (!a.empty() && (a.back() == ' ' || a.back() == '\t')) a.remove_suffix(1);
    if (!a.empty()) out.emplace_back(a);
    start = end + 1;
  }
  return out;
}

bool Subscribes(const catalog::AlertEndpoint& endpoint, std::string_view type) {
  return std::find(endpoint.events.begin(), endpoint.events.end(), type) != endpoint.events.end();
}

Status CheckDigestSchedule(const std::string& text) {
  if (text.empty()) return Status::Ok();
  return ParseSchedule(text).status();
}

Result<NewEndpoint> CreateEndpoint(catalog::Catalog& catalog, catalog::AlertEndpoint endpoint,
                                   const Clock& clock) {
  SLUICE_RETURN_IF_ERROR(CheckEndpoint(endpoint));
  endpoint.created_at = clock.NowMicros();
  NewEndpoint out;
  if (endpoint.kind == catalog::AlertKind::kWebhook) out.secret = Secret(NewWebhookSecret());
  SLUICE_ASSIGN_OR_RETURN(out.endpoint, catalog.CreateAlertEndpoint(endpoint, out.secret));
  return out;
}

Status UpdateEndpoint(catalog::Catalog& catalog, const catalog::AlertEndpoint& endpoint) {
  catalog::AlertEndpoint e = endpoint;
  SLUICE_RETURN_IF_ERROR(CheckEndpoint(e));
  return catalog.UpdateAlertEndpoint(e);
}

Result<std::string> SendTest(catalog::Catalog& catalog, const std::string& endpoint_id,
                             const Clock& clock) {
  SLUICE_ASSIGN_OR_RETURN(std::optional<catalog::AlertEndpoint> e,
                          catalog.GetAlertEndpoint(endpoint_id));
  if (!e) return Err(ErrorCode::kNotFound, "no alert endpoint '" + endpoint_id + "'");
  if (!e->enabled) {
    return Err(ErrorCode::kInvalidArgument,
               "alert endpoint '" + e->name + "' is disabled; enable it first");
  }
  catalog::AlertEvent ping;
  ping.id = catalog::NewAlertEventId();
  ping.type = catalog::kEventPing;
  ping.connection_id = e->connection_id;
  ping.subject = e->name;
  ping.data_json = R"({"message":"a test from sluice: this endpoint receives its alerts"})";
  ping.time = clock.NowMicros();
  ping.endpoint_id = e->id;
  SLUICE_ASSIGN_OR_RETURN(int64_t n, catalog.EnqueueAlert(ping));
  if (n != 1) return Err(ErrorCode::kNotFound, "no alert endpoint '" + endpoint_id + "'");
  return ping.id + ":" + e->id;
}

}  // namespace sluice::alerts
