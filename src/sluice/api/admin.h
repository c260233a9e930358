#pragma once
// The admin side: health, Prometheus metrics and the first read-only REST endpoints under
// /api/v1 (Bearer admin token), described by the OpenAPI 3 document /api/v1/openapi.json
// (open, like /healthz), which is written from the same route table the handler dispatches by
// (routes_internal.h). Writes so far: a file's retry and skip (POST), through the service
// layer the CLI calls too (sluice/service). The web UI and the other write endpoints are
// later cuts; the CLI manages the data directory directly meanwhile.

#include <memory>
#include <string>

#include "sluice/api/metrics.h"
#include "sluice/catalog/catalog.h"
#include "sluice/http/http.h"
#include "sluice/landing/landing.h"

namespace sluice::api {

struct AdminOptions {
  // /metrics answers 401 unless the request carries the admin token as a Bearer credential
  // (Prometheus: `authorization: {credentials_file: <data-dir>/admin.token}`). Off, /metrics
  // is open like /healthz: bind the admin port to a trusted address.
  bool metrics_token = false;
  // Where the landed files are: GET .../files/{seq}/content streams one from it. Null: that
  // route answers 501.
  const landing::Store* landing = nullptr;
};

// `catalog`, `metrics` and `clock` must outlive the handler. `token` is compared in constant
// time and never logged. /metrics is metrics.Render (Prometheus text format); /api/v1 listings
// are paged (at most catalog::kMaxListPage entries, bounded work per page).
std::unique_ptr<http::Handler> MakeAdminHandler(catalog::Catalog& catalog, Secret token,
                                                Metrics& metrics, const Clock& clock,
                                                AdminOptions options = {});

}  // namespace sluice::api
