#pragma once
// Fault injection into a file system, for tests (the test kit's one way to make I/O fail).
//
// ForwardingFileSystem: forwards every call to a wrapped file system; tests derive from it and
// override only the calls they change (a short read, a set free space).
//
// FaultyFileSystem: a ForwardingFileSystem that makes the Nth call of an operation fail with an
// I/O error, to show that durability code leaves nothing half-done behind (a failed fsync or
// rename, a full disk on append). It forwards everything else to the wrapped file system and
// counts calls per operation. FailReadsPast makes every file it opens fail the reads that reach
// past an offset (a disk going bad under a landed file); MemoryFile::FailReadsFrom does the
// same for a file made in memory.
//
// It does not simulate lost unsynced data after a crash; it only injects failures.
//
// Thread-safety: ForwardingFileSystem adds no state of its own; FaultyFileSystem is safe to
// share, its counters and armed faults are guarded by a mutex.

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "sluice/core/core.h"
#include "sluice/core/mutex.h"

namespace sluice::testing {

enum class FsOp { kCreate, kAppend, kSync, kClose, kRename, kSyncDir, kRemove, kCount };
std::string_view FsOpName(FsOp op);

// Forwards every call to `base`, which must outlive this object (and every file it hands out).
class ForwardingFileSystem : public FileSystem {
 public:
  explicit ForwardingFileSystem(FileSystem& base = FileSystem::Default()) : base_(base) {}

  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override {
    return base_.NewWritableFile(path);
  }
  Result<std::unique_ptr<RandomAccessFile>> OpenRandomAccess(const std::string& path) override {
    return base_.OpenRandomAccess(path);
  }
  Status Rename(const std::string& from, const std::string& to) override {
    return base_.Rename(from, to);
  }
  Status SyncDir(const std::string& dir) override { return base_.SyncDir(dir); }
  Status Remove(const std::string& path) override { return base_.Remove(path); }
  Status RemoveDir(const std::string& dir) override { return base_.RemoveDir(dir); }
  Status CreateDirs(const std::string& dir) override { return base_.CreateDirs(dir); }
  bool Exists(const std::string& path) override { return base_.Exists(path); }
  Result<std::vector<std::string>> ListDir(const std::string& dir) override {
    return base_.ListDir(dir);
  }
  Result<std::string> ReadSmallFile(const std::string& path) override {
    return base_.ReadSmallFile(path);
  }
  Result<uint64_t> FreeBytes(const std::string& dir) override { return base_.FreeBytes(dir); }
  Result<int64_t> ModifiedMicros(const std::string& path) override {
    return base_.ModifiedMicros(path);
  }

 protected:
  FileSystem& base() { return base_; }

 private:
  FileSystem& base_;
};

class FaultyFileSystem final : public ForwardingFileSystem {
 public:
  // `base` must outlive this object (and every file it hands out).
  explicit FaultyFileSystem(FileSystem& base) : ForwardingFileSystem(base) {}

  // Arms a fault: the `nth` call (1-based, counted from now) of `op` fails with kIoError. With
  // `sticky`, that call and every later one fail (a dead disk). Re-arming replaces the fault.
  void FailNth(FsOp op, int nth, bool sticky = false);
  // Disarms every fault (counters keep running).
  void Heal();
  // Every file opened from now on (OpenRandomAccess) fails each read reaching past its first
  // `readable` bytes with kIoError "<name>: read: EIO"; UINT64_MAX turns it off.
  void FailReadsPast(uint64_t readable);
  // Calls of `op` seen so far, failed ones included.
  int64_t calls(FsOp op) const;

  // Called by the wrappers: counts the call and returns the injected error, if any.
  Status Check(FsOp op, const std::string& what);

  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override;
  Result<std::unique_ptr<RandomAccessFile>> OpenRandomAccess(const std::string& path) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Status SyncDir(const std::string& dir) override;
  Status Remove(const std::string& path) override;
  Status RemoveDir(const std::string& dir) override;  // counted as kRemove

 private:
  struct Fault {
    int64_t fail_at = 0;  // call number that fails; 0: none
    bool sticky = false;
  };
  static constexpr size_t kOps = static_cast<size_t>(FsOp::kCount);

  mutable Mutex mu_;
  std::array<int64_t, kOps> calls_ GUARDED_BY(mu_){};
  std::array<Fault, kOps> faults_ GUARDED_BY(mu_){};
  uint64_t readable_ GUARDED_BY(mu_) = UINT64_MAX;
};

}  // namespace sluice::testing
