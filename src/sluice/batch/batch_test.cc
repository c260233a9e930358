#include "sluice/batch/batch.h"

#include <gtest/gtest.h>

#include "sluice/batch/keys.h"

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

TEST(BatchTest, TypeClassification) {
  static_assert(IsInteger(TypeId::kUInt64) && !IsInteger(TypeId::kDecimal));
  static_assert(IsInt64Stored(TypeId::kUInt32) && !IsInt64Stored(TypeId::kUInt64));
  static_assert(IsStringLike(TypeId::kJson) && HasOffsets(TypeId::kMap));
  static_assert(IsNested(TypeId::kStruct) && !HasOffsets(TypeId::kStruct));
  static_assert(FixedWidth(TypeId::kInt8) == 8 && FixedWidth(TypeId::kString) == 0);
  EXPECT_TRUE(IsTemporal(TypeId::kDate));
  EXPECT_FALSE(IsFloating(TypeId::kDecimal));
}

TEST(BatchTest, KeyColumnsMatchByTheCallersRule) {
  Schema s;
  s.fields = {Field{"Id", DataType(TypeId::kInt64)}, Field{"v", DataType(TypeId::kInt64)}};
  EXPECT_EQ(FindField(s, "id", NameMatch::kExact), -1);
  EXPECT_EQ(FindField(s, "id", NameMatch::kIgnoreCase), 0);
  EXPECT_EQ(CheckKeyColumns(s, {"id"}, "", NameMatch::kExact).code(), ErrorCode::kPkNotFound);
  EXPECT_TRUE(CheckKeyColumns(s, {"id"}, "", NameMatch::kIgnoreCase).ok());
  EXPECT_EQ(CheckKeyColumns(s, {"Id"}, "V2", NameMatch::kIgnoreCase).code(),
            ErrorCode::kAgeColumnNotFound);
}

}  // namespace
}  // namespace sluice::batch
