#include "sluice/batch/batch.h"

#include <gtest/gtest.h>

namespace sluice::batch {
namespace {

TEST(BatchTest, TypeNames) {
  EXPECT_EQ(TypeName(DataType::Decimal(18, 2)), "DECIMAL(18,2)");
  EXPECT_EQ(TypeName(DataType::Timestamp(TimeUnit::kMicros, true)), "TIMESTAMP WITH TIME ZONE");
  EXPECT_EQ(TypeName(DataType::Timestamp(TimeUnit::kNanos, false)), "TIMESTAMP_NS");
  EXPECT_EQ(TypeName(DataType::List(Field{"element", DataType(TypeId::kInt32)})), "INTEGER[]");
}

TEST(BatchTest, MakeColumnInitialisesOffsets) {
  Column c = MakeColumn(DataType(TypeId::kString));
  ASSERT_EQ(c.offsets.size(), 1u);
  EXPECT_EQ(c.offsets[0], 0);
  EXPECT_FALSE(c.HasNulls());
}

TEST(BatchTest, SchemaFieldIndex) {
  Schema s;
  s.fields.push_back(Field{"a", DataType(TypeId::kInt64)});
  s.fields.push_back(Field{"b", DataType(TypeId::kString)});
  EXPECT_EQ(s.FieldIndex("b"), 1);
  EXPECT_EQ(s.FieldIndex("c"), -1);
}

}  // namespace
}  // namespace sluice::batch
