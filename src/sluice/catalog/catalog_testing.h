#pragma once
// Test helpers of the catalog's tests: which catalog a parameterised test runs on (the
// contract's tests run on both), and how to open it. The PostgreSQL catalog gets a database of
// its own on the test server (postgres/postgres_testing.h) and keeps its secret key in the
// test's data directory, where the SQLite catalog keeps its own.

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <ostream>
#include <string>

#include "sluice/catalog/catalog.h"
#include "sluice/postgres/postgres_testing.h"

namespace sluice::catalog::testing_util {

enum class CatalogKind { kSqlite, kPostgres };

inline void PrintTo(CatalogKind kind, std::ostream* os) {
  *os << (kind == CatalogKind::kSqlite ? "Sqlite" : "Postgres");
}

inline std::string CatalogKindName(const ::testing::TestParamInfo<CatalogKind>& info) {
  return info.param == CatalogKind::kSqlite ? "Sqlite" : "Postgres";
}

// One test's catalog store: a data directory (SQLite: the catalog; both: secret.key) and, for
// PostgreSQL, a database of the test's own.
class CatalogStore {
 public:
  CatalogStore(CatalogKind kind, std::string data_dir)
      : kind_(kind), data_dir_(std::move(data_dir)) {
    if (kind_ == CatalogKind::kPostgres) {
      db_ = std::make_unique<postgres::testing::TestDatabase>();
      std::filesystem::create_directories(data_dir_);
    }
  }

  bool pg() const { return kind_ == CatalogKind::kPostgres; }

  Result<std::unique_ptr<Catalog>> Open(FileSystem& fs, const Clock& clock) const {
    if (pg()) return OpenPostgresCatalog(db_->conninfo(), data_dir_ + "/secret.key", fs, clock);
    return Catalog::Open(data_dir_, fs, clock);
  }

  // PostgreSQL only: a connection to the catalog's database (the tables are in
  // _sluice_catalog).
  std::unique_ptr<postgres::Conn> Connect() const { return db_->Connect("catalog test"); }
  const std::string& conninfo() const { return db_->conninfo(); }

 private:
  CatalogKind kind_;
  std::string data_dir_;
  std::unique_ptr<postgres::testing::TestDatabase> db_;
};

}  // namespace sluice::catalog::testing_util
