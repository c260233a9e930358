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

// What the ledger's metadata_json keeps of an upload: its x-amz-meta-* pairs and its stored
// standard headers (s3::StoredHeaders: no x-amz-meta- prefix, so the names cannot collide) as
// one JSON object; and back, every pair, and split into the two kinds.
std::string MetadataJson(const s3::PutRequest& request);
std::vector<std::pair<std::string, std::string>> MetadataFromJson(const std::string& json);
void SplitMetadata(const std::string& json, s3::StoredHeaders* headers,
                   std::vector<std::pair<std::string, std::string>>* user_metadata);

// S3's conditional write as the catalog checks it.
catalog::WriteCondition LedgerCondition(const s3::WriteCondition& condition);
// The condition checked before the body is read, against the key's visible object now.
Status CheckConditionNow(catalog::Catalog& catalog, const std::string& bucket,
                         const std::string& key, const s3::WriteCondition& condition);
// A failed ledger append as the client is told: a broken condition as S3 answers it (it held
// before the body, CheckConditionNow, so an If-Match key that is gone now was deleted
// meanwhile: kConditionalRequestConflict), any other failure with `context`.
Status AppendFailure(const Status& append, const catalog::WriteCondition& condition,
                     const std::string& context);

// The x-amz-meta-sluice-* headers describing a file's ingestion.
http::HeaderList StatusHeaders(const catalog::FileRecord& file);

// Verified checksums (algorithm, value as sent) as the ledger's JSON object.
std::string ChecksumsJson(const std::vector<std::pair<std::string, std::string>>& checksums);
// A multipart object's checksum as the ledger's JSON object, with its type
// (catalog::FileRecord::checksums_json; "{}" for none); and the object checksum a ledger
// entry's JSON holds (a single PUT's is FULL_OBJECT; an empty algorithm: none).
std::string ChecksumJson(const s3::Checksum& checksum);
s3::Checksum ChecksumFromJson(const std::string& json);

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
