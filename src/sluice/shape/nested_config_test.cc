#include <gtest/gtest.h>

#include "sluice/shape/nested.h"

namespace sluice::shape {
namespace {

using batch::DataType;
using batch::Field;
using batch::TimeUnit;
using batch::TypeId;

constexpr const char* kSeedOrder =
    R"({"order_id":"ORD-2001","customer":{"name":"Ana Lima","address":{"city":"Porto"}},)"
    R"("tags":["priority","gift"],"line_items":[{"order_line_id":1,"product":"espresso )"
    R"(machine","quantity":1,"price":"249.90"},{"order_line_id":2,"product":"coffee beans )"
    R"(1kg","quantity":3,"price":"18.50"}],"created_at":"2024-05-03T14:30:00.000000"})";

std::string Types(const batch::Schema& s) {
  std::string out;
  for (const Field& f : s.fields) out += f.name + " " + batch::TypeName(f.type) + "; ";
  return out;
}

TEST(InferRecordSchemaTest, TheSeedOrder) {
  auto s = InferRecordSchema(kSeedOrder);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(Types(*s),
            "order_id VARCHAR; customer STRUCT(name VARCHAR, address STRUCT(city VARCHAR)); "
            "tags VARCHAR[]; line_items STRUCT(order_line_id BIGINT, product VARCHAR, quantity "
            "BIGINT, price VARCHAR)[]; created_at TIMESTAMP; ");
}

TEST(InferRecordSchemaTest, ScalarsNumbersAndDates) {
  auto s = InferRecordSchema(
      R"({"i":-1,"u":18446744073709551615,"big":123456789012345678901234567890,)"
      R"("f":1.5,"e":1e3,"b":true,"n":null,"d":"2024-05-03","ts":"2024-05-03 14:30",)"
      R"("tz":"2024-05-03T14:30:00.5+02:00","z":"2024-05-03T14:30:00Z","s":"2024-5-3",)"
      R"("mixed":[1,2.5,null],"dates":["2024-01-01","2024-01-01T10:00:00"],)"
      R"("objs":[{"a":1},{"b":"x"},{"a":null}],"nested":[[1],[],[2]]})");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(Types(*s),
            "i BIGINT; u UBIGINT; big DECIMAL(38,0); f DOUBLE; e DOUBLE; b BOOLEAN; n VARCHAR; "
            "d DATE; ts TIMESTAMP; tz TIMESTAMP WITH TIME ZONE; z TIMESTAMP WITH TIME ZONE; "
            "s VARCHAR; mixed DOUBLE[]; dates TIMESTAMP[]; objs STRUCT(a BIGINT, b VARCHAR)[]; "
            "nested BIGINT[][]; ");
}

TEST(InferRecordSchemaTest, ErrorsNameThePath) {
  auto expect = [](const char* json, const std::string& needle) {
    auto s = InferRecordSchema(json);
    ASSERT_FALSE(s.ok()) << json;
    EXPECT_EQ(s.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(s.status().message().find(needle), std::string::npos) << s.status().ToString();
  };
  expect(R"({"a":{"items":[]}})", "a.items: the array is empty");
  expect(R"({"a":[[],[]]})", "a: the array is empty");
  expect(R"({"a":[1,"x"]})", "a: values of incompatible types BIGINT and VARCHAR");
  expect(R"({"a":[{"b":1},{"b":{"c":1}}]})", "a.b: values of incompatible types");
  expect(R"([1,2])", "must be a JSON object");
  expect(R"("x")", "must be a JSON object");
  expect(R"({"a":)", "not valid JSON");
}

TEST(NestedConfigJsonTest, RoundTrips) {
  NestedConfig c;
  c.table = "nested";
  c.primary_key = {"order_id"};
  c.age_column = "updated_at";
  c.delete_column = "deleted";
  c.example.fields = {
      Field{"order_id", DataType(TypeId::kInt64), false},
      Field{"price", DataType::Decimal(9, 2)},
      Field{"at", DataType::Timestamp(TimeUnit::kNanos, true)},
      Field{"t", DataType::Time(TimeUnit::kMillis, false)},
      Field{"line_items", DataType::List(Field{"element", DataType::Struct({
                                                              Field{"id", DataType(TypeId::kInt32)},
                                                              Field{"u", DataType(TypeId::kUuid)},
                                                          })})},
  };
  DataType map(TypeId::kMap);
  map.children = {Field{"key", DataType(TypeId::kString), false},
                  Field{"value", DataType(TypeId::kDouble)}};
  c.example.fields.push_back(Field{"attrs", map});
  c.child_keys["line_items"] = {"id"};
  c.child_modes["line_items"] = ChildMode::kReplace;
  c.keep_as_json = {"attrs"};
  const std::string text = NestedConfigToJson(c);
  auto back = NestedConfigFromJson(text);
  ASSERT_TRUE(back.ok()) << back.status().ToString() << "\n" << text;
  EXPECT_EQ(back->table, c.table);
  EXPECT_EQ(back->primary_key, c.primary_key);
  EXPECT_EQ(back->age_column, c.age_column);
  EXPECT_EQ(back->delete_column, c.delete_column);
  ASSERT_EQ(back->example.fields.size(), c.example.fields.size());
  for (size_t i = 0; i < c.example.fields.size(); ++i) {
    EXPECT_EQ(back->example.fields[i], c.example.fields[i]) << c.example.fields[i].name;
  }
  EXPECT_EQ(back->child_keys, c.child_keys);
  EXPECT_EQ(back->child_modes, c.child_modes);
  EXPECT_EQ(back->keep_as_json, c.keep_as_json);
  EXPECT_EQ(NestedConfigToJson(*back), text);
}

TEST(NestedConfigJsonTest, AcceptsAnExampleRecord) {
  auto c = NestedConfigFromJson(std::string(R"({"table":"nested","primary_key":"order_id",)") +
                                R"("children":{"line_items":{"primary_key":"order_line_id"}},)" +
                                R"("example":)" + kSeedOrder + "}");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->primary_key, std::vector<std::string>{"order_id"});
  EXPECT_EQ(c->child_keys.at("line_items"), std::vector<std::string>{"order_line_id"});
  EXPECT_EQ(c->example.fields.size(), 5u);
  EXPECT_TRUE(c->child_modes.empty());
}

TEST(NestedConfigJsonTest, RefusesWhatItDoesNotKnow) {
  auto expect = [](const std::string& json, const std::string& needle) {
    auto c = NestedConfigFromJson(json);
    ASSERT_FALSE(c.ok()) << json;
    EXPECT_EQ(c.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(c.status().message().find(needle), std::string::npos) << c.status().ToString();
  };
  expect(R"({"table":"t","schema":[],"primry_key":["id"]})", "key 'primry_key': unknown");
  expect(R"({"table":"t"})", "give the record's \"schema\" or an \"example\"");
  expect(R"({"schema":[{"name":"a","type":"BIGINTEGER"}]})", "a: unknown type 'BIGINTEGER'");
  expect(R"({"schema":[{"name":"a","type":{"list":{"struct":[{"name":"b","type":"X"}]}}}]})",
         "a[].b: unknown type 'X'");
  expect(R"j({"schema":[{"name":"a","type":"DECIMAL(40,2)"}]})j", "out of range");
  expect(R"({"schema":[],"children":{"x":{"mode":"merge"}}})",
         "children.x: mode is \"replace\" or \"upsert\"");
  expect(R"({"schema":[],"example":{"a":1}})", "not both");
  expect(R"({"example":[1]})", "must be a JSON object");
  expect("nope", "not valid JSON");
}

}  // namespace
}  // namespace sluice::shape
