// Table documents: what the CLI's configuration files and the admin API's bodies become.
#include "sluice/service/tables.h"

#include <gtest/gtest.h>

namespace sluice::service {
namespace {

using Json = nlohmann::ordered_json;

TEST(TableDocumentTest, AFlatTableRoundTrips) {
  auto t = TableFromDocument(
      Json::parse(R"({"table": "orders", "primary_key": "id,region", "age_column": "v",
                      "on_error": "skip"})"),
      "shop");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->connection_id, "shop");
  EXPECT_EQ(t->primary_key, (std::vector<std::string>{"id", "region"}));
  EXPECT_EQ(t->age_column, "v");
  EXPECT_EQ(t->on_error, catalog::OnError::kSkip);
  EXPECT_TRUE(t->nested_json.empty());
  auto again = TableFromDocument(TableDocument(*t), "shop");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(TableDocument(*again), TableDocument(*t));
}

TEST(TableDocumentTest, ANestedTableRoundTripsThroughItsSchema) {
  auto t = TableFromDocument(Json::parse(R"({"table": "orders", "primary_key": ["order_id"],
                      "example": {"order_id": 1, "items": [{"sku": "a"}]},
                      "children": {"items": {"primary_key": ["sku"]}}})"),
                             "shop");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_FALSE(t->nested_json.empty());
  const Json doc = TableDocument(*t);
  EXPECT_TRUE(doc.contains("schema"));
  EXPECT_FALSE(doc.contains("example"));
  auto again = TableFromDocument(doc, "shop");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->nested_json, t->nested_json);
  auto names = TableNames(*t);
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, (std::vector<std::string>{"orders", "orders_items"}));
}

TEST(TableDocumentTest, RefusalsNameWhatIsWrong) {
  auto refused = [](const char* text) {
    auto t = TableFromDocument(Json::parse(text), "shop");
    EXPECT_FALSE(t.ok()) << text;
    return t.ok() ? std::string() : t.status().message();
  };
  EXPECT_NE(refused(R"({"primary_key": "id"})").find("\"table\""), std::string::npos);
  EXPECT_NE(refused(R"({"table": "t"})").find("primary_key"), std::string::npos);
  EXPECT_NE(refused(R"({"table": "t", "primary_key": "id", "color": "red"})").find("color"),
            std::string::npos);
  EXPECT_NE(refused(R"({"table": "t", "primary_key": "id", "on_error": "retry"})").find("retry"),
            std::string::npos);
  EXPECT_NE(refused(R"({"table": "t", "primary_key": "nope", "example": {"id": 1}})").find("nope"),
            std::string::npos);
  EXPECT_FALSE(TableFromDocument(Json::array(), "shop").ok());
}

TEST(DescribeTableTest, AFileRecordTypePlansTheColumns) {
  auto t = TableFromDocument(Json::parse(R"({"table": "orders", "primary_key": "id"})"), "shop");
  ASSERT_TRUE(t.ok());
  auto bare = DescribeTable(*t);
  ASSERT_TRUE(bare.ok());
  EXPECT_TRUE((*bare)["tables"][0]["columns"].empty());
  batch::Schema record;
  record.fields.push_back({"id", batch::DataType{batch::TypeId::kInt64}});
  record.fields.push_back({"name", batch::DataType{batch::TypeId::kString}});
  auto planned = DescribeTable(*t, &record);
  ASSERT_TRUE(planned.ok());
  const Json& columns = (*planned)["tables"][0]["columns"];
  ASSERT_EQ(columns.size(), 2u);
  EXPECT_EQ(columns[1]["name"], "name");
  EXPECT_EQ(columns[1]["type"], "VARCHAR");
}

}  // namespace
}  // namespace sluice::service
