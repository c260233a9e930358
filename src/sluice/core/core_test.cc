#include "sluice/core/core.h"

#include <gtest/gtest.h>

#include "sluice/core/utf8.h"

namespace sluice {
namespace {

Result<int> Half(int v) {
  if (v % 2 != 0) return Err(ErrorCode::kInvalidArgument, "odd");
  return v / 2;
}

Result<int> Quarter(int v) {
  SLUICE_ASSIGN_OR_RETURN(int h, Half(v));
  return Half(h);
}

TEST(StatusTest, OkAndErrors) {
  EXPECT_TRUE(Status::Ok().ok());
  Status s = Err(ErrorCode::kPkNotFound, "column 'id' missing");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.ToString(), "PK_NOT_FOUND: column 'id' missing");
  EXPECT_EQ(s.WithContext("file 3").message(), "file 3: column 'id' missing");
  EXPECT_EQ(ErrorCodeFromName("AGE_COLUMN_NOT_FOUND"), ErrorCode::kAgeColumnNotFound);
  EXPECT_EQ(ErrorCodeFromName("nonsense"), ErrorCode::kInternal);
}

TEST(ResultTest, PropagatesErrors) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_EQ(Quarter(6).status().code(), ErrorCode::kInvalidArgument);
}

TEST(CursorTest, ChecksBounds) {
  const uint8_t bytes[] = {1, 0, 0, 0, 2};
  Cursor c(bytes);
  EXPECT_EQ(*c.ReadLE<uint32_t>("u32"), 1u);
  auto bad = c.ReadLE<uint32_t>("second u32");
  EXPECT_EQ(bad.status().code(), ErrorCode::kCorruptFile);
  EXPECT_EQ(c.position(), 4u);
  EXPECT_EQ(*c.ReadU8("u8"), 2);
  EXPECT_TRUE(c.empty());
}

TEST(ClockTest, FormatsDates) {
  EXPECT_EQ(FormatIsoMicros(0), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(FormatIsoMicros(-1), "1969-12-31T23:59:59.999999Z");
  EXPECT_EQ(FormatHttpDate(1795746816), "Fri, 27 Nov 2026 02:33:36 GMT");
  EXPECT_EQ(DaysFromCivil(2024, 5, 1), 19844);
}

TEST(Clock, ParseHttpDateTakesTheThreeForms) {
  EXPECT_EQ(ParseHttpDate("Fri, 27 Nov 2026 02:33:36 GMT"), 1795746816);
  EXPECT_EQ(ParseHttpDate("Friday, 27-Nov-26 02:33:36 GMT"), 1795746816);
  EXPECT_EQ(ParseHttpDate("Fri Nov 27 02:33:36 2026"), 1795746816);
  EXPECT_EQ(ParseHttpDate("Thu Jan  1 00:00:00 1970"), 0);
  EXPECT_EQ(ParseHttpDate(FormatHttpDate(951782400)), 951782400);  // 29 Feb 2000
  for (const char* bad :
       {"", "yesterday", "Fri, 31 Feb 2026 02:33:36 GMT", "Fri, 27 Nov 2026 25:33:36 GMT",
        "Fri, 27 Abc 2026 02:33:36 GMT", "Fri, 27 Nov 2026 02:33:36 CET", "2026-11-27T02:33:36Z",
        "Fri, 27 Nov 2026 02:33:36 GMT extra"}) {
    EXPECT_FALSE(ParseHttpDate(bad).has_value()) << bad;
  }
}

TEST(IdsTest, ConstantTimeEqualsAndSecret) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
  std::ostringstream os;
  os << Secret("hunter2");
  EXPECT_EQ(os.str(), "<redacted>");
}

}  // namespace
TEST(LogTest, EscapeForLogKeepsLinesWhole) {
  EXPECT_EQ(EscapeForLog("orders/2024/a.parquet"), "orders/2024/a.parquet");
  EXPECT_EQ(EscapeForLog("a\nb\r\x01"), "a\\x0ab\\x0d\\x01");
  EXPECT_EQ(EscapeForLog("\\x0a"), "\\x5cx0a");  // a literal escape cannot pass for one
  EXPECT_EQ(EscapeForLog("\xc3\xbc"), "\\xc3\\xbc");
  EXPECT_EQ(EscapeForLog(std::string(10, 'k'), 4), "kkkk...");
}

namespace {

TEST(Utf8Test, WellFormedOnly) {
  EXPECT_TRUE(IsValidUtf8("plain, \xC3\xA4, \xE2\x82\xAC, \xF0\x9F\x98\x80"));
  for (std::string_view bad :
       {"\xFF", "\xC3", "\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "a\xE2\x82"}) {
    EXPECT_FALSE(IsValidUtf8(bad)) << bad.size();
  }
}

TEST(Utf8Test, ToValidUtf8ReplacesWhatAStoreRefuses) {
  EXPECT_EQ(ToValidUtf8("caf\xC3\xA9"), "caf\xC3\xA9");
  EXPECT_EQ(ToValidUtf8("a\xFF"
                        "b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(ToValidUtf8(std::string_view("x\0y", 3)), "x\xEF\xBF\xBDy");
  EXPECT_EQ(ToValidUtf8("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // an overlong '/'
  EXPECT_EQ(ToValidUtf8("end\xE2\x82"), "end\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_TRUE(IsValidUtf8(ToValidUtf8("\xF8\x88\x80\x80\x80")));
}

}  // namespace
}  // namespace sluice

namespace sluice {
namespace {

TEST(IsoTimeTest, ParseIsoMicrosReadsWhatFormatIsoMicrosWrites) {
  for (int64_t micros :
       {int64_t{0}, int64_t{1'700'000'000'123'456}, int64_t{951'782'400'000'000}}) {
    EXPECT_EQ(ParseIsoMicros(FormatIsoMicros(micros)), micros) << FormatIsoMicros(micros);
  }
  EXPECT_EQ(ParseIsoMicros("2026-12-07"), ParseIsoMicros("2026-12-07T00:00:00Z"));
  EXPECT_EQ(*ParseIsoMicros("1970-01-01T00:00:01.5Z"), 1'500'000);
  EXPECT_EQ(*ParseIsoMicros("2000-02-29T00:00:00Z"), 951'782'400'000'000);
  for (const char* bad :
       {"", "2026-02-30", "1969-12-31", "2026-12-07T24:00:00Z", "2026-12-07T10:00:00",
        "2026-12-07T10:00:00.1234567Z", "2026-12-07T10:00:00.Z", "2026-12-7", "20261207",
        "2026-12-07 10:00:00Z"}) {
    EXPECT_FALSE(ParseIsoMicros(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace sluice
