#pragma once
// The admin side: health, Prometheus metrics and the REST API under /api/v1 (Bearer admin
// token), described by the OpenAPI 3 document /api/v1/openapi.json (open, like /healthz),
// which is written from the same route table the handler dispatches by (routes_internal.h):
// connections, credentials, tables (with a preview of what a configuration derives), the file
// ledger with retry, skip and download, open errors, schema history, a read-only SQL console
// and live status. What the CLI does too goes through the service layer it calls
// (sluice/service), so that the two cannot drift. Bodies are JSON (at most 1 MiB); answers
// are JSON, never cached.

#include <memory>
#include <string>

#include "sluice/alerts/alerts.h"
#include "sluice/api/metrics.h"
#include "sluice/catalog/catalog.h"
#include "sluice/http/http.h"
#include "sluice/landing/landing.h"
#include "sluice/pool/pool.h"
#include "sluice/store/s3_backend.h"

namespace sluice::api {

struct AdminOptions {
  // /metrics answers 401 unless the request carries the admin token as a Bearer credential
  // (Prometheus: `authorization: {credentials_file: <data-dir>/admin.token}`). Off, /metrics
  // is open like /healthz: bind the admin port to a trusted address.
  bool metrics_token = false;
  // Where the landed files are: GET .../files/{seq}/content streams one from it. Null: that
  // route answers 501.
  const landing::Store* landing = nullptr;
  // The pool, for schema history and the SQL console; null: those routes answer 501.
  pool::Pool* pool = nullptr;
  // Deletes connections (with their landed bytes and disk usage); null: DELETE answers 501.
  store::StoreBackend* backend = nullptr;
  // Sends alerts; told when a test or a redelivery is queued so that it goes at once. Null:
  // they go at the next poll (of this node or another).
  alerts::Dispatcher* alerts = nullptr;
  // What new credentials are shown with, for clients to paste.
  std::string s3_endpoint = "http://127.0.0.1:8787";
  std::string region = "us-east-1";
};

// `catalog`, `metrics` and `clock` must outlive the handler. `token` is compared in constant
// time and never logged. /metrics is metrics.Render (Prometheus text format); /api/v1 listings
// are paged (at most catalog::kMaxListPage entries, bounded work per page).
std::unique_ptr<http::Handler> MakeAdminHandler(catalog::Catalog& catalog, Secret token,
                                                Metrics& metrics, const Clock& clock,
                                                AdminOptions options = {});

}  // namespace sluice::api
