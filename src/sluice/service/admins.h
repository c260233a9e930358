#pragma once
// service: admin users and their logins, for `sluice admin user add|remove|passwd|list` and the
// admin API's session routes. Passwords are hashed with Argon2id (libargon2: 64 MiB, 3 passes,
// one lane, a 16-byte random salt; the encoded form carries the parameters, so a later change
// of them still verifies older hashes). One hash runs at a time per process: each takes
// 64 MiB, and logins are rare.
//
// A login makes a session: a random 256-bit token (the cookie's value), stored in the catalog
// only as its SHA-256, valid for a fixed time. Its CSRF token is derived from it (an HMAC), so
// nothing more is stored and any node can check it. Wrong passwords lock the user out for a
// growing delay (kLockoutAfter failures: 30 s, doubling, at most 15 min); an unknown user name
// costs the same hash as a known one, and gets the same answer as a wrong password.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sluice/catalog/catalog.h"
#include "sluice/core/core.h"

namespace sluice::service {

inline constexpr size_t kMinPasswordLength = 10;
inline constexpr int64_t kLockoutAfter = 5;  // failed logins before the first lock
inline constexpr int64_t kSessionMicros = int64_t{12} * 3600 * 1'000'000;  // 12 h

// An encoded Argon2id hash of `password`; kInvalidArgument when it is shorter than
// kMinPasswordLength or longer than 1024 bytes.
Result<std::string> HashPassword(std::string_view password);
// Whether `password` matches `encoded`, in time independent of where they differ.
bool VerifyPassword(const std::string& encoded, std::string_view password);

Status AddAdminUser(catalog::Admins& admins, const std::string& name, catalog::AdminRole role,
                    std::string_view password, int64_t now);
// A new password: ends the user's sessions and lifts a lock-out.
Status ChangeAdminPassword(catalog::Admins& admins, const std::string& name,
                           std::string_view password);

struct Login {
  std::string token;       // the session cookie's value: shown to this client only
  std::string csrf_token;  // CsrfToken(token)
  catalog::AdminSession session;
};

// Checks `password` and starts a session. kAccessDenied ("wrong user name or password") for an
// unknown user or a wrong password; kSlowDown while the user is locked out, with the seconds
// to wait in `*retry_after`.
Result<Login> LogIn(catalog::Admins& admins, const std::string& name, std::string_view password,
                    int64_t now, int64_t* retry_after);

// The live session of cookie value `token` at `now`; nullopt when it is unknown or expired.
Result<std::optional<catalog::AdminSession>> SessionOf(catalog::Admins& admins,
                                                       std::string_view token, int64_t now);
Status LogOut(catalog::Admins& admins, std::string_view token);

// The CSRF token of session `token`: what a write with the session cookie must send back in
// X-CSRF-Token.
std::string CsrfToken(std::string_view token);

}  // namespace sluice::service
