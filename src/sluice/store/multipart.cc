// StoreBackend's multipart uploads: parts on disk under landing/uploads/, bookkeeping in the
// catalog, assembly in the kernel, and the reaper of abandoned uploads.
#include <map>
#include <string>
#include <vector>

#include "sluice/s3/multipart_checksum.h"
#include "sluice/s3/multipart_rules.h"
#include "sluice/store/backend_internal.h"
#include "sluice/store/flow.h"
#include "sluice/store/s3_backend.h"

namespace sluice::store {
namespace {

// The part list a Complete named, as recorded for a repeat: "<n>:<md5>,...".
std::string PartsFingerprint(const std::vector<s3::CompletedPart>& parts) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += ',';
    out += std::to_string(p.part_number) + ":" + s3::NormalizeEtag(p.etag);
  }
  return out;
}

Status NoSuchUpload(const std::string& upload_id) {
  return Err(ErrorCode::kNoSuchUpload,
             "The specified upload does not exist. The upload ID may be invalid, or the upload "
             "may have been aborted, completed or expired: " +
                 upload_id);
}

class PartSink final : public ReservedSink {
 public:
  PartSink(catalog::Catalog& catalog, const Clock& clock, KeyedLocks& locks,
           const BackendOptions& options, std::unique_ptr<landing::Incoming> incoming,
           std::string connection, std::string upload_id, int part_number,
           s3::ChecksumSpec checksum, QuotaReservation reservation)
      : ReservedSink(std::move(incoming), std::move(reservation)),
        catalog_(catalog),
        clock_(clock),
        locks_(locks),
        options_(options),
        connection_(std::move(connection)),
        upload_id_(std::move(upload_id)),
        part_number_(part_number),
        checksum_(std::move(checksum)) {}

  s3::ChecksumSpec UploadChecksum() const override { return checksum_; }

  Result<http::HeaderList> Commit(const s3::ObjectDigests& digests) override {
    // Two sends of the same part must not interleave their rename and record, or the file on
    // disk and the MD5 Complete checks could come from different requests.
    auto guard = locks_.Lock(upload_id_ + "/" + std::to_string(part_number_));
    SLUICE_ASSIGN_OR_RETURN(std::string name, incoming_->Commit());
    catalog::PartRecord part{part_number_, digests.size, digests.md5_hex, clock_.NowMicros()};
    // The checksum the s3 layer verified (or computed, for a FULL_OBJECT upload): at most one.
    if (!digests.checksums.empty()) {
      part.checksum_algorithm = digests.checksums[0].first;
      part.checksum = digests.checksums[0].second;
    }
    auto replaced = catalog_.RecordPart(upload_id_, part);
    // The part is on disk under its final name; if it cannot be recorded (the upload was
    // aborted or completed meanwhile) the reaper or the abort removes the directory.
    if (!replaced.ok()) {
      return replaced.status().WithContext("recording part " + std::to_string(part_number_));
    }
    // The new part counts; the one it replaced on disk no longer does.
    reservation_.Keep(digests.size);
    DiskRemoved(options_, connection_, *replaced);
    return http::HeaderList{};
  }

 private:
  catalog::Catalog& catalog_;
  const Clock& clock_;
  KeyedLocks& locks_;
  const BackendOptions& options_;
  std::string connection_;
  std::string upload_id_;
  int part_number_;
  const s3::ChecksumSpec checksum_;  // the upload's
};

}  // namespace

Result<catalog::UploadRecord> StoreBackend::UploadOf(const std::string& bucket,
                                                     const std::string& key,
                                                     const std::string& upload_id) {
  SLUICE_ASSIGN_OR_RETURN(auto upload, catalog_.GetUpload(upload_id));
  if (!upload || upload->connection_id != bucket || upload->key != key) {
    return NoSuchUpload(upload_id);
  }
  return std::move(*upload);
}

void StoreBackend::RemoveUploadFiles(const std::string& upload_id) {
  Status st = store_.RemoveUpload(upload_id);
  if (!st.ok()) {
    LogWarn("store", "could not remove the parts of upload " + upload_id +
                         " (the reaper retries): " + st.ToString());
  }
}

Result<std::string> StoreBackend::CreateMultipartUpload(const s3::Identity& who,
                                                        const s3::PutRequest& request) {
  SLUICE_RETURN_IF_ERROR(CheckBucket(who, request.bucket));
  SLUICE_ASSIGN_OR_RETURN(Disposition disposition,
                          DispositionFor(catalog_, request.bucket, request.key));
  // The wait is kept in the metadata and honoured by Complete; a bad value fails now.
  SLUICE_RETURN_IF_ERROR(WaitSecondsOf(request.user_metadata).status());
  SLUICE_RETURN_IF_ERROR(AdmitUpload(options_, request.bucket));
  SLUICE_ASSIGN_OR_RETURN(std::string upload_id, landing::Store::NewId());
  catalog::UploadRecord upload;
  upload.upload_id = upload_id;
  upload.connection_id = request.bucket;
  upload.key = request.key;
  upload.table = TableOfKey(request.key);
  upload.content_type = request.content_type;
  upload.metadata_json = MetadataJson(request);
  upload.checksum_algorithm = request.checksum.algorithm;
  upload.checksum_type = request.checksum.type;
  upload.status = disposition.status;
  if (!disposition.error.ok()) {
    upload.error_code = std::string(ErrorCodeName(disposition.error.code()));
    upload.error_message = disposition.error.message();
  }
  upload.initiated_at = clock_.NowMicros();
  upload.touched_at = upload.initiated_at;
  // The record first, then the directory: a directory without a record is an orphan the
  // reaper may remove, so it must never be one that is about to be used.
  SLUICE_RETURN_IF_ERROR(catalog_.CreateUpload(upload));
  Status st = store_.CreateUpload(upload_id);
  if (!st.ok()) {
    catalog_.DeleteUpload(upload_id).status().IgnoreError();  // no parts yet
    return st.WithContext("creating the upload's directory");
  }
  return upload_id;
}

Result<std::unique_ptr<s3::ObjectSink>> StoreBackend::BeginUploadPart(
    const s3::Identity& who, const std::string& bucket, const std::string& key,
    const std::string& upload_id, int part_number, uint64_t size) {
  SLUICE_RETURN_IF_ERROR(s3::CheckPartNumber(part_number));
  SLUICE_RETURN_IF_ERROR(CheckBucket(who, bucket));
  SLUICE_ASSIGN_OR_RETURN(catalog::UploadRecord upload, UploadOf(bucket, key, upload_id));
  SLUICE_RETURN_IF_ERROR(AdmitUpload(options_, bucket));
  SLUICE_ASSIGN_OR_RETURN(QuotaReservation reservation,
                          ReserveDisk(catalog_, options_, bucket, size));
  auto incoming = store_.BeginPart(upload_id, part_number);
  if (!incoming.ok()) {
    if (incoming.status().code() == ErrorCode::kNotFound) return NoSuchUpload(upload_id);
    return incoming.status();
  }
  return std::unique_ptr<s3::ObjectSink>(new PartSink(
      catalog_, clock_, upload_locks_, options_, std::move(incoming).value(), bucket, upload_id,
      part_number, {upload.checksum_algorithm, upload.checksum_type}, std::move(reservation)));
}

Result<s3::CompleteResult> StoreBackend::CompleteMultipartUpload(
    const s3::Identity& who, const std::string& bucket, const std::string& key,
    const std::string& upload_id, const std::vector<s3::CompletedPart>& parts,
    const s3::WriteCondition& condition, const s3::Checksum& sent) {
  SLUICE_RETURN_IF_ERROR(CheckBucket(who, bucket));
  // One Complete (or Abort, or expiry) of an upload at a time: a retried Complete waits for
  // the first and then finds its record.
  auto guard = upload_locks_.Lock(upload_id);
  const std::string fingerprint = PartsFingerprint(parts);

  SLUICE_ASSIGN_OR_RETURN(auto upload_row, catalog_.GetUpload(upload_id));
  if (!upload_row) {
    SLUICE_ASSIGN_OR_RETURN(auto done, catalog_.GetCompletedUpload(upload_id));
    if (done && done->connection_id == bucket && done->key == key && done->parts == fingerprint) {
      s3::CompleteResult again;
      again.etag = done->etag;
      again.headers.emplace_back("x-amz-meta-sluice-seq", std::to_string(done->seq));
      again.headers.emplace_back("x-amz-version-id", std::to_string(done->seq));
      SLUICE_ASSIGN_OR_RETURN(auto file, catalog_.GetFile(done->seq));
      if (file) {
        again.headers.emplace_back("x-amz-meta-sluice-status",
                                   std::string(catalog::FileStatusName(file->status)));
        again.checksum = ChecksumFromJson(file->checksums_json);
      }
      return again;
    }
    return NoSuchUpload(upload_id);
  }
  const catalog::UploadRecord& upload = *upload_row;
  if (upload.connection_id != bucket || upload.key != key) return NoSuchUpload(upload_id);
  // Before the parts are assembled (seconds for a large object), and again in the ledger's
  // transaction.
  SLUICE_RETURN_IF_ERROR(CheckConditionNow(catalog_, bucket, key, condition));
  SLUICE_ASSIGN_OR_RETURN(auto stored, catalog_.ListParts(upload_id));
  std::map<int, s3::UploadedPart> by_number;
  std::map<int, s3::PartChecksum> checksums;
  for (const auto& p : stored) {
    by_number[p.part_number] = {p.size, p.md5_hex};
    checksums[p.part_number] = {p.size, p.checksum_algorithm, p.checksum};
  }
  SLUICE_RETURN_IF_ERROR(s3::CheckCompleteParts(parts, [&](int number) -> const s3::UploadedPart* {
    auto it = by_number.find(number);
    return it == by_number.end() ? nullptr : &it->second;
  }));
  // The object's checksum from the parts' (never by reading the object), checked against what
  // the client listed and sent.
  SLUICE_ASSIGN_OR_RETURN(s3::Checksum checksum,
                          s3::CompleteChecksum(
                              {upload.checksum_algorithm, upload.checksum_type}, parts,
                              [&](int number) -> const s3::PartChecksum* {
                                auto it = checksums.find(number);
                                return it == checksums.end() ? nullptr : &it->second;
                              },
                              sent));

  std::vector<int> numbers;
  std::vector<std::string> md5s;
  uint64_t total = 0;
  for (const s3::CompletedPart& p : parts) {
    const s3::UploadedPart& part = by_number.at(p.part_number);
    numbers.push_back(p.part_number);
    md5s.emplace_back(part.md5_hex);
    total += part.size;
  }
  const std::string etag = s3::MultipartEtag(md5s);

  auto landed = store_.Assemble(upload_id, numbers);
  if (!landed.ok()) {
    if (landed.status().code() == ErrorCode::kNotFound) {
      return Err(ErrorCode::kInvalidPart,
                 "One or more of the specified parts could not be "
                 "found: " +
                     landed.status().message());
    }
    return landed.status().WithContext("assembling upload " + upload_id);
  }

  catalog::FileRecord record;
  record.connection_id = bucket;
  record.table = upload.table;
  record.key = key;
  record.landed_id = *landed;
  record.size = total;
  record.etag = etag;  // no MD5 of the whole object: computing one would read it back
  record.content_type = upload.content_type;
  record.metadata_json = upload.metadata_json;
  record.received_at = clock_.NowMicros();
  record.status = upload.status;
  record.error_code = upload.error_code;
  record.error_message = upload.error_message;
  record.checksums_json = ChecksumJson(checksum);
  record.condition = LedgerCondition(condition);
  if (record.status != catalog::FileStatus::kQueued) record.finished_at = record.received_at;
  catalog::CompletedUpload done;
  done.upload_id = upload_id;
  done.etag = etag;
  done.parts = fingerprint;
  done.completed_at = record.received_at;
  uint64_t parts_bytes = 0;
  auto seq = catalog_.CompleteUpload(record, done, &parts_bytes);
  if (!seq.ok()) {
    // Not acknowledged, so not kept; the parts stay for a retried Complete.
    store_.Remove(*landed).IgnoreError();
    return AppendFailure(seq.status(), record.condition,
                         "recording the completed upload in the ledger");
  }
  record.seq = *seq;
  // The object replaces every part of the upload (those left out of the list are removed too).
  DiskAdded(options_, bucket, total);
  DiskRemoved(options_, bucket, parts_bytes);
  NoteAccepted(options_, record);
  loader_.Notify();
  RemoveUploadFiles(upload_id);

  s3::CompleteResult result;
  result.etag = etag;
  result.checksum = std::move(checksum);
  result.headers.emplace_back("x-amz-meta-sluice-seq", std::to_string(*seq));
  result.headers.emplace_back("x-amz-version-id", std::to_string(*seq));
  result.headers.emplace_back("x-amz-meta-sluice-status",
                              std::string(catalog::FileStatusName(record.status)));
  // Validated at creation; an unreadable value here (an old upload) just does not wait.
  auto waited = WaitSecondsOf(MetadataFromJson(upload.metadata_json));
  const int wait = waited.ok() ? *waited : 0;
  if (wait > 0 && options_.waits != nullptr) {
    result.respond = [waits = options_.waits, seq = *seq, wait](http::Response r) {
      return waits->Hold(seq, wait, std::move(r));
    };
  }
  return result;
}

Status StoreBackend::AbortMultipartUpload(const s3::Identity& who, const std::string& bucket,
                                          const std::string& key, const std::string& upload_id) {
  SLUICE_RETURN_IF_ERROR(CheckBucket(who, bucket));
  auto guard = upload_locks_.Lock(upload_id);
  SLUICE_RETURN_IF_ERROR(UploadOf(bucket, key, upload_id).status());
  SLUICE_ASSIGN_OR_RETURN(uint64_t parts_bytes, catalog_.DeleteUpload(upload_id));
  RemoveUploadFiles(upload_id);
  DiskRemoved(options_, bucket, parts_bytes);
  return Status::Ok();
}

Result<std::vector<s3::PartInfo>> StoreBackend::ListParts(const s3::Identity& who,
                                                          const std::string& bucket,
                                                          const std::string& key,
                                                          const std::string& upload_id,
                                                          const s3::PartQuery& query) {
  SLUICE_RETURN_IF_ERROR(CheckBucket(who, bucket));
  SLUICE_RETURN_IF_ERROR(UploadOf(bucket, key, upload_id).status());
  SLUICE_ASSIGN_OR_RETURN(auto stored, catalog_.ListParts(upload_id, query.after, query.max_parts));
  std::vector<s3::PartInfo> out;
  out.reserve(stored.size());
  for (const auto& p : stored) {
    out.push_back({p.part_number, p.size, p.md5_hex, p.uploaded_at});
    out.back().checksum = {p.checksum_algorithm, p.checksum, ""};
  }
  return out;
}

Result<std::vector<s3::UploadInfo>> StoreBackend::ListMultipartUploads(
    const s3::Identity& who, const std::string& bucket, const s3::UploadQuery& query) {
  SLUICE_RETURN_IF_ERROR(CheckBucket(who, bucket));
  SLUICE_ASSIGN_OR_RETURN(auto uploads,
                          catalog_.ListUploads(bucket, query.prefix, query.key_marker,
                                               query.upload_id_marker, query.max_uploads));
  std::vector<s3::UploadInfo> out;
  out.reserve(uploads.size());
  for (const auto& u : uploads) out.push_back({u.key, u.upload_id, u.initiated_at});
  return out;
}

Result<int> StoreBackend::ReapExpiredUploads() {
  const int64_t cutoff = clock_.NowMicros() - options_.upload_expiry_micros;
  SLUICE_ASSIGN_OR_RETURN(auto expired, catalog_.UploadsTouchedBefore(cutoff));
  int aborted = 0;
  for (const auto& u : expired) {
    auto guard = upload_locks_.Lock(u.upload_id);
    // A part may have arrived since the query: look again under the lock.
    SLUICE_ASSIGN_OR_RETURN(auto now, catalog_.GetUpload(u.upload_id));
    if (!now || now->touched_at >= cutoff) continue;
    auto parts_bytes = catalog_.DeleteUpload(u.upload_id);
    if (!parts_bytes.ok() && parts_bytes.status().code() != ErrorCode::kNoSuchUpload) {
      return parts_bytes.status();
    }
    RemoveUploadFiles(u.upload_id);
    if (parts_bytes.ok()) DiskRemoved(options_, u.connection_id, *parts_bytes);
    LogInfo("store", "multipart upload " + u.upload_id + " of " +
                         EscapeForLog(u.connection_id + "/" + u.key) +
                         " expired unfinished; its parts were removed");
    ++aborted;
  }
  // Directories whose upload the catalog no longer knows: a removal that failed earlier.
  // CreateMultipartUpload records before it creates the directory, so none of these is about
  // to be used.
  SLUICE_ASSIGN_OR_RETURN(auto dirs, store_.ListUploads());
  for (const std::string& id : dirs) {
    auto guard = upload_locks_.Lock(id);
    SLUICE_ASSIGN_OR_RETURN(auto known, catalog_.GetUpload(id));
    if (!known) RemoveUploadFiles(id);
  }
  SLUICE_ASSIGN_OR_RETURN(int64_t forgotten, catalog_.ForgetCompletedBefore(cutoff));
  (void)forgotten;
  return aborted;
}

}  // namespace sluice::store
