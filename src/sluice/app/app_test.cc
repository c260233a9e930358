// The configuration's size and duration syntax (app.h).
#include "sluice/app/app.h"

#include <gtest/gtest.h>

namespace sluice::app {
namespace {

TEST(ConfigParseTest, SizesAndDurations) {
  EXPECT_EQ(*ParseByteSize("0"), 0u);
  EXPECT_EQ(*ParseByteSize("1234"), 1234u);
  EXPECT_EQ(*ParseByteSize("512M"), uint64_t{512} << 20);
  EXPECT_EQ(*ParseByteSize("1g"), uint64_t{1} << 30);
  EXPECT_EQ(*ParseByteSize("64GiB"), uint64_t{64} << 30);
  EXPECT_EQ(*ParseByteSize("10KB"), 10240u);
  EXPECT_EQ(*ParseByteSize("2T"), uint64_t{2} << 40);
  for (const char* bad : {"", "M", "1.5G", "-1", "1X", "1GG", "99999999999999999999"}) {
    EXPECT_EQ(ParseByteSize(bad).status().code(), ErrorCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(*ParseDurationSeconds("0"), 0);
  EXPECT_EQ(*ParseDurationSeconds("45"), 45);
  EXPECT_EQ(*ParseDurationSeconds("2s"), 2);
  EXPECT_EQ(*ParseDurationSeconds("15m"), 900);
  EXPECT_EQ(*ParseDurationSeconds("12h"), 43200);
  EXPECT_EQ(*ParseDurationSeconds("7d"), 604800);
  for (const char* bad : {"", "d", "1w", "1.5h", "-3s", "10ms", "999999999999d"}) {
    EXPECT_EQ(ParseDurationSeconds(bad).status().code(), ErrorCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace sluice::app
