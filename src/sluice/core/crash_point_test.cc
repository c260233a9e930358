#include "sluice/core/crash_point.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

class CrashPointTest : public ::testing::Test {
 protected:
  void TearDown() override { ArmCrashPoints({}); }
};

TEST_F(CrashPointTest, ParsesRules) {
  auto rules = ParseCrashSpec("load.after_pool_commit:3, fs.rename:40 ");
  ASSERT_TRUE(rules.ok()) << rules.status().ToString();
  ASSERT_EQ(rules->size(), 2u);
  EXPECT_EQ((*rules)[0].point, "load.after_pool_commit");
  EXPECT_EQ((*rules)[0].nth, 3u);
  EXPECT_EQ((*rules)[1].point, "fs.rename");
  EXPECT_EQ((*rules)[1].nth, 40u);
  auto none = ParseCrashSpec("  ");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_F(CrashPointTest, RefusesMalformedRulesNamingWhatIsWrong) {
  auto unknown = ParseCrashSpec("load.after_comit:1");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("unknown crash point 'load.after_comit'"),
            std::string::npos);
  EXPECT_NE(unknown.status().message().find("load.after_pool_commit"), std::string::npos);
  for (const char* bad : {"fs.sync", "fs.sync:0", "fs.sync:x", "fs.sync:-1",
                          "fs.sync:", "fs.sync:99999999999999999999", "fs.sync:1,,fs.rename:2"}) {
    auto r = ParseCrashSpec(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_NE(r.status().message().find("SLUICE_CRASH_AT"), std::string::npos) << bad;
    }
  }
}

TEST_F(CrashPointTest, DisarmedPointsCountNothing) {
  CrashPoint("fs.sync");
  EXPECT_EQ(CrashPointPasses("fs.sync"), 0u);
}

TEST_F(CrashPointTest, CountsPassesOfArmedPointsOnly) {
  ArmCrashPoints({{"fs.sync", 5}, {"fs.rename", 7}});
  for (int i = 0; i < 4; ++i) CrashPoint("fs.sync");
  CrashPoint("fs.rename");
  CrashPoint("load.mid_load");
  EXPECT_EQ(CrashPointPasses("fs.sync"), 4u);
  EXPECT_EQ(CrashPointPasses("fs.rename"), 1u);
  EXPECT_EQ(CrashPointPasses("load.mid_load"), 0u);
  // Re-arming resets the counts.
  ArmCrashPoints({{"fs.sync", 5}});
  EXPECT_EQ(CrashPointPasses("fs.sync"), 0u);
}

TEST_F(CrashPointTest, DiesAtTheNthPassWithTheCrashExitCode) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        ArmCrashPoints({{"load.mid_load", 3}});
        CrashPoint("load.mid_load");
        CrashPoint("load.mid_load");
        CrashPoint("fs.sync");
        CrashPoint("load.mid_load");
        std::fprintf(stderr, "survived\n");
        std::_Exit(0);
      },
      ::testing::ExitedWithCode(kCrashExitCode),
      "crash point load.mid_load reached \\(pass 3\\): exiting");
}

TEST_F(CrashPointTest, TheFirstRuleToBeReachedWins) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        ArmCrashPoints({{"fs.sync", 2}, {"fs.rename", 1}});
        CrashPoint("fs.sync");
        CrashPoint("fs.rename");
        std::_Exit(0);
      },
      ::testing::ExitedWithCode(kCrashExitCode), "crash point fs.rename reached \\(pass 1\\)");
}

}  // namespace
}  // namespace sluice
