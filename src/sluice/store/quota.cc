#include "sluice/store/quota.h"

#include <cstdio>

namespace sluice::store {

std::string DescribeBytes(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
  if (bytes < 1024) return std::to_string(bytes) + (bytes == 1 ? " byte" : " bytes");
  double v = static_cast<double>(bytes);
  int unit = -1;
  while (v >= 1024 && unit + 1 < static_cast<int>(std::size(kUnits))) {
    v /= 1024;
    ++unit;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f %s (%llu bytes)", v, kUnits[unit],
                static_cast<unsigned long long>(bytes));
  return buf;
}

// ---- QuotaReservation ------------------------------------------------------------------------

QuotaReservation& QuotaReservation::operator=(QuotaReservation&& other) noexcept {
  if (this == &other) return *this;
  Release();
  quota_ = other.quota_;
  connection_ = std::move(other.connection_);
  quota_bytes_ = other.quota_bytes_;
  bytes_ = other.bytes_;
  other.quota_ = nullptr;
  other.bytes_ = 0;
  return *this;
}

Status QuotaReservation::Grow(uint64_t more) {
  if (quota_ == nullptr || more == 0) return Status::Ok();
  SLUICE_RETURN_IF_ERROR(quota_->Charge(connection_, quota_bytes_, more));
  bytes_ += more;
  return Status::Ok();
}

void QuotaReservation::Keep(uint64_t bytes) {
  if (quota_ == nullptr) return;
  // The landed size is the declared one (the S3 layer holds the body to it); should they
  // differ, the count follows what is on disk.
  if (bytes > bytes_) quota_->Add(connection_, bytes - bytes_);
  if (bytes < bytes_) quota_->Remove(connection_, bytes_ - bytes);
  quota_ = nullptr;
  bytes_ = 0;
}

void QuotaReservation::Release() {
  if (quota_ == nullptr) return;
  quota_->Remove(connection_, bytes_);
  quota_ = nullptr;
  bytes_ = 0;
}

// ---- DiskQuota -------------------------------------------------------------------------------

Status DiskQuota::Load(catalog::Ledger& catalog) {
  SLUICE_ASSIGN_OR_RETURN(auto stored, catalog.StoredBytesByConnection());
  std::map<std::string, uint64_t> fresh(stored.begin(), stored.end());
  MutexLock lock(&mu_);
  used_ = std::move(fresh);
  return Status::Ok();
}

Status DiskQuota::Charge(const std::string& connection, uint64_t quota_bytes, uint64_t more) {
  MutexLock lock(&mu_);
  uint64_t& used = used_[connection];
  // Written to avoid overflow: used + more > quota.
  if (quota_bytes > 0 && (used > quota_bytes || more > quota_bytes - used)) {
    return Err(ErrorCode::kQuotaExceeded,
               "connection '" + connection + "' would exceed its disk quota: it keeps " +
                   DescribeBytes(used) +
                   " in the data directory (landed files not yet purged, multipart parts, "
                   "uploads in progress) and this upload needs " +
                   DescribeBytes(more) + " more, past its quota of " + DescribeBytes(quota_bytes) +
                   "; delete objects, abort multipart uploads or let retention purge loaded "
                   "files, or raise the quota (sluice connection set-quota)");
  }
  used += more;
  return Status::Ok();
}

Result<QuotaReservation> DiskQuota::Reserve(const catalog::Connection& connection, uint64_t bytes) {
  const uint64_t quota_bytes = QuotaOf(connection);
  SLUICE_RETURN_IF_ERROR(Charge(connection.id, quota_bytes, bytes));
  return QuotaReservation(this, connection.id, quota_bytes, bytes);
}

void DiskQuota::Add(const std::string& connection, uint64_t bytes) {
  if (bytes == 0) return;
  MutexLock lock(&mu_);
  used_[connection] += bytes;
}

void DiskQuota::Remove(const std::string& connection, uint64_t bytes) {
  if (bytes == 0) return;
  MutexLock lock(&mu_);
  auto it = used_.find(connection);
  if (it == used_.end()) return;
  it->second -= std::min(it->second, bytes);
}

void DiskQuota::Forget(const std::string& connection) {
  MutexLock lock(&mu_);
  used_.erase(connection);
}

uint64_t DiskQuota::UsageOf(const std::string& connection) {
  MutexLock lock(&mu_);
  auto it = used_.find(connection);
  return it == used_.end() ? 0 : it->second;
}

std::vector<std::pair<std::string, uint64_t>> DiskQuota::Usage() {
  MutexLock lock(&mu_);
  return {used_.begin(), used_.end()};
}

}  // namespace sluice::store
