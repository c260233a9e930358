#pragma once
// The S3 backend over the catalog, the landing store and the loader: where a PUT becomes a
// durable file and a ledger entry.

#include "sluice/catalog/catalog.h"
#include "sluice/landing/landing.h"
#include "sluice/load/load.h"
#include "sluice/s3/s3.h"

namespace sluice::app {

class StoreBackend final : public s3::Backend {
 public:
  // All references must outlive the backend.
  StoreBackend(catalog::Catalog& catalog, landing::Store& store, load::Loader& loader,
               const Clock& clock)
      : catalog_(catalog), store_(store), loader_(loader), clock_(clock) {}

  Result<std::pair<Secret, std::string>> LookupKey(const AccessKeyId& key) override;
  Result<std::vector<s3::BucketInfo>> ListBuckets(const s3::Identity& who) override;
  Status CheckBucket(const s3::Identity& who, const std::string& bucket) override;
  Result<std::unique_ptr<s3::ObjectSink>> BeginPut(const s3::Identity& who,
                                                   const s3::PutRequest& request) override;

 private:
  catalog::Catalog& catalog_;
  landing::Store& store_;
  load::Loader& loader_;
  const Clock& clock_;
};

// The table a key belongs to: its first path segment ("orders/2024/a.parquet" -> "orders");
// empty when the key has no '/'.
std::string TableOfKey(const std::string& key);

}  // namespace sluice::app
