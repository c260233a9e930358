#pragma once
// Private to catalog: the admin users' and sessions' SQL, the same text for both engines
// ($N parameters: SQLite numbers them in order of first appearance, as PostgreSQL does), and
// the row reader.

#include <string>

#include "sluice/catalog/admins.h"

namespace sluice::catalog {

// Schema (SQLite version 8, PostgreSQL version 2; IF NOT EXISTS: a catalog whose version was
// set back by hand migrates again). A session row is keyed by the SHA-256 of
// its token: a copy of the catalog does not let anyone log in.
inline constexpr const char* kAdminSchemaSql = R"sql(
CREATE TABLE IF NOT EXISTS admin_users (
  name TEXT PRIMARY KEY,
  role TEXT NOT NULL CHECK (role IN ('admin', 'viewer')),
  password_hash TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  failed_logins BIGINT NOT NULL DEFAULT 0,
  locked_until BIGINT NOT NULL DEFAULT 0,
  last_login_at BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS admin_sessions (
  token_sha256 TEXT PRIMARY KEY,
  user_name TEXT NOT NULL REFERENCES admin_users(name) ON DELETE CASCADE,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS admin_sessions_by_user ON admin_sessions(user_name);
CREATE INDEX IF NOT EXISTS admin_sessions_by_expiry ON admin_sessions(expires_at);
)sql";

#define SLUICE_ADMIN_USER_COLUMNS                                                             \
  "SELECT name, role, password_hash, created_at, failed_logins, locked_until, last_login_at " \
  "FROM admin_users "

inline constexpr const char* kAddAdminUserSql =
    "INSERT INTO admin_users (name, role, password_hash, created_at) VALUES ($1, $2, $3, $4) "
    "ON CONFLICT DO NOTHING";
inline constexpr const char* kSetAdminPasswordSql =
    "UPDATE admin_users SET password_hash = $2, failed_logins = 0, locked_until = 0 "
    "WHERE name = $1";
inline constexpr const char* kSetAdminRoleSql = "UPDATE admin_users SET role = $2 WHERE name = $1";
inline constexpr const char* kEndUserSessionsSql =
    "DELETE FROM admin_sessions WHERE user_name = $1";
inline constexpr const char* kRemoveAdminUserSql = "DELETE FROM admin_users WHERE name = $1";
inline constexpr const char* kCountFailedLoginSql =
    "UPDATE admin_users SET failed_logins = failed_logins + 1 WHERE name = $1 "
    "RETURNING failed_logins";
inline constexpr const char* kLockAdminUserSql =
    "UPDATE admin_users SET locked_until = $2 WHERE name = $1";
inline constexpr const char* kLoggedInSql =
    "UPDATE admin_users SET failed_logins = 0, locked_until = 0, last_login_at = $2 "
    "WHERE name = $1";
inline constexpr const char* kExpireSessionsSql =
    "DELETE FROM admin_sessions WHERE expires_at <= $1";
inline constexpr const char* kStartSessionSql =
    "INSERT INTO admin_sessions (token_sha256, user_name, created_at, expires_at) "
    "VALUES ($1, $2, $3, $4)";
// After a login: the user's sessions beyond its newest kMaxSessionsPerUser ($2) end, so that
// repeated logins cannot grow the table without bound.
inline constexpr const char* kTrimSessionsSql =
    "DELETE FROM admin_sessions WHERE user_name = $1 AND token_sha256 NOT IN "
    "(SELECT token_sha256 FROM admin_sessions WHERE user_name = $1 "
    "ORDER BY created_at DESC, token_sha256 LIMIT $2)";
inline constexpr const char* kGetSessionSql =
    "SELECT s.user_name, u.role, s.created_at, s.expires_at FROM admin_sessions s "
    "JOIN admin_users u ON u.name = s.user_name WHERE s.token_sha256 = $1 AND s.expires_at > $2";
inline constexpr const char* kEndSessionSql = "DELETE FROM admin_sessions WHERE token_sha256 = $1";

// kInvalidArgument unless `name` is 1..64 of [A-Za-z0-9._@-].
Status CheckAdminName(const std::string& name);
Status NoAdminUser(const std::string& name);

template <class Row>
Result<AdminUser> AdminUserFromRow(const Row& q) {
  AdminUser u;
  u.name = q.Text(0);
  const std::optional<AdminRole> role = AdminRoleFromName(q.Text(1));
  if (!role) return Err(ErrorCode::kInternal, "admin user " + u.name + ": unknown role");
  u.role = *role;
  u.password_hash = q.Text(2);
  u.created_at = q.Int(3);
  u.failed_logins = q.Int(4);
  u.locked_until = q.Int(5);
  u.last_login_at = q.Int(6);
  return u;
}

template <class Row>
Result<AdminSession> AdminSessionFromRow(const Row& q) {
  AdminSession s;
  s.user = q.Text(0);
  const std::optional<AdminRole> role = AdminRoleFromName(q.Text(1));
  if (!role) return Err(ErrorCode::kInternal, "admin user " + s.user + ": unknown role");
  s.role = *role;
  s.created_at = q.Int(2);
  s.expires_at = q.Int(3);
  return s;
}

}  // namespace sluice::catalog
