#include "sluice/shape/shape.h"

#include <gtest/gtest.h>

namespace sluice::shape {
namespace {

using batch::DataType;
using batch::Field;
using batch::TypeId;

batch::Batch MakeBatch(std::vector<uint8_t> validity) {
  auto schema = std::make_shared<batch::Schema>();
  schema->fields = {Field{"order_id", DataType(TypeId::kInt64)},
                    Field{"updated_at", DataType(TypeId::kTimestamp)}};
  batch::Batch b;
  b.schema = schema;
  b.num_rows = static_cast<int64_t>(validity.size());
  for (const auto& f : schema->fields) {
    batch::Column c = batch::MakeColumn(f.type);
    c.length = b.num_rows;
    c.fixed.resize(8 * validity.size());
    b.columns.push_back(std::move(c));
  }
  b.columns[0].validity = std::move(validity);
  return b;
}

TEST(ShapeTest, MissingKeyAndAgeColumns) {
  auto b = MakeBatch({1});
  EXPECT_TRUE(CheckSchema({{"order_id"}, "updated_at"}, *b.schema).ok());
  Status pk = CheckSchema({{"id"}, ""}, *b.schema);
  EXPECT_EQ(pk.code(), ErrorCode::kPkNotFound);
  EXPECT_NE(pk.message().find("'id'"), std::string::npos);
  EXPECT_NE(pk.message().find("order_id, updated_at"), std::string::npos);
  EXPECT_EQ(CheckSchema({{"order_id"}, "version"}, *b.schema).code(),
            ErrorCode::kAgeColumnNotFound);
}

TEST(ShapeTest, NullKeyNamesTheRow) {
  auto b = MakeBatch({1, 1, 0, 1});
  Status s = CheckKeys({{"order_id"}, ""}, b, 100);
  EXPECT_EQ(s.code(), ErrorCode::kPkNull);
  EXPECT_NE(s.message().find("row 102"), std::string::npos);
  EXPECT_TRUE(CheckKeys({{"order_id"}, ""}, MakeBatch({1, 1}), 0).ok());
}

TEST(ShapeTest, ColumnsDifferingOnlyInCaseAreASchemaMismatch) {
  batch::Schema schema;
  schema.fields = {Field{"order_id", DataType(TypeId::kInt64)},
                   Field{"Note", DataType(TypeId::kString)},
                   Field{"note", DataType(TypeId::kString)}};
  Status s = CheckSchema({{"order_id"}, ""}, schema);
  EXPECT_EQ(s.code(), ErrorCode::kSchemaMismatch);
  EXPECT_NE(s.message().find("'Note' and 'note'"), std::string::npos) << s.ToString();
}

}  // namespace
}  // namespace sluice::shape
