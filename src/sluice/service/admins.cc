#include "sluice/service/admins.h"

#include <argon2.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>

#include "sluice/auth/auth.h"
#include "sluice/core/mutex.h"

namespace sluice::service {
namespace {

constexpr uint32_t kTimeCost = 3;
constexpr uint32_t kMemoryKiB = 64 * 1024;
constexpr uint32_t kLanes = 1;
constexpr size_t kSaltBytes = 16;
constexpr size_t kHashBytes = 32;
constexpr size_t kMaxPasswordBytes = 1024;
constexpr int64_t kFirstLockMicros = 30'000'000;
constexpr int64_t kMaxLockMicros = int64_t{15} * 60 * 1'000'000;

// One Argon2 computation at a time: each holds kMemoryKiB.
Mutex& HashMutex() {
  static Mutex mu;
  return mu;
}

std::string Hex(const unsigned char* data, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kDigits[data[i] >> 4]);
    out.push_back(kDigits[data[i] & 15]);
  }
  return out;
}

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
  return Hex(digest, len);
}

Result<std::string> RandomHex(size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1) {
    return Err(ErrorCode::kInternal, "no random bytes from OpenSSL");
  }
  return Hex(reinterpret_cast<const unsigned char*>(raw.data()), bytes);
}

Status WrongPassword() { return Err(ErrorCode::kAccessDenied, "wrong user name or password"); }

// A hash of a password nobody has, to spend on unknown user names the time a real check takes.
const std::string& DecoyHash() {
  static const std::string decoy = [] {
    Result<std::string> h = HashPassword("sluice decoy password, never a user's");
    return h.ok() ? *h : std::string();
  }();
  return decoy;
}

}  // namespace

Result<std::string> HashPassword(std::string_view password) {
  if (password.size() < kMinPasswordLength) {
    return Err(ErrorCode::kInvalidArgument,
               "a password has at least " + std::to_string(kMinPasswordLength) + " characters");
  }
  if (password.size() > kMaxPasswordBytes) {
    return Err(ErrorCode::kInvalidArgument,
               "a password has at most " + std::to_string(kMaxPasswordBytes) + " bytes");
  }
  unsigned char salt[kSaltBytes];
  if (RAND_bytes(salt, sizeof salt) != 1) {
    return Err(ErrorCode::kInternal, "no random bytes from OpenSSL");
  }
  std::string encoded(
      argon2_encodedlen(kTimeCost, kMemoryKiB, kLanes, kSaltBytes, kHashBytes, Argon2_id), '\0');
  int rc;
  {
    MutexLock lock(&HashMutex());
    rc = argon2id_hash_encoded(kTimeCost, kMemoryKiB, kLanes, password.data(), password.size(),
                               salt, sizeof salt, kHashBytes, encoded.data(), encoded.size());
  }
  if (rc != ARGON2_OK) {
    return Err(ErrorCode::kInternal,
               std::string("hashing the password: ") + argon2_error_message(rc));
  }
  encoded.resize(encoded.find('\0'));
  return encoded;
}

bool VerifyPassword(const std::string& encoded, std::string_view password) {
  if (encoded.empty() || password.size() > kMaxPasswordBytes) return false;
  MutexLock lock(&HashMutex());
  return argon2id_verify(encoded.c_str(), password.data(), password.size()) == ARGON2_OK;
}

Status AddAdminUser(catalog::Admins& admins, const std::string& name, catalog::AdminRole role,
                    std::string_view password, int64_t now) {
  SLUICE_ASSIGN_OR_RETURN(std::string hash, HashPassword(password));
  catalog::AdminUser user;
  user.name = name;
  user.role = role;
  user.password_hash = std::move(hash);
  user.created_at = now;
  return admins.AddAdminUser(user);
}

Status ChangeAdminPassword(catalog::Admins& admins, const std::string& name,
                           std::string_view password) {
  SLUICE_ASSIGN_OR_RETURN(std::string hash, HashPassword(password));
  return admins.SetAdminPassword(name, hash);
}

Result<Login> LogIn(catalog::Admins& admins, const std::string& name, std::string_view password,
                    int64_t now, int64_t* retry_after) {
  SLUICE_ASSIGN_OR_RETURN(std::optional<catalog::AdminUser> user, admins.GetAdminUser(name));
  if (!user) {
    VerifyPassword(DecoyHash(), password);
    return WrongPassword();
  }
  if (user->locked_until > now) {
    *retry_after = (user->locked_until - now + 999'999) / 1'000'000;
    return Err(ErrorCode::kSlowDown,
               "too many failed logins: try again in " + std::to_string(*retry_after) + " s");
  }
  if (!VerifyPassword(user->password_hash, password)) {
    SLUICE_ASSIGN_OR_RETURN(int64_t failures, admins.CountFailedLogin(name));
    if (failures >= kLockoutAfter) {
      const int64_t doublings = std::min<int64_t>(failures - kLockoutAfter, 5);
      const int64_t lock = std::min(kFirstLockMicros << doublings, kMaxLockMicros);
      SLUICE_RETURN_IF_ERROR(admins.LockAdminUser(name, now + lock));
    }
    return WrongPassword();
  }
  Login login;
  SLUICE_ASSIGN_OR_RETURN(login.token, RandomHex(32));
  login.csrf_token = CsrfToken(login.token);
  SLUICE_RETURN_IF_ERROR(
      admins.StartAdminSession(name, Sha256Hex(login.token), now, now + kSessionMicros));
  login.session = {user->name, user->role, now, now + kSessionMicros};
  return login;
}

Result<std::optional<catalog::AdminSession>> SessionOf(catalog::Admins& admins,
                                                       std::string_view token, int64_t now) {
  if (token.size() != 64) return std::optional<catalog::AdminSession>();
  return admins.GetAdminSession(Sha256Hex(token), now);
}

Status LogOut(catalog::Admins& admins, std::string_view token) {
  return admins.EndAdminSession(Sha256Hex(token));
}

std::string CsrfToken(std::string_view token) {
  return auth::HmacSha256Hex(token, "sluice admin csrf");
}

}  // namespace sluice::service
