#pragma once
// landing: the durable file store. An incoming object streams to a temporary file; Commit
// makes it durable (fdatasync of the file, rename to its final name, fsync of the directory)
// before the caller records it in the ledger and answers 200. Nothing here knows S3 or SQL.
//
// Layout under the root (<data>/landing):
//   tmp/<random>          incoming bodies; removed at start-up (never acknowledged)
//   objects/<id>          committed files; <id> is a random 32-hex-char name
//   uploads/<upload id>/part-<n>
//                         the parts of a multipart upload in progress (<upload id> is an id
//                         like an object's); a re-sent part replaces the earlier one by rename
//
// A part is written like an object (to tmp/, fsync, rename into its upload directory, fsync
// of that directory). Assemble concatenates parts into a new object inside the kernel
// (WritableFile::AppendFrom), fsyncs it and renames it into objects/; it never changes the
// parts, which the caller removes once the object is recorded.
//
// Thread-safety: Store is safe to share; each Incoming is used by one thread.

#include <memory>
#include <string>
#include <vector>

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
  // The ids of the committed objects present (names that are not ids are left out): the
  // start-up sweep compares them with the ledger.
  Result<std::vector<std::string>> ListObjects() const;
  // Free bytes on the landing file system (backpressure floor).
  Result<uint64_t> FreeBytes() const;

  // A fresh random id (32 lower-case hex characters), for upload ids.
  static Result<std::string> NewId();
  // Multipart uploads. `upload_id` must look like an id (kInvalidArgument otherwise), and
  // part numbers are 1..10000 (S3's range).
  Status CreateUpload(const std::string& upload_id);
  // Streams a part; its Commit places it as uploads/<upload id>/part-<n> (replacing an earlier
  // one) and returns "part-<n>". kNotFound when the upload directory does not exist.
  Result<std::unique_ptr<Incoming>> BeginPart(const std::string& upload_id, int part_number);
  // Concatenates the listed parts, in the order given, into a new durable object and returns
  // its id. On failure nothing new is left behind (the parts are untouched either way).
  Result<std::string> Assemble(const std::string& upload_id, const std::vector<int>& part_numbers);
  // Removes an upload's directory and every part in it; OK when it does not exist.
  Status RemoveUpload(const std::string& upload_id);
  // The upload directories present (for the reaper to find ones the catalog no longer knows).
  Result<std::vector<std::string>> ListUploads() const;

  FileSystem& fs() const { return fs_; }
  const std::string& root() const { return root_; }

 private:
  FileSystem& fs_;
  std::string root_;
};

}  // namespace sluice::landing
