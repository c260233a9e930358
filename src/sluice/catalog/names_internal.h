#pragma once
// Private to catalog: derivation and validation of the names the catalog hands out or
// accepts, and generation of credentials.

#include <string>
#include <string_view>

#include "sluice/core/core.h"

namespace sluice::catalog {

// S3 bucket names are 3 to 63 characters.
constexpr size_t kMinConnectionIdLength = 3;
constexpr size_t kMaxConnectionIdLength = 63;
// A table name is a key prefix and a SQL identifier; PostgreSQL truncates at 63 bytes.
constexpr size_t kMaxTableNameLength = 63;
constexpr size_t kAccessKeyLength = 20;
constexpr std::string_view kAccessKeyPrefix = "SK";
constexpr size_t kSecretLength = 40;

// The connection id for a human name: lower-cased, every character outside [a-z0-9-] turned
// into '-', runs of '-' collapsed, leading and trailing '-' trimmed. kInvalidArgument, naming
// the rule, when the result is not a valid bucket name.
Result<std::string> DeriveConnectionId(std::string_view name);

// Table-name prefixes, any case, that belong to sluice's own bookkeeping tables in the pool
// and to SQLite's internal tables.
constexpr std::string_view kReservedTablePrefixes[] = {"_sluice", "sqlite_"};

// kInvalidArgument unless `name` matches [A-Za-z_][A-Za-z0-9_]{0,62} and starts with none of
// kReservedTablePrefixes (in any case).
Status ValidateTableName(std::string_view name);

// "SK" followed by 18 random upper-case alphanumerics.
Result<std::string> NewAccessKey();
// 40 random characters from [A-Za-z0-9/+].
Result<Secret> NewSecret();

}  // namespace sluice::catalog
