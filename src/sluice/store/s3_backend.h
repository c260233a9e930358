#pragma once
// The S3 backend over the catalog, the landing store and the loader: where a PUT becomes a
// durable file and a ledger entry, and where S3 reads, listings, deletes, multipart uploads
// and buckets meet the ledger.
//
// Objects are the ledger's files: a key's object is its newest file unless deleted. Deleting
// marks the key's files in the ledger; the landed bytes of files already loaded or skipped are
// removed, those of queued, loading or failed files stay (a failed file can still be retried).
// A deleted file still loads in its place in the queue; rows already loaded are never touched.
//
// Buckets are connections. An account key (empty connection) reaches every bucket, may create
// one (a connection named as the bucket, `hold` policy, no key of its own) and delete an empty
// one: no table configured, no visible object, no multipart upload in progress, no file queued
// or loading (catalog::Catalog::DeleteConnection).
//
// Multipart uploads keep their parts under landing/uploads/<upload id>/ and their bookkeeping
// in the catalog. Uploads untouched for `upload_expiry` are aborted by ReapExpiredUploads,
// which the app calls periodically; completed uploads are remembered as long, so that a
// repeated Complete answers the same.
//
// Thread-safety: safe to share between I/O threads. Concurrent re-sends of one part are
// serialised so that the part on disk and its recorded MD5 come from the same request; a part
// re-sent while its upload is being completed is a client error with an unspecified outcome.

#include <map>
#include <memory>
#include <mutex>

#include "sluice/catalog/catalog.h"
#include "sluice/core/mutex.h"
#include "sluice/landing/landing.h"
#include "sluice/load/load.h"
#include "sluice/s3/s3.h"
#include "sluice/store/key_usage.h"

namespace sluice::store {

class Backpressure;
class DiskQuota;
class LoadWaits;
class UploadObserver;

struct BackendOptions {
  // Multipart uploads with no new part for this long are aborted; completed uploads are
  // remembered (idempotent Complete) this long.
  int64_t upload_expiry_micros = int64_t{24} * 3600 * 1'000'000;
  // Flow control (flow.h) and counters (upload_observer.h); each may be null (off). They must
  // outlive the backend. Backpressure is asked before PutObject, UploadPart and
  // CreateMultipartUpload read anything; waits hold the responses of PUTs and Completes carrying
  // x-amz-meta-sluice-wait (without `waits` the header is validated and ignored).
  Backpressure* backpressure = nullptr;
  LoadWaits* waits = nullptr;
  UploadObserver* metrics = nullptr;
  // The per-connection disk quota (quota.h), or null (off). PutObject and UploadPart reserve
  // their declared length before reading the body; every change the backend makes to what a
  // connection keeps on disk moves its count.
  DiskQuota* quota = nullptr;
};

// One mutex per name, created on demand and dropped when unused. The per-name mutexes stay
// plain std::mutex: the lock is named at run time and its Guard is returned by value, which
// the static analysis (core/thread_annotations.h) cannot follow; the map is annotated.
class KeyedLocks {
 public:
  class Guard {
   public:
    explicit Guard(std::shared_ptr<std::mutex> mu) : mu_(std::move(mu)), lock_(*mu_) {}

   private:
    std::shared_ptr<std::mutex> mu_;
    std::unique_lock<std::mutex> lock_;
  };
  Guard Lock(const std::string& name) EXCLUDES(mu_);

 private:
  Mutex mu_;
  std::map<std::string, std::weak_ptr<std::mutex>> locks_ GUARDED_BY(mu_);
};

class StoreBackend final : public s3::Backend {
 public:
  // All references must outlive the backend.
  StoreBackend(catalog::Catalog& catalog, landing::Store& store, load::Loader& loader,
               const Clock& clock, BackendOptions options = {})
      : catalog_(catalog), store_(store), loader_(loader), clock_(clock), options_(options) {}

  Result<std::pair<Secret, std::string>> LookupKey(const AccessKeyId& key) override;
  void NoteKeyUsed(const AccessKeyId& key) override { key_usage_.Note(key); }
  Result<std::vector<s3::BucketInfo>> ListBuckets(const s3::Identity& who) override;
  Status CheckBucket(const s3::Identity& who, const std::string& bucket) override;
  Result<std::unique_ptr<s3::ObjectSink>> BeginPut(const s3::Identity& who,
                                                   const s3::PutRequest& request) override;
  Status CreateBucket(const s3::Identity& who, const std::string& bucket) override;
  Status DeleteBucket(const s3::Identity& who, const std::string& bucket) override;
  // Deletes an empty connection (catalog::Connections::DeleteConnection: kBucketNotEmpty
  // unless empty, kNotFound when absent) and the landed bytes of its deleted objects, and
  // forgets its disk usage. DeleteBucket and the admin API call it; `via` says which in the log.
  Status DeleteConnection(const std::string& id, std::string_view via);
  Result<s3::ObjectData> GetObject(const s3::Identity& who, const std::string& bucket,
                                   const std::string& key, bool with_body) override;
  Result<s3::ListPage> ListObjects(const s3::Identity& who, const std::string& bucket,
                                   const s3::ListQuery& query) override;
  Result<s3::DeleteOutcome> DeleteObject(const s3::Identity& who, const std::string& bucket,
                                         const std::string& key) override;
  // Versions are the ledger's files (catalog::FileVersion): a file's version id is its seq in
  // decimal; the delete marker of a key whose newest file was deleted with the key is
  // "<that file's seq>.del" (no seq has a '.', so the two never collide). The marker's
  // LastModified is its file's: the ledger keeps no time of the delete.
  Result<s3::ObjectData> GetObjectVersion(const s3::Identity& who, const std::string& bucket,
                                          const std::string& key, const std::string& version_id,
                                          bool with_body) override;
  Result<s3::VersionPage> ListObjectVersions(const s3::Identity& who, const std::string& bucket,
                                             const s3::VersionQuery& query) override;
  // A version: marked deleted as one (its load goes on; rows it loaded stay in the pool), its
  // bytes removed as DeleteObject removes them. The newest file's: the key then reads as
  // deleted, with no delete marker (a key's object is its newest file: there is no older one
  // to fall back to). The delete marker: the key's newest file is its object again when its
  // bytes are stored (catalog::Ledger::RemoveDeleteMarker); when the delete removed them, the
  // marker goes and the key stays without an object.
  Result<s3::DeleteOutcome> DeleteObjectVersion(const s3::Identity& who, const std::string& bucket,
                                                const std::string& key,
                                                const std::string& version_id) override;

  Result<std::string> CreateMultipartUpload(const s3::Identity& who,
                                            const s3::PutRequest& request) override;
  Result<std::unique_ptr<s3::ObjectSink>> BeginUploadPart(const s3::Identity& who,
                                                          const std::string& bucket,
                                                          const std::string& key,
                                                          const std::string& upload_id,
                                                          int part_number, uint64_t size) override;
  Result<s3::CompleteResult> CompleteMultipartUpload(
      const s3::Identity& who, const std::string& bucket, const std::string& key,
      const std::string& upload_id, const std::vector<s3::CompletedPart>& parts,
      const s3::WriteCondition& condition = {}, const s3::Checksum& sent = {}) override;
  Status AbortMultipartUpload(const s3::Identity& who, const std::string& bucket,
                              const std::string& key, const std::string& upload_id) override;
  Result<std::vector<s3::PartInfo>> ListParts(const s3::Identity& who, const std::string& bucket,
                                              const std::string& key, const std::string& upload_id,
                                              const s3::PartQuery& query) override;
  Result<std::vector<s3::UploadInfo>> ListMultipartUploads(const s3::Identity& who,
                                                           const std::string& bucket,
                                                           const s3::UploadQuery& query) override;

  // Aborts the uploads untouched for longer than the expiry (and upload directories the
  // catalog no longer knows), and forgets completed uploads as old. Returns how many uploads
  // it aborted.
  Result<int> ReapExpiredUploads();
  // Retention: removes the landed bytes of files loaded or skipped more than `retention_micros`
  // ago and records them purged in the ledger (they leave S3 reads and listings; the ledger
  // keeps them). Failed, queued and loading files are never purged. Bytes are removed before
  // the ledger says so, so a crash in between only repeats the removal. Returns how many.
  Result<int> PurgeRetained(int64_t retention_micros);

 private:
  // The upload `upload_id` if it exists and belongs to bucket/key; kNoSuchUpload otherwise.
  Result<catalog::UploadRecord> UploadOf(const std::string& bucket, const std::string& key,
                                         const std::string& upload_id);
  // Removes an upload's parts from disk; a failure is logged (the reaper retries).
  void RemoveUploadFiles(const std::string& upload_id);
  // Removes the landed bytes of a file just deleted (with its key or as a version) when its
  // load is over (loaded or skipped; queued and loading files are still to be read by the
  // loader, failed ones by a retry) and records them purged; a failure is logged.
  void RemoveDeletedBytes(const catalog::FileRecord& f);

  catalog::Catalog& catalog_;
  landing::Store& store_;
  load::Loader& loader_;
  const Clock& clock_;
  BackendOptions options_;
  KeyedLocks upload_locks_;  // by upload id (Complete, Abort, expiry) and by upload/part
  KeyUsage key_usage_{catalog_, clock_};  // flushed when the backend is destroyed
};

// The table a key belongs to: its first path segment ("orders/2024/a.parquet" -> "orders");
// empty when the key has no '/'.
std::string TableOfKey(const std::string& key);

// Removes landed objects that no ledger entry names: the process died between the landing
// rename and the ledger commit of a PUT (BeginPut's sink), so it was never acknowledged. Call
// it at start, before the listeners open (no upload of this process can be between the two
// steps) and while serve.lock is held (no other server of this data directory can be). When the
// ledger is shared (catalog::Ledger::Shared: other nodes land into the same store and may be
// between the two steps right now), objects committed less than kSharedOrphanAge ago are left
// for a later start. The cost is the catalog's pass over the ledger's landed ids, once.
inline constexpr int64_t kSharedOrphanAgeMicros = int64_t{3600} * 1'000'000;
Status RemoveUnrecordedObjects(catalog::Catalog& catalog, landing::Store& store,
                               const Clock& clock);

}  // namespace sluice::store
