#pragma once
// Private to catalog: SQL written once for both engines. A statement with $N parameters runs
// through SharedSql, which each engine implements over its own connection inside its own
// transaction (Alerts::RunSharedSql opens one); rows come back as text. For what is not on a
// hot path (alerts, the console's activity): the ledger's own statements stay per engine.

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "sluice/catalog/secret_box_internal.h"
#include "sluice/core/core.h"
#include "sluice/sqlite/sqlite.h"

namespace sluice::catalog {

// The console's activity (Catalog::LoadedSince, ActivitySince) reads the files that loaded or
// failed by when they finished (SQLite schema version 9, PostgreSQL version 3).
inline constexpr const char* kActivitySchemaSql =
    "CREATE INDEX IF NOT EXISTS files_finished_at ON files(finished_at) "
    "WHERE status IN ('loaded', 'failed')";

// One statement's rows as text (integers in decimal, NULL as ""), and the rows it changed.
struct SqlRows {
  std::vector<std::vector<std::string>> rows;
  int64_t affected = 0;
};
using SqlArg = std::variant<int64_t, std::string>;

// An integer cell of SqlRows (decimal text; "" for NULL reads 0).
inline int64_t SqlInt(const std::string& s) {
  int64_t v = 0;
  const bool negative = !s.empty() && s[0] == '-';
  for (size_t i = negative ? 1 : 0; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
    v = v * 10 + (s[i] - '0');
  }
  return negative ? -v : v;
}

// Runs the shared SQL ($N parameters, bound in order) on an engine's connection, inside
// the transaction the caller holds.
class SharedSql {
 public:
  virtual ~SharedSql() = default;
  virtual Result<SqlRows> Run(std::string_view sql, std::initializer_list<SqlArg> args) = 0;
  // Seals and opens webhook secrets with the catalog's key.
  virtual const SecretBox& box() const = 0;
  // What a subquery that picks rows to update appends so that concurrent pickers skip each
  // other's rows (PostgreSQL); SQLite has one writer.
  virtual std::string_view SkipLocked() const { return ""; }
};

// The SQLite engine's SharedSql ("$N" read as "?N").
class LiteSharedSql final : public SharedSql {
 public:
  LiteSharedSql(sqlite::Db& db, const SecretBox& box) : db_(db), box_(box) {}
  Result<SqlRows> Run(std::string_view sql, std::initializer_list<SqlArg> args) override;
  const SecretBox& box() const override { return box_; }

 private:
  sqlite::Db& db_;
  const SecretBox& box_;
};

}  // namespace sluice::catalog
