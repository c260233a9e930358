#include "sluice/core/fatal_signal.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <cstdlib>

namespace sluice {
namespace {

// The report names the signal and prints frames; then the process still dies of the signal.
TEST(FatalSignalDeathTest, ASegfaultIsReportedAndStillEndsTheProcess) {
  ::testing::GTEST_FLAG(death_test_style) = "threadsafe";
  EXPECT_EXIT(
      {
        InstallFatalSignalReport();
        ::raise(SIGSEGV);
      },
      ::testing::KilledBySignal(SIGSEGV), "died of SIGSEGV .*innermost first:\n.*0x");
}

TEST(FatalSignalDeathTest, AnAbortIsReported) {
  ::testing::GTEST_FLAG(death_test_style) = "threadsafe";
  EXPECT_EXIT(
      {
        InstallFatalSignalReport();
        std::abort();
      },
      ::testing::KilledBySignal(SIGABRT), "died of SIGABRT");
}

}  // namespace
}  // namespace sluice
