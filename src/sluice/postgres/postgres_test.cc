#include "sluice/postgres/postgres.h"

#include <gtest/gtest.h>
#include <poll.h>

#include <limits>
#include <string>

#include "sluice/postgres/postgres_testing.h"

namespace sluice::postgres {
namespace {

using testing::TestDatabase;

class PostgresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(db_.conninfo().empty());
    conn_ = db_.Connect();
    ASSERT_NE(conn_, nullptr);
  }

  // The text of the single value `sql` returns ("NULL" for SQL NULL).
  std::string Value(const std::string& sql) {
    auto rows = conn_->Query(sql);
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    if (!rows.ok() || rows->size() != 1) return "?";
    return rows->IsNull(0, 0) ? "NULL" : std::string(rows->Text(0, 0));
  }

  TestDatabase db_;
  std::unique_ptr<Conn> conn_;
};

TEST(PostgresQuoteTest, QuotesDoubleTheirQuote) {
  EXPECT_EQ(QuoteIdent("a"), "\"a\"");
  EXPECT_EQ(QuoteIdent("a\"b"), "\"a\"\"b\"");
  EXPECT_EQ(QuoteLiteral("it's"), "'it''s'");
}

TEST(PostgresQuoteTest, RedactHidesThePassword) {
  const std::string a = RedactConninfo("host=db user=u password=hunter2 dbname=x");
  EXPECT_EQ(a.find("hunter2"), std::string::npos) << a;
  EXPECT_NE(a.find("password=***"), std::string::npos) << a;
  EXPECT_NE(a.find("host='db'"), std::string::npos) << a;
  const std::string b = RedactConninfo("postgresql://u:hunter2@db:5432/x");
  EXPECT_EQ(b.find("hunter2"), std::string::npos) << b;
  EXPECT_EQ(RedactConninfo("host='unterminated hunter2"), "(unparsable connection string)");
}

TEST(PostgresQuoteTest, SqlstatesMapToCodes) {
  EXPECT_EQ(CodeForSqlstate("40001"), ErrorCode::kUnavailable);
  EXPECT_EQ(CodeForSqlstate("40P01"), ErrorCode::kUnavailable);
  EXPECT_EQ(CodeForSqlstate("08006"), ErrorCode::kUnavailable);
  EXPECT_EQ(CodeForSqlstate("57P01"), ErrorCode::kUnavailable);
  EXPECT_EQ(CodeForSqlstate("23505"), ErrorCode::kAlreadyExists);
  EXPECT_EQ(CodeForSqlstate("23503"), ErrorCode::kNotFound);
  EXPECT_EQ(CodeForSqlstate("42P01"), ErrorCode::kNotFound);
  EXPECT_EQ(CodeForSqlstate("22003"), ErrorCode::kSchemaMismatch);
  EXPECT_EQ(CodeForSqlstate("22P02"), ErrorCode::kSchemaMismatch);
  EXPECT_EQ(CodeForSqlstate("54011"), ErrorCode::kLimitExceeded);
  EXPECT_EQ(CodeForSqlstate("53100"), ErrorCode::kIoError);
  EXPECT_EQ(CodeForSqlstate("42601"), ErrorCode::kInvalidArgument);
  EXPECT_EQ(CodeForSqlstate("XX000"), ErrorCode::kInternal);
  EXPECT_EQ(CodeForSqlstate("bad"), ErrorCode::kInternal);
}

TEST(PostgresOpenTest, AFailedConnectIsUnavailableAndKeepsThePasswordOut) {
  auto conn =
      Conn::Open("host=/nonexistent/sluice dbname=x user=u password=hunter2", {.label = "pool"});
  ASSERT_FALSE(conn.ok());
  EXPECT_EQ(conn.status().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(conn.status().message().rfind("pool: cannot connect", 0), 0u)
      << conn.status().message();
  EXPECT_EQ(conn.status().message().find("hunter2"), std::string::npos);
}

TEST_F(PostgresTest, ErrorsMapToCodesAndNameTheConnection) {
  ASSERT_TRUE(conn_
                  ->Exec("CREATE TABLE p(id int PRIMARY KEY, v text NOT NULL UNIQUE);"
                         "CREATE TABLE c(id int REFERENCES p(id))")
                  .ok());
  ASSERT_TRUE(conn_->Exec("INSERT INTO p VALUES(1, 'a')").ok());
  Status dup = conn_->Exec("INSERT INTO p VALUES(2, 'a')");
  EXPECT_EQ(dup.code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(dup.message().rfind("test: INSERT INTO p", 0), 0u) << dup.message();
  EXPECT_NE(dup.message().find("SQLSTATE 23505"), std::string::npos) << dup.message();
  EXPECT_EQ(conn_->Exec("INSERT INTO c VALUES(7)").code(), ErrorCode::kNotFound);
  EXPECT_EQ(conn_->Exec("SELECT * FROM missing").code(), ErrorCode::kNotFound);
  EXPECT_EQ(conn_->Exec("SELECT 'x'::int").code(), ErrorCode::kSchemaMismatch);
  EXPECT_EQ(conn_->Exec("SELEKT").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(conn_->Exec("ALTER TABLE p ADD COLUMN v int").code(), ErrorCode::kSchemaMismatch);
}

TEST_F(PostgresTest, ALostConnectionIsUnavailable) {
  auto victim = db_.Connect("victim");
  ASSERT_NE(victim, nullptr);
  const int64_t pid = *victim->QueryInt("SELECT pg_backend_pid()");
  ASSERT_TRUE(conn_->Query("SELECT pg_terminate_backend($1::int8::int4)", Params().Int(pid)).ok());
  Status st = victim->Exec("SELECT 1");
  EXPECT_EQ(st.code(), ErrorCode::kUnavailable) << st.ToString();
  EXPECT_EQ(st.message().rfind("victim: ", 0), 0u) << st.message();
}

TEST_F(PostgresTest, ParamsBindTextBinaryAndNull) {
  auto rows = conn_->Query("SELECT $1::text, $2, $3::int8 IS NULL, $4::text",
                           Params().Text("a'b").Int(-42).Null().Binary(oid::kText, "raw"));
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(rows->Text(0, 0), "a'b");
  EXPECT_EQ(*rows->Int(0, 1), -42);
  EXPECT_EQ(rows->Text(0, 2), "t");
  EXPECT_EQ(rows->Text(0, 3), "raw");
  EXPECT_EQ(rows->ColumnName(1), "?column?");
}

TEST_F(PostgresTest, TransactionRollsBackUnlessCommitted) {
  ASSERT_TRUE(conn_->Exec("CREATE TABLE t(x int)").ok());
  {
    Transaction txn(*conn_);
    ASSERT_TRUE(txn.Begin().ok());
    ASSERT_TRUE(conn_->Exec("INSERT INTO t VALUES(1)").ok());
    Transaction moved(std::move(txn));
    EXPECT_FALSE(txn.open());
    EXPECT_TRUE(moved.open());
  }
  EXPECT_TRUE(conn_->Idle());
  EXPECT_EQ(*conn_->QueryInt("SELECT count(*) FROM t"), 0);
  Transaction txn(*conn_);
  ASSERT_TRUE(txn.Begin().ok());
  ASSERT_TRUE(conn_->Exec("INSERT INTO t VALUES(1)").ok());
  ASSERT_TRUE(txn.Commit().ok());
  EXPECT_EQ(*conn_->QueryInt("SELECT count(*) FROM t"), 1);
}

TEST_F(PostgresTest, CommitOfAFailedTransactionIsAnError) {
  ASSERT_TRUE(conn_->Exec("CREATE TABLE t(x int PRIMARY KEY)").ok());
  Transaction txn(*conn_);
  ASSERT_TRUE(txn.Begin().ok());
  ASSERT_TRUE(conn_->Exec("INSERT INTO t VALUES(1)").ok());
  EXPECT_FALSE(conn_->Exec("INSERT INTO t VALUES(1)").ok());
  EXPECT_FALSE(txn.Commit().ok());
  EXPECT_TRUE(conn_->Idle());
  EXPECT_EQ(*conn_->QueryInt("SELECT count(*) FROM t"), 0);
}

TEST_F(PostgresTest, PipelineRunsStatementsInOneImplicitTransaction) {
  ASSERT_TRUE(conn_->Exec("CREATE TABLE t(x int PRIMARY KEY)").ok());
  std::vector<Statement> ok = {{"INSERT INTO t VALUES($1::int4)", Params().Text("1")},
                               {"INSERT INTO t VALUES(2)", {}},
                               {"SELECT count(*) FROM t", {}}};
  auto rows = conn_->Pipeline(ok);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 3u);
  EXPECT_EQ((*rows)[0].affected(), 1);
  EXPECT_EQ(*(*rows)[2].Int(0, 0), 2);
  std::vector<Statement> failing = {{"INSERT INTO t VALUES(3)", {}},
                                    {"INSERT INTO t VALUES(1)", {}},
                                    {"INSERT INTO t VALUES(4)", {}}};
  auto failed = conn_->Pipeline(failing);
  EXPECT_EQ(failed.status().code(), ErrorCode::kAlreadyExists);
  EXPECT_NE(failed.status().message().find("VALUES(1)"), std::string::npos);
  EXPECT_TRUE(conn_->Idle());
  EXPECT_EQ(*conn_->QueryInt("SELECT count(*) FROM t"), 2);  // 3 rolled back, 4 never ran
}

TEST_F(PostgresTest, BeginPipelineOpensTheBlockInTheSameRoundTrip) {
  ASSERT_TRUE(conn_->Exec("CREATE TABLE t(x int PRIMARY KEY)").ok());
  {
    Transaction txn(*conn_);
    std::vector<Statement> then = {{"INSERT INTO t VALUES(1)", {}},
                                   {"SELECT count(*) FROM t WHERE x = $1::int8", Params().Int(1)}};
    auto rows = txn.BeginPipeline(then);
    ASSERT_TRUE(rows.ok()) << rows.status().ToString();
    ASSERT_EQ(rows->size(), 2u);
    EXPECT_EQ(*(*rows)[1].Int(0, 0), 1);
    EXPECT_TRUE(txn.open());
  }
  EXPECT_EQ(*conn_->QueryInt("SELECT count(*) FROM t"), 0);  // rolled back
  Transaction failed(*conn_);
  std::vector<Statement> bad = {{"SELEKT", {}}};
  EXPECT_FALSE(failed.BeginPipeline(bad).ok());
  EXPECT_TRUE(failed.open());
  failed.Rollback();
  EXPECT_TRUE(conn_->Idle());
}

TEST_F(PostgresTest, EncodedFieldsAreBinaryParameters) {
  ASSERT_TRUE(conn_->Exec("CREATE TABLE t(n numeric(10,2), ts timestamptz, s text)").ok());
  CopyWriter encoder(*conn_);  // never begun: it only encodes
  encoder.BeginTuple(3);
  encoder.Numeric(-12345, 2);
  encoder.Timestamp(0);
  encoder.Null();
  ASSERT_TRUE(encoder.EndTuple().ok());
  const std::string tuple = encoder.TakeBuffer();
  // Unframe: int16 field count, then int32 length and bytes per field.
  Params params;
  size_t at = 2;
  for (int f = 0; f < 3; ++f) {
    int32_t len = 0;
    for (int i = 0; i < 4; ++i) len = (len << 8) | static_cast<uint8_t>(tuple[at + i]);
    at += 4;
    if (len < 0) {
      params.Null();
      continue;
    }
    params.Binary(0, tuple.substr(at, static_cast<size_t>(len)));
    at += static_cast<size_t>(len);
  }
  ASSERT_TRUE(conn_->Query("INSERT INTO t VALUES($1, $2, $3)", params).ok());
  EXPECT_EQ(Value("SELECT n::text || ' ' || ts::text || ' ' || coalesce(s, 'null') FROM t"),
            "-123.45 1970-01-01 00:00:00+00 null");
}

TEST_F(PostgresTest, CopyRoundTripsEveryEncoder) {
  ASSERT_TRUE(conn_
                  ->Exec("CREATE TABLE t(i int, b bool, s int2, n int4, l int8, f float4, "
                         "d float8, tx text, by bytea, num numeric(38,4), dt date, "
                         "ts timestamp, tz timestamptz, tm time, u uuid, j jsonb, iv interval)")
                  .ok());
  CopyWriter copy(*conn_);
  ASSERT_TRUE(copy.Begin("COPY t FROM STDIN (FORMAT binary)").ok());
  const uint8_t uuid[16] = {0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0,
                            0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};
  copy.BeginTuple(17);
  copy.Int4(1);
  copy.Bool(true);
  copy.Int2(-32768);
  copy.Int4(std::numeric_limits<int32_t>::min());
  copy.Int8(std::numeric_limits<int64_t>::max());
  copy.Float4(1.5F);
  copy.Float8(-0.1);
  copy.Text("héllo \"x\"");
  copy.Text(std::string("a\0b", 3));
  copy.Numeric(-12345678901234, 4);
  copy.Date(0);
  copy.Timestamp(1'700'000'000'123'456);
  copy.Timestamp(-1);
  copy.Time(86'399'999'999);
  copy.Uuid(uuid);
  copy.Jsonb(R"({"b": [1, 2.5], "a": null})");
  copy.Interval(14, 3, 4'000'001);
  ASSERT_TRUE(copy.EndTuple().ok());
  copy.BeginTuple(17);
  copy.Int4(2);
  for (int i = 1; i < 17; ++i) copy.Null();
  ASSERT_TRUE(copy.EndTuple().ok());
  auto rows = copy.Finish();
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(*rows, 2);

  auto got = conn_->Query("SELECT * FROM t ORDER BY i");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->size(), 2);
  const std::vector<std::string> want = {"1",
                                         "t",
                                         "-32768",
                                         "-2147483648",
                                         "9223372036854775807",
                                         "1.5",
                                         "-0.1",
                                         "héllo \"x\"",
                                         "\\x610062",
                                         "-1234567890.1234",
                                         "1970-01-01",
                                         "2023-11-14 22:13:20.123456",
                                         "1969-12-31 23:59:59.999999+00",
                                         "23:59:59.999999",
                                         "12345678-9abc-def0-0123-456789abcdef",
                                         R"({"a": null, "b": [1, 2.5]})",
                                         "P1Y2M3DT4.000001S"};
  for (int c = 0; c < 17; ++c) {
    EXPECT_EQ(got->Text(0, c), want[c]) << "column " << got->ColumnName(c);
    if (c > 0) {
      EXPECT_TRUE(got->IsNull(1, c)) << "column " << got->ColumnName(c);
    }
  }
}

TEST_F(PostgresTest, CopyEncodesNumericsExactly) {
  ASSERT_TRUE(conn_->Exec("CREATE TABLE t(i int, a numeric, b numeric)").ok());
  struct Case {
    __int128 unscaled;
    int32_t scale;
    std::string text;  // what PostgreSQL prints
  };
  const __int128 max38 = [] {
    __int128 v = 0;
    for (int i = 0; i < 38; ++i) v = v * 10 + 9;
    return v;
  }();
  const std::vector<Case> cases = {
      {0, 0, "0"},
      {0, 3, "0.000"},
      {1, 4, "0.0001"},
      {-5, 1, "-0.5"},
      {123456785, 2, "1234567.85"},
      {10000, 0, "10000"},
      {100000000, 4, "10000.0000"},
      {max38, 0, "99999999999999999999999999999999999999"},
      {-max38, 38, "-0.99999999999999999999999999999999999999"},
      {max38, 10, "9999999999999999999999999999.9999999999"},
      {std::numeric_limits<__int128>::min(), 5, "-1701411834604692317316873037158841.05728"},
  };
  CopyWriter copy(*conn_);
  ASSERT_TRUE(copy.Begin("COPY t FROM STDIN (FORMAT binary)").ok());
  for (size_t i = 0; i < cases.size(); ++i) {
    copy.BeginTuple(3);
    copy.Int4(static_cast<int32_t>(i));
    copy.Numeric(cases[i].unscaled, cases[i].scale);
    ASSERT_TRUE(copy.NumericText(cases[i].text).ok());
    ASSERT_TRUE(copy.EndTuple().ok());
  }
  ASSERT_TRUE(copy.Finish().ok());
  auto got = conn_->Query("SELECT a::text, b::text FROM t ORDER BY i");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  for (size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(got->Text(static_cast<int>(i), 0), cases[i].text) << "case " << i;
    EXPECT_EQ(got->Text(static_cast<int>(i), 1), cases[i].text) << "case " << i;
  }
  CopyWriter bad(*conn_);
  ASSERT_TRUE(bad.Begin("COPY t FROM STDIN (FORMAT binary)").ok());
  bad.BeginTuple(3);
  bad.Int4(0);
  bad.Null();
  EXPECT_EQ(bad.NumericText("1e5").code(), ErrorCode::kInvalidArgument);
}

TEST_F(PostgresTest, CopyStreamsInChunksAndReportsBadData) {
  ASSERT_TRUE(conn_->Exec("CREATE TABLE t(i int8 PRIMARY KEY, s text)").ok());
  const std::string filler(100, 'x');
  {
    CopyWriter copy(*conn_);
    ASSERT_TRUE(copy.Begin("COPY t (i, s) FROM STDIN (FORMAT binary)").ok());
    for (int64_t i = 0; i < 30'000; ++i) {  // ~3.5 MB: several chunks
      copy.BeginTuple(2);
      copy.Int8(i);
      copy.Text(filler);
      ASSERT_TRUE(copy.EndTuple().ok());
    }
    auto rows = copy.Finish();
    ASSERT_TRUE(rows.ok()) << rows.status().ToString();
    EXPECT_EQ(*rows, 30'000);
  }
  {
    CopyWriter copy(*conn_);
    ASSERT_TRUE(copy.Begin("COPY t (i, s) FROM STDIN (FORMAT binary)").ok());
    copy.BeginTuple(2);
    copy.Int8(1);  // a duplicate key
    copy.Null();
    ASSERT_TRUE(copy.EndTuple().ok());
    auto rows = copy.Finish();
    EXPECT_EQ(rows.status().code(), ErrorCode::kAlreadyExists) << rows.status().ToString();
  }
  {
    CopyWriter abandoned(*conn_);
    ASSERT_TRUE(abandoned.Begin("COPY t (i, s) FROM STDIN (FORMAT binary)").ok());
    abandoned.BeginTuple(2);
    abandoned.Int8(-1);
    abandoned.Null();
    ASSERT_TRUE(abandoned.EndTuple().ok());
  }
  EXPECT_TRUE(conn_->Idle());
  EXPECT_EQ(*conn_->QueryInt("SELECT count(*) FROM t"), 30'000);
}

TEST_F(PostgresTest, EachTestHasItsOwnDatabase) {
  EXPECT_EQ(Value("SELECT current_database()"), db_.name());
  EXPECT_EQ(Value("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"), "0");
  EXPECT_EQ(Value("SHOW TimeZone"), "UTC");
}

TEST_F(PostgresTest, ListenerReceivesNotificationsWithTheSendersPid) {
  auto sender = db_.Connect("sender");
  ASSERT_NE(sender, nullptr);
  ASSERT_TRUE(conn_->Exec("LISTEN chan").ok());
  ASSERT_GE(conn_->Socket(), 0);
  auto none = conn_->ConsumeNotifications();
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_TRUE(none->empty());

  // Delivered at commit, in order; a rolled-back NOTIFY is never delivered.
  ASSERT_TRUE(sender->Exec("BEGIN; SELECT pg_notify('chan', 'rolled back'); ROLLBACK").ok());
  ASSERT_TRUE(sender->Exec("NOTIFY chan, 'one'; NOTIFY other, 'x'; NOTIFY chan, 'two'").ok());
  std::vector<Conn::Notification> got;
  for (int i = 0; i < 100 && got.size() < 2; ++i) {
    pollfd fd{conn_->Socket(), POLLIN, 0};
    ASSERT_GE(::poll(&fd, 1, 100), 0);
    auto more = conn_->ConsumeNotifications();
    ASSERT_TRUE(more.ok()) << more.status().ToString();
    got.insert(got.end(), more->begin(), more->end());
  }
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].channel, "chan");
  EXPECT_EQ(got[0].payload, "one");
  EXPECT_EQ(got[1].payload, "two");
  EXPECT_EQ(got[0].sender_pid, sender->BackendPid());
  EXPECT_NE(sender->BackendPid(), conn_->BackendPid());
  EXPECT_EQ(Value("SELECT pg_backend_pid()"), std::to_string(conn_->BackendPid()));
}

TEST_F(PostgresTest, ALostListenerIsUnavailable) {
  auto admin = db_.Connect("admin");
  ASSERT_NE(admin, nullptr);
  ASSERT_TRUE(conn_->Exec("LISTEN chan").ok());
  ASSERT_TRUE(
      admin->Exec("SELECT pg_terminate_backend(" + std::to_string(conn_->BackendPid()) + ")").ok());
  Result<std::vector<Conn::Notification>> got = std::vector<Conn::Notification>();
  for (int i = 0; i < 100 && got.ok(); ++i) {
    pollfd fd{conn_->Socket(), POLLIN, 0};
    ::poll(&fd, 1, 100);
    got = conn_->ConsumeNotifications();
  }
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace sluice::postgres
