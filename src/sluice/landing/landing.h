#pragma once
// landing: the durable file store. An incoming object streams to a temporary file; Commit
// makes it durable (fdatasync of the file, rename to its final name, fsync of the directory)
// before the caller records it in the ledger and answers 200. Nothing here knows S3 or SQL.
//
// Layout under the root (<data>/landing, or a directory several nodes share):
//   tmp/<random>          incoming bodies; removed at start-up (never acknowledged); with
//                         several nodes tmp/<node>/<random>, each node removing its own
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

// The landing store: where pushed bytes are durable before the ledger names them. An interface,
// so that an S3-compatible object store can be a backend beside the directory (DirectoryStore);
// ids are the store's own (32 lower-case hex characters).
class Store {
 public:
  virtual ~Store() = default;

  // Creates what the store needs and removes this node's stale temporary files.
  virtual Status Init() = 0;
  virtual Result<std::unique_ptr<Incoming>> Begin() = 0;
  virtual Result<std::unique_ptr<RandomAccessFile>> Open(const std::string& id) const = 0;
  virtual Status Remove(const std::string& id) = 0;
  // The ids of the committed objects present (names that are not ids are left out): the
  // start-up sweep compares them with the ledger.
  virtual Result<std::vector<std::string>> ListObjects() const = 0;
  // When the object was committed (micros since the epoch): the start-up sweep of a shared
  // store leaves young objects alone (another node may be about to record one).
  virtual Result<int64_t> CommittedAt(const std::string& id) const = 0;
  // Free bytes where the store keeps its bytes (backpressure floor).
  virtual Result<uint64_t> FreeBytes() const = 0;

  // Multipart uploads. `upload_id` must look like an id (kInvalidArgument otherwise), and
  // part numbers are 1..10000 (S3's range).
  virtual Status CreateUpload(const std::string& upload_id) = 0;
  // Streams a part; its Commit places it as the upload's part `part_number` (replacing an
  // earlier one) and returns "part-<n>". kNotFound when the upload does not exist.
  virtual Result<std::unique_ptr<Incoming>> BeginPart(const std::string& upload_id,
                                                      int part_number) = 0;
  // Concatenates the listed parts, in the order given, into a new durable object and returns
  // its id. On failure nothing new is left behind (the parts are untouched either way).
  virtual Result<std::string> Assemble(const std::string& upload_id,
                                       const std::vector<int>& part_numbers) = 0;
  // Removes an upload and every part in it; OK when it does not exist.
  virtual Status RemoveUpload(const std::string& upload_id) = 0;
  // The uploads present (for the reaper to find ones the catalog no longer knows).
  virtual Result<std::vector<std::string>> ListUploads() const = 0;

  // A fresh random id (32 lower-case hex characters), for upload ids.
  static Result<std::string> NewId();
};

// The landing store in a directory, local or shared by several nodes (docs/design/nodes.md:
// the file system must honour atomic rename and fsync). Each node writes its incoming files
// under tmp/<node>/ and removes only its own leftovers at Init; `node` empty: tmp/ itself (one
// server).
class DirectoryStore final : public Store {
 public:
  // `fs` must outlive the store.
  DirectoryStore(FileSystem& fs, std::string root, const std::string& node = {});

  Status Init() override;
  Result<std::unique_ptr<Incoming>> Begin() override;
  Result<std::unique_ptr<RandomAccessFile>> Open(const std::string& id) const override;
  Status Remove(const std::string& id) override;
  Result<std::vector<std::string>> ListObjects() const override;
  Result<int64_t> CommittedAt(const std::string& id) const override;
  Result<uint64_t> FreeBytes() const override;
  Status CreateUpload(const std::string& upload_id) override;
  Result<std::unique_ptr<Incoming>> BeginPart(const std::string& upload_id,
                                              int part_number) override;
  Result<std::string> Assemble(const std::string& upload_id,
                               const std::vector<int>& part_numbers) override;
  Status RemoveUpload(const std::string& upload_id) override;
  Result<std::vector<std::string>> ListUploads() const override;

  // Path of a committed file (tests).
  std::string PathOf(const std::string& id) const;
  FileSystem& fs() const { return fs_; }
  const std::string& root() const { return root_; }

 private:
  FileSystem& fs_;
  std::string root_;
  std::string tmp_;  // this node's temporary directory
};

}  // namespace sluice::landing
