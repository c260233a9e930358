#pragma once
// Private to store: what the single-PUT and multipart paths of StoreBackend share.

#include <string>
#include <utility>
#include <vector>

#include "sluice/catalog/catalog.h"
#include "sluice/s3/s3.h"
#include "sluice/store/quota.h"

namespace sluice::store {

// What happens to a file once it is durable, decided before its body is read (at PUT or at
// CreateMultipartUpload) from the table configuration and the connection's policy.
struct Disposition {
  catalog::FileStatus status = catalog::FileStatus::kQueued;
  Status error;  // for a file recorded failed (hold) or skipped (store)
};
// kAccessDenied (naming the missing table) under the `refuse` policy.
Result<Disposition> DispositionFor(catalog::Catalog& catalog, const std::string& bucket,
                                   const std::string& key);

// x-amz-meta-* pairs as the JSON object the ledger stores, and back.
std::string MetadataJson(const std::vector<std::pair<std::string, std::string>>& metadata);
std::vector<std::pair<std::string, std::string>> MetadataFromJson(const std::string& json);

// The x-amz-meta-sluice-* headers describing a file's ingestion.
http::HeaderList StatusHeaders(const catalog::FileRecord& file);

// Verified checksums (algorithm, value as sent) as the ledger's JSON object.
std::string ChecksumsJson(const std::vector<std::pair<std::string, std::string>>& checksums);

struct BackendOptions;
// A file entered the ledger: counts it as received, and as pending when it was queued.
void NoteAccepted(const BackendOptions& options, const catalog::FileRecord& file);
// Backpressure's verdict for a new upload into `connection` (OK without backpressure).
Status AdmitUpload(const BackendOptions& options, const std::string& connection);
// The disk quota's charge for an upload of `bytes` (its declared length) into `connection`,
// taken before the body is read: kQuotaExceeded when it does not fit. An empty reservation
// when the backend has no quota.
Result<QuotaReservation> ReserveDisk(catalog::Catalog& catalog, const BackendOptions& options,
                                     const std::string& connection, uint64_t bytes);
// Moves the quota's count for bytes landed or removed outside a reservation (no-ops without a
// quota).
// Charges the body bytes past the declared length (`*appended` counts what arrived so far).
Status ChargeBeyondDeclared(QuotaReservation& reservation, uint64_t* appended, uint64_t more);
void DiskAdded(const BackendOptions& options, const std::string& connection, uint64_t bytes);
void DiskRemoved(const BackendOptions& options, const std::string& connection, uint64_t bytes);

}  // namespace sluice::store
