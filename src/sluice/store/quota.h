#pragma once
// The per-connection disk quota (part of store.h). Every connection shares the data directory's
// disk; a quota bounds what one connection keeps there, so that it cannot fill the disk for
// the others.
//
// What counts (catalog::Catalog::StoredBytesByConnection): the landed files whose bytes are
// stored (queued, loading, failed, held, stored as plain objects by the `store` policy, and
// loaded or skipped files until retention purges them or a delete removes them), the parts of
// multipart uploads in progress, and the bodies of uploads in flight. An upload is charged its
// declared length (Content-Length, or x-amz-decoded-content-length for aws-chunked) before its
// body is read, so a PUT or UploadPart that would go over is refused (kQuotaExceeded, 403
// QuotaExceeded) with nothing written; bytes beyond the declared length (a body sent chunked
// without one declares none; for any other the S3 layer refuses them) are charged as they
// arrive. CompleteMultipartUpload is never refused: the
// object it assembles replaces the parts, so the count does not grow (the copy made during
// assembly, while both exist, is not charged: the free-disk floor of backpressure covers it).
//
// Cost: no ledger scan per request. The counts are kept in memory, loaded at start by one
// grouped query (Load), and moved by the backend at each change it makes: a file landed, a part
// recorded (a re-sent part replaces the earlier one's count), an upload completed, aborted or
// expired, a finished file deleted, retention's purge, a bucket deleted. Only the server
// removes landed bytes (the CLI never does), so the counts stay exact while it runs; Load
// corrects them at each start.
//
// The quota of a connection is its own (catalog::Connection::quota_bytes, set by `sluice
// connection set-quota`) or else the server's default (--connection-quota); 0 is no quota. The
// backend reads the connection's record on each upload, so a change made with the CLI holds
// from the next upload on.
//
// Thread-safety: every member is safe to call from any thread (one mutex around the counts).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sluice/catalog/catalog.h"
#include "sluice/core/mutex.h"

namespace sluice::store {

// "1.5 GiB (1610612736 bytes)", "512 bytes": a byte count for messages, with its exact value.
std::string DescribeBytes(uint64_t bytes);

class DiskQuota;

// Bytes an upload in flight holds against its connection's quota. Moves only; released when
// destroyed unless Keep() was called (the bytes were landed and now count as stored).
class QuotaReservation {
 public:
  QuotaReservation() = default;
  QuotaReservation(QuotaReservation&& other) noexcept { *this = std::move(other); }
  QuotaReservation& operator=(QuotaReservation&& other) noexcept;
  ~QuotaReservation() { Release(); }

  // Charges more bytes (a body longer than it declared): kQuotaExceeded when they do not fit.
  Status Grow(uint64_t more);
  // The upload landed `bytes` (its actual size): the reservation becomes stored bytes.
  void Keep(uint64_t bytes);
  // Gives the bytes back now (an aborted upload).
  void Release();
  uint64_t bytes() const { return bytes_; }

 private:
  friend class DiskQuota;
  QuotaReservation(DiskQuota* quota, std::string connection, uint64_t quota_bytes, uint64_t bytes)
      : quota_(quota),
        connection_(std::move(connection)),
        quota_bytes_(quota_bytes),
        bytes_(bytes) {}

  DiskQuota* quota_ = nullptr;  // null: nothing held (moved from, kept or released)
  std::string connection_;
  uint64_t quota_bytes_ = 0;
  uint64_t bytes_ = 0;
};

class DiskQuota {
 public:
  // `default_bytes`: the quota of a connection without its own (--connection-quota); 0: none.
  explicit DiskQuota(uint64_t default_bytes) : default_bytes_(default_bytes) {}
  DiskQuota(const DiskQuota&) = delete;
  DiskQuota& operator=(const DiskQuota&) = delete;

  // Replaces the counts with the catalog's (one grouped query); call before serving.
  Status Load(catalog::Ledger& catalog);

  // The quota that applies to `connection` (0: none).
  uint64_t QuotaOf(const catalog::Connection& connection) const {
    return connection.quota_bytes.value_or(default_bytes_);
  }
  uint64_t default_bytes() const { return default_bytes_; }

  // Charges an upload of `bytes` to the connection before its body is read: kQuotaExceeded,
  // naming the connection, its usage, the upload and the quota, when it would go over.
  Result<QuotaReservation> Reserve(const catalog::Connection& connection, uint64_t bytes);
  // Bytes landed or removed outside a reservation (an assembled object, removed parts or
  // files). Removing more than is counted stops at 0.
  void Add(const std::string& connection, uint64_t bytes);
  void Remove(const std::string& connection, uint64_t bytes);
  // The connection is gone (DeleteBucket).
  void Forget(const std::string& connection);

  // The bytes counted for the connection: stored plus in flight.
  uint64_t UsageOf(const std::string& connection);
  // Every connection with a count, by id.
  std::vector<std::pair<std::string, uint64_t>> Usage();

 private:
  friend class QuotaReservation;
  // kQuotaExceeded when `more` bytes do not fit under `quota_bytes`; else charges them.
  Status Charge(const std::string& connection, uint64_t quota_bytes, uint64_t more) EXCLUDES(mu_);

  const uint64_t default_bytes_;
  Mutex mu_;
  std::map<std::string, uint64_t> used_ GUARDED_BY(mu_);
};

}  // namespace sluice::store
