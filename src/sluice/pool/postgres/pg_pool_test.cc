// Tests of the PostgreSQL pool's storage (types, identifiers, the NUL and nanosecond
// policies, metadata, exactly once), and a differential test: random files applied to a SQLite
// pool and a PostgreSQL pool give the same counts and the same rows.

#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "sluice/pool/pool.h"
#include "sluice/pool/sqlite/pool_testing.h"
#include "sluice/postgres/postgres_testing.h"

namespace sluice::pool {
namespace {

using namespace testing_util;  // NOLINT(google-build-using-namespace)
using ::sluice::postgres::testing::TestDatabase;

class PgPoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(db_.conninfo().empty());
    Reopen();
  }
  void Reopen() {
    pool_.reset();
    auto p = OpenPostgresPool(db_.conninfo(), clock_);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    pool_ = std::move(p).value();
  }

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

  std::vector<std::string> Rows(const std::string& sql, const std::string& schema = "demo") {
    auto r = pool_->Query(sql, schema);
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

  TestDatabase db_;
  FakeClock clock_{1'700'000'000'000'000};
  std::unique_ptr<Pool> pool_;
};

TEST_F(PgPoolTest, CreatesTableInTheConnectionsSchema) {
  ApplyCounts c = Load(Spec("orders", {"id"}), 1,
                       {MakeBatch({{"id", Ints({1, 2, 3})},
                                   {"name", Strings({"a", std::nullopt, ""})},
                                   {"flag", Bools({1, 0, std::nullopt})}})});
  EXPECT_EQ(CountsText(c), "i3 u0 r0 d0");
  EXPECT_EQ(Rows("SELECT id, name, flag FROM orders ORDER BY id"),
            (Lines{"1|a|t", "2|NULL|f", "3||NULL"}));
  EXPECT_EQ(Rows("SELECT count(*) FROM demo.orders", ""), (Lines{"3"}));
  EXPECT_EQ(Rows("SELECT column_name, data_type FROM information_schema.columns WHERE "
                 "table_schema = 'demo' AND table_name = 'orders' ORDER BY ordinal_position"),
            (Lines{"id|bigint", "name|text", "flag|boolean"}));
  EXPECT_EQ(
      Rows("SELECT column_name, position, type_name, pg_type, pk_position FROM "
           "_sluice.columns WHERE table_name = 'orders' ORDER BY position"),
      (Lines{"id|0|BIGINT|bigint|0", "name|1|VARCHAR|text|NULL", "flag|2|BOOLEAN|boolean|NULL"}));
  auto applied = pool_->FindApplied("demo", 1);
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  ASSERT_TRUE(applied->has_value());
  EXPECT_EQ((*applied)->table, "orders");
  EXPECT_EQ((*applied)->applied_at, 1001);
  EXPECT_EQ(CountsText((*applied)->counts), "i3 u0 r0 d0");
}

TEST_F(PgPoolTest, TwoConnectionsMayBothHaveATableOfOneName) {
  TableSpec a = Spec("orders", {"id"});
  TableSpec b = a;
  b.schema = "other";
  Load(a, 1, {MakeBatch({{"id", Ints({1})}, {"v", Strings({"a"})}})});
  Load(b, 2, {MakeBatch({{"id", Ints({1})}, {"v", Ints({7})}})});
  EXPECT_EQ(Rows("SELECT v FROM orders"), (Lines{"a"}));
  EXPECT_EQ(Rows("SELECT v FROM orders", "other"), (Lines{"7"}));
  EXPECT_EQ(pool_->SchemaHistory("other", "orders")->size(), 2u);
}

TEST_F(PgPoolTest, ASecondApplierOfOneFileRollsBack) {
  auto first = pool_->BeginLoad(Spec("t", {"id"}), 5);
  auto second = pool_->BeginLoad(Spec("u", {"id"}), 5);
  ASSERT_TRUE(first.ok() && second.ok());
  ASSERT_TRUE((*first)->Apply(MakeBatch({{"id", Ints({1})}})).ok());
  ASSERT_TRUE((*second)->Apply(MakeBatch({{"id", Ints({2})}})).ok());
  ASSERT_TRUE((*first)->Commit(1).ok());
  Status st = (*second)->Commit(1);
  EXPECT_EQ(st.code(), ErrorCode::kAlreadyExists) << st.ToString();
  EXPECT_EQ(st.message(), "file seq 5 is already applied to the pool");
  EXPECT_EQ(Rows("SELECT count(*) FROM pg_tables WHERE schemaname = 'demo'"), (Lines{"1"}));
  EXPECT_EQ(pool_->BeginLoad(Spec("t", {"id"}), 5).status().code(), ErrorCode::kAlreadyExists);
}

// The caller's write (the ledger's outcome) commits with the rows, on the load's connection,
// reading the load's counts from the pool's query; when it refuses, nothing of the load is
// applied. Files 1 and 2 go the ordinary way (the second leaves the table known to the
// pool), 3 and 4 the one-round-trip way.
TEST_F(PgPoolTest, AWriteCommittedWithTheLoadCommitsOrRollsBackWithIt) {
  auto setup = db_.Connect();
  ASSERT_NE(setup, nullptr);
  ASSERT_TRUE(
      setup
          ->Exec("CREATE TABLE ledger(seq bigint PRIMARY KEY, status text, inserted bigint, "
                 "updated bigint)")
          .ok());
  ASSERT_TRUE(setup
                  ->Exec("INSERT INTO ledger(seq, status) SELECT g, 'loading' FROM "
                         "generate_series(1, 4) g")
                  .ok());
  auto mark_loaded = [](int64_t seq) {
    return [seq](std::string_view counts) {
      const std::string n = std::to_string(seq);
      return "WITH f AS (UPDATE public.ledger SET status = 'loaded', inserted = c.inserted, "
             "updated = c.updated FROM " +
             std::string(counts) + " c WHERE seq = " + n +
             " AND status = 'loading' RETURNING 1) SELECT CASE WHEN (SELECT count(*) FROM f) = 1 "
             "THEN true ELSE _sluice.refuse('file " +
             n + " is not loading any more') END";
    };
  };
  auto load = [&](int64_t seq, const Batch& batch) {
    auto tx = pool_->BeginLoad(Spec("t", {"id"}), seq);
    if (!tx.ok()) return tx.status();
    SLUICE_RETURN_IF_ERROR((*tx)->Apply(batch));
    return (*tx)->CommitWith(10 + seq, mark_loaded(seq));
  };
  ASSERT_TRUE(load(1, MakeBatch({{"id", Ints({1})}, {"v", Ints({1})}})).ok());
  ASSERT_TRUE(load(2, MakeBatch({{"id", Ints({1, 2})}, {"v", Ints({2, 2})}})).ok());
  ASSERT_TRUE(load(3, MakeBatch({{"id", Ints({2, 3, 4})}, {"v", Ints({3, 3, 3})}})).ok());
  EXPECT_EQ(Rows("SELECT seq, status, inserted, updated FROM public.ledger ORDER BY seq"),
            (Lines{"1|loaded|1|0", "2|loaded|1|1", "3|loaded|2|1", "4|loading|NULL|NULL"}));

  // File 4's outcome is already recorded elsewhere: its rows must not commit.
  ASSERT_TRUE(setup->Exec("UPDATE ledger SET status = 'loaded' WHERE seq = 4").ok());
  Status st = load(4, MakeBatch({{"id", Ints({1, 5})}, {"v", Ints({4, 4})}}));
  EXPECT_NE(st.message().find("file 4 is not loading any more"), std::string::npos)
      << st.ToString();
  EXPECT_EQ(Rows("SELECT id, v FROM t ORDER BY id"), (Lines{"1|2", "2|3", "3|3", "4|3"}));
  auto applied = pool_->FindApplied("demo", 4);
  ASSERT_TRUE(applied.ok());
  EXPECT_FALSE(applied->has_value());
}

// Once the pool knows a table (a load read it), a small file's whole load is one round trip:
// BEGIN, the guard that the table is unchanged, the upsert with the file's record, COMMIT.
TEST_F(PgPoolTest, ASmallFileOfAKnownTableIsOneRoundTrip) {
  TableSpec spec = Spec("t", {"id"}, "age");
  Load(spec, 1,
       {MakeBatch({{"id", Ints({1, 2})}, {"age", Ints({5, 5})}, {"v", Strings({"a", "b"})}})});
  Load(spec, 2, {MakeBatch({{"id", Ints({3})}, {"age", Ints({5})}, {"v", Strings({"c"})}})});
  const uint64_t before = ::sluice::postgres::RoundTrips();
  auto tx = pool_->BeginLoad(spec, 3);
  ASSERT_TRUE(tx.ok()) << tx.status().ToString();
  // 1 updated, 2 refused as older, 4 inserted, 3 keeps its value with a null age refused.
  ASSERT_TRUE((*tx)
                  ->Apply(MakeBatch({{"id", Ints({1, 2, 4, 3})},
                                     {"age", Ints({6, 4, 1, std::nullopt})},
                                     {"v", Strings({"A", "B", "D", "C"})}}))
                  .ok());
  ASSERT_TRUE((*tx)->Commit(77).ok());
  EXPECT_EQ(::sluice::postgres::RoundTrips() - before, 1u);
  EXPECT_EQ(CountsText((*tx)->counts()), "i1 u1 r2 d0");
  EXPECT_EQ(Rows("SELECT id, age, v FROM t ORDER BY id"),
            (Lines{"1|6|A", "2|5|b", "3|5|c", "4|1|D"}));
  auto applied = pool_->FindApplied("demo", 3);
  ASSERT_TRUE(applied.ok() && applied->has_value());
  EXPECT_EQ(CountsText((*applied)->counts), "i1 u1 r2 d0");
  EXPECT_EQ((*applied)->applied_at, 77);
  // Applied once only, by either way.
  auto again = pool_->BeginLoad(spec, 3);
  if (again.ok()) {  // deferred: refused at its commit
    ASSERT_TRUE((*again)->Apply(MakeBatch({{"id", Ints({9})}, {"age", Ints({1})}})).ok());
    EXPECT_EQ((*again)->Commit(78).code(), ErrorCode::kAlreadyExists);
  } else {
    EXPECT_EQ(again.status().code(), ErrorCode::kAlreadyExists);
  }
  EXPECT_EQ(Rows("SELECT count(*) FROM t WHERE id = 9"), (Lines{"0"}));
}

// What does not fit the one-round-trip form goes the ordinary way with the same results: a
// new column, a delete, a repeated key, a second batch.
TEST_F(PgPoolTest, WhatDoesNotFitOneRoundTripGoesTheOrdinaryWay) {
  TableSpec spec = Spec("t", {"id"}, "age");
  spec.delete_column = "del";
  Load(spec, 1, {MakeBatch({{"id", Ints({1, 2})}, {"age", Ints({5, 5})}})});
  Load(spec, 2, {MakeBatch({{"id", Ints({3})}, {"age", Ints({5})}})});
  EXPECT_EQ(CountsText(Load(
                spec, 3,
                {MakeBatch({{"id", Ints({4})}, {"age", Ints({1})}, {"extra", Strings({"x"})}})})),
            "i1 u0 r0 d0");
  EXPECT_EQ(
      CountsText(
          Load(spec, 4, {MakeBatch({{"id", Ints({1})}, {"age", Ints({9})}, {"del", Bools({1})}})})),
      "i0 u0 r0 d1");
  EXPECT_EQ(CountsText(Load(spec, 5, {MakeBatch({{"id", Ints({2, 2})}, {"age", Ints({6, 7})}})})),
            "i0 u2 r0 d0");
  EXPECT_EQ(CountsText(Load(spec, 6,
                            {MakeBatch({{"id", Ints({5})}, {"age", Ints({1})}}),
                             MakeBatch({{"id", Ints({1})}, {"age", Ints({3})}})})),
            "i1 u0 r1 d0");
  // The tombstone of 1 (age 9) refuses an older row through the one-round-trip path's
  // fallback too.
  EXPECT_EQ(CountsText(Load(spec, 7, {MakeBatch({{"id", Ints({1})}, {"age", Ints({8})}})})),
            "i0 u0 r1 d0");
  EXPECT_EQ(Rows("SELECT id, age, extra FROM t ORDER BY id"),
            (Lines{"2|7|NULL", "3|5|NULL", "4|1|x", "5|1|NULL"}));
}

// Another node changed the table after this pool last read it (a new column, and a delete
// that left a tombstone): the guard fails the one round trip, and the load goes the ordinary
// way against the table as it is.
TEST_F(PgPoolTest, ATableChangedByAnotherNodeIsReadAfresh) {
  TableSpec spec = Spec("t", {"id"}, "age");
  spec.delete_column = "del";
  Load(spec, 1, {MakeBatch({{"id", Ints({1, 2})}, {"age", Ints({5, 5})}})});
  Load(spec, 2, {MakeBatch({{"id", Ints({3})}, {"age", Ints({5})}})});
  auto other = OpenPostgresPool(db_.conninfo(), clock_);
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  {
    auto tx = (*other)->BeginLoad(spec, 3);
    ASSERT_TRUE(tx.ok()) << tx.status().ToString();
    ASSERT_TRUE((*tx)
                    ->Apply(MakeBatch({{"id", Ints({1})},
                                       {"age", Ints({9})},
                                       {"del", Bools({1})},
                                       {"note", Strings({"n"})}}))
                    .ok());
    ASSERT_TRUE((*tx)->Commit(1).ok());
  }
  // Key 1 was deleted at age 9: its row at age 8 is stale.
  EXPECT_EQ(CountsText(Load(spec, 4, {MakeBatch({{"id", Ints({1, 2})}, {"age", Ints({8, 6})}})})),
            "i0 u1 r1 d0");
  EXPECT_EQ(Rows("SELECT id, age FROM t ORDER BY id"), (Lines{"2|6", "3|5"}));
}

TEST_F(PgPoolTest, TypesAreStoredExactly) {
  Column uuid = batch::MakeColumn(DataType(TypeId::kUuid));
  for (int i = 0; i < 16; ++i) uuid.fixed.push_back(static_cast<uint8_t>(i * 17));
  uuid.length = 1;
  Column list = batch::MakeColumn(DataType::List(Field{"element", DataType(TypeId::kInt32)}));
  list.children[0] = Ints({1, 2}, TypeId::kInt32);
  list.offsets.push_back(2);
  list.length = 1;
  Column interval = batch::MakeColumn(DataType(TypeId::kInterval));
  for (uint32_t v : {14u, 3u, 4001u}) PutFixed<uint32_t>(&interval, v);
  interval.length = 1;
  __int128 big = 1;
  for (int i = 0; i < 37; ++i) big *= 10;
  Load(Spec("t", {"id"}), 1,
       {MakeBatch({{"id", Ints({1})},
                   {"u", std::move(uuid)},
                   {"d", Dates({19723})},
                   {"ts", Timestamps(TimeUnit::kMicros, true, {1'704'067'200'123'456})},
                   {"local", Timestamps(TimeUnit::kMillis, false, {1'704'067'200'123})},
                   {"tn", Timestamps(TimeUnit::kNanos, false, {1'000})},
                   {"j", Strings({R"({"b": 1, "a": [true]})"}, TypeId::kJson)},
                   {"l", std::move(list)},
                   {"iv", std::move(interval)},
                   {"amount", Decimals(38, 2, {-big - 1})},
                   {"big", UInts({18'446'744'073'709'551'615ULL})},
                   {"bin", Strings({std::string("\x00\xff", 2)}, TypeId::kBinary)}})});
  EXPECT_EQ(Rows("SELECT u, d, ts, local, tn, j, l, iv, amount, big, bin FROM t"),
            (Lines{"00112233-4455-6677-8899-aabbccddeeff|2024-01-01|2024-01-01 "
                   "00:00:00.123456+00|2024-01-01 00:00:00.123|1970-01-01 00:00:00.000001|"
                   R"({"a": [true], "b": 1}|[1, 2]|P1Y2M3DT4.001S|)"
                   "-100000000000000000000000000000000000.01|18446744073709551615|00ff"}));
  EXPECT_EQ(Rows("SELECT pg_typeof(u)::text, pg_typeof(ts)::text, pg_typeof(local)::text, "
                 "pg_typeof(j)::text, pg_typeof(amount)::text, format_type(atttypid, atttypmod) "
                 "FROM t, pg_attribute WHERE attrelid = 'demo.t'::regclass AND attname = "
                 "'amount'"),
            (Lines{"uuid|timestamp with time zone|timestamp without time zone|jsonb|numeric|"
                   "numeric(38,2)"}));
  // Decimals compare as numbers, exactly.
  EXPECT_EQ(Rows("SELECT amount < -1e35, amount * 100 FROM t"),
            (Lines{"t|-10000000000000000000000000000000000001.00"}));
}

TEST_F(PgPoolTest, NanosecondsAndNulBytesAreRefusedWithTheirPlace) {
  auto tx = pool_->BeginLoad(Spec("t", {"id"}), 1);
  ASSERT_TRUE(tx.ok());
  ASSERT_TRUE((*tx)
                  ->Apply(MakeBatch({{"id", Ints({1, 2})},
                                     {"ts", Timestamps(TimeUnit::kNanos, true, {1000, 2000})}}))
                  .ok());
  Status st = (*tx)->Apply(
      MakeBatch({{"id", Ints({3, 4})}, {"ts", Timestamps(TimeUnit::kNanos, true, {3000, 4001})}}));
  EXPECT_EQ(st.code(), ErrorCode::kSchemaMismatch);
  EXPECT_EQ(st.message(),
            "table 't' column 'ts' row 3: the value has nanoseconds; PostgreSQL keeps "
            "microseconds, and the pool does not round");
  st = LoadError(Spec("t", {"id"}), 2,
                 MakeBatch({{"id", Ints({1, 2})}, {"s", Strings({"ok", std::string("a\0b", 3)})}}));
  EXPECT_EQ(st.code(), ErrorCode::kSchemaMismatch);
  EXPECT_EQ(st.message(),
            "table 't' column 's' row 1: the text holds a NUL byte, which PostgreSQL text "
            "cannot store");
}

TEST_F(PgPoolTest, BadTextNamesTheColumn) {
  std::vector<std::optional<std::string>> text(100, "ok");
  text[70] = std::string("\xff\xfe");  // not UTF-8
  std::vector<std::optional<int64_t>> ids;
  for (int64_t i = 0; i < 100; ++i) ids.push_back(i);
  Status st =
      LoadError(Spec("t", {"id"}), 1, MakeBatch({{"id", Ints(ids)}, {"note", Strings(text)}}));
  EXPECT_EQ(st.code(), ErrorCode::kSchemaMismatch) << st.ToString();
  EXPECT_NE(st.message().find("c1 is column 'note' of table 't'"), std::string::npos)
      << st.message();
}

TEST_F(PgPoolTest, AReadConnectionThatBrokeIsOpenedAgain) {
  Load(Spec("t", {"id"}), 1, {MakeBatch({{"id", Ints({1})}})});
  auto admin = db_.Connect("admin");
  ASSERT_NE(admin, nullptr);
  ASSERT_TRUE(admin
                  ->Exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = "
                         "current_database() AND pid <> pg_backend_pid()")
                  .ok());
  EXPECT_FALSE(pool_->Query("SELECT count(*) FROM t", "demo").ok());  // finds it broken
  EXPECT_EQ(Rows("SELECT count(*) FROM t"), (Lines{"1"}));
  // The writers' connections broke too: the next load opens a new one.
  EXPECT_EQ(CountsText(Load(Spec("t", {"id"}), 2, {MakeBatch({{"id", Ints({2})}})})),
            "i1 u0 r0 d0");
}

TEST_F(PgPoolTest, DateKeyAndAgeWidenWithTheirTombstones) {
  // pool_test's SQLite test of the same name, with PostgreSQL's text for the values.
  const TableSpec spec = Spec("t", {"day"}, "seen", "del");
  const std::string tomb = "SELECT * FROM _sluice.\"tombstones.demo.t\"";
  Load(spec, 1, {MakeBatch({{"day", Dates({1, 2})}, {"seen", Dates({10, 10})}})});
  Load(spec, 2, {MakeBatch({{"day", Dates({2})}, {"seen", Dates({11})}, {"del", Bools({1})}})});
  EXPECT_EQ(Rows(tomb), (Lines{"1970-01-03|1970-01-12"}));
  const int64_t day = int64_t{86400} * 1'000'000;
  Load(spec, 3,
       {MakeBatch(
           {{"day", Dates({1})}, {"seen", Timestamps(TimeUnit::kMicros, true, {10 * day})}})});
  EXPECT_EQ(Rows(tomb), (Lines{"1970-01-03|1970-01-12 00:00:00+00"}));
  EXPECT_EQ(
      CountsText(Load(
          spec, 4,
          {MakeBatch({{"day", Dates({2, 1})},
                      {"seen", Timestamps(TimeUnit::kMicros, true, {11 * day - 1, 10 * day})}})})),
      "i0 u1 r1 d0");
  Load(spec, 5,
       {MakeBatch(
           {{"day", Timestamps(TimeUnit::kMicros, false, {5 * day})}, {"seen", Dates({20})}})});
  EXPECT_EQ(Rows("SELECT day, seen FROM t ORDER BY day"),
            (Lines{"1970-01-02 00:00:00|1970-01-11 00:00:00+00",
                   "1970-01-06 00:00:00|1970-01-21 00:00:00+00"}));
  EXPECT_EQ(Rows(tomb), (Lines{"1970-01-03 00:00:00|1970-01-12 00:00:00+00"}));
  EXPECT_EQ(CountsText(Load(spec, 6, {MakeBatch({{"day", Dates({2})}, {"seen", Dates({11})}})})),
            "i1 u0 r0 d0");
  EXPECT_EQ(Rows("SELECT column_name, type_name, pg_type FROM _sluice.columns ORDER BY position"),
            (Lines{"day|TIMESTAMP|timestamp", "seen|TIMESTAMP WITH TIME ZONE|timestamptz"}));
}

TEST_F(PgPoolTest, LongIdentifiersGetDeterministicShortNames) {
  const std::string table(80, 't');
  const std::string column = std::string(70, 'c') + "é";
  Load(Spec(table, {"id"}), 1, {MakeBatch({{"id", Ints({1})}, {column, Ints({5})}})});
  auto names = Rows(
      "SELECT sql_name FROM _sluice.tables UNION ALL SELECT sql_name FROM "
      "_sluice.columns WHERE column_name <> 'id'");
  ASSERT_EQ(names.size(), 2u);
  for (const std::string& n : names) EXPECT_LE(n.size(), 63u) << n;
  EXPECT_EQ(names[0].substr(0, 46), table.substr(0, 46));
  // The same names again find the same table and column.
  ApplyCounts c =
      Load(Spec(table, {"id"}), 2, {MakeBatch({{"id", Ints({1})}, {column, Ints({6})}})});
  EXPECT_EQ(CountsText(c), "i0 u1 r0 d0");
  EXPECT_EQ(Rows("SELECT \"" + names[1] + "\" FROM \"" + names[0] + "\""), (Lines{"6"}));
}

TEST_F(PgPoolTest, QueryResolvesUnqualifiedNamesInTheDefaultSchema) {
  Load(Spec("t", {"id"}), 1, {MakeBatch({{"id", Ints({1})}})});
  EXPECT_EQ(Rows("SELECT count(*) FROM t"), (Lines{"1"}));
  EXPECT_EQ(Rows("SHOW search_path", ""), (Lines{""}));
  EXPECT_FALSE(pool_->Query("SELECT count(*) FROM t", "").ok());
  EXPECT_FALSE(pool_->Query("SELECT 1; SELECT 2", "demo").ok());
  EXPECT_FALSE(pool_->Query("SELEKT", "demo").ok());
  EXPECT_EQ(Rows("SELECT 1"), (Lines{"1"}));  // the reader recovered
}

// ReadQuery: the SQL console's bounded read-only queries.

std::string Text(const Result<QueryResult>& r) {
  if (!r.ok()) return r.status().ToString();
  std::string out;
  for (const auto& row : r->rows) {
    for (size_t i = 0; i < row.size(); ++i) out += (i ? "|" : "") + row[i].value_or("NULL");
    out += ";";
  }
  return out;
}

class PgReadQueryTest : public PgPoolTest {
 protected:
  void SetUp() override {
    PgPoolTest::SetUp();
    Load(Spec("t", {"id"}), 1,
         {MakeBatch({{"id", Ints({1, 2, 3})}, {"v", Strings({"a", "b", "c"})}})});
  }
  std::string Read(const std::string& sql, QueryLimits limits = {}) {
    return Text(pool_->ReadQuery(sql, "demo", limits));
  }
};

TEST_F(PgReadQueryTest, ReturnsAtMostMaxRowsAndSaysWhenThereWereMore) {
  auto two = pool_->ReadQuery("SELECT id AS ident, v FROM t ORDER BY id", "demo", {.max_rows = 2});
  ASSERT_TRUE(two.ok()) << two.status().ToString();
  EXPECT_EQ(two->columns, (std::vector<std::string>{"ident", "v"}));
  EXPECT_EQ(Text(two), "1|a;2|b;");
  EXPECT_TRUE(two->truncated);
  auto three = pool_->ReadQuery("SELECT id, v FROM t ORDER BY id", "demo", {.max_rows = 3});
  EXPECT_EQ(Text(three), "1|a;2|b;3|c;");
  EXPECT_FALSE(three->truncated);
  auto none = pool_->ReadQuery("SELECT id FROM t", "demo", {.max_rows = 0});
  EXPECT_EQ(Text(none), "");
  EXPECT_TRUE(none->truncated);
  // What a console reads besides a SELECT.
  EXPECT_EQ(Read("WITH x AS (SELECT max(id) AS m FROM t) SELECT m FROM x"), "3;");
  EXPECT_EQ(Read("VALUES (1, 'x'), (2, NULL)"), "1|x;2|NULL;");
  EXPECT_EQ(Read("TABLE t ORDER BY id LIMIT 1"), "1|a;");
  EXPECT_EQ(Read("(SELECT 1) UNION ALL (SELECT 2)"), "1;2;");
  EXPECT_EQ(Read(" /* a /* nested */ comment */ -- and a line\n SELECT count(*) FROM t ;; "), "3;");
  EXPECT_EQ(Read("SELECT count(*) FROM t; -- done"), "3;");
  auto plan = pool_->ReadQuery("EXPLAIN SELECT * FROM t WHERE id = 1", "demo", {.max_rows = 1});
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan->rows.size(), 1u);
  EXPECT_EQ(Read("SELECT '\\x0a1b'::bytea"), "0a1b;");
  // Names resolve as for Query.
  EXPECT_EQ(pool_->ReadQuery("SELECT count(*) FROM t", "", {}).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(Text(pool_->ReadQuery("SELECT count(*) FROM demo.t", "", {})), "3;");
  EXPECT_EQ(
      pool_->ReadQuery("SELECT 1", "demo", {.max_rows = QueryLimits::kMaxRows + 1}).status().code(),
      ErrorCode::kInvalidArgument);
}

TEST_F(PgReadQueryTest, RefusesWhatWouldChangeAnything) {
  const std::vector<std::pair<std::string, std::string>> refused = {
      {"INSERT INTO t(id, v) VALUES (9, 'x')", "not INSERT"},
      {"UPDATE t SET v = 'x'", "not UPDATE"},
      {"DELETE FROM t", "not DELETE"},
      {"CREATE TABLE u(x int)", "not CREATE"},
      {"DROP TABLE t", "not DROP"},
      {"ATTACH DATABASE 'x' AS y", "not ATTACH"},
      {"PRAGMA journal_mode=DELETE", "not PRAGMA"},
      {"SET search_path = public", "not SET"},
      {"BEGIN", "not BEGIN"},
      {"COPY t TO STDOUT", "not COPY"},
      {"", "no statement"},
      {"WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d", "data-modifying"},
      {"SELECT * FROM t FOR UPDATE", "read-only transaction"},
      {"SELECT nextval('_sluice.schema_history_id_seq')", "read-only transaction"},
      {"SELECT set_config('transaction_read_only', 'off', true)", "read-write"},
      {"EXPLAIN ANALYZE DELETE FROM t", "read-only transaction"},
      {"SELECT 1; DELETE FROM t", "multiple commands"},
      {"SELECT 1; SELECT 2", "multiple commands"},
      {"EXPLAIN SELECT 1; DELETE FROM t", "multiple commands"},
      {"SELECT 1 FROM t; COMMIT; DELETE FROM t", "multiple commands"},
      {"SELEKT 1", "not SELEKT"},
      {"SELECT 1 +", "syntax error"},
      {"SELECT nope FROM t", "nope"},
      {"SELECT 1 / 0", "division by zero"},
  };
  for (const auto& [sql, why] : refused) {
    auto r = pool_->ReadQuery(sql, "demo", {});
    ASSERT_FALSE(r.ok()) << sql;
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument)
        << sql << ": " << r.status().ToString();
    EXPECT_NE(r.status().message().find(why), std::string::npos)
        << sql << ": " << r.status().ToString();
  }
  EXPECT_EQ(Rows("SELECT id, v FROM t ORDER BY id"), (Lines{"1|a", "2|b", "3|c"}));
  EXPECT_EQ(Rows("SELECT count(*) FROM _sluice.schema_history"), (Lines{"2"}));
  // Settings a query changes end with its transaction; a session-level lock it takes is let go.
  EXPECT_EQ(Read("SELECT set_config('work_mem', '77MB', false)"), "77MB;");
  EXPECT_NE(Rows("SHOW work_mem"), (Lines{"77MB"}));
  EXPECT_EQ(Read("SELECT pg_advisory_lock(4242)"), ";");
  auto other = db_.Connect();
  ASSERT_NE(other, nullptr);
  auto got = other->QueryInt("SELECT pg_try_advisory_lock(4242)::int");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, 1);
}

TEST_F(PgReadQueryTest, StopsAStatementAtItsTimeout) {
  const auto start = std::chrono::steady_clock::now();
  auto r = pool_->ReadQuery("SELECT pg_sleep(10)", "demo", {.timeout_ms = 200});
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kLimitExceeded) << r.status().ToString();
  EXPECT_EQ(r.status().message(), "the query ran longer than 200 ms");
  EXPECT_GE(took, std::chrono::milliseconds(200));
  EXPECT_LT(took, std::chrono::seconds(2));
  // The read connection is healthy, and the timeout ended with the query.
  EXPECT_EQ(Read("SELECT count(*) FROM t"), "3;");
  EXPECT_EQ(Rows("SELECT pg_sleep(0.3)::text"), (Lines{""}));
  EXPECT_TRUE(pool_->FindApplied("demo", 1)->has_value());
  EXPECT_EQ(Read("SELECT 1 FROM pg_sleep(0.3)", {.timeout_ms = 0}), "1;");
}

TEST_F(PgReadQueryTest, ReadsEverySchema) {
  TableSpec other = Spec("orders", {"id"});
  other.schema = "other";
  Load(other, 2, {MakeBatch({{"id", Ints({1})}, {"w", Strings({"z"})}})});
  EXPECT_EQ(
      Text(pool_->ReadQuery("SELECT t.v, o.w FROM demo.t JOIN other.orders o USING (id)", "", {})),
      "a|z;");
  EXPECT_EQ(Text(pool_->ReadQuery("SELECT w FROM orders", "other", {})), "z;");
  EXPECT_EQ(pool_->ReadQuery("SELECT 1", "Bad_Name", {}).status().code(),
            ErrorCode::kInvalidArgument);
}

// --- The same files on both pools -----------------------------------------------------------

struct Twin {
  std::unique_ptr<Pool> sqlite;
  std::unique_ptr<Pool> pg;
};

std::vector<std::string> Dump(Pool& pool, const std::string& sql) {
  auto r = pool.Query(sql, "demo");
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  std::vector<std::string> out;
  if (!r.ok()) return out;
  for (const auto& row : r->rows) {
    std::string line;
    for (const auto& v : row) line += (v ? *v : "NULL") + "|";
    out.push_back(line);
  }
  return out;
}

class PgDifferentialTest : public PgPoolTest {
 protected:
  // Random files of up to `batches` batches over `keys` keys, with repeats, nulls, deletes
  // and ages drawn small so that ties and refusals are frequent.
  void Run(TableSpec spec, uint32_t seed, int files) {
    spec.name += std::to_string(seed);
    testing::TempDir tmp("pg_diff");
    auto lite = OpenSqlitePool(tmp.Join("pool"), clock_);
    ASSERT_TRUE(lite.ok());
    std::mt19937 rng(seed);
    auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint32_t>(n)); };
    const bool age = !spec.age_column.empty();
    const bool del = !spec.delete_column.empty();
    for (int f = 1; f <= files; ++f) {
      const int64_t seq = seed * 1000 + f;
      auto a = (*lite)->BeginLoad(spec, seq);
      auto b = pool_->BeginLoad(spec, seq);
      ASSERT_TRUE(a.ok() && b.ok());
      const int batches = 1 + pick(3);
      for (int i = 0; i < batches; ++i) {
        const int rows = 1 + pick(12);
        std::vector<std::optional<int64_t>> id, ages, v;
        std::vector<std::optional<uint8_t>> dels;
        std::vector<std::optional<std::string>> w;
        for (int r = 0; r < rows; ++r) {
          id.push_back(pick(6));
          ages.push_back(pick(5) == 0 ? std::nullopt : std::optional<int64_t>(pick(4)));
          v.push_back(f * 100 + i * 10 + r);
          dels.push_back(pick(4) == 0 ? 1 : 0);
          w.push_back(pick(3) == 0 ? std::nullopt
                                   : std::optional<std::string>("w" + std::to_string(f)));
        }
        std::vector<std::pair<std::string, Column>> cols;
        cols.emplace_back("id", Ints(id));
        if (age) cols.emplace_back("age", Ints(ages));
        cols.emplace_back("v", Ints(v));
        // Columns vary per batch; the first one creates them all.
        if (pick(2) == 0 || (f == 1 && i == 0)) cols.emplace_back("w", Strings(w));
        if (del && pick(3) != 0) cols.emplace_back("del", Bools(dels));
        Batch batch = MakeBatch(std::move(cols));
        ASSERT_TRUE((*a)->Apply(batch).ok());
        Status st = (*b)->Apply(batch);
        ASSERT_TRUE(st.ok()) << st.ToString();
      }
      ASSERT_TRUE((*a)->Commit(seq).ok());
      ASSERT_TRUE((*b)->Commit(seq).ok());
      // Final once committed (a small file's are counted by the server as it commits).
      ASSERT_EQ(CountsText((*a)->counts()), CountsText((*b)->counts()))
          << "seed " << seed << " file " << f;
      const std::string cols = std::string("id, ") + (age ? "age, " : "") + "v, w";
      const std::string sql = "SELECT " + cols + " FROM " + spec.name + " ORDER BY id";
      ASSERT_EQ(Dump(**lite, sql), Dump(*pool_, sql)) << "seed " << seed << " file " << f;
    }
  }
};

TEST_F(PgDifferentialTest, UpsertsOnly) {
  for (uint32_t seed = 1; seed <= 4; ++seed) Run(Spec("t", {"id"}), seed, 8);
}
TEST_F(PgDifferentialTest, AgeRule) {
  for (uint32_t seed = 1; seed <= 4; ++seed) Run(Spec("t", {"id"}, "age"), seed, 8);
}
TEST_F(PgDifferentialTest, DeletesWithoutAge) {
  for (uint32_t seed = 1; seed <= 4; ++seed) Run(Spec("t", {"id"}, "", "del"), seed, 8);
}
TEST_F(PgDifferentialTest, DeletesWithAgeAndTombstones) {
  for (uint32_t seed = 1; seed <= 8; ++seed) Run(Spec("t", {"id"}, "age", "del"), seed, 10);
}

}  // namespace
}  // namespace sluice::pool
