#include "sluice/core/fs.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace sluice {
namespace {

class FsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Under the build tree (a real disk file system, where direct I/O applies), not /tmp,
    // which may be tmpfs.
    dir_ = std::filesystem::current_path() / ("fs_test." + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Writes `sizes` pieces of a deterministic byte pattern, syncs, and checks the file.
  void WriteAndCheck(const std::vector<size_t>& sizes, bool sync) {
    FileSystem& fs = FileSystem::Default();
    const std::string path = (dir_ / "f").string();
    auto file = fs.NewWritableFile(path);
    ASSERT_TRUE(file.ok()) << file.status().ToString();
    std::vector<uint8_t> expected;
    for (size_t n : sizes) {
      std::vector<uint8_t> piece(n);
      for (size_t i = 0; i < n; ++i) {
        piece[i] = static_cast<uint8_t>(((expected.size() + i) * 2654435761u) >> 13);
      }
      ASSERT_TRUE((*file)->Append(ByteView(piece.data(), piece.size())).ok());
      expected.insert(expected.end(), piece.begin(), piece.end());
      EXPECT_EQ((*file)->size(), expected.size());
    }
    if (sync) {
      ASSERT_TRUE((*file)->Sync().ok());
    }
    ASSERT_TRUE((*file)->Close().ok());
    auto read = fs.OpenRandomAccess(path);
    ASSERT_TRUE(read.ok());
    ASSERT_EQ((*read)->size(), expected.size());
    std::vector<uint8_t> got;
    ASSERT_TRUE((*read)->ReadAt(0, expected.size(), &got).ok());
    EXPECT_TRUE(got == expected) << "content differs";
  }

  std::filesystem::path dir_;
};

TEST_F(FsTest, SmallFilesStayInThePageCache) { WriteAndCheck({1, 4095, 70000}, true); }

TEST_F(FsTest, LargeFilesKeepEveryByteAcrossTheDirectIoSwitch) {
  // Crosses the 8 MiB switch inside a piece, fills the 4 MiB direct buffer several times and
  // ends with a tail that is not a whole block.
  WriteAndCheck({3u << 20, 6u << 20, 1, 4u << 20, (4u << 20) - 1, 12345, 256 * 1024}, true);
}

TEST_F(FsTest, ClosingWithoutSyncStillWritesTheTail) {
  WriteAndCheck({(8u << 20), 4096 * 3 + 17}, false);
}

TEST_F(FsTest, AppendFromAfterDirectWritesKeepsOrder) {
  FileSystem& fs = FileSystem::Default();
  const std::string src_path = (dir_ / "src").string();
  {
    auto src = fs.NewWritableFile(src_path);
    ASSERT_TRUE(src.ok());
    std::vector<uint8_t> bytes(100000, 0xAB);
    ASSERT_TRUE((*src)->Append(ByteView(bytes.data(), bytes.size())).ok());
    ASSERT_TRUE((*src)->Close().ok());
  }
  const std::string path = (dir_ / "dst").string();
  auto file = fs.NewWritableFile(path);
  ASSERT_TRUE(file.ok());
  std::vector<uint8_t> head((9u << 20) + 5, 0x11);
  ASSERT_TRUE((*file)->Append(ByteView(head.data(), head.size())).ok());
  auto src = fs.OpenRandomAccess(src_path);
  ASSERT_TRUE(src.ok());
  ASSERT_TRUE((*file)->AppendFrom(**src, 10, 1000).ok());
  ASSERT_TRUE((*file)->Sync().ok());
  ASSERT_TRUE((*file)->Close().ok());
  auto read = fs.OpenRandomAccess(path);
  ASSERT_TRUE(read.ok());
  ASSERT_EQ((*read)->size(), head.size() + 1000);
  std::vector<uint8_t> got;
  ASSERT_TRUE((*read)->ReadAt(head.size() - 3, 6, &got).ok());
  EXPECT_EQ(got, (std::vector<uint8_t>{0x11, 0x11, 0x11, 0xAB, 0xAB, 0xAB}));
}

TEST_F(FsTest, FileLockIsExclusiveAndNamesItsHolder) {
  const std::string path = (dir_ / "serve.lock").string();
  auto first = FileLock::TryAcquire(path);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(FileLock::HolderPid(path), ::getpid());
  // flock locks belong to the open file description: a second open is refused even here.
  auto second = FileLock::TryAcquire(path);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), ErrorCode::kUnavailable);
  EXPECT_NE(second.status().message().find(path + " is held by pid " + std::to_string(::getpid())),
            std::string::npos)
      << second.status().message();
  first->reset();
  auto third = FileLock::TryAcquire(path);
  EXPECT_TRUE(third.ok()) << third.status().ToString();
}

TEST_F(FsTest, FileLockInAMissingDirectoryIsAnIoError) {
  auto lock = FileLock::TryAcquire((dir_ / "no" / "such" / "serve.lock").string());
  ASSERT_FALSE(lock.ok());
  EXPECT_EQ(lock.status().code(), ErrorCode::kIoError);
}

}  // namespace
}  // namespace sluice
