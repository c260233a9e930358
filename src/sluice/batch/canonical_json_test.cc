#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "sluice/batch/batch.h"

namespace sluice::batch {
namespace {

template <class T>
Column FixedColumn(DataType type, std::vector<T> values, std::vector<uint8_t> validity = {}) {
  Column c = MakeColumn(type);
  c.length = static_cast<int64_t>(values.size());
  c.fixed.resize(values.size() * sizeof(T));
  std::memcpy(c.fixed.data(), values.data(), c.fixed.size());
  c.validity = std::move(validity);
  return c;
}

Column StringColumn(DataType type, std::vector<std::string> values) {
  Column c = MakeColumn(type);
  for (const auto& v : values) {
    c.chars.insert(c.chars.end(), v.begin(), v.end());
    c.offsets.push_back(static_cast<int64_t>(c.chars.size()));
  }
  c.length = static_cast<int64_t>(values.size());
  return c;
}

template <class T>
std::string Render(DataType type, T value) {
  Column c = FixedColumn<T>(type, {value});
  std::string out;
  AppendCanonicalValue(c, 0, &out);
  return out;
}

std::string Dbl(double v) { return Render(DataType(TypeId::kDouble), v); }
std::string Flt(float v) { return Render(DataType(TypeId::kFloat), v); }

TEST(CanonicalJsonTest, Integers) {
  DataType i64(TypeId::kInt64);
  EXPECT_EQ(Render<int64_t>(i64, 42), "42");
  EXPECT_EQ(Render<int64_t>(i64, -7), "-7");
  EXPECT_EQ(Render<int64_t>(i64, 9007199254740991), "9007199254740991");
  EXPECT_EQ(Render<int64_t>(i64, -9007199254740991), "-9007199254740991");
  EXPECT_EQ(Render<int64_t>(i64, 9007199254740992), "\"9007199254740992\"");
  EXPECT_EQ(Render<int64_t>(i64, -9007199254740992), "\"-9007199254740992\"");
  EXPECT_EQ(Render<int64_t>(i64, std::numeric_limits<int64_t>::min()), "\"-9223372036854775808\"");
  DataType u64(TypeId::kUInt64);
  EXPECT_EQ(Render<uint64_t>(u64, 18446744073709551615ull), "\"18446744073709551615\"");
  EXPECT_EQ(Render<uint64_t>(u64, 0), "0");
  EXPECT_EQ(Render<int64_t>(DataType(TypeId::kUInt32), 4294967295), "4294967295");
}

TEST(CanonicalJsonTest, FloatingPoint) {
  EXPECT_EQ(Dbl(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(Dbl(1e21), "1e+21");
  EXPECT_EQ(Dbl(1e20), "100000000000000000000");
  EXPECT_EQ(Dbl(100), "100");
  EXPECT_EQ(Dbl(5e-324), "5e-324");
  EXPECT_EQ(Dbl(0.000001), "0.000001");
  EXPECT_EQ(Dbl(1e-7), "1e-7");
  EXPECT_EQ(Dbl(-1666666.6666666667), "-1666666.6666666667");
  EXPECT_EQ(Dbl(1.5e300), "1.5e+300");
  EXPECT_EQ(Dbl(0.0), "0.0");
  EXPECT_EQ(Dbl(-0.0), "-0.0");
  EXPECT_EQ(Dbl(std::nan("")), "\"NaN\"");
  EXPECT_EQ(Dbl(-std::numeric_limits<double>::infinity()), "\"-Infinity\"");
  EXPECT_EQ(Dbl(std::numeric_limits<double>::infinity()), "\"Infinity\"");
  EXPECT_EQ(Flt(0.1f), "0.1");
  EXPECT_EQ(Flt(3.4028235e+38f), "3.4028235e+38");
  EXPECT_EQ(Flt(-1351.3513f), "-1351.3513");
  EXPECT_EQ(Flt(-0.0f), "-0.0");
}

TEST(CanonicalJsonTest, Decimals) {
  EXPECT_EQ(FormatDecimal(59700, 2), "597.00");
  EXPECT_EQ(FormatDecimal(-50, 2), "-0.50");
  EXPECT_EQ(FormatDecimal(1, 10), "0.0000000001");
  EXPECT_EQ(FormatDecimal(0, 3), "0.000");
  EXPECT_EQ(FormatDecimal(0, 0), "0");
  EXPECT_EQ(FormatDecimal(std::numeric_limits<int64_t>::min(), 0), "-9223372036854775808");
  __int128 big = static_cast<__int128>(1) << 126;
  EXPECT_EQ(FormatDecimal(-big * 2, 0), "-170141183460469231731687303715884105728");
  EXPECT_EQ(Render<__int128>(DataType::Decimal(9, 2), -1000000), "\"-10000.00\"");
}

TEST(CanonicalJsonTest, DatesAndTimestamps) {
  EXPECT_EQ(FormatDate(0), "1970-01-01");
  EXPECT_EQ(FormatDate(19844), "2024-05-01");
  EXPECT_EQ(FormatDate(-719162), "0001-01-01");
  EXPECT_EQ(FormatDate(-719163), "0000-12-31");
  EXPECT_EQ(FormatDate(-719529), "-0001-12-31");
  EXPECT_EQ(FormatDate(2932896), "9999-12-31");
  EXPECT_EQ(FormatDate(2932897), "+10000-01-01");
  EXPECT_EQ(FormatTimestamp(-1, TimeUnit::kMicros, false), "1969-12-31T23:59:59.999999");
  EXPECT_EQ(FormatTimestamp(-1, TimeUnit::kNanos, true), "1969-12-31T23:59:59.999999999Z");
  EXPECT_EQ(FormatTimestamp(1235865600000 + 60000, TimeUnit::kMillis, false),
            "2009-03-01T00:01:00.000000");
  EXPECT_EQ(FormatTimestamp(1609459200000000, TimeUnit::kMicros, true),
            "2021-01-01T00:00:00.000000Z");
  // Year 290000 from the INT96 corpus file, in microseconds.
  EXPECT_EQ(FormatTimestamp(9089380393200000000, TimeUnit::kMicros, false),
            "+290000-12-30T23:00:00.000000");
  EXPECT_EQ(FormatTimestamp(std::numeric_limits<int64_t>::min(), TimeUnit::kMicros, false),
            "-290308-12-21T19:59:05.224192");
  EXPECT_EQ(FormatTime(86399999999, TimeUnit::kMicros, false), "23:59:59.999999");
  EXPECT_EQ(FormatTime(3723500, TimeUnit::kMillis, true), "01:02:03.500000Z");
  EXPECT_EQ(FormatTime(86399999999999, TimeUnit::kNanos, false), "23:59:59.999999999");
}

TEST(CanonicalJsonTest, StringEscaping) {
  std::string out;
  AppendJsonString(std::string("a\"b\\c/\b\f\n\r\t\x01\x1f\x7f", 14) + "caf\xc3\xa9", &out);
  EXPECT_EQ(out,
            "\"a\\\"b\\\\c/\\b\\f\\n\\r\\t\\u0001\\u001f\x7f"
            "caf\xc3\xa9\"");
  out.clear();
  AppendJsonString(std::string("\0x", 2), &out);
  EXPECT_EQ(out, "\"\\u0000x\"");
  out.clear();
  AppendJsonString("\xe2\x80\xa8", &out);  // U+2028 stays raw
  EXPECT_EQ(out, "\"\xe2\x80\xa8\"");
}

TEST(CanonicalJsonTest, BlobsUuidsIntervals) {
  Column blob = StringColumn(DataType(TypeId::kBinary), {std::string("\x00\xff\x00", 3), ""});
  std::string out;
  AppendCanonicalValue(blob, 0, &out);
  AppendCanonicalValue(blob, 1, &out);
  EXPECT_EQ(out, "\"00ff00\"\"\"");

  Column uuid = MakeColumn(DataType(TypeId::kUuid));
  const uint8_t bytes[16] = {0xcf, 0xcd, 0x20, 0x84, 0x95, 0xd5, 0x65, 0xef,
                             0x66, 0xe7, 0xdf, 0xf9, 0xf9, 0x87, 0x64, 0xda};
  uuid.fixed.assign(bytes, bytes + 16);
  uuid.length = 1;
  out.clear();
  AppendCanonicalValue(uuid, 0, &out);
  EXPECT_EQ(out, "\"cfcd2084-95d5-65ef-66e7-dff9f98764da\"");

  Column interval = MakeColumn(DataType(TypeId::kInterval));
  const uint32_t parts[3] = {1, 2, 3000};
  interval.fixed.resize(12);
  std::memcpy(interval.fixed.data(), parts, 12);
  interval.length = 1;
  out.clear();
  AppendCanonicalValue(interval, 0, &out);
  EXPECT_EQ(out, "{\"months\":1,\"days\":2,\"micros\":3000000}");
}

TEST(CanonicalJsonTest, NestedListsStructsMaps) {
  // LIST<VARCHAR>: [["gift",null,"express"], [], null]
  DataType list_type = DataType::List(Field{"element", DataType(TypeId::kString)});
  Column list = MakeColumn(list_type);
  list.children[0] = StringColumn(DataType(TypeId::kString), {"gift", "", "express"});
  list.children[0].validity = {1, 0, 1};
  list.offsets = {0, 3, 3, 3};
  list.validity = {1, 1, 0};
  list.length = 3;
  std::string out;
  for (int64_t r = 0; r < 3; ++r) AppendCanonicalValue(list, r, &out);
  EXPECT_EQ(out, "[\"gift\",null,\"express\"][]null");

  // STRUCT(name VARCHAR, address STRUCT(city VARCHAR))
  DataType address = DataType::Struct({Field{"city", DataType(TypeId::kString)}});
  DataType person =
      DataType::Struct({Field{"name", DataType(TypeId::kString)}, Field{"address", address}});
  Column s = MakeColumn(person);
  s.children[0] = StringColumn(DataType(TypeId::kString), {"Ana Lima"});
  s.children[1].children[0] = StringColumn(DataType(TypeId::kString), {"Porto"});
  s.children[1].length = 1;
  s.length = 1;
  out.clear();
  AppendCanonicalValue(s, 0, &out);
  EXPECT_EQ(out, "{\"name\":\"Ana Lima\",\"address\":{\"city\":\"Porto\"}}");

  // MAP(VARCHAR, VARCHAR)
  DataType map_type(TypeId::kMap);
  map_type.children = {Field{"key", DataType(TypeId::kString), false},
                       Field{"value", DataType(TypeId::kString)}};
  Column m = MakeColumn(map_type);
  m.children[0].children[0] = StringColumn(DataType(TypeId::kString), {"channel"});
  m.children[0].children[1] = StringColumn(DataType(TypeId::kString), {"web"});
  m.children[0].length = 1;
  m.offsets = {0, 1, 1};
  m.length = 2;
  out.clear();
  AppendCanonicalValue(m, 0, &out);
  AppendCanonicalValue(m, 1, &out);
  EXPECT_EQ(out, "[{\"key\":\"channel\",\"value\":\"web\"}][]");
}

TEST(CanonicalJsonTest, JsonlLines) {
  auto schema = std::make_shared<Schema>();
  schema->fields = {Field{"id", DataType(TypeId::kInt32)},
                    Field{"n\"ame", DataType(TypeId::kString)}};
  Batch b;
  b.schema = schema;
  b.columns.push_back(FixedColumn<int64_t>(DataType(TypeId::kInt32), {1, 2}, {1, 0}));
  b.columns.push_back(StringColumn(DataType(TypeId::kString), {"x", "y"}));
  b.num_rows = 2;
  std::string out;
  AppendCanonicalJsonl(b, &out);
  EXPECT_EQ(out, "{\"id\":1,\"n\\\"ame\":\"x\"}\n{\"id\":null,\"n\\\"ame\":\"y\"}\n");
  Batch empty;
  empty.schema = schema;
  empty.columns.push_back(MakeColumn(DataType(TypeId::kInt32)));
  empty.columns.push_back(MakeColumn(DataType(TypeId::kString)));
  out.clear();
  AppendCanonicalJsonl(empty, &out);
  EXPECT_EQ(out, "");
}

}  // namespace
}  // namespace sluice::batch
