// Namespaces in the SQLite pool: one database file per schema, read together by Query.

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <string>

#include "sluice/pool/sqlite/pool_testing.h"

namespace sluice::pool::testing_util {
namespace {

TableSpec In(std::string schema, std::string name) {
  TableSpec spec = Spec(std::move(name), {"id"});
  spec.schema = std::move(schema);
  return spec;
}

Batch Rows2(int64_t id, const std::string& v) {
  return MakeBatch({{"id", Ints({id})}, {"v", Strings({v})}});
}

std::string Text(const Result<QueryResult>& r) {
  if (!r.ok()) return r.status().ToString();
  std::string out;
  for (const auto& row : r->rows) {
    for (size_t i = 0; i < row.size(); ++i) out += (i ? "|" : "") + row[i].value_or("NULL");
    out += ";";
  }
  return out;
}

TEST_F(PoolTest, TwoSchemasEachHaveTheirOwnTableOfOneName) {
  Load(In("shop-a", "orders"), 1, {Rows2(1, "a")});
  Load(In("shop-b", "orders"), 2, {Rows2(1, "b")});
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/pool/shop-a.db"));
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/pool/shop-b.db"));
  EXPECT_EQ(Text(pool_->Query("SELECT v FROM orders", "shop-a")), "a;");
  EXPECT_EQ(Text(pool_->Query("SELECT v FROM orders", "shop-b")), "b;");
  // Qualified names read any schema, with or without a default.
  EXPECT_EQ(Text(pool_->Query("SELECT a.v, b.v FROM \"shop-a\".orders a JOIN \"shop-b\".orders b "
                              "USING (id)",
                              "")),
            "a|b;");
  EXPECT_EQ(Text(pool_->Query("SELECT o.v FROM \"shop-a\".orders o", "shop-a")), "a;");
  // The default schema's catalog of tables is sqlite_master.
  EXPECT_EQ(Text(pool_->Query("SELECT name FROM sqlite_master WHERE name = 'orders'", "shop-b")),
            "orders;");
  // Applied records and history are per schema.
  EXPECT_TRUE(pool_->FindApplied("shop-a", 1)->has_value());
  EXPECT_FALSE(pool_->FindApplied("shop-b", 1)->has_value());
  EXPECT_EQ(pool_->SchemaHistory("shop-b", "orders")->size(), 2u);
  EXPECT_TRUE(pool_->SchemaHistory("shop-c", "orders")->empty());
}

TEST_F(PoolTest, UnqualifiedNamesNeedADefaultSchema) {
  Load(In("demo", "orders"), 1, {Rows2(1, "a")});
  auto r = pool_->Query("SELECT v FROM orders", "");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("no such table: orders"), std::string::npos);
  // A schema nothing was loaded into yet has no tables.
  EXPECT_EQ(Text(pool_->Query("SELECT count(*) FROM sqlite_master", "nobody")), "0;");
  EXPECT_NE(Text(pool_->Query("SELECT * FROM orders", "nobody")).find("no such table: orders"),
            std::string::npos);
  EXPECT_EQ(pool_->Query("SELECT 1", "Bad_Name").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(Text(pool_->Query("SELECT * FROM nowhere.t", "")).find("no such table: nowhere.t") !=
                std::string::npos,
            true);
}

// SQLite attaches at most 10 databases to one connection: a query may still reach any schema.
TEST_F(PoolTest, QueriesReachMoreSchemasThanSqliteAttachesAtOnce) {
  for (int i = 0; i < 14; ++i) Load(In("s" + std::to_string(i), "t"), i + 1, {Rows2(i, "x")});
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 14; ++i) {
      const std::string s = "s" + std::to_string(i);
      EXPECT_EQ(Text(pool_->Query("SELECT id FROM " + s + ".t", "")), std::to_string(i) + ";");
    }
  }
}

// Each schema has its own writer: a load of one does not wait for an open load of another.
TEST_F(PoolTest, LoadsOfDifferentSchemasRunTogether) {
  auto a = pool_->BeginLoad(In("one", "t"), 1);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE((*a)->Apply(Rows2(1, "a")).ok());
  auto b = pool_->BeginLoad(In("two", "t"), 2);  // would deadlock with one shared writer
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  ASSERT_TRUE((*b)->Apply(Rows2(2, "b")).ok());
  ASSERT_TRUE((*b)->Commit(1).ok());
  ASSERT_TRUE((*a)->Commit(2).ok());
  EXPECT_EQ(Text(pool_->Query("SELECT v FROM one.t UNION ALL SELECT v FROM two.t", "")), "a;b;");
}

TEST_F(PoolTest, SchemaNamesFollowTheConnectionIdRules) {
  for (const char* bad : {"", "Main", "main", "temp", "public", "-x", "a_b", "a.b", "a/b"}) {
    auto tx = pool_->BeginLoad(In(bad, "t"), 1);
    EXPECT_EQ(tx.status().code(), ErrorCode::kInvalidArgument) << bad;
  }
  EXPECT_TRUE(CheckSchemaName("my-shop-2").ok());
  EXPECT_FALSE(CheckSchemaName(std::string(64, 'a')).ok());
}

// A process killed as a schema's first load opened its file, before the pool metadata was
// created, leaves a database without it: readers take it for an empty schema (the restart's
// Reconcile asks it about every unfinished file) and the next load completes it.
TEST_F(PoolTest, ASchemaFileWithoutMetadataReadsAsEmpty) {
  std::filesystem::create_directories(dir_ + "/pool");
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ + "/pool/cut.db").c_str(), &raw), SQLITE_OK);
  EXPECT_EQ(sqlite3_exec(raw, "PRAGMA journal_mode=WAL", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(raw);
  ASSERT_TRUE(std::filesystem::exists(dir_ + "/pool/cut.db"));
  auto applied = pool_->FindApplied("cut", 1);
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  EXPECT_FALSE(applied->has_value());
  auto history = pool_->SchemaHistory("cut", "t");
  ASSERT_TRUE(history.ok()) << history.status().ToString();
  EXPECT_TRUE(history->empty());
  Load(In("cut", "t"), 1, {Rows2(1, "a")});
  EXPECT_TRUE(pool_->FindApplied("cut", 1)->has_value());
  EXPECT_EQ(Text(pool_->Query("SELECT v FROM t", "cut")), "a;");
}

}  // namespace
}  // namespace sluice::pool::testing_util
