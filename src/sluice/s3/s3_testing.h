#pragma once
// Private to the s3 tests: an in-memory Backend with S3's rules, the recorded client
// transcripts (../shared/s3-transcripts) as replayable requests, and a fixture that drives the
// service through Start/OnBody/Finish with a pinned clock. It is long because the fake
// implements the whole Backend contract (buckets, objects, multipart) rather than stubbing it;
// it is included by the s3 test files only.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "sluice/auth/auth.h"
#include "sluice/auth/transcripts_testing.h"
#include "sluice/core/testing/memory_file.h"
#include "sluice/core/text.h"
#include "sluice/s3/multipart_checksum.h"
#include "sluice/s3/multipart_rules.h"
#include "sluice/s3/s3.h"

namespace sluice::s3::s3test {

namespace fs = std::filesystem;
using auth::testing::HasHeader;
using auth::testing::HeaderOf;
using auth::testing::RemoveHeader;
using auth::testing::SetHeader;
using nlohmann::json;

inline const std::string kAccessKey = "AKIDSLUICETEST000001";
inline const std::string kAccountKey = "AKIDSLUICEACCOUNT001";  // an account-level key, same secret
inline const std::string kSecret = "sluice/test/secret/key/0000000000000000000";
inline const std::string kBucket = "conn-demo";
inline const std::string kOtherBucket = "conn-other";
constexpr int64_t kCreatedMicros = 1795742016'000000;  // 2026-11-27T01:13:36Z

// ---------------------------------------------------------------- fakes

struct Stored {
  std::string bytes;
  ObjectDigests digests;
  PutRequest request;
  std::string etag;           // hex MD5, or "<hex>-N" for a multipart object
  int64_t last_modified = 0;  // micros
  Checksum checksum;          // a multipart object's (a PUT's is in digests.checksums)
};

inline std::string Md5Raw(std::string_view data) {
  auth::Digest d(auth::Digest::Kind::kMd5);
  d.Update(AsBytes(data));
  return d.Finish();
}
inline std::string Md5Hex(std::string_view data) { return ToHex(AsBytes(Md5Raw(data))); }

// A sink that hands the bytes to `commit` (or counts an abort).
class FakeSink final : public ObjectSink {
 public:
  using CommitFn = std::function<Result<http::HeaderList>(std::string, const ObjectDigests&)>;
  FakeSink(const Status& append_error, int& aborted, CommitFn commit, ChecksumSpec upload = {})
      : append_error_(append_error),
        aborted_(aborted),
        commit_(std::move(commit)),
        upload_(std::move(upload)) {}
  Status Append(ByteView data) override {
    if (!append_error_.ok()) return append_error_;
    bytes_.append(AsChars(data));
    return Status::Ok();
  }
  Result<http::HeaderList> Commit(const ObjectDigests& digests) override {
    return commit_(std::move(bytes_), digests);
  }
  void Abort() override { ++aborted_; }
  ChecksumSpec UploadChecksum() const override { return upload_; }

 private:
  const Status& append_error_;
  int& aborted_;
  CommitFn commit_;
  ChecksumSpec upload_;
  std::string bytes_;
};

// The whole Backend in memory, with S3's rules: buckets owned by connections, account keys
// reaching every bucket, multipart checks (multipart_rules.h, as the store makes them) and an
// idempotent Complete.
class FakeBackend final : public Backend {
 public:
  FakeBackend() {
    buckets[kBucket] = kBucket;
    buckets[kOtherBucket] = kOtherBucket;
  }

  Result<std::pair<Secret, std::string>> LookupKey(const AccessKeyId& key) override {
    if (key.str() == kAccessKey) return std::pair(Secret(kSecret), kBucket);
    if (key.str() == kAccountKey) return std::pair(Secret(kSecret), std::string());
    return Status(ErrorCode::kInvalidAccessKeyId,
                  "the access key id " + key.str() + " does not exist");
  }
  Result<std::vector<BucketInfo>> ListBuckets(const Identity& who) override {
    std::vector<BucketInfo> out;
    for (const auto& [name, owner] : buckets) {
      if (who.account || owner == who.connection_id) out.push_back({name, kCreatedMicros + 123456});
    }
    return out;
  }
  Status CheckBucket(const Identity& who, const std::string& bucket) override {
    const auto it = buckets.find(bucket);
    if (it == buckets.end()) {
      return Status(ErrorCode::kNoSuchBucket, "the specified bucket does not exist");
    }
    if (!who.account && it->second != who.connection_id) {
      return Status(ErrorCode::kAccessDenied, "access denied to bucket " + bucket);
    }
    return Status::Ok();
  }
  Result<std::unique_ptr<ObjectSink>> BeginPut(const Identity& who,
                                               const PutRequest& request) override {
    SLUICE_RETURN_IF_ERROR(CheckBucket(who, request.bucket));
    if (!begin_error.ok()) return begin_error;
    // The write conditions, checked before the body only (the real backend checks again).
    const auto existing = objects.find(request.bucket + "/" + request.key);
    if (request.condition.if_none_match && existing != objects.end()) {
      return Status(ErrorCode::kPreconditionFailed, "the key exists");
    }
    if (!request.condition.if_match.empty()) {
      if (existing == objects.end()) return Status(ErrorCode::kNoSuchKey, "no such key");
      if (existing->second.etag != request.condition.if_match) {
        return Status(ErrorCode::kPreconditionFailed, "another etag");
      }
    }
    ++begun;
    return std::unique_ptr<ObjectSink>(std::make_unique<FakeSink>(
        append_error, aborted,
        [this, request](std::string bytes, const ObjectDigests& d) -> Result<http::HeaderList> {
          objects[request.bucket + "/" + request.key] =
              Stored{std::move(bytes), d, request, d.md5_hex, Tick()};
          const std::string version = Remember(request.bucket + "/" + request.key);
          return http::HeaderList{{"x-amz-meta-sluice-seq", std::to_string(objects.size())},
                                  {"x-amz-version-id", version}};
        }));
  }

  Status CreateBucket(const Identity& who, const std::string& bucket) override {
    const auto it = buckets.find(bucket);
    if (it != buckets.end()) {
      if (who.account || it->second == who.connection_id) {
        return Status(ErrorCode::kBucketAlreadyOwnedByYou, "you already own bucket " + bucket);
      }
      return Status(ErrorCode::kBucketAlreadyExists, "bucket " + bucket + " is taken");
    }
    if (!who.account) {
      return Status(ErrorCode::kAccessDenied, "only an account key may create buckets");
    }
    buckets[bucket] = bucket;
    return Status::Ok();
  }
  Status DeleteBucket(const Identity& who, const std::string& bucket) override {
    if (!who.account) {
      return Status(ErrorCode::kAccessDenied, "only an account key may delete buckets");
    }
    SLUICE_RETURN_IF_ERROR(CheckBucket(who, bucket));
    for (const auto& [name, obj] : objects) {
      if (name.starts_with(bucket + "/")) {
        return Status(ErrorCode::kBucketNotEmpty, "bucket " + bucket + " is not empty");
      }
    }
    buckets.erase(bucket);
    return Status::Ok();
  }

  Result<ObjectData> GetObject(const Identity& who, const std::string& bucket,
                               const std::string& key, bool with_body) override {
    SLUICE_RETURN_IF_ERROR(CheckBucket(who, bucket));
    const auto it = objects.find(bucket + "/" + key);
    if (it == objects.end()) return Status(ErrorCode::kNoSuchKey, "no such key " + key);
    ObjectData out;
    out.info = Info(key, it->second);
    if (const auto h = history.find(it->first); h != history.end() && !h->second.empty()) {
      out.info.version_id = h->second.back().id;
    }
    if (with_body) out.file = std::make_shared<testing::MemoryFile>(it->second.bytes, "memory");
    return out;
  }
  Result<ListPage> ListObjects(const Identity& who, const std::string& bucket,
                               const ListQuery& query) override {
    SLUICE_RETURN_IF_ERROR(CheckBucket(who, bucket));
    ++list_calls;
    ListPage page;
    const std::string base = bucket + "/";
    size_t read = 0;
    for (auto it = objects.upper_bound(base + query.start_after); it != objects.end(); ++it) {
      if (!it->first.starts_with(base)) break;
      const std::string key = it->first.substr(base.size());
      if (!key.starts_with(query.prefix)) {
        if (key > query.prefix) break;
        continue;
      }
      if (page.objects.size() == query.max_keys) {
        page.truncated = true;
        break;
      }
      if (read_bound != 0 && read == read_bound) {  // the catalog's read window, in small
        page.truncated = true;
        page.resume_after = last_read;
        break;
      }
      ++read;
      last_read = key;
      if (hidden.count(key)) continue;
      page.objects.push_back(Info(key, it->second));
      ++listed_objects;
    }
    return page;
  }
  // As a versioned S3 bucket: a delete of a key with versions adds a delete marker.
  Result<DeleteOutcome> DeleteObject(const Identity& who, const std::string& bucket,
                                     const std::string& key) override {
    SLUICE_RETURN_IF_ERROR(CheckBucket(who, bucket));
    if (key == "locked.parquet") return Status(ErrorCode::kAccessDenied, "locked by a test");
    const std::string name = bucket + "/" + key;
    objects.erase(name);
    ++deletes;
    auto& versions = history[name];
    if (versions.empty()) return DeleteOutcome{};
    if (!versions.back().marker) {
      versions.push_back({"m" + std::to_string(++version_counter), true, {}, Tick()});
    }
    return DeleteOutcome{versions.back().id, true};
  }

  // Versions: ids "v<n>" (a version) and "m<n>" (a delete marker), n counting every write.
  Result<ObjectData> GetObjectVersion(const Identity& who, const std::string& bucket,
                                      const std::string& key, const std::string& version_id,
                                      bool with_body) override {
    SLUICE_RETURN_IF_ERROR(CheckBucket(who, bucket));
    SLUICE_RETURN_IF_ERROR(CheckVersionId(version_id));
    const FakeVersion* v = FindVersion(bucket + "/" + key, version_id);
    if (v == nullptr) return Status(ErrorCode::kNoSuchVersion, "no version " + version_id);
    if (v->marker) return Status(ErrorCode::kMethodNotAllowed, version_id + " is a delete marker");
    ObjectData out;
    out.info = Info(key, v->stored);
    out.info.version_id = version_id;
    if (with_body) out.file = std::make_shared<testing::MemoryFile>(v->stored.bytes, "memory");
    return out;
  }
  Result<VersionPage> ListObjectVersions(const Identity& who, const std::string& bucket,
                                         const VersionQuery& query) override {
    SLUICE_RETURN_IF_ERROR(CheckBucket(who, bucket));
    ++list_calls;
    largest_version_query = std::max(largest_version_query, query.max_entries);
    VersionPage page;
    const std::string base = bucket + "/";
    size_t read = 0;
    std::string read_key;  // the key of last_read
    for (auto it = history.lower_bound(base + query.key_marker); it != history.end(); ++it) {
      if (!it->first.starts_with(base)) break;
      const std::string key = it->first.substr(base.size());
      if (!key.starts_with(query.prefix) || key < query.key_marker) continue;
      // Newest first; on key_marker, after version_id_marker (or none of them without one).
      bool after = key != query.key_marker;
      for (auto v = it->second.rbegin(); v != it->second.rend(); ++v) {
        if (!after) {
          after = !query.version_id_marker.empty() && v->id == query.version_id_marker;
          continue;
        }
        if (page.entries.size() == query.max_entries) {
          page.truncated = true;
          page.next_key_marker = page.entries.back().info.key;
          page.next_version_id_marker = page.entries.back().info.version_id;
          return page;
        }
        if (read_bound != 0 && read == read_bound) {  // the catalog's read window, in small
          page.truncated = true;
          page.next_key_marker = read_key;
          page.next_version_id_marker = last_read;
          return page;
        }
        ++read;
        read_key = key;
        last_read = v->id;
        if (hidden_versions.count(v->id)) continue;
        VersionEntry e;
        e.info = v->marker ? ObjectInfo{} : Info(key, v->stored);
        e.info.key = key;
        e.info.version_id = v->id;
        e.info.last_modified = v->marker ? v->at : e.info.last_modified;
        e.is_latest = v == it->second.rbegin();
        e.delete_marker = v->marker;
        page.entries.push_back(std::move(e));
      }
    }
    return page;
  }
  Result<DeleteOutcome> DeleteObjectVersion(const Identity& who, const std::string& bucket,
                                            const std::string& key,
                                            const std::string& version_id) override {
    SLUICE_RETURN_IF_ERROR(CheckBucket(who, bucket));
    SLUICE_RETURN_IF_ERROR(CheckVersionId(version_id));
    const std::string name = bucket + "/" + key;
    auto& versions = history[name];
    DeleteOutcome out{version_id, false};
    for (auto v = versions.begin(); v != versions.end(); ++v) {
      if (v->id != version_id) continue;
      out.delete_marker = v->marker;
      versions.erase(v);
      break;
    }
    // The newest remaining entry is the object, unless it is a delete marker.
    if (versions.empty() || versions.back().marker) {
      objects.erase(name);
    } else {
      objects[name] = versions.back().stored;
    }
    return out;
  }

  struct Upload {
    PutRequest request;
    std::map<int, Stored> parts;
    int64_t initiated = 0;
  };
  Result<std::string> CreateMultipartUpload(const Identity& who,
                                            const PutRequest& request) override {
    SLUICE_RETURN_IF_ERROR(CheckBucket(who, request.bucket));
    std::string id = next_upload_id.empty() ? "upload-" + std::to_string(++tick) : next_upload_id;
    next_upload_id.clear();
    uploads[id] = Upload{request, {}, Tick()};
    return id;
  }
  Result<std::unique_ptr<ObjectSink>> BeginUploadPart(const Identity& who,
                                                      const std::string& bucket,
                                                      const std::string& key,
                                                      const std::string& upload_id, int part_number,
                                                      uint64_t) override {
    SLUICE_RETURN_IF_ERROR(CheckPartNumber(part_number));
    SLUICE_ASSIGN_OR_RETURN(Upload * upload, Find(who, bucket, key, upload_id));
    return std::unique_ptr<ObjectSink>(std::make_unique<FakeSink>(
        append_error, aborted,
        [this, upload_id, part_number](std::string bytes,
                                       const ObjectDigests& d) -> Result<http::HeaderList> {
          auto it = uploads.find(upload_id);
          if (it == uploads.end()) return Status(ErrorCode::kNoSuchUpload, "aborted meanwhile");
          it->second.parts[part_number] = Stored{std::move(bytes), d, {}, d.md5_hex, Tick()};
          return http::HeaderList{};
        },
        upload->request.checksum));
  }
  Result<CompleteResult> CompleteMultipartUpload(const Identity& who, const std::string& bucket,
                                                 const std::string& key,
                                                 const std::string& upload_id,
                                                 const std::vector<CompletedPart>& parts,
                                                 const WriteCondition& /*condition*/ = {},
                                                 const Checksum& sent = {}) override {
    if (const auto done = completed.find(upload_id); done != completed.end()) return done->second;
    SLUICE_ASSIGN_OR_RETURN(Upload * upload, Find(who, bucket, key, upload_id));
    UploadedPart found;
    SLUICE_RETURN_IF_ERROR(CheckCompleteParts(parts, [&](int number) -> const UploadedPart* {
      const auto it = upload->parts.find(number);
      if (it == upload->parts.end()) return nullptr;
      found = {it->second.bytes.size(), it->second.etag};
      return &found;
    }));
    PartChecksum part_checksum;
    SLUICE_ASSIGN_OR_RETURN(Checksum checksum,
                            CompleteChecksum(
                                upload->request.checksum, parts,
                                [&](int number) -> const PartChecksum* {
                                  const Stored& p = upload->parts.at(number);
                                  part_checksum = {p.bytes.size(), "", ""};
                                  if (!p.digests.checksums.empty()) {
                                    part_checksum.algorithm = p.digests.checksums[0].first;
                                    part_checksum.value = p.digests.checksums[0].second;
                                  }
                                  return &part_checksum;
                                },
                                sent));
    std::string bytes;
    std::vector<std::string> md5s;
    for (const CompletedPart& part : parts) {
      const Stored& stored = upload->parts.at(part.part_number);
      bytes += stored.bytes;
      md5s.push_back(stored.etag);
    }
    CompleteResult result;
    result.etag = MultipartEtag(md5s);
    result.checksum = checksum;
    result.headers = {{"x-amz-meta-sluice-seq", std::to_string(objects.size() + 1)}};
    ObjectDigests d;
    d.size = bytes.size();
    objects[bucket + "/" + key] =
        Stored{std::move(bytes), d, upload->request, result.etag, Tick(), std::move(checksum)};
    result.headers.emplace_back("x-amz-version-id", Remember(bucket + "/" + key));
    uploads.erase(upload_id);
    completed[upload_id] = result;
    return result;
  }
  Status AbortMultipartUpload(const Identity& who, const std::string& bucket,
                              const std::string& key, const std::string& upload_id) override {
    SLUICE_RETURN_IF_ERROR(Find(who, bucket, key, upload_id).status());
    uploads.erase(upload_id);
    return Status::Ok();
  }
  Result<std::vector<PartInfo>> ListParts(const Identity& who, const std::string& bucket,
                                          const std::string& key, const std::string& upload_id,
                                          const PartQuery& query) override {
    SLUICE_ASSIGN_OR_RETURN(Upload * upload, Find(who, bucket, key, upload_id));
    ++list_calls;
    std::vector<PartInfo> out;
    for (auto it = upload->parts.upper_bound(query.after);
         it != upload->parts.end() && out.size() < query.max_parts; ++it) {
      out.push_back(
          {it->first, it->second.bytes.size(), it->second.etag, it->second.last_modified});
      for (const auto& [algorithm, value] : it->second.digests.checksums) {
        out.back().checksum = {algorithm, value, ""};
      }
    }
    return out;
  }
  // In memory, the order the catalog keeps: key, then initiation, then upload id.
  Result<std::vector<UploadInfo>> ListMultipartUploads(const Identity& who,
                                                       const std::string& bucket,
                                                       const UploadQuery& query) override {
    SLUICE_RETURN_IF_ERROR(CheckBucket(who, bucket));
    ++list_calls;
    largest_upload_query = std::max(largest_upload_query, query.max_uploads);
    std::vector<UploadInfo> all;
    for (const auto& [id, u] : uploads) {
      if (u.request.bucket == bucket && u.request.key.starts_with(query.prefix)) {
        all.push_back({u.request.key, id, u.initiated});
      }
    }
    std::sort(all.begin(), all.end(), [](const UploadInfo& a, const UploadInfo& b) {
      return std::tie(a.key, a.initiated, a.upload_id) < std::tie(b.key, b.initiated, b.upload_id);
    });
    const UploadInfo* marker = nullptr;
    for (const UploadInfo& u : all) {
      if (!query.upload_id_marker.empty() && u.upload_id == query.upload_id_marker &&
          u.key == query.key_marker) {
        marker = &u;
      }
    }
    std::vector<UploadInfo> out;
    for (const UploadInfo& u : all) {
      const bool after =
          u.key > query.key_marker ||
          (marker != nullptr && u.key == marker->key &&
           std::tie(u.initiated, u.upload_id) > std::tie(marker->initiated, marker->upload_id));
      if (after && out.size() < query.max_uploads) out.push_back(u);
    }
    return out;
  }

  // Test hooks.
  // Stores an object directly; `etag` and `last_modified` (micros) default to the MD5 and a tick.
  void Put(const std::string& key, std::string bytes, std::string content_type = "",
           std::string etag = "", int64_t last_modified = 0) {
    Stored s;
    s.etag = etag.empty() ? Md5Hex(bytes) : etag;
    s.digests.size = bytes.size();
    s.digests.md5_hex = s.etag;
    s.request.bucket = kBucket;
    s.request.key = key;
    s.request.content_type = std::move(content_type);
    s.bytes = std::move(bytes);
    s.last_modified = last_modified != 0 ? last_modified : Tick();
    objects[kBucket + "/" + key] = std::move(s);
    Remember(kBucket + "/" + key);
  }
  // One second later than the previous event, from kCreatedMicros.
  int64_t Tick() { return kCreatedMicros + ++tick * 1'000'000; }
  // Records the current object `name` ("bucket/key") as its newest version; returns its id.
  std::string Remember(const std::string& name) {
    const Stored& s = objects.at(name);
    history[name].push_back({"v" + std::to_string(++version_counter), false, s, s.last_modified});
    return history[name].back().id;
  }

  Status begin_error;
  Status append_error;
  int begun = 0, aborted = 0, deletes = 0, list_calls = 0;
  size_t listed_objects = 0;  // keys ListObjects returned, over all calls
  // Keys ListObjects reads but does not return (deleted or purged), and how many keys one call
  // reads at most (0: no bound), as the catalog's ListVisible does.
  std::set<std::string> hidden;
  size_t read_bound = 0;
  std::string last_read;
  size_t largest_upload_query = 0;  // the largest max_uploads asked of ListMultipartUploads
  int64_t tick = 0;
  std::map<std::string, Stored> objects;       // "bucket/key"
  std::map<std::string, std::string> buckets;  // name -> owning connection
  std::map<std::string, Upload> uploads;
  std::map<std::string, CompleteResult> completed;
  std::string next_upload_id;  // the id the next CreateMultipartUpload returns, if set
  struct FakeVersion {
    std::string id;
    bool marker = false;
    Stored stored;   // a version's object
    int64_t at = 0;  // micros: when it was written
  };
  std::map<std::string, std::vector<FakeVersion>> history;  // "bucket/key" -> oldest first
  // Versions ListObjectVersions reads (within read_bound) but does not return, as the store
  // reads files that are no versions (purged ones).
  std::set<std::string> hidden_versions;
  int64_t version_counter = 0;
  size_t largest_version_query = 0;  // the largest max_entries asked of ListObjectVersions

 private:
  ObjectInfo Info(const std::string& key, const Stored& s) const {
    ObjectInfo info;
    info.key = key;
    info.size = s.bytes.size();
    info.etag = s.etag;
    info.last_modified = s.last_modified;
    info.content_type = s.request.content_type;
    info.headers = s.request.headers;
    info.user_metadata = s.request.user_metadata;
    info.status_headers = {{"x-amz-meta-sluice-status", "loaded"}};
    info.checksum = s.checksum;
    for (const auto& [algorithm, value] : s.digests.checksums) {
      info.checksum = {algorithm, value, "FULL_OBJECT"};
    }
    return info;
  }
  static Status CheckVersionId(const std::string& id) {
    if (id.size() < 2 || (id[0] != 'v' && id[0] != 'm')) {
      return Status(ErrorCode::kInvalidArgument, "Invalid version id specified");
    }
    return Status::Ok();
  }
  const FakeVersion* FindVersion(const std::string& name, const std::string& id) const {
    const auto it = history.find(name);
    if (it == history.end()) return nullptr;
    for (const FakeVersion& v : it->second) {
      if (v.id == id) return &v;
    }
    return nullptr;
  }
  Result<Upload*> Find(const Identity& who, const std::string& bucket, const std::string& key,
                       const std::string& upload_id) {
    SLUICE_RETURN_IF_ERROR(CheckBucket(who, bucket));
    const auto it = uploads.find(upload_id);
    if (it == uploads.end() || it->second.request.bucket != bucket ||
        it->second.request.key != key) {
      return Status(ErrorCode::kNoSuchUpload, "the specified upload does not exist");
    }
    return &it->second;
  }
};

// ---------------------------------------------------------------- transcripts

inline const fs::path kRoot = fs::path(SLUICE_SHARED_DIR) / "s3-transcripts";

inline json Load(const std::string& file) {
  std::ifstream in(kRoot / file);
  EXPECT_TRUE(in.good()) << file;
  return json::parse(in);
}

struct Replay {
  http::RequestHead head;
  std::string body;
  bool whole = true;  // `body` is the entire recorded body
  int64_t amz_seconds = 0;
};

// The transcripts' files: byte i is i % 251; `offset` for a part's slice of the file.
inline std::string Pattern(size_t n, uint64_t offset = 0) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((offset + i) % 251);
  return s;
}

inline std::string Sha256Hex(std::string_view data) {
  auth::Digest d(auth::Digest::Kind::kSha256);
  d.Update(AsBytes(data));
  const std::string raw = d.Finish();
  return ToHex(AsBytes(raw));
}

// "2026-11-27T01:34:39.573617+00:00" -> seconds since the epoch.
inline int64_t ParseCaptureTime(const std::string& t) {
  const int64_t days = DaysFromCivil(std::stoi(t.substr(0, 4)), std::stoi(t.substr(5, 2)),
                                     std::stoi(t.substr(8, 2)));
  return days * 86400 + std::stoi(t.substr(11, 2)) * 3600 + std::stoi(t.substr(14, 2)) * 60 +
         std::stoi(t.substr(17, 2));
}

// `offset`: where a truncated body starts in the generated file (a multipart part's offset).
inline Replay FromJson(const json& r, uint64_t offset = 0) {
  Replay out;
  http::RequestHead& h = out.head;
  h.method = r.at("method");
  h.raw_path = r.at("raw_path");
  h.raw_query = r.at("raw_query");
  h.target = h.raw_path + (h.raw_query.empty() ? "" : "?" + h.raw_query);
  for (const json& kv : r.at("headers")) h.headers.emplace_back(kv.at(0), kv.at(1));
  const std::string length = HeaderOf(h.headers, "content-length");
  if (!length.empty()) h.content_length = std::stoull(length);
  h.chunked = HeaderOf(h.headers, "transfer-encoding") == "chunked";
  h.expect_continue = HasHeader(h.headers, "expect");
  h.tls = r.value("scheme", "http") == "https";
  const json& body = r.at("body");
  out.body = auth::Base64Decode(body.value("first_bytes_b64", "")).value();
  if (body.value("truncated", false)) {
    // A larger body that is a whole generated file is rebuilt (and proven to be the recorded
    // one by its SHA-256); other truncated bodies (multipart parts) stay a prefix.
    out.whole = false;
    std::string rebuilt = Pattern(body.at("length").get<size_t>(), offset);
    if (r.contains("aws_chunked") && !r.at("aws_chunked").value("signed_chunks", true)) {
      // An unsigned aws-chunked body: the generator's bytes in the recorded frame sizes, then
      // the recorded final chunk and trailer.
      const json& a = r.at("aws_chunked");
      rebuilt.clear();
      uint64_t at = offset;
      for (const json& run : a.at("chunk_sizes_rle")) {
        const uint64_t size = run.at(0);
        for (int i = 0; size > 0 && i < run.at(1).get<int>(); ++i) {
          char line[32];
          std::snprintf(line, sizeof line, "%llx\r\n", static_cast<unsigned long long>(size));
          rebuilt += line + Pattern(size, at) + "\r\n";
          at += size;
        }
      }
      rebuilt += a.at("final_chunk_and_trailer_text").get<std::string>();
    }
    if (rebuilt.starts_with(out.body)) {
      if (Sha256Hex(rebuilt) == body.at("sha256").get<std::string>()) {
        out.body = std::move(rebuilt);
        out.whole = true;
      }
    }
  }
  const std::string date = HeaderOf(h.headers, "x-amz-date");
  out.amz_seconds = auth::ParseAmzDate(date).ValueOr(0);
  // Presigned requests carry their date in the query (SigV4) or none (SigV2): the capture
  // server's receive time stands in for the wall clock.
  if (out.amz_seconds == 0) out.amz_seconds = ParseCaptureTime(r.at("time"));
  return out;
}

// The first request of `file` routed as `operation` by the capture server.
inline Replay FirstOf(const std::string& file, const std::string& operation) {
  const json doc = Load(file);
  for (const json& r : doc.at("requests")) {
    if (r.value("operation", "") == operation) return FromJson(r);
  }
  ADD_FAILURE() << "no " << operation << " in " << file;
  return {};
}

// Re-signs a (modified) request with the test secret, keeping its signed-header list and adding
// every x-amz-* header it now carries (auth refuses unsigned ones): a client that signed what it
// sent, e.g. a wrong Content-MD5.
inline void Resign(Replay* rp, std::string access_key = kAccessKey) {
  http::RequestHead& h = rp->head;
  const auth::Request req{h.method, h.raw_path, h.raw_query, &h.headers};
  auto parsed = auth::ParseAuth(req);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  parsed->access_key = AccessKeyId(access_key);
  for (const auto& [name, value] : h.headers) {
    const std::string lower = AsciiLowered(name);
    if (!lower.starts_with("x-amz-") || lower == "x-amz-content-sha256") continue;
    auto& list = parsed->signed_headers;
    if (std::find(list.begin(), list.end(), lower) == list.end()) list.push_back(lower);
  }
  const std::string sig =
      auth::HmacSha256Hex(auth::SigningKey(Secret(kSecret), *parsed),
                          auth::StringToSign(*parsed, auth::CanonicalRequest(req, *parsed)));
  std::string signed_headers;
  for (const std::string& s : parsed->signed_headers) {
    signed_headers += (signed_headers.empty() ? "" : ";") + s;
  }
  SetHeader(&h.headers, "authorization",
            "AWS4-HMAC-SHA256 Credential=" + access_key + "/" + parsed->scope_date + "/" +
                parsed->region + "/s3/aws4_request, SignedHeaders=" + signed_headers +
                ", Signature=" + sig);
}

// A request signed here, for operations the transcripts do not hold (HeadBucket, other
// buckets).
inline Replay Signed(std::string method, std::string path, std::string query = "",
                     std::string body = "", std::string access_key = kAccessKey) {
  Replay rp;
  rp.amz_seconds = auth::ParseAmzDate("20261127T013439Z").value();
  http::RequestHead& h = rp.head;
  h.method = std::move(method);
  h.raw_path = std::move(path);
  h.raw_query = std::move(query);
  h.target = h.raw_path + (h.raw_query.empty() ? "" : "?" + h.raw_query);
  auth::Digest d(auth::Digest::Kind::kSha256);
  d.Update(AsBytes(body));
  const std::string sha = d.Finish();
  h.headers = {{"Host", "127.0.0.1:18080"},
               {"X-Amz-Date", "20261127T013439Z"},
               {"X-Amz-Content-SHA256", ToHex(AsBytes(sha))},
               {"Authorization",
                "AWS4-HMAC-SHA256 Credential=X/20261127/us-east-1/s3/aws4_request, "
                "SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=" +
                    std::string(64, '0')}};
  if (!body.empty() || h.method == "PUT") {
    h.content_length = body.size();
    h.headers.emplace_back("Content-Length", std::to_string(body.size()));
  }
  rp.body = std::move(body);
  Resign(&rp, std::move(access_key));
  return rp;
}

// ---------------------------------------------------------------- XML in responses

// The text between the first `open` and the next `close`, or "<absent>".
inline std::string Between(const std::string& text, const std::string& open,
                           const std::string& close) {
  const size_t a = text.find(open);
  if (a == std::string::npos) return "<absent>";
  const size_t b = text.find(close, a + open.size());
  return text.substr(a + open.size(), b - a - open.size());
}

inline std::string Tag(const std::string& xml, const std::string& name) {
  return Between(xml, "<" + name + ">", "</" + name + ">");
}

inline std::vector<std::string> All(const std::string& text, const std::string& pattern) {
  std::vector<std::string> out;
  const std::regex re(pattern);
  for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator();
       ++it) {
    out.push_back((*it)[1].str());
  }
  return out;
}

inline std::string PercentDecode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

inline std::string XmlUnescape(std::string s) {
  for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
           {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&apos;", "'"}, {"&amp;", "&"}}) {
    for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + 1)) {
      s.replace(at, from.size(), to);
    }
  }
  return s;
}

// "2026-11-27T01:34:37.000Z" -> micros.
inline int64_t IsoMicros(const std::string& t) { return ParseCaptureTime(t) * 1'000'000; }

// ---------------------------------------------------------------- driving

struct Outcome {
  http::Response response;
  bool immediate = false;  // answered from Start, body not read
};

class S3Test : public ::testing::Test {
 protected:
  Outcome Run(const Replay& rp, size_t piece = 777, int64_t clock_offset = 2,
              std::optional<size_t> deliver = std::nullopt, Status body_status = Status::Ok()) {
    clock_.Set((rp.amz_seconds + clock_offset) * 1'000'000);
    auto service = MakeService(backend_, clock_, options_);
    http::Handler::Started started = service->Start(rp.head);
    Outcome out;
    if (started.response.has_value()) {
      EXPECT_EQ(started.exchange, nullptr);
      out.response = std::move(*started.response);
      out.immediate = true;
      return out;
    }
    EXPECT_NE(started.exchange, nullptr);
    const size_t n = deliver.value_or(rp.body.size());
    Status st = body_status;
    for (size_t i = 0; i < n && st.ok(); i += piece) {
      st = started.exchange->OnBody(
          AsBytes(std::string_view(rp.body).substr(i, std::min(piece, n - i))));
    }
    out.response = started.exchange->Finish(st);
    return out;
  }

  // Checks an S3 error response and returns its code.
  std::string ErrorCodeOf(const http::Response& r, bool head = false) {
    EXPECT_EQ(HeaderOf(r.headers, "content-type"), "application/xml");
    const std::string id = HeaderOf(r.headers, "x-amz-request-id");
    EXPECT_TRUE(std::regex_match(id, std::regex("[0-9A-F]{16}"))) << id;
    EXPECT_EQ(HeaderOf(r.headers, "date"), FormatHttpDate(clock_.NowSeconds()));
    EXPECT_EQ(HeaderOf(r.headers, "server"), "sluice");
    if (head) {
      EXPECT_TRUE(r.body.empty());
      return "";
    }
    std::smatch m;
    const std::regex shape(
        "<\\?xml version=\"1\\.0\" encoding=\"UTF-8\"\\?>\n<Error><Code>([A-Za-z0-9]+)</Code>"
        "<Message>([^<]*)</Message><Resource>([^<]*)</Resource><RequestId>([0-9A-F]{16})"
        "</RequestId></Error>");
    EXPECT_TRUE(std::regex_match(r.body, m, shape)) << r.body;
    if (m.empty()) return "";
    EXPECT_EQ(m[4].str(), id);
    EXPECT_FALSE(m[2].str().empty());
    EXPECT_EQ(m[2].str().find(kSecret), std::string::npos);
    return m[1].str();
  }

  FakeBackend backend_;
  FakeClock clock_;
  ServiceOptions options_;
};

}  // namespace sluice::s3::s3test
