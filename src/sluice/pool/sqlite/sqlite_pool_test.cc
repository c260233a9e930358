#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "sluice/pool/pool.h"
#include "sluice/pool/sqlite/pool_testing.h"
#include "sluice/pool/sqlite/type_map_internal.h"

namespace sluice::pool {
namespace {

using namespace testing_util;  // NOLINT(google-build-using-namespace)

INSTANTIATE_TEST_SUITE_P(Pools, AnyPoolTest,
                         ::testing::Values(PoolKind::kSqlite, PoolKind::kPostgres), PoolKindName);

// The SQLite pool holds no ledger (the catalog is a database of its own): a write to commit
// with the load is refused, and the load stays open for a plain Commit.
TEST_F(PoolTest, HoldsNoLedgerToCommitWith) {
  auto tx = pool_->BeginLoad(Spec("orders", {"id"}), 1);
  ASSERT_TRUE(tx.ok());
  ASSERT_TRUE((*tx)->Apply(MakeBatch({{"id", Ints({1})}})).ok());
  bool ran = false;
  Status st = (*tx)->CommitWith(5, [&](std::string_view) {
    ran = true;
    return std::string("SELECT 1");
  });
  EXPECT_EQ(st.code(), ErrorCode::kNotImplemented);
  EXPECT_FALSE(ran);
  ASSERT_TRUE((*tx)->Commit(5).ok());
  EXPECT_EQ(Rows("SELECT count(*) FROM orders"), (Lines{"1"}));
}

TEST_F(PoolTest, CreatesTableAndInserts) {
  ApplyCounts c = Load(Spec("orders", {"id"}), 1,
                       {MakeBatch({{"id", Ints({1, 2, 3})},
                                   {"name", Strings({"a", std::nullopt, ""})},
                                   {"flag", Bools({1, 0, std::nullopt})}})});
  EXPECT_EQ(c.inserted, 3);
  EXPECT_EQ(c.updated, 0);
  EXPECT_EQ(c.refused, 0);
  EXPECT_EQ(Rows("SELECT id, name, flag, typeof(name) FROM orders ORDER BY id"),
            (Lines{"1|a|1|text", "2|NULL|0|null", "3||NULL|text"}));
  EXPECT_EQ(
      Rows("SELECT column_name, position, type_name, declared_type, pk_position FROM "
           "_sluice_columns WHERE table_name = 'orders' ORDER BY position"),
      (Lines{"id|0|BIGINT|INTEGER|0", "name|1|VARCHAR|TEXT|NULL", "flag|2|BOOLEAN|BOOLEAN|NULL"}));
  // The single integer key is the rowid alias.
  EXPECT_EQ(Rows("SELECT sql FROM sqlite_master WHERE name = 'orders'"),
            (Lines{"CREATE TABLE \"orders\"(\"id\" INTEGER PRIMARY KEY, \"name\" TEXT, "
                   "\"flag\" BOOLEAN)"}));
  EXPECT_EQ(Rows("SELECT rowid FROM orders ORDER BY id"), (Lines{"1", "2", "3"}));
}

TEST_P(AnyPoolTest, UpsertUpdatesOnlyTheFilesColumns) {
  Load(Spec("t", {"id"}), 1,
       {MakeBatch({{"id", Ints({1, 2})}, {"a", Strings({"a1", "a2"})}, {"b", Ints({10, 20})}})});
  ApplyCounts c = Load(Spec("t", {"id"}), 2,
                       {MakeBatch({{"id", Ints({2, 3})}, {"b", Ints({std::nullopt, 30})}})});
  EXPECT_EQ(c.inserted, 1);
  EXPECT_EQ(c.updated, 1);
  EXPECT_EQ(Rows("SELECT id, a, b FROM t ORDER BY id"),
            (Lines{"1|a1|10", "2|a2|NULL", "3|NULL|30"}));
}

TEST_P(AnyPoolTest, LastRowOfAKeyInABatchWins) {
  ApplyCounts c =
      Load(Spec("t", {"k"}), 1,
           {MakeBatch({{"k", Strings({"x", "y", "x", "x"})}, {"v", Ints({1, 2, 3, 4})}})});
  EXPECT_EQ(c.inserted, 2);
  EXPECT_EQ(c.updated, 2);
  EXPECT_EQ(Rows("SELECT k, v FROM t ORDER BY k"), (Lines{"x|4", "y|2"}));
}

TEST_P(AnyPoolTest, AgeRule) {
  TableSpec spec = Spec("t", {"id"}, "age");
  Load(spec, 1,
       {MakeBatch({{"id", Ints({1, 2, 3, 4, 5, 6})},
                   {"age", Ints({10, 10, 10, 10, std::nullopt, std::nullopt})},
                   {"v", Strings({"old", "old", "old", "old", "old", "old"})}})});
  ApplyCounts c =
      Load(spec, 2,
           {MakeBatch({{"id", Ints({1, 2, 3, 4, 5, 6, 7})},
                       // newer, equal, older, null vs stored 10, 20 vs stored null, null vs null,
                       // new key with a null age
                       {"age", Ints({11, 10, 9, std::nullopt, 20, std::nullopt, std::nullopt})},
                       {"v", Strings({"new", "new", "new", "new", "new", "new", "new"})}})});
  EXPECT_EQ(c.inserted, 1);
  EXPECT_EQ(c.updated, 4);
  EXPECT_EQ(c.refused, 2);
  EXPECT_EQ(Rows("SELECT id, age, v FROM t ORDER BY id"),
            (Lines{"1|11|new", "2|10|new", "3|10|old", "4|10|old", "5|20|new", "6|NULL|new",
                   "7|NULL|new"}));
  auto applied = pool_->FindApplied(kSchema, 2);
  ASSERT_TRUE(applied.ok());
  ASSERT_TRUE(applied->has_value());
  EXPECT_EQ((*applied)->counts.refused, 2);
}

TEST_P(AnyPoolTest, AgeRuleWithinOneBatchKeepsTheGreatestAge) {
  ApplyCounts c = Load(
      Spec("t", {"id"}, "age"), 1,
      {MakeBatch(
          {{"id", Ints({1, 1, 1})}, {"age", Ints({5, 3, 5})}, {"v", Strings({"a", "b", "c"})}})});
  EXPECT_EQ(c.inserted, 1);
  EXPECT_EQ(c.refused, 1);
  EXPECT_EQ(c.updated, 1);
  EXPECT_EQ(Rows("SELECT age, v FROM t"), (Lines{"5|c"}));
}

TEST_P(AnyPoolTest, CountsAreExactForIntegerKeysAtTheEdges) {
  // 0 and INT64_MIN are the values a careless insert/update sentinel would collide with.
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  ApplyCounts c = Load(
      Spec("t", {"id"}), 1,
      {MakeBatch({{"id", Ints({0, kMin, kMax, -1, 0, kMin})}, {"v", Ints({1, 2, 3, 4, 5, 6})}})});
  EXPECT_EQ(c.inserted, 4);
  EXPECT_EQ(c.updated, 2);
  c = Load(Spec("t", {"id"}), 2, {MakeBatch({{"id", Ints({kMin, 0, 7})}, {"v", Ints({7, 8, 9})}})});
  EXPECT_EQ(c.inserted, 1);
  EXPECT_EQ(c.updated, 2);
  EXPECT_EQ(
      Rows("SELECT id, v FROM t ORDER BY id"),
      (Lines{std::to_string(kMin) + "|7", "-1|4", "0|8", "7|9", std::to_string(kMax) + "|3"}));
}

TEST_P(AnyPoolTest, CountsAreExactForTextAndCompositeKeys) {
  TableSpec text = Spec("t", {"k"}, "age");
  ApplyCounts c =
      Load(text, 1, {MakeBatch({{"k", Strings({"a", "b", ""})}, {"age", Ints({1, 1, 1})}})});
  EXPECT_EQ(c.inserted, 3);
  c = Load(text, 2,
           {MakeBatch({{"k", Strings({"a", "b", "c", ""})}, {"age", Ints({2, 0, 1, 1})}})});
  EXPECT_EQ(c.inserted, 1);
  EXPECT_EQ(c.updated, 2);
  EXPECT_EQ(c.refused, 1);

  TableSpec comp = Spec("c", {"a", "b"}, "age");
  c = Load(comp, 3,
           {MakeBatch({{"a", Ints({1, 1, 2})},
                       {"b", Strings({"x", "y", "x"})},
                       {"age", Ints({5, 5, 5})},
                       {"v", Ints({1, 2, 3})}})});
  EXPECT_EQ(c.inserted, 3);
  // Split across two batches of one file: counts accumulate.
  auto tx = pool_->BeginLoad(comp, 4);
  ASSERT_TRUE(tx.ok());
  ASSERT_TRUE((*tx)
                  ->Apply(MakeBatch({{"a", Ints({1, 1})},
                                     {"b", Strings({"x", "z"})},
                                     {"age", Ints({6, 1})},
                                     {"v", Ints({10, 20})}}))
                  .ok());
  ASSERT_TRUE((*tx)
                  ->Apply(MakeBatch({{"a", Ints({1, 2})},
                                     {"b", Strings({"y", "x"})},
                                     {"age", Ints({4, 5})},
                                     {"v", Ints({30, 40})}}))
                  .ok());
  EXPECT_EQ((*tx)->counts().inserted, 1);
  EXPECT_EQ((*tx)->counts().updated, 2);
  EXPECT_EQ((*tx)->counts().refused, 1);
  ASSERT_TRUE((*tx)->Commit(5).ok());
  EXPECT_EQ(Rows("SELECT a, b, age, v FROM c ORDER BY a, b"),
            (Lines{"1|x|6|10", "1|y|5|2", "1|z|1|20", "2|x|5|40"}));
  if (pg()) return;
  EXPECT_EQ(Rows("SELECT sql FROM sqlite_master WHERE name = 'c'"),
            (Lines{"CREATE TABLE \"c\"(\"a\" BIGINT, \"b\" TEXT, \"age\" BIGINT, \"v\" BIGINT, "
                   "PRIMARY KEY(\"a\", \"b\"))"}));
}

TEST_P(AnyPoolTest, KeyOnlyFileCountsExistingKeysAsUpdated) {
  Load(Spec("t", {"id"}), 1, {MakeBatch({{"id", Ints({1})}, {"v", Ints({5})}})});
  ApplyCounts c = Load(Spec("t", {"id"}), 2, {MakeBatch({{"id", Ints({1, 2})}})});
  EXPECT_EQ(c.inserted, 1);
  EXPECT_EQ(c.updated, 1);
  EXPECT_EQ(Rows("SELECT id, v FROM t ORDER BY id"), (Lines{"1|5", "2|NULL"}));
}

TEST_P(AnyPoolTest, NewColumnIsAddedWithNullsForOldRows) {
  Load(Spec("t", {"id"}), 1, {MakeBatch({{"id", Ints({1})}, {"a", Ints({1})}})});
  Load(Spec("t", {"id"}), 2,
       {MakeBatch({{"id", Ints({2})}, {"a", Ints({2})}, {"Note", Strings({"n"})}})});
  // PostgreSQL keeps the name's case: it is quoted there.
  const std::string select = "SELECT id, a, \"Note\" FROM t ORDER BY id";
  EXPECT_EQ(Rows(select), (Lines{"1|1|NULL", "2|2|n"}));
  EXPECT_EQ(StoredColumns("t"), (Lines{"id|BIGINT", "a|BIGINT", "Note|VARCHAR"}));
  // Names compare case-insensitively, as SQLite does: "note" is the same column.
  Load(Spec("t", {"ID"}), 3, {MakeBatch({{"Id", Ints({1})}, {"note", Strings({"m"})}})});
  EXPECT_EQ(Rows(select), (Lines{"1|1|m", "2|2|n"}));
}

TEST_P(AnyPoolTest, TypeMismatchNamesBothTypes) {
  Load(Spec("t", {"id"}), 1, {MakeBatch({{"id", Ints({1})}, {"x", Ints({1})}})});
  Status st =
      LoadError(Spec("t", {"id"}), 2, MakeBatch({{"id", Ints({2})}, {"x", Strings({"text"})}}));
  EXPECT_EQ(st.code(), ErrorCode::kSchemaMismatch);
  EXPECT_EQ(
      st.message(),
      "column 'x' of table 't' is stored as BIGINT, the file has VARCHAR: not a safe widening");
  // Same name, different storage (nanosecond vs microsecond timestamps).
  Load(Spec("u", {"id"}), 3,
       {MakeBatch({{"id", Ints({1})}, {"ts", Timestamps(TimeUnit::kNanos, true, {0})}})});
  st = LoadError(Spec("u", {"id"}), 4,
                 MakeBatch({{"id", Ints({1})}, {"ts", Timestamps(TimeUnit::kNanos, false, {0})}}));
  EXPECT_EQ(st.code(), ErrorCode::kSchemaMismatch);
  EXPECT_EQ(AppliedCount(), "2");
}

// Limits the engine enforces on what a file brings are the file's: LIMIT_EXCEEDED, never
// INTERNAL.
TEST_P(AnyPoolTest, MoreColumnsThanTheEngineHoldsIsLimitExceeded) {
  std::vector<std::pair<std::string, Column>> columns;
  columns.emplace_back("id", Ints({1}));
  for (int i = 0; i < 2100; ++i) columns.emplace_back("c" + std::to_string(i), Ints({i}));
  Status st = LoadError(Spec("wide", {"id"}), 1, MakeBatch(std::move(columns)));
  EXPECT_EQ(st.code(), ErrorCode::kLimitExceeded) << st.ToString();
  EXPECT_NE(st.message().find(pg() ? "at most 1600 columns" : "too many columns"),
            std::string::npos)
      << st.message();
}

TEST_P(AnyPoolTest, AColumnTwiceIsASchemaMismatch) {
  Status st = LoadError(Spec("twice", {"id"}), 1,
                        MakeBatch({{"id", Ints({1})}, {"x", Ints({1})}, {"X", Ints({2})}}));
  EXPECT_EQ(st.code(), ErrorCode::kSchemaMismatch) << st.ToString();
}

TEST_P(AnyPoolTest, SafeWideningAndNarrowerFilesAreAccepted) {
  Load(Spec("t", {"id"}), 1,
       {MakeBatch({{"id", Ints({1}, TypeId::kInt32)},
                   {"n", Ints({7}, TypeId::kInt32)},
                   {"amount", Decimals(12, 2, {59700})}})});
  // Wider integers and a decimal with more integer digits at the same scale widen the column.
  Load(Spec("t", {"id"}), 2,
       {MakeBatch({{"id", Ints({2}, TypeId::kInt64)},
                   {"n", Ints({int64_t{1} << 40}, TypeId::kInt64)},
                   {"amount", Decimals(13, 2, {12345678901})}})});
  // Narrower types fit the widened columns as they are.
  Load(Spec("t", {"id"}), 3,
       {MakeBatch({{"id", Ints({3}, TypeId::kInt16)},
                   {"n", Ints({3}, TypeId::kInt8)},
                   {"amount", Decimals(5, 2, {-50})}})});
  EXPECT_EQ(StoredColumns("t"), (Lines{"id|BIGINT", "n|BIGINT", "amount|DECIMAL(13,2)"}));
  EXPECT_EQ(Rows("SELECT id, n, amount FROM t ORDER BY id"),
            (Lines{"1|7|597.00", "2|1099511627776|123456789.01", "3|3|-0.50"}));
  // Integers widen to DOUBLE outside the key.
  Load(Spec("t", {"id"}), 4, {MakeBatch({{"id", Ints({4})}, {"n", Doubles({2.5})}})});
  EXPECT_EQ(Rows("SELECT n FROM t WHERE id = 4"), (Lines{"2.5"}));
  // A scale change, a key column turning floating point, or a decimal whose widening would
  // change how SQLite stores it are not safe in this cut.
  EXPECT_EQ(LoadError(Spec("t", {"id"}), 5,
                      MakeBatch({{"id", Ints({5})}, {"amount", Decimals(13, 3, {1})}}))
                .message(),
            "column 'amount' of table 't' is stored as DECIMAL(13,2), the file has DECIMAL(13,3): "
            "a decimal's scale cannot change");
  EXPECT_EQ(LoadError(Spec("t", {"id"}), 6, MakeBatch({{"id", Doubles({6.0})}})).code(),
            ErrorCode::kSchemaMismatch);
  // PostgreSQL's numeric has no storage classes: any precision grows at the same scale.
  EXPECT_EQ(LoadError(Spec("t", {"id"}), 7,
                      MakeBatch({{"id", Ints({7})}, {"amount", Decimals(20, 2, {1})}}))
                .code(),
            pg() ? ErrorCode::kOk : ErrorCode::kSchemaMismatch);
}

TEST_P(AnyPoolTest, AllNullColumnTakesTheTypeOfALaterFile) {
  Load(Spec("t", {"id"}), 1, {MakeBatch({{"id", Ints({1})}, {"x", Nulls(1)}})});
  Load(Spec("t", {"id"}), 2, {MakeBatch({{"id", Ints({2})}, {"x", Ints({7})}})});
  Load(Spec("t", {"id"}), 3, {MakeBatch({{"id", Ints({3})}, {"x", Nulls(1)}})});
  EXPECT_EQ(Rows("SELECT id, x FROM t ORDER BY id"), (Lines{"1|NULL", "2|7", "3|NULL"}));
  Status st =
      LoadError(Spec("t", {"id"}), 4, MakeBatch({{"id", Ints({4})}, {"x", Strings({"s"})}}));
  EXPECT_EQ(
      st.message(),
      "column 'x' of table 't' is stored as BIGINT, the file has VARCHAR: not a safe widening");
}

TEST_P(AnyPoolTest, DestructionWithoutCommitRollsBackEverything) {
  {
    auto tx = pool_->BeginLoad(Spec("t", {"id"}), 1);
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE((*tx)->Apply(MakeBatch({{"id", Ints({1, 2})}, {"v", Ints({1, 2})}})).ok());
    // The reader sees only committed data while the load is open.
    EXPECT_FALSE(pool_->Query("SELECT * FROM t", kSchema).ok());
  }
  EXPECT_FALSE(pool_->Query("SELECT * FROM t", kSchema).ok());
  EXPECT_TRUE(StoredColumns("t").empty());
  EXPECT_EQ(AppliedCount(), "0");

  Load(Spec("t", {"id"}), 2, {MakeBatch({{"id", Ints({1})}, {"v", Ints({1})}})});
  {
    auto tx = pool_->BeginLoad(Spec("t", {"id"}), 3);
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE((*tx)
                    ->Apply(MakeBatch(
                        {{"id", Ints({1, 5})}, {"v", Ints({9, 9})}, {"w", Strings({"x", "y"})}}))
                    .ok());
  }
  EXPECT_EQ(Rows("SELECT * FROM t"), (Lines{"1|1"}));
  EXPECT_EQ(StoredColumns("t").size(), 2u);
  auto applied = pool_->FindApplied(kSchema, 3);
  ASSERT_TRUE(applied.ok());
  EXPECT_FALSE(applied->has_value());
  // The writer is free again.
  Load(Spec("t", {"id"}), 3, {MakeBatch({{"id", Ints({5})}, {"v", Ints({5})}})});
  EXPECT_EQ(Rows("SELECT * FROM t ORDER BY id"), (Lines{"1|1", "5|5"}));
}

TEST_P(AnyPoolTest, FailedApplyPoisonsTheTransaction) {
  auto tx = pool_->BeginLoad(Spec("t", {"id"}), 1);
  ASSERT_TRUE(tx.ok());
  ASSERT_TRUE((*tx)->Apply(MakeBatch({{"id", Ints({1})}, {"v", Ints({1})}})).ok());
  Status st = (*tx)->Apply(MakeBatch({{"id", Ints({2})}, {"v", Strings({"s"})}}));
  EXPECT_EQ(st.code(), ErrorCode::kSchemaMismatch);
  EXPECT_EQ((*tx)->Commit(1).code(), ErrorCode::kSchemaMismatch);
}

TEST_P(AnyPoolTest, CommitRecordsTheSequence) {
  ApplyCounts c = Load(Spec("t", {"id"}), 42, {MakeBatch({{"id", Ints({1, 2})}})});
  EXPECT_EQ(c.inserted, 2);
  auto applied = pool_->FindApplied(kSchema, 42);
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  ASSERT_TRUE(applied->has_value());
  EXPECT_EQ((*applied)->seq, 42);
  EXPECT_EQ((*applied)->table, "t");
  EXPECT_EQ((*applied)->counts.inserted, 2);
  EXPECT_EQ((*applied)->applied_at, 1042);
  auto missing = pool_->FindApplied(kSchema, 41);
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
  // A sequence is applied once.
  auto again = pool_->BeginLoad(Spec("t", {"id"}), 42);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), ErrorCode::kAlreadyExists);
}

TEST_P(AnyPoolTest, ReopenedPoolHasEverything) {
  Load(Spec("t", {"id"}, "age"), 7,
       {MakeBatch({{"id", Ints({1})}, {"age", Ints({3})}, {"v", Strings({"a"})}})});
  Reopen();
  auto applied = pool_->FindApplied(kSchema, 7);
  ASSERT_TRUE(applied.ok());
  ASSERT_TRUE(applied->has_value());
  EXPECT_EQ(Rows("SELECT id, age, v FROM t"), (Lines{"1|3|a"}));
  Status st = LoadError(Spec("t", {"id"}), 8, MakeBatch({{"id", Ints({1})}, {"v", Ints({1})}}));
  EXPECT_EQ(
      st.message(),
      "column 'v' of table 't' is stored as VARCHAR, the file has BIGINT: not a safe widening");
  ApplyCounts c = Load(Spec("t", {"id"}, "age"), 9,
                       {MakeBatch({{"id", Ints({1})}, {"age", Ints({2})}, {"v", Strings({"b"})}})});
  EXPECT_EQ(c.refused, 1);
  if (!pg()) {
    EXPECT_EQ(Rows("PRAGMA journal_mode"), (Lines{"wal"}));
  }
}

TEST_F(PoolTest, QueryFormatsValues) {
  Load(Spec("t", {"id"}), 1,
       {MakeBatch(
           {{"id", Ints({1, 2, 3})},
            {"d", Doubles({0.1, 1e300, std::nullopt})},
            {"b", Strings({std::string("\x00\xff\x10", 3), "", std::nullopt}, TypeId::kBinary)},
            {"amount", Decimals(10, 2, {10050, -5, 0})}})});
  EXPECT_EQ(Rows("SELECT id, d, b, amount, typeof(b), typeof(amount) FROM t ORDER BY id"),
            (Lines{"1|0.1|00ff10|100.50|blob|real", "2|1e+300||-0.05|blob|real",
                   "3|NULL|NULL|0.00|null|integer"}));
  EXPECT_EQ(Rows("SELECT 1.0/3, NULL, x'CAFE', 'text', 2.5"),
            (Lines{"0.3333333333333333|NULL|cafe|text|2.5"}));
  auto r = pool_->Query("SELECT id AS ident FROM t WHERE id = 1", kSchema);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->columns, (std::vector<std::string>{"ident"}));
  EXPECT_FALSE(pool_->Query("SELECT 1; SELECT 2", kSchema).ok());
  EXPECT_FALSE(pool_->Query("SELEKT", kSchema).ok());
}

TEST_F(PoolTest, DecimalsAreExactAndCompareNumerically) {
  Load(Spec("t", {"id"}), 1,
       {MakeBatch(
           {{"id", Ints({1, 2, 3, 4, 5, 6})},
            {"amount", Decimals(18, 2,
                                {10050, 9999, 123456789012345,               // 15 digits: REAL
                                 static_cast<__int128>(123456789012345678),  // 18: TEXT
                                 -10001, 10000})},
            {"whole", Decimals(38, 0,
                               {static_cast<__int128>(std::numeric_limits<int64_t>::max()),
                                static_cast<__int128>(std::numeric_limits<int64_t>::max()) * 10, 1,
                                2, 3, 4})}})});
  EXPECT_EQ(
      Rows("SELECT id, amount, typeof(amount), whole, typeof(whole) FROM t ORDER BY id"),
      (Lines{"1|100.50|real|9223372036854775807|integer", "2|99.99|real|92233720368547758070|text",
             "3|1234567890123.45|real|1|integer", "4|1234567890123456.78|text|2|integer",
             "5|-100.01|real|3|integer", "6|100.00|real|4|integer"}));
  EXPECT_EQ(Rows("SELECT id FROM t WHERE amount > 100 ORDER BY id"), (Lines{"1", "3", "4"}));
  EXPECT_EQ(Rows("SELECT id FROM t WHERE amount >= 100 AND amount < 200 ORDER BY id"),
            (Lines{"1", "6"}));
  EXPECT_EQ(Rows("SELECT sum(amount) FROM t WHERE id IN (1, 2, 5)"), (Lines{"100.48"}));
  EXPECT_EQ(Rows("SELECT declared_type FROM _sluice_columns WHERE column_name = 'amount'"),
            (Lines{"DECIMAL_BLOB(18,2)"}));
  // A precision that always fits binary64 exactly keeps NUMERIC affinity.
  Load(Spec("u", {"id"}), 2, {MakeBatch({{"id", Ints({1})}, {"p", Decimals(9, 4, {12345678})}})});
  EXPECT_EQ(Rows("SELECT p, p * 2 FROM u"), (Lines{"1234.5678|2469.1356"}));
  // NUMERIC affinity turns a whole REAL into an INTEGER; it still prints with the scale.
  Load(Spec("u", {"id"}), 3, {MakeBatch({{"id", Ints({2})}, {"p", Decimals(9, 4, {70000})}})});
  EXPECT_EQ(Rows("SELECT p, typeof(p) FROM u WHERE id = 2"), (Lines{"7.0000|integer"}));
  EXPECT_EQ(Rows("SELECT declared_type FROM _sluice_columns WHERE column_name = 'p'"),
            (Lines{"DECIMAL(9,4)"}));
}

TEST_F(PoolTest, UbigintAboveInt64IsAnError) {
  uint64_t big = static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) + 1;
  auto tx = pool_->BeginLoad(Spec("t", {"id"}), 1);
  ASSERT_TRUE(tx.ok());
  ASSERT_TRUE(
      (*tx)->Apply(MakeBatch({{"id", Ints({1, 2})}, {"u", UInts({5, std::nullopt})}})).ok());
  Status st = (*tx)->Apply(MakeBatch({{"id", Ints({3, 4})}, {"u", UInts({9, big})}}));
  EXPECT_EQ(st.code(), ErrorCode::kSchemaMismatch);
  EXPECT_EQ(st.message(),
            "column 'u' row 3: UBIGINT value 9223372036854775808 does not fit "
            "the pool's signed 64-bit INTEGER");
  tx = Result<std::unique_ptr<LoadTransaction>>(Status(ErrorCode::kInternal, "dropped"));
  ApplyCounts c =
      Load(Spec("t", {"id"}), 2, {MakeBatch({{"id", Ints({1})}, {"u", UInts({big - 1})}})});
  EXPECT_EQ(c.inserted, 1);
  EXPECT_EQ(Rows("SELECT u FROM t"), (Lines{"9223372036854775807"}));
}

TEST_F(PoolTest, TextualTypesUseTheirCanonicalForms) {
  Column uuid = batch::MakeColumn(DataType(TypeId::kUuid));
  for (int i = 0; i < 16; ++i) uuid.fixed.push_back(static_cast<uint8_t>(i * 17));
  uuid.length = 1;
  Column list = batch::MakeColumn(DataType::List(Field{"element", DataType(TypeId::kInt32)}));
  list.children[0] = Ints({1, 2}, TypeId::kInt32);
  list.offsets.push_back(2);
  list.length = 1;
  Load(Spec("t", {"id"}), 1,
       {MakeBatch({{"id", Ints({1})},
                   {"u", std::move(uuid)},
                   {"d", Dates({19723})},
                   {"ts", Timestamps(TimeUnit::kMicros, true, {1'704'067'200'123'456})},
                   {"tn", Timestamps(TimeUnit::kNanos, false, {1})},
                   {"j", Strings({"12"}, TypeId::kJson)},
                   {"l", std::move(list)}})});
  EXPECT_EQ(Rows("SELECT u, d, ts, tn, j, typeof(j), l, date(ts), ts > '2023-12-31' FROM t"),
            (Lines{"00112233-4455-6677-8899-aabbccddeeff|2024-01-01|2024-01-01T00:00:00.123456Z|"
                   "1970-01-01T00:00:00.000000001|12|text|[1,2]|2024-01-01|1"}));
}

TEST_P(AnyPoolTest, RejectsFilesWithoutKeysOrAge) {
  Batch b = MakeBatch({{"id", Ints({1, std::nullopt})}, {"v", Ints({1, 2})}});
  Status st = LoadError(Spec("t", {"key"}), 1, b);
  EXPECT_EQ(st.code(), ErrorCode::kPkNotFound);
  EXPECT_EQ(st.message(), "primary key column 'key' is not in the file; its columns are: id, v");
  st = LoadError(Spec("t", {"id"}), 1, b);
  EXPECT_EQ(st.code(), ErrorCode::kPkNull);
  EXPECT_EQ(st.message(), "primary key column 'id' is null in row 1");
  st = LoadError(Spec("t", {"v"}, "ts"), 1, b);
  EXPECT_EQ(st.code(), ErrorCode::kAgeColumnNotFound);
  Load(Spec("t", {"v"}), 1, {MakeBatch({{"v", Ints({1})}})});
  st = LoadError(Spec("t", {"id"}), 2, MakeBatch({{"id", Ints({1})}, {"v", Ints({1})}}));
  EXPECT_EQ(st.code(), ErrorCode::kSchemaMismatch);
  EXPECT_EQ(pool_->BeginLoad(Spec("_sluice_applied", {"seq"}), 3).status().code(),
            ErrorCode::kInvalidArgument);
}

TEST_P(AnyPoolTest, IdentifiersAreQuoted) {
  Load(Spec("we\"ird table", {"the key"}), 1,
       {MakeBatch({{"the key", Strings({"k"})}, {"a\"b", Ints({1})}, {"select", Ints({2})}})});
  EXPECT_EQ(Rows("SELECT \"the key\", \"a\"\"b\", \"select\" FROM \"we\"\"ird table\""),
            (Lines{"k|1|2"}));
}

TEST_P(AnyPoolTest, BatchesWithDifferentColumnSetsInOneFile) {
  auto tx = pool_->BeginLoad(Spec("t", {"id"}), 1);
  ASSERT_TRUE(tx.ok());
  ASSERT_TRUE((*tx)->Apply(MakeBatch({{"id", Ints({1})}, {"a", Ints({1})}})).ok());
  ASSERT_TRUE((*tx)->Apply(MakeBatch({{"id", Ints({2})}, {"a", Ints({2})}})).ok());
  ASSERT_TRUE((*tx)->Apply(MakeBatch({{"b", Ints({3})}, {"id", Ints({1})}})).ok());
  ASSERT_TRUE((*tx)->Apply(MakeBatch({{"id", Ints({3})}, {"a", Ints({3})}})).ok());
  ASSERT_TRUE((*tx)->Commit(1).ok());
  EXPECT_EQ(Rows("SELECT id, a, b FROM t ORDER BY id"), (Lines{"1|1|3", "2|2|NULL", "3|3|NULL"}));
}

// --- deletes --------------------------------------------------------------------------------

TEST_P(AnyPoolTest, DeleteColumnWithoutAgeRemovesRowsAndIsNotStored) {
  const TableSpec spec = Spec("t", {"id"}, "", "_deleted");
  EXPECT_EQ(CountsText(Load(spec, 1,
                            {MakeBatch({{"id", Ints({1, 2, 3})},
                                        {"v", Strings({"a", "b", "c"})},
                                        {"_deleted", Bools({0, std::nullopt, 0})}})})),
            "i3 u0 r0 d0");
  // Key 5 is not stored: the delete is applied (and counted) but removes nothing.
  EXPECT_EQ(CountsText(Load(spec, 2,
                            {MakeBatch({{"id", Ints({2, 4, 5, 3})},
                                        {"v", Strings({"x", "d", "y", "C"})},
                                        {"_deleted", Bools({1, 0, 1, 0})}})})),
            "i1 u1 r0 d2");
  EXPECT_EQ(Rows("SELECT * FROM t ORDER BY id"), (Lines{"1|a", "3|C", "4|d"}));
  EXPECT_EQ(StoredColumns("t"), (Lines{"id|BIGINT", "v|VARCHAR"}));
  // Without an age column nothing else is kept.
  EXPECT_FALSE(HasTombstoneTable("t"));
  auto applied = pool_->FindApplied(kSchema, 2);
  ASSERT_TRUE(applied.ok() && applied->has_value());
  EXPECT_EQ(CountsText((*applied)->counts), "i1 u1 r0 d2");
  // A file without the delete column only upserts.
  EXPECT_EQ(CountsText(Load(spec, 3, {MakeBatch({{"id", Ints({2})}, {"v", Strings({"b"})}})})),
            "i1 u0 r0 d0");
}

TEST_P(AnyPoolTest, WhatCountsAsADelete) {
  const TableSpec spec = Spec("t", {"id"}, "", "del");
  std::vector<std::optional<int64_t>> ids;
  for (int64_t i = 0; i < 12; ++i) ids.push_back(i);
  Load(spec, 1, {MakeBatch({{"id", Ints(ids)}})});
  // Text: exactly true / t / 1 / yes in any case; everything else (and null) upserts.
  Load(spec, 2,
       {MakeBatch({{"id", Ints(ids)},
                   {"del", Strings({"TRUE", "t", "1", "Yes", "no", "false", "0", "", " true", "y",
                                    std::nullopt, "yEs"})}})});
  EXPECT_EQ(Ids(), "4,5,6,7,8,9,10");
  // Integers: any value but 0; null upserts.
  Load(spec, 3,
       {MakeBatch(
           {{"id", Ints({4, 5, 6, 7})}, {"del", Ints({0, -1, std::nullopt, 2}, TypeId::kInt32)}})});
  EXPECT_EQ(Ids(), "4,6,8,9,10");
  // An all-null delete column deletes nothing.
  Load(spec, 4, {MakeBatch({{"id", Ints({8})}, {"del", Nulls(1)}})});
  EXPECT_EQ(Rows("SELECT count(*) FROM t"), (Lines{"5"}));
  Status st = LoadError(spec, 5, MakeBatch({{"id", Ints({4})}, {"del", Doubles({1.0})}}));
  EXPECT_EQ(st.code(), ErrorCode::kSchemaMismatch);
  EXPECT_EQ(st.message(),
            "delete column 'del' has type DOUBLE; it must be BOOLEAN, an integer or VARCHAR");
  // The delete column cannot be a key or the age column.
  EXPECT_EQ(pool_->BeginLoad(Spec("t", {"id"}, "", "ID"), 6).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(pool_->BeginLoad(Spec("t", {"id"}, "v", "v"), 6).status().code(),
            ErrorCode::kInvalidArgument);
}

TEST_P(AnyPoolTest, DeletesApplyInBatchOrder) {
  const TableSpec spec = Spec("t", {"id"}, "", "_deleted");
  // Insert then delete leaves nothing; delete then insert leaves the row; across batches too.
  auto tx = pool_->BeginLoad(spec, 1);
  ASSERT_TRUE(tx.ok());
  ASSERT_TRUE((*tx)
                  ->Apply(MakeBatch({{"id", Ints({1, 1, 2, 2, 3})},
                                     {"v", Ints({10, 11, 20, 21, 30})},
                                     {"_deleted", Bools({0, 1, 1, 0, 0})}}))
                  .ok());
  ASSERT_TRUE(
      (*tx)
          ->Apply(MakeBatch({{"id", Ints({3})}, {"v", Ints({0})}, {"_deleted", Bools({1})}}))
          .ok());
  ASSERT_TRUE((*tx)->Apply(MakeBatch({{"id", Ints({3})}, {"v", Ints({31})}})).ok());
  EXPECT_EQ(CountsText((*tx)->counts()), "i4 u0 r0 d3");
  ASSERT_TRUE((*tx)->Commit(1).ok());
  EXPECT_EQ(Rows("SELECT * FROM t ORDER BY id"), (Lines{"2|21", "3|31"}));
}

TEST_P(AnyPoolTest, DeletesWithAgeLeaveTombstones) {
  const TableSpec spec = Spec("t", {"id"}, "v", "del");
  Load(spec, 1,
       {MakeBatch({{"id", Ints({1, 2})}, {"v", Ints({5, 5})}, {"x", Strings({"a", "b"})}})});
  // k1: older delete refused. k2: newer delete removes the row, tombstone at 6. k3: never
  // stored: the delete is applied, tombstone at 3.
  EXPECT_EQ(CountsText(Load(spec, 2,
                            {MakeBatch({{"id", Ints({1, 2, 3})},
                                        {"v", Ints({4, 6, 3})},
                                        {"del", Bools({1, 1, 1})}})})),
            "i0 u0 r1 d2");
  EXPECT_EQ(Rows("SELECT id, v, x FROM t ORDER BY id"), (Lines{"1|5|a"}));
  EXPECT_EQ(Rows("SELECT * FROM " + Tombstones("t") + " ORDER BY id"), (Lines{"2|6", "3|3"}));
  // Reopened: the tombstones are found again. An older version of k2 cannot come back; an
  // equal one of k3 re-inserts it and drops its tombstone; k1 updates as usual.
  Reopen();
  EXPECT_EQ(CountsText(Load(spec, 3,
                            {MakeBatch({{"id", Ints({2, 3, 1})},
                                        {"v", Ints({5, 3, 5})},
                                        {"x", Strings({"old", "back", "A"})}})})),
            "i1 u1 r1 d0");
  EXPECT_EQ(Rows("SELECT id, v, x FROM t ORDER BY id"), (Lines{"1|5|A", "3|3|back"}));
  EXPECT_EQ(Rows("SELECT * FROM " + Tombstones("t") + " ORDER BY id"), (Lines{"2|6"}));
  // A delete against a tombstone obeys the age rule too: older refused, newer moves it.
  EXPECT_EQ(CountsText(Load(spec, 4,
                            {MakeBatch({{"id", Ints({2, 2})},
                                        {"v", Ints({5, 8})},
                                        {"del", Strings({"true", "true"})}})})),
            "i0 u0 r1 d1");
  EXPECT_EQ(Rows("SELECT * FROM " + Tombstones("t") + " ORDER BY id"), (Lines{"2|8"}));
  // A null age is older than every value: refused against the row and the tombstone.
  EXPECT_EQ(CountsText(Load(spec, 5,
                            {MakeBatch({{"id", Ints({1, 2})},
                                        {"v", Ints({std::nullopt, std::nullopt})},
                                        {"del", Bools({1, 0})}})})),
            "i0 u0 r2 d0");
  // Newer wins over the tombstone; within one file a later older row is refused by the row.
  EXPECT_EQ(CountsText(Load(spec, 6,
                            {MakeBatch({{"id", Ints({2, 2})},
                                        {"v", Ints({9, 7})},
                                        {"x", Strings({"new", "stale"})}})})),
            "i1 u0 r1 d0");
  EXPECT_EQ(Rows("SELECT id, v, x FROM t ORDER BY id"), (Lines{"1|5|A", "2|9|new", "3|3|back"}));
  EXPECT_TRUE(Rows("SELECT * FROM " + Tombstones("t")).empty());
}

TEST_P(AnyPoolTest, TombstoneWrittenEarlierInTheFileRefusesAnOlderRowLaterInIt) {
  const TableSpec spec = Spec("t", {"id"}, "v", "del");
  Load(spec, 1, {MakeBatch({{"id", Ints({1})}, {"v", Ints({1})}})});
  auto tx = pool_->BeginLoad(spec, 2);
  ASSERT_TRUE(tx.ok());
  ASSERT_TRUE((*tx)
                  ->Apply(MakeBatch(
                      {{"id", Ints({1, 1, 2})}, {"v", Ints({5, 4, 3})}, {"del", Bools({1, 0, 1})}}))
                  .ok());
  // A batch without the delete column still checks the tombstones of this load.
  ASSERT_TRUE((*tx)->Apply(MakeBatch({{"id", Ints({2, 1})}, {"v", Ints({2, 6})}})).ok());
  EXPECT_EQ(CountsText((*tx)->counts()), "i1 u0 r2 d2");
  ASSERT_TRUE((*tx)->Commit(1).ok());
  EXPECT_EQ(Rows("SELECT * FROM t"), (Lines{"1|6"}));
  EXPECT_EQ(Rows("SELECT * FROM " + Tombstones("t")), (Lines{"2|3"}));
}

TEST_P(AnyPoolTest, TombstonesOfCompositeTextKeysWithTimestampAges) {
  const TableSpec spec = Spec("t", {"region", "code"}, "at", "gone");
  auto at = [](std::vector<std::optional<int64_t>> v) {
    return Timestamps(TimeUnit::kMicros, true, v);
  };
  Load(spec, 1,
       {MakeBatch({{"region", Strings({"eu", "eu", "us"})},
                   {"code", Ints({1, 2, 1})},
                   {"at", at({100, 100, 100})}})});
  EXPECT_EQ(CountsText(Load(spec, 2,
                            {MakeBatch({{"region", Strings({"eu", "us"})},
                                        {"code", Ints({2, 1})},
                                        {"at", at({200, 50})},
                                        {"gone", Ints({1, 1})}})})),
            "i0 u0 r1 d1");
  EXPECT_EQ(
      Rows("SELECT * FROM " + Tombstones("t")),
      (Lines{pg() ? "eu|2|1970-01-01 00:00:00.0002+00" : "eu|2|1970-01-01T00:00:00.000200Z"}));
  EXPECT_EQ(CountsText(Load(spec, 3,
                            {MakeBatch({{"region", Strings({"eu", "eu"})},
                                        {"code", Ints({2, 2})},
                                        {"at", at({150, 200})}})})),
            "i1 u0 r1 d0");
  if (pg()) {
    EXPECT_EQ(Rows("SELECT region, code, at FROM t ORDER BY region, code"),
              (Lines{"eu|1|1970-01-01 00:00:00.0001+00", "eu|2|1970-01-01 00:00:00.0002+00",
                     "us|1|1970-01-01 00:00:00.0001+00"}));
    return;
  }
  EXPECT_EQ(Rows("SELECT region, code, at FROM t ORDER BY region, code"),
            (Lines{"eu|1|1970-01-01T00:00:00.000100Z", "eu|2|1970-01-01T00:00:00.000200Z",
                   "us|1|1970-01-01T00:00:00.000100Z"}));
}

TEST_P(AnyPoolTest, RolledBackDeletesLeaveNothing) {
  const TableSpec spec = Spec("t", {"id"}, "v", "del");
  Load(spec, 1, {MakeBatch({{"id", Ints({1, 2})}, {"v", Ints({1, 1})}})});
  {
    auto tx = pool_->BeginLoad(spec, 2);
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(
        (*tx)->Apply(MakeBatch({{"id", Ints({1})}, {"v", Ints({2})}, {"del", Bools({1})}})).ok());
  }
  EXPECT_EQ(Rows("SELECT id FROM t ORDER BY id"), (Lines{"1", "2"}));
  EXPECT_FALSE(HasTombstoneTable("t"));
}

// --- schema evolution and history ------------------------------------------------------------

TEST_F(PoolTest, DateWidensToTimestampAndStoredDatesAreRewritten) {
  const TableSpec spec = Spec("t", {"id"});
  Load(spec, 1, {MakeBatch({{"id", Ints({1, 2})}, {"d", Dates({19724, std::nullopt})}})});
  // 2024-01-02T12:00:00 in micros.
  const int64_t noon = (int64_t{19724} * 86400 + 43200) * 1'000'000;
  Load(spec, 2,
       {MakeBatch({{"id", Ints({3})}, {"d", Timestamps(TimeUnit::kMicros, false, {noon})}})});
  EXPECT_EQ(Rows("SELECT id, d FROM t ORDER BY id"),
            (Lines{"1|2024-01-02T00:00:00.000000", "2|NULL", "3|2024-01-02T12:00:00.000000"}));
  // A DATE file now goes in as the day's midnight, so it compares in time order.
  Load(spec, 3, {MakeBatch({{"id", Ints({4})}, {"d", Dates({19725})}})});
  EXPECT_EQ(Rows("SELECT id FROM t WHERE d > '2024-01-02T00:00:00.000000' ORDER BY d"),
            (Lines{"3", "4"}));
  EXPECT_EQ(Rows("SELECT d FROM t WHERE id = 4"), (Lines{"2024-01-03T00:00:00.000000"}));
  EXPECT_EQ(Rows("SELECT type_name FROM _sluice_columns WHERE column_name = 'd'"),
            (Lines{"TIMESTAMP"}));
  // Another timestamp unit is not a safe widening.
  Status st = LoadError(
      spec, 4, MakeBatch({{"id", Ints({5})}, {"d", Timestamps(TimeUnit::kNanos, false, {0})}}));
  EXPECT_EQ(st.code(), ErrorCode::kSchemaMismatch);
  EXPECT_EQ(st.message(),
            "column 'd' of table 't' is stored as TIMESTAMP, the file has TIMESTAMP_NS: timestamps "
            "of another unit or time zone are stored as different text");
}

TEST_F(PoolTest, DateKeyAndAgeWidenWithTheirTombstones) {
  const TableSpec spec = Spec("t", {"day"}, "seen", "del");
  Load(spec, 1, {MakeBatch({{"day", Dates({1, 2})}, {"seen", Dates({10, 10})}})});
  Load(spec, 2, {MakeBatch({{"day", Dates({2})}, {"seen", Dates({11})}, {"del", Bools({1})}})});
  EXPECT_EQ(Rows("SELECT * FROM " + Tombstones("t")), (Lines{"1970-01-03|1970-01-12"}));
  // A UTC timestamp age widens the age column; its tombstone ages are rewritten too.
  const int64_t day = int64_t{86400} * 1'000'000;
  Load(spec, 3,
       {MakeBatch(
           {{"day", Dates({1})}, {"seen", Timestamps(TimeUnit::kMicros, true, {10 * day})}})});
  EXPECT_EQ(Rows("SELECT * FROM " + Tombstones("t")),
            (Lines{"1970-01-03|1970-01-12T00:00:00.000000Z"}));
  // The older version of key 2 stays deleted; the equal one of key 1 updates.
  EXPECT_EQ(
      CountsText(Load(
          spec, 4,
          {MakeBatch({{"day", Dates({2, 1})},
                      {"seen", Timestamps(TimeUnit::kMicros, true, {11 * day - 1, 10 * day})}})})),
      "i0 u1 r1 d0");
  // The key itself widens: stored keys and tombstone keys become midnights.
  Load(spec, 5,
       {MakeBatch(
           {{"day", Timestamps(TimeUnit::kMicros, false, {5 * day})}, {"seen", Dates({20})}})});
  EXPECT_EQ(Rows("SELECT day, seen FROM t ORDER BY day"),
            (Lines{"1970-01-02T00:00:00.000000|1970-01-11T00:00:00.000000Z",
                   "1970-01-06T00:00:00.000000|1970-01-21T00:00:00.000000Z"}));
  EXPECT_EQ(Rows("SELECT * FROM " + Tombstones("t")),
            (Lines{"1970-01-03T00:00:00.000000|1970-01-12T00:00:00.000000Z"}));
  EXPECT_EQ(CountsText(Load(spec, 6, {MakeBatch({{"day", Dates({2})}, {"seen", Dates({11})}})})),
            "i1 u0 r0 d0");
}

TEST_P(AnyPoolTest, SchemaHistoryRecordsCreateAddAndWiden) {
  const TableSpec spec = Spec("t", {"id"}, "", "del");
  Load(spec, 1,
       {MakeBatch({{"id", Ints({1}, TypeId::kInt32)}, {"n", Nulls(1)}, {"del", Bools({0})}})});
  clock_.Advance(5);
  Load(spec, 2,
       {MakeBatch({{"id", Ints({2}, TypeId::kInt64)},
                   {"n", Ints({3}, TypeId::kInt16)},
                   {"s", Strings({"x"})}})});
  Load(spec, 3, {MakeBatch({{"id", Ints({2})}, {"n", Doubles({0.5})}})});
  // A failed load records nothing.
  EXPECT_EQ(
      LoadError(spec, 4, MakeBatch({{"id", Ints({2})}, {"z", Ints({1})}, {"s", Ints({1})}})).code(),
      ErrorCode::kSchemaMismatch);
  auto history = pool_->SchemaHistory(kSchema, "t");
  ASSERT_TRUE(history.ok()) << history.status().ToString();
  std::vector<std::string> lines;
  for (const SchemaChange& c : *history) {
    lines.push_back(c.table + " " + std::to_string(c.seq) + " " +
                    std::to_string(c.changed_at - clock_.NowMicros()) + " " +
                    SchemaChangeKindName(c.kind) + " " + c.column + " " + c.old_type + ">" +
                    c.new_type);
  }
  EXPECT_EQ(lines, (Lines{"t 1 -5 create id >INTEGER", "t 1 -5 create n >\"NULL\"",
                          "t 2 0 widen id INTEGER>BIGINT", "t 2 0 widen n \"NULL\">SMALLINT",
                          "t 2 0 add s >VARCHAR", "t 3 0 widen n SMALLINT>DOUBLE"}));
  auto none = pool_->SchemaHistory(kSchema, "nope");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  // A failed create leaves no history either.
  EXPECT_EQ(LoadError(Spec("u", {"id"}), 5, MakeBatch({{"id", Ints({1, std::nullopt})}})).code(),
            ErrorCode::kPkNull);
  {
    auto tx = pool_->BeginLoad(Spec("u", {"id"}), 6);
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE((*tx)->Apply(MakeBatch({{"id", Ints({1})}})).ok());
  }
  EXPECT_TRUE(pool_->SchemaHistory(kSchema, "u")->empty());
}

TEST(TypeMapTest, MidnightSuffixMakesDatesTheirMidnightTimestamps) {
  for (int32_t days : {-800'000, -719'529, -1, 0, 1, 19'724, 2'932'896, 2'932'897, 3'000'000}) {
    for (TimeUnit unit : {TimeUnit::kMicros, TimeUnit::kNanos}) {
      if (unit == TimeUnit::kNanos && (days < -106'000 || days > 106'000)) continue;
      const int64_t per_day = unit == TimeUnit::kNanos ? 86'400'000'000'000 : 86'400'000'000;
      for (bool utc : {false, true}) {
        const std::string key = sqlite::TypeKey(batch::DataType::Timestamp(unit, utc));
        EXPECT_EQ(batch::FormatDate(days) + sqlite::MidnightSuffix(key),
                  batch::FormatTimestamp(days * per_day, unit, utc))
            << days << " " << key;
      }
    }
  }
}

TEST(TypeMapTest, FastTimestampMatchesTheCanonicalFormatter) {
  std::mt19937_64 rng(7);
  std::vector<int64_t> values = {
      0, -1, 1, 86'399'999'999, -86'400'000'000, 253'402'300'799'999'999, -62'167'219'200'000'000};
  for (int i = 0; i < 20000; ++i) values.push_back(static_cast<int64_t>(rng()) >> (rng() % 16));
  for (TimeUnit unit : {TimeUnit::kMillis, TimeUnit::kMicros, TimeUnit::kNanos}) {
    for (bool utc : {false, true}) {
      for (int64_t v : values) {
        char text[sqlite::kMaxTimestampChars];
        int n = sqlite::FormatTimestampFast(v, unit, utc, text);
        if (n < 0) continue;  // outside years 0..9999: the canonical formatter is used
        ASSERT_EQ(std::string(text, static_cast<size_t>(n)), batch::FormatTimestamp(v, unit, utc))
            << v;
      }
    }
  }
}

}  // namespace
}  // namespace sluice::pool
