#pragma once
// catalog: the people who may use the admin side (the web console, the API with a login) and
// their sessions. Kept in the catalog so that every node sharing a PostgreSQL catalog knows the
// same users and honours the same sessions. Passwords arrive hashed (service/admins.h hashes
// them with Argon2id); a session is stored under the SHA-256 of its token, never the token.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/core/core.h"

namespace sluice::catalog {

enum class AdminRole {
  kAdmin,   // may change anything the admin API changes
  kViewer,  // may only look (and run read-only queries)
};
std::string_view AdminRoleName(AdminRole role);  // "admin", "viewer"
std::optional<AdminRole> AdminRoleFromName(std::string_view name);

struct AdminUser {
  std::string name;
  AdminRole role = AdminRole::kViewer;
  std::string password_hash;  // an encoded Argon2id hash ($argon2id$v=19$m=...)
  int64_t created_at = 0;     // micros
  int64_t failed_logins = 0;  // since the last successful login
  int64_t locked_until = 0;   // micros; no login is tried before then
  int64_t last_login_at = 0;  // micros; 0: never
};

struct AdminSession {
  std::string user;
  AdminRole role = AdminRole::kViewer;  // the user's role now, not at login
  int64_t created_at = 0;
  int64_t expires_at = 0;
};

// The live sessions one user may hold: a login beyond them ends the oldest.
inline constexpr int64_t kMaxSessionsPerUser = 20;

class Admins {
 public:
  virtual ~Admins() = default;

  // kAlreadyExists when taken; kInvalidArgument for a name outside [A-Za-z0-9._@-]{1,64}.
  virtual Status AddAdminUser(const AdminUser& user) = 0;
  // A new password hash: ends the user's sessions and clears a lock-out. kNotFound.
  virtual Status SetAdminPassword(const std::string& name, const std::string& password_hash) = 0;
  // A new role, which the user's sessions take at once. kNotFound.
  virtual Status SetAdminRole(const std::string& name, AdminRole role) = 0;
  // The user and its sessions. kNotFound.
  virtual Status RemoveAdminUser(const std::string& name) = 0;
  virtual Result<std::optional<AdminUser>> GetAdminUser(const std::string& name) = 0;
  virtual Result<std::vector<AdminUser>> ListAdminUsers() = 0;
  // A failed login: counts it (atomically, whichever node saw it) and returns the count since
  // the last success, for the caller to choose a lock-out. kNotFound for no such user.
  virtual Result<int64_t> CountFailedLogin(const std::string& name) = 0;
  virtual Status LockAdminUser(const std::string& name, int64_t until) = 0;
  // A successful login at `now`: the failure count and the lock-out cleared; and the session
  // stored under `token_sha256` (hex), expiring at `expires_at`. Sessions expired before `now`
  // are removed by the way, and the user's oldest beyond kMaxSessionsPerUser.
  virtual Status StartAdminSession(const std::string& name, const std::string& token_sha256,
                                   int64_t now, int64_t expires_at) = 0;
  // The live session stored under `token_sha256` at `now`, with its user's current role;
  // nullopt when there is none, it expired, or its user is gone.
  virtual Result<std::optional<AdminSession>> GetAdminSession(const std::string& token_sha256,
                                                              int64_t now) = 0;
  // Logout. Nothing to end is not an error.
  virtual Status EndAdminSession(const std::string& token_sha256) = 0;
};

}  // namespace sluice::catalog
