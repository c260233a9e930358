#include "sluice/sqlite/sqlite.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

namespace sluice::sqlite {
namespace {

// An empty path opens a private temporary database that SQLite deletes on close.
std::unique_ptr<Db> OpenTemp(std::string pragmas = "") {
  auto db = Db::Open("", {.label = "test", .pragmas = std::move(pragmas)});
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  return std::move(*db);
}

TEST(SqliteTest, QuoteIdentDoublesQuotes) {
  EXPECT_EQ(QuoteIdent("a"), "\"a\"");
  EXPECT_EQ(QuoteIdent("a\"b"), "\"a\"\"b\"");
}

TEST(SqliteTest, ErrorsMapToCodesAndNameTheDatabase) {
  auto db = OpenTemp("PRAGMA foreign_keys = ON;");
  ASSERT_TRUE(db->Exec("CREATE TABLE p(id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE);"
                       "CREATE TABLE c(id INTEGER REFERENCES p(id))")
                  .ok());
  ASSERT_TRUE(db->Exec("INSERT INTO p VALUES(1, 'a')").ok());
  Status dup = db->Exec("INSERT INTO p VALUES(2, 'a')");
  EXPECT_EQ(dup.code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(dup.message().rfind("test: INSERT INTO p", 0), 0u) << dup.message();
  EXPECT_EQ(db->Exec("INSERT INTO c VALUES(7)").code(), ErrorCode::kNotFound);
  EXPECT_EQ(db->Exec("INSERT INTO p VALUES(3, NULL)").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(db->Exec("SELEKT").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(db->Exec("CREATE TABLE d(a, a)").code(), ErrorCode::kSchemaMismatch);
}

TEST(SqliteTest, PrepareTakesOneStatement) {
  auto db = OpenTemp();
  EXPECT_TRUE(db->Prepare("SELECT 1; ").ok());
  EXPECT_EQ(db->Prepare("SELECT 1; SELECT 2").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(db->Prepare("  ").status().code(), ErrorCode::kInvalidArgument);
}

TEST(SqliteTest, CachedStatementIsResetWhenReleased) {
  auto db = OpenTemp();
  ASSERT_TRUE(db->Exec("CREATE TABLE t(x); INSERT INTO t VALUES(1), (2)").ok());
  for (int i = 0; i < 2; ++i) {
    auto q = db->Cached("SELECT x FROM t WHERE x >= ? ORDER BY x");
    ASSERT_TRUE(q.ok());
    q->Bind(1, int64_t{1});
    auto row = q->Step();
    ASSERT_TRUE(row.ok() && *row);
    EXPECT_EQ(q->Int(0), 1);  // from the first row again: the previous handle reset it
  }
  EXPECT_EQ(*db->QueryInt("SELECT count(*) FROM t"), 2);
}

TEST(SqliteTest, WriteTransactionRollsBackUnlessCommitted) {
  auto db = OpenTemp();
  ASSERT_TRUE(db->Exec("CREATE TABLE t(x)").ok());
  {
    WriteTransaction txn(*db);
    ASSERT_TRUE(txn.Begin().ok());
    ASSERT_TRUE(db->Exec("INSERT INTO t VALUES(1)").ok());
    WriteTransaction moved(std::move(txn));
    EXPECT_FALSE(txn.open());
    EXPECT_TRUE(moved.open());
  }
  EXPECT_EQ(*db->QueryInt("SELECT count(*) FROM t"), 0);
  WriteTransaction txn(*db);
  ASSERT_TRUE(txn.Begin().ok());
  ASSERT_TRUE(db->Exec("INSERT INTO t VALUES(1)").ok());
  ASSERT_TRUE(txn.Commit().ok());
  EXPECT_EQ(*db->QueryInt("SELECT count(*) FROM t"), 1);
}

TEST(SqliteTest, ABusyDatabaseIsUnavailable) {
  const std::string path =
      ::testing::TempDir() + "/sqlite_test_busy_" + std::to_string(::getpid()) + ".db";
  auto a = Db::Open(path, {.label = "first", .busy_timeout_ms = 0});
  auto b = Db::Open(path, {.label = "second", .busy_timeout_ms = 0});
  ASSERT_TRUE(a.ok() && b.ok());
  {
    WriteTransaction holder(**a);
    ASSERT_TRUE(holder.Begin().ok());
    WriteTransaction waiter(**b);
    Status st = waiter.Begin();
    EXPECT_EQ(st.code(), ErrorCode::kUnavailable);
    EXPECT_NE(st.message().find("the second is locked"), std::string::npos) << st.message();
  }
  a->reset();
  b->reset();
  ::unlink(path.c_str());
}

}  // namespace
}  // namespace sluice::sqlite
