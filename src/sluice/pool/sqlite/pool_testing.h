#pragma once
// Test helpers of the pool's tests: hand-built batches, a fixture with a fresh SQLite pool
// (PoolTest: tests of SQLite storage) and the same fixture over either pool (AnyPoolTest,
// parameterised with PoolKind: tests of the contract, run against both pools). The PostgreSQL
// pool gets a database of its own on the test server (postgres/postgres_testing.h).

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "sluice/core/testing/temp_dir.h"
#include "sluice/pool/pool.h"
#include "sluice/postgres/postgres_testing.h"

namespace sluice::pool::testing_util {

using batch::Batch;
using batch::Column;
using batch::DataType;
using batch::Field;
using batch::Schema;
using batch::TimeUnit;
using batch::TypeId;

template <class T>
void PutFixed(Column* c, T v) {
  const auto* p = reinterpret_cast<const uint8_t*>(&v);
  c->fixed.insert(c->fixed.end(), p, p + sizeof(T));
}

inline void SetValidity(Column* c, const std::vector<bool>& valid) {
  bool any_null = false;
  for (bool v : valid) any_null |= !v;
  if (!any_null) return;
  for (bool v : valid) c->validity.push_back(v ? 1 : 0);
}

template <class T>
inline Column Fixed(DataType type, const std::vector<std::optional<T>>& values) {
  Column c = batch::MakeColumn(type);
  std::vector<bool> valid;
  for (const auto& v : values) {
    PutFixed<T>(&c, v.value_or(T{}));
    valid.push_back(v.has_value());
  }
  c.length = static_cast<int64_t>(values.size());
  SetValidity(&c, valid);
  return c;
}

inline Column Ints(const std::vector<std::optional<int64_t>>& v, TypeId id = TypeId::kInt64) {
  return Fixed<int64_t>(DataType(id), v);
}
inline Column UInts(const std::vector<std::optional<uint64_t>>& v) {
  return Fixed<uint64_t>(DataType(TypeId::kUInt64), v);
}
inline Column Doubles(const std::vector<std::optional<double>>& v) {
  return Fixed<double>(DataType(TypeId::kDouble), v);
}
inline Column Bools(const std::vector<std::optional<uint8_t>>& v) {
  return Fixed<uint8_t>(DataType(TypeId::kBool), v);
}
inline Column Decimals(int p, int s, const std::vector<std::optional<__int128>>& v) {
  return Fixed<__int128>(DataType::Decimal(p, s), v);
}
inline Column Timestamps(TimeUnit unit, bool utc, const std::vector<std::optional<int64_t>>& v) {
  return Fixed<int64_t>(DataType::Timestamp(unit, utc), v);
}
inline Column Dates(const std::vector<std::optional<int32_t>>& v) {
  return Fixed<int32_t>(DataType(TypeId::kDate), v);
}

inline Column Strings(const std::vector<std::optional<std::string>>& values,
                      TypeId id = TypeId::kString) {
  Column c = batch::MakeColumn(DataType(id));
  std::vector<bool> valid;
  for (const auto& v : values) {
    if (v) c.chars.insert(c.chars.end(), v->begin(), v->end());
    c.offsets.push_back(static_cast<int64_t>(c.chars.size()));
    valid.push_back(v.has_value());
  }
  c.length = static_cast<int64_t>(values.size());
  SetValidity(&c, valid);
  return c;
}

inline Column Nulls(int64_t n) {
  Column c = batch::MakeColumn(DataType(TypeId::kNull));
  c.length = n;
  c.validity.assign(static_cast<size_t>(n), 0);
  return c;
}

inline Batch MakeBatch(std::vector<std::pair<std::string, Column>> columns) {
  auto schema = std::make_shared<Schema>();
  Batch b;
  for (auto& [name, column] : columns) {
    schema->fields.push_back(Field{name, column.type});
    b.num_rows = column.length;
    b.columns.push_back(std::move(column));
  }
  b.schema = std::move(schema);
  return b;
}

// The schema the tests' tables live in.
inline constexpr const char* kSchema = "demo";

inline TableSpec Spec(std::string name, std::vector<std::string> pk, std::string age = "",
                      std::string del = "") {
  return TableSpec{kSchema, std::move(name), std::move(pk), std::move(age), std::move(del)};
}

inline std::string CountsText(const ApplyCounts& c) {
  return "i" + std::to_string(c.inserted) + " u" + std::to_string(c.updated) + " r" +
         std::to_string(c.refused) + " d" + std::to_string(c.deleted);
}

enum class PoolKind { kSqlite, kPostgres };

inline void PrintTo(PoolKind kind, std::ostream* os) {
  *os << (kind == PoolKind::kSqlite ? "Sqlite" : "Postgres");
}

inline std::string PoolKindName(const ::testing::TestParamInfo<PoolKind>& info) {
  return info.param == PoolKind::kSqlite ? "Sqlite" : "Postgres";
}

class PoolTestBase : public ::testing::Test {
 protected:
  virtual PoolKind kind() const { return PoolKind::kSqlite; }
  bool pg() const { return kind() == PoolKind::kPostgres; }

  void SetUp() override {
    dir_ = tmp_.path();
    path_ = dir_ + "/pool";
    if (pg()) {
      pg_db_ = std::make_unique<::sluice::postgres::testing::TestDatabase>();
      ASSERT_FALSE(pg_db_->conninfo().empty());
    }
    Reopen();
  }
  void TearDown() override { pool_.reset(); }
  void Reopen() {
    pool_.reset();
    auto p = pg() ? OpenPostgresPool(pg_db_->conninfo(), clock_) : OpenSqlitePool(path_, clock_);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    pool_ = std::move(p).value();
  }

  // The SQL name of the tombstone table of `table` (in kSchema).
  std::string Tombstones(const std::string& table) const {
    return pg() ? "_sluice.\"tombstones." + std::string(kSchema) + "." + table + "\""
                : "_sluice_tombstones_" + table;
  }
  // Whether the tombstone table of `table` exists.
  bool HasTombstoneTable(const std::string& table) {
    const std::string sql =
        pg() ? "SELECT 1 FROM pg_tables WHERE schemaname = '_sluice' AND tablename = "
               "'tombstones." +
                   std::string(kSchema) + "." + table + "'"
             : "SELECT 1 FROM sqlite_master WHERE name = '_sluice_tombstones_" + table + "'";
    return !Rows(sql).empty();
  }
  // The column metadata query of each pool: "name|logical type" in column order.
  std::vector<std::string> StoredColumns(const std::string& table) {
    return Rows(std::string("SELECT column_name, type_name FROM ") +
                (pg() ? "_sluice.columns" : "_sluice_columns") + " WHERE table_name = '" + table +
                "' ORDER BY position");
  }
  // The ids of table t, in order, joined with commas.
  std::string Ids() {
    std::string out;
    for (const std::string& id : Rows("SELECT id FROM t ORDER BY id")) {
      out += (out.empty() ? "" : ",") + id;
    }
    return out;
  }
  // Applied files in the pool.
  std::string AppliedCount() {
    const auto rows =
        Rows(std::string("SELECT count(*) FROM ") + (pg() ? "_sluice.applied" : "_sluice_applied"));
    return rows.empty() ? "?" : rows[0];
  }

  // Applies `batches` as file `seq` and commits; returns the counts.
  ApplyCounts Load(const TableSpec& spec, int64_t seq, const std::vector<Batch>& batches) {
    auto tx = pool_->BeginLoad(spec, seq);
    EXPECT_TRUE(tx.ok()) << tx.status().ToString();
    if (!tx.ok()) return {};
    for (const Batch& b : batches) {
      Status st = (*tx)->Apply(b);
      EXPECT_TRUE(st.ok()) << st.ToString();
    }
    Status st = (*tx)->Commit(1000 + seq);
    EXPECT_TRUE(st.ok()) << st.ToString();
    return (*tx)->counts();
  }

  Status LoadError(const TableSpec& spec, int64_t seq, const Batch& batch) {
    auto tx = pool_->BeginLoad(spec, seq);
    if (!tx.ok()) return tx.status();
    return (*tx)->Apply(batch);
  }

  // Rows as strings, NULL as "NULL", columns joined with '|'.
  std::vector<std::string> Rows(const std::string& sql) {
    auto r = pool_->Query(sql, kSchema);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::vector<std::string> out;
    if (!r.ok()) return out;
    for (const auto& row : r->rows) {
      std::string line;
      for (size_t i = 0; i < row.size(); ++i) {
        if (i) line += "|";
        line += row[i] ? *row[i] : "NULL";
      }
      out.push_back(line);
    }
    return out;
  }

  testing::TempDir tmp_{"pool_test"};  // first: removed after everything using it
  FakeClock clock_{1'700'000'000'000'000};
  std::string dir_;
  std::string path_;
  std::unique_ptr<::sluice::postgres::testing::TestDatabase> pg_db_;  // before the pool
  std::unique_ptr<Pool> pool_;
};

// Tests of SQLite storage details.
class PoolTest : public PoolTestBase {};

// Tests of the contract: INSTANTIATE_TEST_SUITE_P runs them on both pools.
class AnyPoolTest : public PoolTestBase, public ::testing::WithParamInterface<PoolKind> {
 protected:
  PoolKind kind() const override { return GetParam(); }
};

using Lines = std::vector<std::string>;

}  // namespace sluice::pool::testing_util
