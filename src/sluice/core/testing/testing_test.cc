// The test kit itself: temporary directories, in-memory files, fault injection and the fake
// monotonic clock.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "sluice/core/testing/fake_monotonic_clock.h"
#include "sluice/core/testing/faulty_fs.h"
#include "sluice/core/testing/memory_file.h"
#include "sluice/core/testing/temp_dir.h"

namespace sluice::testing {
namespace {

using namespace std::chrono_literals;

TEST(TempDirTest, MakesAFreshDirectoryAndRemovesItWithItsContents) {
  std::string path;
  {
    TempDir a("temp_dir_test");
    TempDir b("temp_dir_test");
    path = a.path();
    EXPECT_NE(a.path(), b.path());
    EXPECT_TRUE(std::filesystem::is_directory(path));
    EXPECT_EQ(a.Join("x"), path + "/x");
    std::filesystem::create_directories(a.Join("sub/deeper"));
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(MemoryFileTest, ReadsWithinAndRefusesPastTheEnd) {
  MemoryFile file("0123456789", "ten");
  std::vector<uint8_t> out;
  ASSERT_TRUE(file.ReadAt(2, 3, &out).ok());
  EXPECT_EQ(std::string(out.begin(), out.end()), "234");
  Status past = file.ReadAt(8, 3, &out);
  EXPECT_EQ(past.code(), ErrorCode::kCorruptFile);
  EXPECT_NE(past.message().find("passes the end of ten"), std::string::npos);
  file.FailReadsFrom(5);
  EXPECT_TRUE(file.ReadAt(0, 5, &out).ok());
  EXPECT_EQ(file.ReadAt(4, 2, &out).code(), ErrorCode::kIoError);

  const std::string big(1000, 'b');
  auto borrowed = MemoryFile::Borrow(big);
  EXPECT_EQ(borrowed->size(), 1000u);
  EXPECT_EQ(borrowed->bytes().data(), big.data());
}

TEST(FaultyFileSystemTest, CountsAndStickyFaults) {
  TempDir dir("faulty_fs");
  const std::string& tmpl = dir.path();
  FaultyFileSystem fs(FileSystem::Default());
  fs.FailNth(FsOp::kSyncDir, 2, /*sticky=*/true);
  EXPECT_TRUE(fs.SyncDir(tmpl).ok());
  EXPECT_FALSE(fs.SyncDir(tmpl).ok());
  EXPECT_FALSE(fs.SyncDir(tmpl).ok());
  EXPECT_EQ(fs.calls(FsOp::kSyncDir), 3);
  fs.Heal();
  EXPECT_TRUE(fs.SyncDir(tmpl).ok());
  // Non-sticky: only the nth call fails.
  fs.FailNth(FsOp::kSyncDir, 1);
  EXPECT_FALSE(fs.SyncDir(tmpl).ok());
  EXPECT_TRUE(fs.SyncDir(tmpl).ok());
}

TEST(FaultyFileSystemTest, ReadsPastAnOffsetFail) {
  TempDir dir("faulty_fs");
  FaultyFileSystem fs(FileSystem::Default());
  {
    auto out = fs.NewWritableFile(dir.Join("f"));
    ASSERT_TRUE(out.ok());
    ASSERT_TRUE((*out)->Append(AsBytes("0123456789")).ok());
    ASSERT_TRUE((*out)->Close().ok());
  }
  fs.FailReadsPast(4);
  auto in = fs.OpenRandomAccess(dir.Join("f"));
  ASSERT_TRUE(in.ok());
  std::vector<uint8_t> bytes;
  EXPECT_TRUE((*in)->ReadAt(0, 4, &bytes).ok());
  Status st = (*in)->ReadAt(2, 4, &bytes);
  EXPECT_EQ(st.code(), ErrorCode::kIoError);
  EXPECT_NE(st.message().find("EIO"), std::string::npos);
  fs.Heal();
  auto healed = fs.OpenRandomAccess(dir.Join("f"));
  ASSERT_TRUE(healed.ok());
  EXPECT_TRUE((*healed)->ReadAt(2, 4, &bytes).ok());
}

TEST(FakeMonotonicClockTest, AdvanceWakesASleeperOnlyAtItsDeadline) {
  FakeMonotonicClock clock;
  Mutex mu;
  CondVar cv;
  std::atomic<bool> expired{false};
  const auto deadline = clock.Now() + 10s;
  std::thread sleeper([&] {
    MutexLock lock(&mu);
    while (clock.WaitUntil(&cv, &mu, deadline)) {
    }
    expired = true;
  });
  ASSERT_TRUE(clock.AwaitSleepers(1));
  clock.Advance(9s);
  ASSERT_TRUE(clock.AwaitSleepers(1));  // woken, found its deadline ahead, asleep again
  EXPECT_FALSE(expired);
  clock.Advance(1s);
  sleeper.join();
  EXPECT_TRUE(expired);
  EXPECT_EQ(clock.Now(), deadline);
  // A deadline already passed does not wait at all.
  MutexLock lock(&mu);
  EXPECT_FALSE(clock.WaitUntil(&cv, &mu, deadline));
}

TEST(FakeMonotonicClockTest, ASignalStillWakesTheSleeper) {
  FakeMonotonicClock clock;
  Mutex mu;
  CondVar cv;
  bool go = false;
  std::thread sleeper([&] {
    MutexLock lock(&mu);
    while (!go) clock.WaitUntil(&cv, &mu, clock.Now() + 1h);
  });
  ASSERT_TRUE(clock.AwaitSleepers(1));
  {
    MutexLock lock(&mu);
    go = true;
  }
  cv.SignalAll();
  sleeper.join();
}

}  // namespace
}  // namespace sluice::testing
