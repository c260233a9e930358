// The PostgreSQL catalog's admin users and sessions (admins.h), with the SQL both engines
// share (admins_internal.h).
#include "sluice/catalog/admins_internal.h"
#include "sluice/catalog/postgres/pg_catalog_internal.h"

namespace sluice::catalog {

using postgres::Conn;
using postgres::Params;
using postgres::Rows;

Status PgCatalog::AddAdminUser(const AdminUser& user) {
  SLUICE_RETURN_IF_ERROR(CheckAdminName(user.name));
  return Write([&](Conn& c) -> Status {
    SLUICE_ASSIGN_OR_RETURN(Rows rows, c.Query(kAddAdminUserSql, Params()
                                                                     .Text(user.name)
                                                                     .Text(AdminRoleName(user.role))
                                                                     .Text(user.password_hash)
                                                                     .Int(user.created_at)));
    if (rows.affected() == 0) {
      return Err(ErrorCode::kAlreadyExists, "admin user '" + user.name + "' exists");
    }
    return Status::Ok();
  });
}

Status PgCatalog::AdminUserWrite(const std::string& name, const char* sql, std::string_view value,
                                 bool end_sessions) {
  return Write([&](Conn& c) -> Status {
    Params params = Params().Text(name);
    if (sql != kRemoveAdminUserSql) params.Text(std::string(value));
    if (end_sessions) {
      SLUICE_RETURN_IF_ERROR(c.Query(kEndUserSessionsSql, Params().Text(name)).status());
    }
    SLUICE_ASSIGN_OR_RETURN(Rows rows, c.Query(sql, params));
    return rows.affected() == 0 ? NoAdminUser(name) : Status::Ok();
  });
}

Status PgCatalog::SetAdminPassword(const std::string& name, const std::string& hash) {
  return AdminUserWrite(name, kSetAdminPasswordSql, hash, /*end_sessions=*/true);
}

Status PgCatalog::SetAdminRole(const std::string& name, AdminRole role) {
  return AdminUserWrite(name, kSetAdminRoleSql, AdminRoleName(role), /*end_sessions=*/false);
}

Status PgCatalog::RemoveAdminUser(const std::string& name) {
  return AdminUserWrite(name, kRemoveAdminUserSql, "", /*end_sessions=*/true);
}

Result<std::optional<AdminUser>> PgCatalog::GetAdminUser(const std::string& name) {
  std::optional<AdminUser> out;
  SLUICE_RETURN_IF_ERROR(Read([&](Conn& c) -> Status {
    SLUICE_ASSIGN_OR_RETURN(
        Rows rows, c.Query(SLUICE_ADMIN_USER_COLUMNS "WHERE name = $1", Params().Text(name)));
    SLUICE_ASSIGN_OR_RETURN(out, ReadOne(rows, AdminUserFromRow<PgRow>));
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<AdminUser>> PgCatalog::ListAdminUsers() {
  std::vector<AdminUser> out;
  SLUICE_RETURN_IF_ERROR(Read([&](Conn& c) -> Status {
    SLUICE_ASSIGN_OR_RETURN(Rows rows, c.Query(SLUICE_ADMIN_USER_COLUMNS "ORDER BY name"));
    SLUICE_ASSIGN_OR_RETURN(out, ReadAll(rows, AdminUserFromRow<PgRow>));
    return Status::Ok();
  }));
  return out;
}

Result<int64_t> PgCatalog::CountFailedLogin(const std::string& name) {
  int64_t count = 0;
  SLUICE_RETURN_IF_ERROR(Write([&](Conn& c) -> Status {
    SLUICE_ASSIGN_OR_RETURN(Rows rows, c.Query(kCountFailedLoginSql, Params().Text(name)));
    if (rows.size() == 0) return NoAdminUser(name);
    count = PgRow(rows, 0).Int(0);
    return Status::Ok();
  }));
  return count;
}

Status PgCatalog::LockAdminUser(const std::string& name, int64_t until) {
  return Write([&](Conn& c) -> Status {
    SLUICE_ASSIGN_OR_RETURN(Rows rows, c.Query(kLockAdminUserSql, Params().Text(name).Int(until)));
    return rows.affected() == 0 ? NoAdminUser(name) : Status::Ok();
  });
}

Status PgCatalog::StartAdminSession(const std::string& name, const std::string& token_sha256,
                                    int64_t now, int64_t expires_at) {
  return Write([&](Conn& c) -> Status {
    SLUICE_ASSIGN_OR_RETURN(Rows rows, c.Query(kLoggedInSql, Params().Text(name).Int(now)));
    if (rows.affected() == 0) return NoAdminUser(name);
    SLUICE_RETURN_IF_ERROR(c.Query(kExpireSessionsSql, Params().Int(now)).status());
    SLUICE_RETURN_IF_ERROR(
        c.Query(kStartSessionSql, Params().Text(token_sha256).Text(name).Int(now).Int(expires_at))
            .status());
    return c.Query(kTrimSessionsSql, Params().Text(name).Int(kMaxSessionsPerUser)).status();
  });
}

Result<std::optional<AdminSession>> PgCatalog::GetAdminSession(const std::string& token_sha256,
                                                               int64_t now) {
  std::optional<AdminSession> out;
  SLUICE_RETURN_IF_ERROR(Read([&](Conn& c) -> Status {
    SLUICE_ASSIGN_OR_RETURN(Rows rows,
                            c.Query(kGetSessionSql, Params().Text(token_sha256).Int(now)));
    SLUICE_ASSIGN_OR_RETURN(out, ReadOne(rows, AdminSessionFromRow<PgRow>));
    return Status::Ok();
  }));
  return out;
}

Status PgCatalog::EndAdminSession(const std::string& token_sha256) {
  return Write([&](Conn& c) -> Status {
    return c.Query(kEndSessionSql, Params().Text(token_sha256)).status();
  });
}

}  // namespace sluice::catalog
