// The SQLite catalog's admin users and sessions (admins.h), and what both engines share.
#include <algorithm>

#include "sluice/catalog/admins_internal.h"
#include "sluice/catalog/catalog_internal.h"

namespace sluice::catalog {

std::string_view AdminRoleName(AdminRole role) {
  return role == AdminRole::kAdmin ? "admin" : "viewer";
}

std::optional<AdminRole> AdminRoleFromName(std::string_view name) {
  if (name == "admin") return AdminRole::kAdmin;
  if (name == "viewer") return AdminRole::kViewer;
  return std::nullopt;
}

Status CheckAdminName(const std::string& name) {
  bool ok = !name.empty() && name.size() <= 64;
  for (char c : name) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '.' || c == '_' || c == '@' || c == '-');
  }
  if (ok) return Status::Ok();
  return Err(ErrorCode::kInvalidArgument,
             "an admin user's name is 1 to 64 letters, digits and . _ @ -, not '" + name + "'");
}

Status NoAdminUser(const std::string& name) {
  return Err(ErrorCode::kNotFound, "no admin user '" + name + "'");
}

namespace {

// The shared SQL for SQLite: "$N" becomes "?N", which SQLite binds at index N whatever the
// order the parameters appear in (it numbers "$N" names by first appearance instead).
std::string Lite(std::string_view sql) {
  std::string out(sql);
  std::replace(out.begin(), out.end(), '$', '?');
  return out;
}

}  // namespace

Status SqliteCatalog::AddAdminUser(const AdminUser& user) {
  SLUICE_RETURN_IF_ERROR(CheckAdminName(user.name));
  MutexLock lock(&mu_);
  return Write([&]() REQUIRES(mu_) -> Status {
    SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q, db_->Cached(Lite(kAddAdminUserSql)));
    q.Bind(1, user.name).Bind(2, AdminRoleName(user.role)).Bind(3, user.password_hash);
    q.Bind(4, user.created_at);
    SLUICE_RETURN_IF_ERROR(q.Run());
    if (db_->Changes() == 0) {
      return Err(ErrorCode::kAlreadyExists, "admin user '" + user.name + "' exists");
    }
    return Status::Ok();
  });
}

Status SqliteCatalog::AdminUserWrite(const std::string& name, const char* sql,
                                     std::string_view value, bool end_sessions) {
  MutexLock lock(&mu_);
  return Write([&]() REQUIRES(mu_) -> Status {
    SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q, db_->Cached(Lite(sql)));
    q.Bind(1, name);
    if (sql != kRemoveAdminUserSql) q.Bind(2, value);
    SLUICE_RETURN_IF_ERROR(q.Run());
    if (db_->Changes() == 0) return NoAdminUser(name);
    if (!end_sessions) return Status::Ok();
    SLUICE_ASSIGN_OR_RETURN(sqlite::Statement end, db_->Cached(Lite(kEndUserSessionsSql)));
    end.Bind(1, name);
    return end.Run();
  });
}

Status SqliteCatalog::SetAdminPassword(const std::string& name, const std::string& hash) {
  return AdminUserWrite(name, kSetAdminPasswordSql, hash, /*end_sessions=*/true);
}

Status SqliteCatalog::SetAdminRole(const std::string& name, AdminRole role) {
  return AdminUserWrite(name, kSetAdminRoleSql, AdminRoleName(role), /*end_sessions=*/false);
}

Status SqliteCatalog::RemoveAdminUser(const std::string& name) {
  return AdminUserWrite(name, kRemoveAdminUserSql, "", /*end_sessions=*/true);
}

Result<std::optional<AdminUser>> SqliteCatalog::GetAdminUser(const std::string& name) {
  MutexLock lock(&mu_);
  SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q,
                          db_->Cached(SLUICE_ADMIN_USER_COLUMNS "WHERE name = ?1"));
  q.Bind(1, name);
  SLUICE_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<AdminUser>();
  SLUICE_ASSIGN_OR_RETURN(AdminUser u, AdminUserFromRow(q));
  return std::optional<AdminUser>(std::move(u));
}

Result<std::vector<AdminUser>> SqliteCatalog::ListAdminUsers() {
  MutexLock lock(&mu_);
  SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q,
                          db_->Cached(SLUICE_ADMIN_USER_COLUMNS "ORDER BY name"));
  std::vector<AdminUser> out;
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    SLUICE_ASSIGN_OR_RETURN(AdminUser u, AdminUserFromRow(q));
    out.push_back(std::move(u));
  }
  return out;
}

Result<int64_t> SqliteCatalog::CountFailedLogin(const std::string& name) {
  MutexLock lock(&mu_);
  int64_t count = 0;
  SLUICE_RETURN_IF_ERROR(Write([&]() REQUIRES(mu_) -> Status {
    SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q, db_->Cached(Lite(kCountFailedLoginSql)));
    q.Bind(1, name);
    SLUICE_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return NoAdminUser(name);
    count = q.Int(0);
    return Status::Ok();
  }));
  return count;
}

Status SqliteCatalog::LockAdminUser(const std::string& name, int64_t until) {
  MutexLock lock(&mu_);
  return Write([&]() REQUIRES(mu_) -> Status {
    SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q, db_->Cached(Lite(kLockAdminUserSql)));
    q.Bind(1, name).Bind(2, until);
    SLUICE_RETURN_IF_ERROR(q.Run());
    return db_->Changes() == 0 ? NoAdminUser(name) : Status::Ok();
  });
}

Status SqliteCatalog::StartAdminSession(const std::string& name, const std::string& token_sha256,
                                        int64_t now, int64_t expires_at) {
  MutexLock lock(&mu_);
  return Write([&]() REQUIRES(mu_) -> Status {
    {
      SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q, db_->Cached(Lite(kLoggedInSql)));
      q.Bind(1, name).Bind(2, now);
      SLUICE_RETURN_IF_ERROR(q.Run());
      if (db_->Changes() == 0) return NoAdminUser(name);
    }
    {
      SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q, db_->Cached(Lite(kExpireSessionsSql)));
      q.Bind(1, now);
      SLUICE_RETURN_IF_ERROR(q.Run());
    }
    {
      SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q, db_->Cached(Lite(kStartSessionSql)));
      q.Bind(1, token_sha256).Bind(2, name).Bind(3, now).Bind(4, expires_at);
      SLUICE_RETURN_IF_ERROR(q.Run());
    }
    SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q, db_->Cached(Lite(kTrimSessionsSql)));
    q.Bind(1, name).Bind(2, kMaxSessionsPerUser);
    return q.Run();
  });
}

Result<std::optional<AdminSession>> SqliteCatalog::GetAdminSession(const std::string& token_sha256,
                                                                   int64_t now) {
  MutexLock lock(&mu_);
  SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q, db_->Cached(Lite(kGetSessionSql)));
  q.Bind(1, token_sha256).Bind(2, now);
  SLUICE_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<AdminSession>();
  SLUICE_ASSIGN_OR_RETURN(AdminSession s, AdminSessionFromRow(q));
  return std::optional<AdminSession>(std::move(s));
}

Status SqliteCatalog::EndAdminSession(const std::string& token_sha256) {
  MutexLock lock(&mu_);
  return Write([&]() REQUIRES(mu_) -> Status {
    SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q, db_->Cached(Lite(kEndSessionSql)));
    q.Bind(1, token_sha256);
    return q.Run();
  });
}

}  // namespace sluice::catalog
