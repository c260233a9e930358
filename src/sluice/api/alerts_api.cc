// The admin API's alert routes: endpoints (webhooks and e-mail; a webhook's signing secret
// shown once), a test delivery, and the delivery log with redeliver.
#include <algorithm>

#include "sluice/alerts/alerts.h"
#include "sluice/api/admin_internal.h"

namespace sluice::api {
namespace {

constexpr int64_t kDefaultDeliveryPage = 50;

nlohmann::json EndpointJson(const catalog::AlertEndpoint& e) {
  return {{"id", e.id},
          {"name", e.name},
          {"connection", e.connection_id},
          {"kind", catalog::AlertKindName(e.kind)},
          {"target", e.target},
          {"format", catalog::AlertFormatName(e.format)},
          {"events", e.events},
          {"lag_age_seconds", e.lag_age_seconds},
          {"lag_files", e.lag_files},
          {"idle_hours", e.idle_hours},
          {"digest", e.digest},
          {"enabled", e.enabled},
          {"disabled_reason", e.disabled_reason},
          {"created_at", FormatIsoMicros(e.created_at)}};
}

nlohmann::json DeliveryJson(const catalog::AlertDelivery& d) {
  nlohmann::json data = nlohmann::json::parse(d.event.data_json, nullptr, false);
  if (data.is_discarded()) data = nlohmann::json::object();
  return {{"id", d.id},
          {"endpoint", d.endpoint_id},
          {"event_id", d.event.id},
          {"type", d.event.type},
          {"connection", d.event.connection_id},
          {"table", d.event.table},
          {"subject", d.event.subject},
          {"time", FormatIsoMicros(d.event.time)},
          {"data", data},
          {"status", catalog::DeliveryStatusName(d.status)},
          {"attempts", d.attempts},
          {"next_attempt_at", d.status == catalog::DeliveryStatus::kPending
                                  ? TimeOrNull(d.next_attempt_at)
                                  : nlohmann::json(nullptr)},
          {"last_attempt_at", TimeOrNull(d.last_attempt_at)},
          {"last_status", d.last_status},
          {"last_error", d.last_error},
          {"delivered_at", TimeOrNull(d.delivered_at)}};
}

class AlertsApi {
 public:
  explicit AlertsApi(AdminContext& ctx) : ctx_(ctx) {}

  // GET /api/v1/alerts/endpoints
  http::Response List(const ApiCall& call) {
    if (auto bad = NoQuery(call.query)) return std::move(*bad);
    auto all = ctx_.catalog.ListAlertEndpoints();
    if (!all.ok()) return ErrorResponse(all.status());
    nlohmann::json out = nlohmann::json::array();
    for (const auto& e : *all) out.push_back(EndpointJson(e));
    return Json(200, out);
  }

  // POST /api/v1/alerts/endpoints: the endpoint, and a webhook's secret this once.
  http::Response Create(const ApiCall& call) {
    if (auto bad = NoQuery(call.query)) return std::move(*bad);
    http::Response error;
    auto body = BodyObject(call, &error);
    if (!body) return error;
    catalog::AlertEndpoint e;
    e.kind = catalog::AlertKind::kWebhook;
    if (body->contains("kind")) {
      const nlohmann::json& k = (*body)["kind"];
      std::optional<catalog::AlertKind> kind;
      if (k.is_string()) kind = catalog::AlertKindFromName(k.get<std::string>());
      if (!kind) return Json(400, {{"error", "kind is webhook or email"}});
      e.kind = *kind;
    }
    if (body->contains("connection")) {
      const nlohmann::json& c = (*body)["connection"];
      if (!c.is_null() && !c.is_string()) {
        return Json(400, {{"error", "connection is a connection id, or empty for every one"}});
      }
      if (c.is_string()) e.connection_id = c.get<std::string>();
    }
    e.format = e.kind == catalog::AlertKind::kEmail ? catalog::AlertFormat::kEmail
                                                    : catalog::AlertFormat::kCloudEvents;
    if (auto bad = Apply(*body, e, /*creating=*/true)) return std::move(*bad);
    auto made = alerts::CreateEndpoint(ctx_.catalog, e, ctx_.clock);
    if (!made.ok()) return ErrorResponse(made.status());
    nlohmann::json out = {{"endpoint", EndpointJson(made->endpoint)}};
    if (!made->secret.empty()) out["secret"] = made->secret.reveal();
    return Json(201, out);
  }

  // GET /api/v1/alerts/endpoints/{id}
  http::Response Show(const ApiCall& call) {
    if (auto bad = NoQuery(call.query)) return std::move(*bad);
    http::Response error;
    auto e = Find(call.param("id"), &error);
    if (!e) return error;
    return Json(200, EndpointJson(*e));
  }

  // PATCH /api/v1/alerts/endpoints/{id}: the members given.
  http::Response Change(const ApiCall& call) {
    if (auto bad = NoQuery(call.query)) return std::move(*bad);
    http::Response error;
    auto body = BodyObject(call, &error);
    if (!body) return error;
    auto e = Find(call.param("id"), &error);
    if (!e) return error;
    if (auto bad = Apply(*body, *e, /*creating=*/false)) return std::move(*bad);
    Status st = alerts::UpdateEndpoint(ctx_.catalog, *e);
    if (!st.ok()) return ErrorResponse(st);
    e = Find(e->id, &error);
    if (!e) return error;
    return Json(200, EndpointJson(*e));
  }

  // DELETE /api/v1/alerts/endpoints/{id}: with its delivery log.
  http::Response Delete(const ApiCall& call) {
    if (auto bad = NoQuery(call.query)) return std::move(*bad);
    const std::string& id = call.param("id");
    Status st = ctx_.catalog.DeleteAlertEndpoint(id);
    if (!st.ok()) return ErrorResponse(st);
    return Json(200, {{"id", id}, {"message", "Alert endpoint " + id + " removed."}});
  }

  // POST /api/v1/alerts/endpoints/{id}/test: a ping event to it.
  http::Response Test(const ApiCall& call) {
    if (auto bad = NoQuery(call.query)) return std::move(*bad);
    auto id = alerts::SendTest(ctx_.catalog, call.param("id"), ctx_.clock);
    if (!id.ok()) return ErrorResponse(id.status());
    if (ctx_.options.alerts != nullptr) ctx_.options.alerts->Notify();
    return DeliveryAnswer(*id, 202);
  }

  // GET /api/v1/alerts/deliveries?endpoint=ID&before=MICROS&limit=N: newest first.
  http::Response Deliveries(const ApiCall& call) {
    std::string endpoint;
    int64_t before = 0;
    int64_t limit = kDefaultDeliveryPage;
    for (const auto& [name, value] : AdminQuery(call.query)) {
      const std::optional<int64_t> number = Decimal(value);
      if (name == "endpoint" && value.starts_with("ep_") && value.size() < 64) {
        endpoint = value;
      } else if (name == "before" && number.value_or(0) > 0) {
        before = *number;
      } else if (name == "limit" && number.value_or(0) > 0) {
        limit = std::min(*number, static_cast<int64_t>(catalog::kMaxDeliveryPage));
      } else {
        return BadQuery(name, "endpoint=<endpoint id>, before=<micros> and limit=<1.." +
                                  std::to_string(catalog::kMaxDeliveryPage) + ">");
      }
    }
    // One more than asked tells whether a next page exists.
    auto page = ctx_.catalog.ListDeliveries(endpoint, before, static_cast<size_t>(limit) + 1);
    if (!page.ok()) return ErrorResponse(page.status());
    const bool more = page->size() > static_cast<size_t>(limit);
    if (more) page->resize(static_cast<size_t>(limit));
    nlohmann::json out = nlohmann::json::array();
    for (const auto& d : *page) out.push_back(DeliveryJson(d));
    http::Response r = Json(200, out);
    // The next page holds the events before the last one's time (events of one microsecond
    // beyond a page's end are rare, and a bound that cannot repeat a page cannot loop).
    if (more) {
      AddNextLink(r, "/api/v1/alerts/deliveries?" +
                         (endpoint.empty() ? std::string() : "endpoint=" + endpoint + "&") +
                         "before=" + std::to_string(page->back().event.time) +
                         "&limit=" + std::to_string(limit));
    }
    return r;
  }

  // POST /api/v1/alerts/deliveries/{id}/redeliver: again from the first attempt.
  http::Response Redeliver(const ApiCall& call) {
    if (auto bad = NoQuery(call.query)) return std::move(*bad);
    const std::string& id = call.param("id");
    Status st = ctx_.catalog.Redeliver(id, ctx_.clock.NowMicros());
    if (!st.ok()) return ErrorResponse(st);
    if (ctx_.options.alerts != nullptr) ctx_.options.alerts->Notify();
    return DeliveryAnswer(id, 200);
  }

 private:
  std::optional<catalog::AlertEndpoint> Find(const std::string& id, http::Response* error) {
    auto e = ctx_.catalog.GetAlertEndpoint(id);
    if (!e.ok()) {
      *error = ErrorResponse(e.status());
      return std::nullopt;
    }
    if (!e->has_value()) {
      *error = ErrorResponse(Err(ErrorCode::kNotFound, "no alert endpoint '" + id + "'"));
      return std::nullopt;
    }
    return std::move(**e);
  }

  http::Response DeliveryAnswer(const std::string& id, int status) {
    auto d = ctx_.catalog.GetDelivery(id);
    if (!d.ok()) return ErrorResponse(d.status());
    if (!d->has_value()) return ErrorResponse(Err(ErrorCode::kNotFound, "no delivery " + id));
    return Json(status, DeliveryJson(**d));
  }

  // The members of `body` that set an endpoint's fields; 400 for a member of the wrong type or
  // one that is not a field (kind and connection only when creating).
  static std::optional<http::Response> Apply(const nlohmann::json& body, catalog::AlertEndpoint& e,
                                             bool creating) {
    for (const auto& item : body.items()) {
      const std::string& name = item.key();
      const nlohmann::json& v = item.value();
      const auto bad = [&](const std::string& what) {
        return std::optional<http::Response>(Json(400, {{"error", name + " is " + what}}));
      };
      if (name == "kind" || name == "connection") {
        if (!creating) return bad("set when the endpoint is created, not changed");
      } else if (name == "name" || name == "target" || name == "digest") {
        if (!v.is_string()) return bad("a string");
        (name == "name" ? e.name : name == "target" ? e.target : e.digest) = v.get<std::string>();
      } else if (name == "format") {
        std::optional<catalog::AlertFormat> f;
        if (v.is_string()) f = catalog::AlertFormatFromName(v.get<std::string>());
        if (!f) return bad("cloudevents or slack (webhooks), email (e-mail)");
        e.format = *f;
      } else if (name == "events") {
        if (!v.is_array()) return bad("an array of event types");
        e.events.clear();
        for (const auto& t : v) {
          if (!t.is_string()) return bad("an array of event types");
          e.events.push_back(t.get<std::string>());
        }
      } else if (name == "lag_age_seconds" || name == "lag_files" || name == "idle_hours") {
        if (!v.is_number_unsigned()) return bad("a whole number, 0 or more");
        (name == "lag_age_seconds" ? e.lag_age_seconds
         : name == "lag_files"     ? e.lag_files
                                   : e.idle_hours) = v.get<int64_t>();
      } else if (name == "enabled") {
        if (!v.is_boolean()) return bad("true or false");
        e.enabled = v.get<bool>();
        if (e.enabled) e.disabled_reason.clear();
      } else {
        return Json(400, {{"error", "unknown member \"" + name + "\""}});
      }
    }
    if (creating && (e.name.empty() || e.target.empty())) {
      return Json(400, {{"error", "\"name\" and \"target\" (strings) are required"}});
    }
    return std::nullopt;
  }

  AdminContext& ctx_;
};

}  // namespace

std::vector<Endpoint> AlertRoutes(AdminContext& ctx) {
  auto api = std::make_shared<AlertsApi>(ctx);
  const ApiParam id{"id", "string", "the endpoint's id", false, "ep_0123456789abcdef"};
  std::vector<Endpoint> routes;
  routes.push_back({{.method = "GET",
                     .path = "/api/v1/alerts/endpoints",
                     .summary = "List alert endpoints",
                     .description = "Webhooks and e-mail recipients, with what they receive.",
                     .schema = "AlertEndpoint",
                     .array = true},
                    [api](const ApiCall& c) { return api->List(c); }});
  routes.push_back(
      {{.method = "POST",
        .path = "/api/v1/alerts/endpoints",
        .summary = "Add an alert endpoint",
        .description =
            "A webhook (CloudEvents 1.0 JSON signed the Standard Webhooks way, or Slack's "
            "format) or e-mail recipients, for one connection or all, with the events it "
            "receives and its thresholds and digest schedule. A webhook's signing secret is in "
            "this answer only.",
        .request = "NewAlertEndpoint",
        .status = 201,
        .schema = "CreatedAlertEndpoint"},
       [api](const ApiCall& c) { return api->Create(c); }});
  routes.push_back({{.method = "GET",
                     .path = "/api/v1/alerts/endpoints/{id}",
                     .summary = "One alert endpoint",
                     .path_params = {id},
                     .schema = "AlertEndpoint"},
                    [api](const ApiCall& c) { return api->Show(c); }});
  routes.push_back(
      {{.method = "PATCH",
        .path = "/api/v1/alerts/endpoints/{id}",
        .summary = "Change an alert endpoint",
        .description = "The members given; `enabled: true` turns on an endpoint that was "
                       "disabled (by an admin, or by its target answering 410 Gone), and its "
                       "waiting deliveries go out.",
        .path_params = {id},
        .request = "AlertEndpointChange",
        .schema = "AlertEndpoint"},
       [api](const ApiCall& c) { return api->Change(c); }});
  routes.push_back({{.method = "DELETE",
                     .path = "/api/v1/alerts/endpoints/{id}",
                     .summary = "Remove an alert endpoint",
                     .description = "With its delivery log and waiting deliveries.",
                     .path_params = {id}},
                    [api](const ApiCall& c) { return api->Delete(c); }});
  routes.push_back({{.method = "POST",
                     .path = "/api/v1/alerts/endpoints/{id}/test",
                     .summary = "Send a test alert",
                     .description = "Queues a `ping` event to the endpoint; its delivery shows "
                                    "in the log.",
                     .path_params = {id},
                     .status = 202,
                     .schema = "AlertDelivery"},
                    [api](const ApiCall& c) { return api->Test(c); }});
  routes.push_back(
      {{.method = "GET",
        .path = "/api/v1/alerts/deliveries",
        .summary = "The delivery log",
        .description = "Deliveries newest first: the event, the attempts, the target's last "
                       "answer. Delivered and failed ones are kept 30 days.",
        .query = {{"endpoint", "string", "only this endpoint's", false, "ep_0123456789abcdef"},
                  {"before", "integer", "only events before this time (micros)"},
                  {"limit", "integer",
                   "entries per page, 1.." + std::to_string(catalog::kMaxDeliveryPage)}},
        .schema = "AlertDelivery",
        .array = true,
        .paged = true},
       [api](const ApiCall& c) { return api->Deliveries(c); }});
  routes.push_back({{.method = "POST",
                     .path = "/api/v1/alerts/deliveries/{id}/redeliver",
                     .summary = "Redeliver",
                     .description = "Sends the delivery again from its first attempt, whatever "
                                    "became of it.",
                     .path_params = {{"id", "string", "the delivery's id"}},
                     .schema = "AlertDelivery"},
                    [api](const ApiCall& c) { return api->Redeliver(c); }});
  return routes;
}

}  // namespace sluice::api
