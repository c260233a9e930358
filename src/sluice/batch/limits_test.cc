// The read budgets: how --load-memory is split, and the inflation guard's limit.

#include "sluice/batch/limits.h"

#include <gtest/gtest.h>

namespace sluice::batch {
namespace {

TEST(ReadLimitsTest, SplitsTheLoadMemory) {
  const ReadLimits defaults;
  const ReadLimits split = ReadLimits::ForLoadMemory(kDefaultLoadMemory);
  EXPECT_EQ(split.batch_bytes, defaults.batch_bytes);
  EXPECT_EQ(split.buffer_bytes, defaults.buffer_bytes);
  EXPECT_EQ(ReadLimits::ForLoadMemory(4ull << 30).batch_bytes, 256ull << 20);
  // Below the minimum, the minimum.
  EXPECT_EQ(ReadLimits::ForLoadMemory(1).batch_bytes, kMinLoadMemory / 16);
}

TEST(RowSlotBytesTest, CountsValiditySlotsAndOffsets) {
  EXPECT_EQ(RowSlotBytes(DataType(TypeId::kInt64)), 9u);
  EXPECT_EQ(RowSlotBytes(DataType(TypeId::kString)), 9u);
  EXPECT_EQ(RowSlotBytes(DataType(TypeId::kNull)), 0u);
  const DataType point =
      DataType::Struct({{"x", DataType(TypeId::kDouble)}, {"d", DataType::Decimal(20, 2)}});
  EXPECT_EQ(RowSlotBytes(point), 1u + 9u + 17u);
  Schema schema;
  schema.fields = {{"p", point}, {"tags", DataType::List({"item", DataType(TypeId::kString)})}};
  EXPECT_EQ(RowSlotBytes(schema), 27u + 9u);
}

TEST(InflationGuardTest, RefusesOutputPastTheFloorPlusTheRatio) {
  InflationGuard guard("gzip output", 1000, 10);
  EXPECT_TRUE(guard.Add(0, 1000).ok());  // the floor alone
  EXPECT_TRUE(guard.Add(10, 100).ok());  // 1100 <= 1000 + 10 x 10
  const Status st = guard.Add(0, 1);
  EXPECT_EQ(st.code(), ErrorCode::kCorruptFile);
  EXPECT_NE(st.message().find("gzip output expand"), std::string::npos) << st.ToString();
  EXPECT_NE(st.message().find("10 x the 10 bytes"), std::string::npos) << st.ToString();
}

TEST(LimitExceededTest, NamesTheBudgetAndTheFlag) {
  const Status st = LimitExceeded("row 7 of column 'x'", 2000, "batch", 1000);
  EXPECT_EQ(st.code(), ErrorCode::kLimitExceeded);
  EXPECT_EQ(st.message(),
            "row 7 of column 'x' needs 2000 bytes, more than the batch budget of 1000 bytes; "
            "raise --load-memory to load this file");
}

}  // namespace
}  // namespace sluice::batch
