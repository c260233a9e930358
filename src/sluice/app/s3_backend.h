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
  // The operations of the S3-compatibility cut; until it lands they answer 501.
  Status CreateBucket(const s3::Identity&, const std::string&) override { return NotBuilt(); }
  Status DeleteBucket(const s3::Identity&, const std::string&) override { return NotBuilt(); }
  Result<s3::ObjectData> GetObject(const s3::Identity&, const std::string&, const std::string&,
                                   bool) override {
    return NotBuilt();
  }
  Result<s3::ListPage> ListObjects(const s3::Identity&, const std::string&,
                                   const s3::ListQuery&) override {
    return NotBuilt();
  }
  Status DeleteObject(const s3::Identity&, const std::string&, const std::string&) override {
    return NotBuilt();
  }
  Result<std::string> CreateMultipartUpload(const s3::Identity&, const s3::PutRequest&) override {
    return NotBuilt();
  }
  Result<std::unique_ptr<s3::ObjectSink>> BeginUploadPart(const s3::Identity&, const std::string&,
                                                          const std::string&, const std::string&,
                                                          int) override {
    return NotBuilt();
  }
  Result<s3::CompleteResult> CompleteMultipartUpload(
      const s3::Identity&, const std::string&, const std::string&, const std::string&,
      const std::vector<s3::CompletedPart>&) override {
    return NotBuilt();
  }
  Status AbortMultipartUpload(const s3::Identity&, const std::string&, const std::string&,
                              const std::string&) override {
    return NotBuilt();
  }
  Result<std::vector<s3::PartInfo>> ListParts(const s3::Identity&, const std::string&,
                                              const std::string&, const std::string&) override {
    return NotBuilt();
  }
  Result<std::vector<s3::UploadInfo>> ListMultipartUploads(const s3::Identity&, const std::string&,
                                                           const std::string&) override {
    return NotBuilt();
  }
  static Status NotBuilt() { return Err(ErrorCode::kNotImplemented, "not built yet"); }

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
