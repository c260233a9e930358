// What both pools share: the rule for schema names.

#include "sluice/pool/pool.h"

#include "sluice/core/text.h"

namespace sluice::pool {

Status CheckSchemaName(std::string_view schema) {
  constexpr size_t kMaxSchemaLength = 63;  // PostgreSQL's identifier limit
  const std::string rule = "a schema name (a connection id) must be 1 to " +
                           std::to_string(kMaxSchemaLength) +
                           " characters of a-z, 0-9 and '-', starting with a letter or digit";
  if (schema.empty() || schema.size() > kMaxSchemaLength) {
    return Err(ErrorCode::kInvalidArgument, "schema name '" + std::string(schema) + "': " + rule);
  }
  for (size_t i = 0; i < schema.size(); ++i) {
    const char c = schema[i];
    if (!(IsAsciiLower(c) || IsAsciiDigit(c) || (i > 0 && c == '-'))) {
      return Err(ErrorCode::kInvalidArgument, "schema name '" + std::string(schema) +
                                                  "' has an invalid character at position " +
                                                  std::to_string(i) + ": " + rule);
    }
  }
  if (schema == "main" || schema == "temp" || schema == "public") {
    return Err(ErrorCode::kInvalidArgument,
               "schema name '" + std::string(schema) +
                   "' is reserved by the SQL engines (main, temp, public)");
  }
  return Status::Ok();
}

}  // namespace sluice::pool
