#pragma once
// The file-system seam (STYLE.md rule 9, LevelDB's Env): landing and the readers reach files
// only through these interfaces, so that tests can make a write, an fsync or a rename fail, or
// simulate a crash that loses what was not synced.
//
// Thread-safety: a FileSystem is safe to share between threads; each WritableFile or
// RandomAccessFile object is used by one thread at a time (RandomAccessFile::ReadAt is
// safe to call concurrently).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sluice/core/bytes.h"
#include "sluice/core/result.h"

namespace sluice {

class RandomAccessFile;

class WritableFile {
 public:
  virtual ~WritableFile() = default;
  // A full file system (ENOSPC, EDQUOT) fails with kSlowDown, other errors with kIoError.
  virtual Status Append(ByteView data) = 0;
  // Flushes to stable storage (fdatasync). A file is durable only after Sync and a SyncDir of
  // its directory once its final name is in place.
  virtual Status Sync() = 0;
  virtual Status Close() = 0;
  virtual uint64_t size() const = 0;
  // Appends `n` bytes of `src` from `offset`. The POSIX file copies inside the kernel
  // (copy_file_range) when `src` is a POSIX file too, so that assembling a multipart object
  // never passes its bytes through user memory; this default copies through a bounded buffer.
  virtual Status AppendFrom(const RandomAccessFile& src, uint64_t offset, uint64_t n);
};

class RandomAccessFile {
 public:
  virtual ~RandomAccessFile() = default;
  virtual uint64_t size() const = 0;
  // Reads exactly `n` bytes at `offset` into `out` (resized), or fails with kCorruptFile when
  // the range passes the end of the file and kIoError on a read error.
  virtual Status ReadAt(uint64_t offset, size_t n, std::vector<uint8_t>* out) const = 0;
  // The path or another human name, for error messages.
  virtual const std::string& name() const = 0;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // Creates (truncating) a file for writing, mode 0600: every file sluice writes is its users'
  // data (landed objects, parts) or a secret, readable by the service's user only.
  virtual Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) = 0;
  virtual Result<std::unique_ptr<RandomAccessFile>> OpenRandomAccess(const std::string& path) = 0;
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  // fsync of a directory, making renames and creations inside it durable.
  virtual Status SyncDir(const std::string& dir) = 0;
  virtual Status Remove(const std::string& path) = 0;
  // Removes an empty directory; OK when it does not exist.
  virtual Status RemoveDir(const std::string& dir) = 0;
  virtual Status CreateDirs(const std::string& dir) = 0;
  virtual bool Exists(const std::string& path) = 0;
  // Names (not paths) of the entries of `dir`, unsorted.
  virtual Result<std::vector<std::string>> ListDir(const std::string& dir) = 0;
  virtual Result<std::string> ReadSmallFile(const std::string& path) = 0;
  // Bytes an unprivileged writer may still use on the file system holding `dir` (statvfs
  // f_bavail * f_frsize): the backpressure floor. One system call; cheap enough per request.
  virtual Result<uint64_t> FreeBytes(const std::string& dir) = 0;
  // When `path` was last modified (micros since the epoch; stat's st_mtim); kNotFound when
  // it does not exist.
  virtual Result<int64_t> ModifiedMicros(const std::string& path) = 0;

  // The process-wide POSIX implementation.
  static FileSystem& Default();
};

// An exclusive advisory lock on a file (flock), held while the object lives: one process at a
// time holds it, and the kernel drops it when the process dies however it dies (kill -9, a
// crash), so a stale lock never needs cleaning up. The holder writes its pid into the file for
// the message of whoever is refused. flock locks belong to the open file description: a second
// FileLock on the same path in the same process is refused too. Not for NFS.
class FileLock {
 public:
  // Takes the lock without waiting, creating the file (0600) if needed. kUnavailable when
  // another holder has it: the message names the path and the holder's pid as the file says,
  // "<path> is held by pid N". kIoError when the file cannot be opened.
  static Result<std::unique_ptr<FileLock>> TryAcquire(const std::string& path);
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

  const std::string& path() const { return path_; }
  // The pid another process wrote into a lock file it held, read back for messages; 0 when
  // the file holds none.
  static int64_t HolderPid(const std::string& path);

 private:
  FileLock(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  std::string path_;
  int fd_;
};

// Parent directory of a path ("a/b/c" -> "a/b"; "c" -> ".").
std::string DirName(const std::string& path);
// Joins two path parts with one '/'.
std::string JoinPath(const std::string& a, const std::string& b);

}  // namespace sluice
