#pragma once
// Private to store: what the single-PUT and multipart paths of StoreBackend share.

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "sluice/catalog/catalog.h"
#include "sluice/landing/landing.h"
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

// What the PUT and UploadPart sinks share: the body goes to a landing file, charged to the
// connection's quota reservation (its declared length up front, bytes past it as they arrive).
// Abort drops the file and gives the bytes back.
class ReservedSink : public s3::ObjectSink {
 public:
  ReservedSink(std::unique_ptr<landing::Incoming> incoming, QuotaReservation reservation)
      : incoming_(std::move(incoming)), reservation_(std::move(reservation)) {}

  Status Append(ByteView data) final;
  void Abort() final;

 protected:
  std::unique_ptr<landing::Incoming> incoming_;
  QuotaReservation reservation_;  // released by the destructor unless Keep() was called

 private:
  uint64_t appended_ = 0;  // body bytes so far
};

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
void DiskAdded(const BackendOptions& options, const std::string& connection, uint64_t bytes);
void DiskRemoved(const BackendOptions& options, const std::string& connection, uint64_t bytes);

}  // namespace sluice::store
