#pragma once
// landing: the durable file store. An incoming object streams to a temporary file; Commit
// makes it durable (fdatasync of the file, rename to its final name, fsync of the directory)
// before the caller records it in the ledger and answers 200. Nothing here knows S3 or SQL.
//
// Layout under the root (<data>/landing):
//   tmp/<random>          incoming bodies; removed at start-up (never acknowledged)
//   objects/<id>          committed files; <id> is a random 32-hex-char name
//
// Thread-safety: Store is safe to share; each Incoming is used by one thread.

#include <memory>
#include <string>

#include "sluice/core/core.h"

namespace sluice::landing {

class Incoming {
 public:
  virtual ~Incoming() = default;
  virtual Status Append(ByteView data) = 0;
  virtual uint64_t size() const = 0;
  // Makes the file durable under its final name; returns its id. After Commit the Incoming
  // is spent. A failed Commit leaves nothing behind.
  virtual Result<std::string> Commit() = 0;
  // Drops the temporary file (also done by the destructor when neither was called).
  virtual void Abort() = 0;
};

class Store {
 public:
  // `fs` must outlive the store.
  Store(FileSystem& fs, std::string root);

  // Creates the directories and removes stale temporary files.
  Status Init();
  Result<std::unique_ptr<Incoming>> Begin();
  // Path of a committed file, for readers.
  std::string PathOf(const std::string& id) const;
  Result<std::unique_ptr<RandomAccessFile>> Open(const std::string& id) const;
  Status Remove(const std::string& id);
  // Free bytes on the landing file system (backpressure floor).
  Result<uint64_t> FreeBytes() const;

  FileSystem& fs() const { return fs_; }
  const std::string& root() const { return root_; }

 private:
  FileSystem& fs_;
  std::string root_;
};

}  // namespace sluice::landing
