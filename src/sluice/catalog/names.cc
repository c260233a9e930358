#include "sluice/catalog/names_internal.h"
#include "sluice/catalog/secret_box_internal.h"
#include "sluice/core/text.h"

namespace sluice::catalog {
namespace {

constexpr std::string_view kUpperAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
constexpr std::string_view kSecretAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+";

// `n` characters drawn uniformly from `alphabet` (at most 256 symbols): bytes at or above the
// largest multiple of the alphabet size are rejected, so no symbol is favoured.
Result<std::string> RandomString(std::string_view alphabet, size_t n) {
  const unsigned limit = 256 - 256 % alphabet.size();
  std::string out;
  out.reserve(n);
  uint8_t pool[64];
  while (out.size() < n) {
    SLUICE_RETURN_IF_ERROR(RandomBytes(pool, sizeof(pool)));
    for (uint8_t b : pool) {
      if (b >= limit) continue;
      out.push_back(alphabet[b % alphabet.size()]);
      if (out.size() == n) break;
    }
  }
  return out;
}

}  // namespace

Result<std::string> DeriveConnectionId(std::string_view name) {
  std::string id;
  id.reserve(name.size());
  for (char c : name) {
    c = AsciiLower(c);
    const bool keep = IsAsciiLower(c) || IsAsciiDigit(c);
    if (keep) {
      id.push_back(c);
    } else if (!id.empty() && id.back() != '-') {
      id.push_back('-');
    }
  }
  while (!id.empty() && id.back() == '-') id.pop_back();
  const std::string rule = "a connection id (the S3 bucket name) must be " +
                           std::to_string(kMinConnectionIdLength) + " to " +
                           std::to_string(kMaxConnectionIdLength) +
                           " characters of a-z, 0-9 and '-' after lower-casing";
  if (id.size() < kMinConnectionIdLength || id.size() > kMaxConnectionIdLength) {
    return Err(ErrorCode::kInvalidArgument,
               "connection name '" + std::string(name) + "' gives the id '" + id + "' (" +
                   std::to_string(id.size()) + " characters): " + rule);
  }
  // Prefixes and suffixes S3 reserves for its own bucket kinds.
  if (id.starts_with("sthree-") || id.ends_with("-s3alias")) {
    return Err(ErrorCode::kInvalidArgument, "connection name '" + std::string(name) +
                                                "' gives the id '" + id +
                                                "', which S3 reserves (sthree-..., ...-s3alias)");
  }
  // The id names the connection's namespace in the pool (a SQLite database attached under
  // it, a PostgreSQL schema): names the engines keep for themselves cannot be used.
  if (id == "main" || id == "temp" || id == "public") {
    return Err(ErrorCode::kInvalidArgument,
               "connection name '" + std::string(name) + "' gives the id '" + id +
                   "', which the SQL pool reserves (main, temp, public); choose another name");
  }
  return id;
}

Status ValidateTableName(std::string_view name) {
  const std::string rule = "a table name must match [A-Za-z_][A-Za-z0-9_]* and be at most " +
                           std::to_string(kMaxTableNameLength) + " characters";
  if (name.empty()) return Err(ErrorCode::kInvalidArgument, "empty table name: " + rule);
  if (name.size() > kMaxTableNameLength) {
    return Err(ErrorCode::kInvalidArgument,
               "table name '" + std::string(name.substr(0, kMaxTableNameLength)) + "...' is " +
                   std::to_string(name.size()) + " characters: " + rule);
  }
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool ok = IsAsciiAlpha(c) || c == '_' || (i > 0 && IsAsciiDigit(c));
    if (!ok) {
      return Err(ErrorCode::kInvalidArgument, "table name '" + std::string(name) +
                                                  "' has an invalid character at position " +
                                                  std::to_string(i) + ": " + rule);
    }
  }
  const std::string lower = AsciiLowered(name);
  for (std::string_view reserved : kReservedTablePrefixes) {
    if (lower.starts_with(reserved)) {
      return Err(ErrorCode::kInvalidArgument,
                 "table name '" + std::string(name) + "' starts with '" + std::string(reserved) +
                     "', which is reserved (sluice's and SQLite's own tables); choose another "
                     "name");
    }
  }
  return Status::Ok();
}

Result<std::string> NewAccessKey() {
  SLUICE_ASSIGN_OR_RETURN(std::string tail,
                          RandomString(kUpperAlnum, kAccessKeyLength - kAccessKeyPrefix.size()));
  return std::string(kAccessKeyPrefix) + tail;
}

Result<Secret> NewSecret() {
  SLUICE_ASSIGN_OR_RETURN(std::string s, RandomString(kSecretAlphabet, kSecretLength));
  return Secret(std::move(s));
}

}  // namespace sluice::catalog
