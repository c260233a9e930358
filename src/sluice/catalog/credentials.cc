// The Catalog's key life cycle: listing, revocation, rotation, expiry and the last-used
// times. Creation and lookup are in catalog.cc beside the connections.
//
// A key is active while revoked_at = 0 (active = 1) and expires_at is 0 or in the future.
// Revocation sets both revoked_at and active = 0, so that an older binary reading the same
// catalog refuses the key too.

#include <string>

#include "sluice/catalog/catalog_internal.h"

namespace sluice::catalog {
std::string_view KeyStateName(KeyState state) {
  switch (state) {
    case KeyState::kActive:
      return "active";
    case KeyState::kRevoked:
      return "revoked";
    case KeyState::kExpired:
      return "expired";
  }
  return "active";
}

Result<std::vector<KeyInfo>> SqliteCatalog::ListKeys(const std::string& connection_id) {
  const int64_t now = clock_.NowMicros();
  MutexLock lock(&mu_);
  static const std::string all =
      std::string(SLUICE_KEY_COLUMNS) + "ORDER BY created_at, access_key";
  static const std::string one =
      std::string(SLUICE_KEY_COLUMNS) + "WHERE connection_id = ? ORDER BY created_at, access_key";
  SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q,
                          db_->Cached(connection_id.empty() ? all.c_str() : one.c_str()));
  if (!connection_id.empty()) q.Bind(1, connection_id);
  std::vector<KeyInfo> out;
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back(KeyFromRow(q, now));
  }
  return out;
}

Status SqliteCatalog::RevokeKey(const AccessKeyId& key) {
  const int64_t now = clock_.NowMicros();
  MutexLock lock(&mu_);
  return Write([&]() REQUIRES(mu_) -> Status {
    SLUICE_ASSIGN_OR_RETURN(sqlite::Statement find,
                            db_->Cached("SELECT revoked_at FROM credentials "
                                        "WHERE access_key = ?"));
    find.Bind(1, key.str());
    SLUICE_ASSIGN_OR_RETURN(bool found, find.Step());
    if (!found) return NoAccessKey(key);
    if (find.Int(0) != 0) return AlreadyRevoked(key, find.Int(0));
    SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q,
                            db_->Cached("UPDATE credentials SET active = 0, "
                                        "revoked_at = ? WHERE access_key = ?"));
    q.Bind(1, now).Bind(2, key.str());
    return q.Run();
  });
}

Result<CreatedKey> SqliteCatalog::RotateKey(const std::string& connection_id, int64_t expires_at) {
  const int64_t now = clock_.NowMicros();
  SLUICE_RETURN_IF_ERROR(CheckKeyExpiry(expires_at, now));
  if (connection_id.empty()) return AccountKeyRotation();
  MutexLock lock(&mu_);
  CreatedKey out;
  SLUICE_RETURN_IF_ERROR(Write([&]() REQUIRES(mu_) -> Status {
    SLUICE_ASSIGN_OR_RETURN(bool exists, ConnectionExists(connection_id));
    if (!exists) return NoConnection(connection_id);
    // Counted inside the write transaction: two rotations at once cannot both pass.
    SLUICE_ASSIGN_OR_RETURN(
        sqlite::Statement q,
        db_->Cached("SELECT access_key FROM credentials WHERE connection_id = ? AND "
                    "active AND revoked_at = 0 AND (expires_at = 0 OR expires_at > ?) "
                    "ORDER BY created_at, access_key"));
    q.Bind(1, connection_id).Bind(2, now);
    std::vector<std::string> active;
    while (true) {
      SLUICE_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      active.push_back(q.Text(0));
    }
    if (active.size() >= static_cast<size_t>(kMaxActiveKeysPerConnection)) {
      return TooManyActiveKeys(connection_id, active);
    }
    SLUICE_ASSIGN_OR_RETURN(out, InsertKey(connection_id, now, expires_at));
    return Status::Ok();
  }));
  return out;
}

Status SqliteCatalog::RecordKeyUses(const std::vector<std::pair<AccessKeyId, int64_t>>& uses) {
  if (uses.empty()) return Status::Ok();
  MutexLock lock(&mu_);
  return Write([&]() REQUIRES(mu_) -> Status {
    for (const auto& [key, at] : uses) {
      SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q,
                              db_->Cached("UPDATE credentials SET last_used_at = ? "
                                          "WHERE access_key = ? AND last_used_at < ?"));
      q.Bind(1, at).Bind(2, key.str()).Bind(3, at);
      SLUICE_RETURN_IF_ERROR(q.Run());
    }
    return Status::Ok();
  });
}

}  // namespace sluice::catalog
