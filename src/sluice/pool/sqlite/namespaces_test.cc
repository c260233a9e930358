// Namespaces in the SQLite pool: one database file per schema, read together by Query and by
// ReadQuery (the SQL console's bounded read-only queries, whose limits are tested here too).

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

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

// Three rows for demo.t (id 1..3, v a..c).
Batch Three() { return MakeBatch({{"id", Ints({1, 2, 3})}, {"v", Strings({"a", "b", "c"})}}); }

std::string ReadText(Pool& pool, const std::string& sql, QueryLimits limits = {}) {
  return Text(pool.ReadQuery(sql, kSchema, limits));
}

TEST_F(PoolTest, ReadQueryReturnsAtMostMaxRowsAndSaysWhenThereWereMore) {
  Load(Spec("t", {"id"}), 1, {Three()});
  auto two = pool_->ReadQuery("SELECT id AS ident, v FROM t ORDER BY id", kSchema, {.max_rows = 2});
  ASSERT_TRUE(two.ok()) << two.status().ToString();
  EXPECT_EQ(two->columns, (std::vector<std::string>{"ident", "v"}));
  EXPECT_EQ(Text(two), "1|a;2|b;");
  EXPECT_TRUE(two->truncated);
  auto three = pool_->ReadQuery("SELECT id, v FROM t ORDER BY id", kSchema, {.max_rows = 3});
  EXPECT_EQ(Text(three), "1|a;2|b;3|c;");
  EXPECT_FALSE(three->truncated);
  auto none = pool_->ReadQuery("SELECT id FROM t", kSchema, {.max_rows = 0});
  EXPECT_EQ(Text(none), "");
  EXPECT_TRUE(none->truncated);
  // What a console reads besides a SELECT.
  EXPECT_EQ(ReadText(*pool_, "WITH x AS (SELECT max(id) AS m FROM t) SELECT m FROM x"), "3;");
  EXPECT_EQ(ReadText(*pool_, "VALUES (1, 'x'), (2, NULL)"), "1|x;2|NULL;");
  EXPECT_NE(ReadText(*pool_, "EXPLAIN QUERY PLAN SELECT * FROM t WHERE id = 1"), "");
  EXPECT_EQ(ReadText(*pool_, "SELECT name FROM pragma_table_info('t') ORDER BY cid"), "id;v;");
  EXPECT_EQ(ReadText(*pool_, "SELECT value FROM json_each('[1, 2]')"), "1;2;");
  EXPECT_EQ(ReadText(*pool_, "  SELECT count(*) FROM t ;; -- done\n /* really */ "), "3;");
  // The values print as Query prints them.
  EXPECT_EQ(ReadText(*pool_, "SELECT 1.0/3, NULL, x'CAFE', 'text'"),
            Text(pool_->Query("SELECT 1.0/3, NULL, x'CAFE', 'text'", kSchema)));
  // Limits out of range.
  EXPECT_EQ(pool_->ReadQuery("SELECT 1", kSchema, {.max_rows = QueryLimits::kMaxRows + 1})
                .status()
                .code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(pool_->ReadQuery("SELECT 1", kSchema, {.timeout_ms = -1}).status().code(),
            ErrorCode::kInvalidArgument);
}

TEST_F(PoolTest, ReadQueryRefusesWhatWouldChangeAnything) {
  Load(Spec("t", {"id"}), 1, {Three()});
  const std::string evil = dir_ + "/evil.db";
  const std::vector<std::pair<std::string, std::string>> refused = {
      {"INSERT INTO t(id, v) VALUES (9, 'x')", "INSERT into t"},
      {"UPDATE t SET v = 'x'", "UPDATE of t"},
      {"DELETE FROM t", "DELETE from t"},
      {"UPDATE sqlite_master SET sql = 'x'", "sqlite_master"},
      {"REPLACE INTO t(id, v) VALUES (1, 'x')", "INSERT into t"},
      {"WITH x AS (SELECT 9 AS id) INSERT INTO t(id) SELECT id FROM x", "INSERT into t"},
      {"CREATE TABLE u(x)", "schema"},
      {"CREATE TEMP TABLE u(x)", "schema"},
      {"CREATE VIEW w AS SELECT 1", "schema"},
      {"DROP TABLE t", "schema"},
      {"ALTER TABLE t ADD COLUMN w", "alter table"},
      {"ATTACH DATABASE '" + evil + "' AS evil", "attach"},
      {"DETACH DATABASE main", "detach"},
      {"PRAGMA journal_mode=DELETE", "PRAGMA journal_mode"},
      {"PRAGMA user_version = 7", "PRAGMA user_version"},
      {"PRAGMA table_info(t)", "PRAGMA table_info"},  // PRAGMA-free: readable as pragma_...()
      {"BEGIN", "transaction"},
      {"SAVEPOINT a", "transaction"},
      {"ANALYZE", "schema"},
      {"VACUUM", "write"},
      {"VACUUM INTO '" + evil + "'", "write"},
      {"SELECT load_extension('/tmp/nothing')", "load_extension"},
      {"EXPLAIN DELETE FROM t", "DELETE from t"},
      {"SELECT 1; DELETE FROM t", "more than one statement"},
      {"SELECT 1; SELECT 2", "more than one statement"},
      {"", "no statement"},
      {" -- nothing", "no statement"},
  };
  for (const auto& [sql, why] : refused) {
    auto r = pool_->ReadQuery(sql, kSchema, {});
    ASSERT_FALSE(r.ok()) << sql;
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument)
        << sql << ": " << r.status().ToString();
    EXPECT_NE(r.status().message().find(why), std::string::npos)
        << sql << ": " << r.status().ToString();
  }
  // Nothing changed: the rows, the schema, the journal mode, the files.
  EXPECT_EQ(Text(pool_->Query("SELECT id, v FROM t ORDER BY id", kSchema)), "1|a;2|b;3|c;");
  EXPECT_EQ(
      Text(pool_->Query("SELECT count(*) FROM sqlite_master WHERE name IN ('u', 'w')", kSchema)),
      "0;");
  EXPECT_EQ(Text(pool_->Query("PRAGMA journal_mode", kSchema)), "wal;");
  EXPECT_EQ(Text(pool_->Query("PRAGMA user_version", kSchema)), "0;");
  EXPECT_FALSE(std::filesystem::exists(evil));
  // A statement SQLite itself refuses is kInvalidArgument with its message.
  auto bad = pool_->ReadQuery("SELEKT 1", kSchema, {});
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("syntax error"), std::string::npos)
      << bad.status().ToString();
  EXPECT_NE(Text(pool_->ReadQuery("SELECT nope FROM t", kSchema, {})).find("no such column"),
            std::string::npos);
}

TEST_F(PoolTest, ReadQueryStopsAStatementAtItsTimeout) {
  Load(Spec("t", {"id"}), 1, {Three()});
  const auto start = std::chrono::steady_clock::now();
  auto r = pool_->ReadQuery(
      "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c",
      kSchema, {.timeout_ms = 200});
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kLimitExceeded) << r.status().ToString();
  EXPECT_NE(r.status().message().find("the query ran longer than 200 ms"), std::string::npos)
      << r.status().ToString();
  EXPECT_GE(took, std::chrono::milliseconds(200));
  EXPECT_LT(took, std::chrono::seconds(2));
  // The connection serves the next statements, which the deadline no longer stops.
  EXPECT_EQ(ReadText(*pool_, "SELECT count(*) FROM t"), "3;");
  EXPECT_EQ(Text(pool_->Query(
                "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300000) "
                "SELECT count(*) FROM c",
                kSchema)),
            "300000;");
  // Without a limit (0) a long statement runs to its end.
  EXPECT_EQ(ReadText(*pool_,
                     "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < "
                     "300000) SELECT count(*) FROM c",
                     {.timeout_ms = 0}),
            "300000;");
}

TEST_F(PoolTest, ReadQueryReadsEverySchemaAsQueryDoes) {
  Load(In("shop-a", "orders"), 1, {Rows2(1, "a")});
  Load(In("shop-b", "orders"), 2, {Rows2(1, "b")});
  // Refused attaches do not stop the pool's own, on demand.
  EXPECT_FALSE(pool_->ReadQuery("ATTACH DATABASE ':memory:' AS x", "", {}).ok());
  EXPECT_EQ(Text(pool_->ReadQuery("SELECT a.v, b.v FROM \"shop-a\".orders a JOIN \"shop-b\".orders "
                                  "b USING (id)",
                                  "", {})),
            "a|b;");
  EXPECT_EQ(Text(pool_->ReadQuery("SELECT v FROM orders", "shop-b", {})), "b;");
  for (int i = 0; i < 12; ++i) Load(In("s" + std::to_string(i), "t"), 10 + i, {Rows2(i, "x")});
  for (int i = 0; i < 12; ++i) {
    const std::string s = "s" + std::to_string(i);
    EXPECT_EQ(Text(pool_->ReadQuery("SELECT id FROM " + s + ".t", "", {})),
              std::to_string(i) + ";");
  }
  auto missing = pool_->ReadQuery("SELECT * FROM nowhere.t", "", {});
  EXPECT_EQ(missing.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(missing.status().message().find("no such table: nowhere.t"), std::string::npos);
  EXPECT_EQ(pool_->ReadQuery("SELECT 1", "Bad_Name", {}).status().code(),
            ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace sluice::pool::testing_util
