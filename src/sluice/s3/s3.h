#pragma once
// s3: the S3 protocol. Routes requests (path- or virtual-hosted-style), authenticates them (auth/),
// streams bodies into an ObjectSink while computing MD5 (the ETag), SHA-256 (payload hash) and the
// requested checksums, and answers S3 XML. It owns the one table mapping ErrorCode to S3 error
// codes and HTTP statuses. It knows nothing of SQL, Parquet or the ledger: the Backend does
// the storing, the app implements it.
//
// Served: the object, multipart, listing and bucket operations of the Backend below, path-style
// and virtual-hosted-style (ServiceOptions::base_domain); every form auth/ verifies (SigV4
// header and presigned, SigV2 header and presigned, aws-chunked signed and unsigned with
// trailers), and plain HTTP chunked bodies without a length; Content-MD5 and
// x-amz-checksum-{crc32,crc32c,crc64nvme,sha1,sha256} from a header or trailer, verified before
// Commit; multipart uploads' checksums, COMPOSITE and FULL_OBJECT (multipart_checksum.h), and
// the stored checksum on GET and HEAD (x-amz-checksum-mode: ENABLED). Versioning is always on
// (GetBucketVersioning answers Enabled): version ids are the backend's opaque strings, passed
// through. Any other S3 operation answers 501 NotImplemented
// naming it.
//
// Thread-safety: Service is safe to share between I/O threads.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sluice/core/core.h"
#include "sluice/http/http.h"
#include "sluice/s3/limits.h"

namespace sluice::s3 {

// Who signed the request.
struct Identity {
  AccessKeyId access_key;
  std::string connection_id;  // the only bucket this key may touch; empty for an account key
  // An account-level key (created with the CLI): may create connections (CreateBucket) and
  // delete empty ones (DeleteBucket), and reaches every connection's bucket.
  bool account = false;
};

struct BucketInfo {
  std::string name;
  int64_t created_at = 0;  // micros
};

struct ObjectDigests {
  uint64_t size = 0;
  std::string md5_hex;
  std::string sha256_hex;  // empty when not computed (UNSIGNED-PAYLOAD and no checksum)
  // The x-amz-checksum-* values sent (header or trailer) and verified: algorithm as in the
  // header name ("crc32c"), value as sent (base64).
  std::vector<std::pair<std::string, std::string>> checksums;
};

// S3's conditional writes (PutObject, CompleteMultipartUpload, CopyObject's destination).
// The backend checks the condition before the body is read and again, atomically, when the
// object is recorded: kPreconditionFailed (412) when it does not hold, kNoSuchKey for If-Match
// on a key with no object, kConditionalRequestConflict (409) when it held at the start and a
// concurrent write or delete broke it before the commit (for If-None-Match: *, the racing
// create that committed first wins and the other gets 412, as in S3).
struct WriteCondition {
  bool if_none_match = false;  // If-None-Match: *
  std::string if_match;        // If-Match: an ETag, unquoted; empty: none
  bool empty() const { return !if_none_match && if_match.empty(); }
};

// The standard headers an object keeps from its upload and returns on GET and HEAD, as S3
// does: (lower-case name, value) pairs for content-encoding (without aws-chunked),
// content-disposition, content-language, cache-control and expires.
using StoredHeaders = std::vector<std::pair<std::string, std::string>>;

// A checksum as S3 names and prints it.
struct Checksum {
  std::string algorithm;  // lower-case, as in the header name: "crc32c"; empty: none
  std::string value;      // base64; a COMPOSITE object's ends in "-N" (N parts)
  std::string type;       // an object's: "FULL_OBJECT" or "COMPOSITE"; empty for a part
};

// A multipart upload's checksum, chosen by CreateMultipartUpload (x-amz-checksum-algorithm and
// x-amz-checksum-type; S3's rules in multipart_checksum.h): every part carries a checksum of
// `algorithm`, and the object's checksum is made from the parts' as `type` says.
struct ChecksumSpec {
  std::string algorithm;  // lower-case as in the header name: "crc32c"; empty: none
  std::string type;       // "COMPOSITE" or "FULL_OBJECT"; empty when no algorithm
};

struct PutRequest {
  std::string bucket;
  std::string key;  // decoded UTF-8
  std::string content_type;
  // x-amz-meta-* headers: full header name lower-cased (prefix kept), value trimmed; at most
  // 2 KB in total (S3's limit).
  std::vector<std::pair<std::string, std::string>> user_metadata;
  // PutObject: the body's length as the headers declare it (Content-Length, or
  // x-amz-decoded-content-length for aws-chunked), known before the body is read: the body is
  // held to it. 0 for CreateMultipartUpload, and for a body sent chunked without a length
  // (then only ServiceOptions::max_object_bytes bounds it, as it arrives).
  uint64_t size = 0;
  ChecksumSpec checksum;  // CreateMultipartUpload: the upload's checksum
  StoredHeaders headers;
  WriteCondition condition;  // PutObject, CopyObject
};

// Where an uploaded body goes. Append is called as the body arrives; Commit only after every
// digest check passed, and must return only when the object is durable and recorded.
class ObjectSink {
 public:
  virtual ~ObjectSink() = default;
  virtual Status Append(ByteView data) = 0;
  // Returns extra response headers (e.g. x-amz-meta-sluice-seq).
  virtual Result<http::HeaderList> Commit(const ObjectDigests& digests) = 0;
  virtual void Abort() = 0;
  // After a successful Commit: the response to send, given the complete success response. The
  // default sends it as is; a backend may hold it back until the file's load finished
  // (x-amz-meta-sluice-wait) by returning a deferred response (http::Response::deferred).
  virtual http::Response Respond(http::Response response) { return response; }
  // UploadPart: the checksum the part's upload was created with, checked against the part's
  // before its body is read (an empty algorithm: none, and for a PutObject sink).
  virtual ChecksumSpec UploadChecksum() const { return {}; }
};

// The same for CompleteMultipartUpload (CompleteResult::respond); empty: send as is.
using RespondFn = std::function<http::Response(http::Response)>;

// What HeadObject, GetObject and the listings report about a stored object.
struct ObjectInfo {
  std::string key;
  uint64_t size = 0;
  std::string etag;           // unquoted: hex MD5, or "<hex>-N" for a multipart object
  int64_t last_modified = 0;  // micros
  std::string version_id;     // x-amz-version-id; empty when the backend names none
  std::string content_type;
  StoredHeaders headers;                                           // as PutRequest stored them
  std::vector<std::pair<std::string, std::string>> user_metadata;  // as PutRequest stored it
  // Ingestion status of the key's newest file as x-amz-meta-sluice-* headers (status, seq,
  // rows, error code and message), so a script can wait for a load with plain S3 calls.
  http::HeaderList status_headers;
  // The object's stored checksum (GetObject and HeadObject; empty algorithm: none): a single
  // PUT's verified x-amz-checksum-* (FULL_OBJECT), or a multipart upload's.
  Checksum checksum;
};

struct ObjectData {
  ObjectInfo info;
  std::shared_ptr<const RandomAccessFile> file;  // null when the body was not asked for
};

// Keys of a bucket in UTF-8 byte order, starting after `start_after` (exclusive; empty: from
// the first), restricted to `prefix`, at most `max_keys`. Delimiter roll-ups, markers and
// continuation tokens are the s3 layer's business: it pages through this. `start_after` is
// compared bytewise and need not be valid UTF-8: to skip every key under a common prefix the
// s3 layer passes `<prefix>\xff`.
struct ListQuery {
  std::string prefix;
  std::string start_after;
  size_t max_keys = 1000;
};
struct ListPage {
  std::vector<ObjectInfo> objects;
  bool truncated = false;  // more keys follow the last one returned
  // A backend that bounds the work of one call may stop before max_keys keys (keys it skipped
  // as hidden, say): then `truncated` is set and this is the last key it read (at or after the
  // last one returned); the next call starts after it.
  std::string resume_after;
};

// ListObjectVersions: the versions and delete markers of a bucket's keys in S3's order (keys in
// UTF-8 byte order, each key's delete marker first, then its versions newest first), restricted
// to `prefix`, after the markers (`key_marker` alone: after every entry of that key; with
// `version_id_marker`, an id the backend gave, after that entry of key_marker), at most
// `max_entries`. Delimiter roll-ups are the s3 layer's business, as for ListQuery; a
// `key_marker` of `<prefix>\xff` skips every key under the prefix.
struct VersionQuery {
  std::string prefix;
  std::string key_marker;
  std::string version_id_marker;
  size_t max_entries = 1000;
};
struct VersionEntry {
  ObjectInfo info;  // key, size, etag, last_modified, version_id (a delete marker: no size)
  bool is_latest = false;
  bool delete_marker = false;
};
struct VersionPage {
  std::vector<VersionEntry> entries;
  // More entries follow; the next call starts after (next_key_marker, next_version_id_marker):
  // the last entry returned, or, when the backend's read bound ended the page first, the last
  // position it read.
  bool truncated = false;
  std::string next_key_marker;
  std::string next_version_id_marker;
};

// What a delete did, for x-amz-version-id and x-amz-delete-marker (and DeleteObjects' result).
struct DeleteOutcome {
  std::string version_id;      // the version deleted, or the delete marker made or removed
  bool delete_marker = false;  // version_id names a delete marker
};

struct CompletedPart {
  int part_number = 0;
  std::string etag;   // unquoted, as the client sent it back (entities and quotes removed)
  Checksum checksum;  // the part's <ChecksumCRC32> (etc.) as listed; empty algorithm: none
};
struct PartInfo {
  int part_number = 0;
  uint64_t size = 0;
  std::string etag;  // unquoted hex MD5
  int64_t last_modified = 0;
  Checksum checksum;  // the part's verified checksum; empty algorithm: none
};
struct UploadInfo {
  std::string key;
  std::string upload_id;
  int64_t initiated = 0;
};
// At most `max_parts` parts numbered above `after`, by number. The s3 layer asks for one more
// than it returns, to tell whether the listing is truncated.
struct PartQuery {
  int after = 0;
  size_t max_parts = 1000;
};
// At most `max_uploads` uploads whose key starts with `prefix`, in S3's order (key, then
// initiation time), after the markers: with `key_marker` alone, the uploads of later keys;
// with `upload_id_marker` too, first the uploads of key_marker that follow that upload (an
// upload id that does not name one of key_marker's uploads is ignored).
struct UploadQuery {
  std::string prefix;
  std::string key_marker;
  std::string upload_id_marker;
  size_t max_uploads = 1000;
};
struct CompleteResult {
  std::string etag;          // unquoted "<md5 of the part MD5s>-N"
  http::HeaderList headers;  // e.g. x-amz-meta-sluice-seq
  RespondFn respond;         // see ObjectSink::Respond
  Checksum checksum;         // the object's (multipart_checksum.h); empty algorithm: none
};

class Backend {
 public:
  virtual ~Backend() = default;
  // The secret and connection of an access key; kInvalidAccessKeyId when unknown/inactive.
  // An account-level key has an empty connection.
  virtual Result<std::pair<Secret, std::string>> LookupKey(const AccessKeyId& key) = 0;
  // A request signed with `key` passed verification (for the key's last-used time). Must be
  // cheap: called on the I/O thread for every authenticated request.
  virtual void NoteKeyUsed(const AccessKeyId& /*key*/) {}
  virtual Result<std::vector<BucketInfo>> ListBuckets(const Identity& who) = 0;
  // OK, kNoSuchBucket, or kAccessDenied (another connection's bucket).
  virtual Status CheckBucket(const Identity& who, const std::string& bucket) = 0;
  // Checks the put may proceed (bucket, table policy, backpressure: kSlowDown) and opens the
  // sink. Called before the body is read, so a refusal replaces `100 Continue`.
  virtual Result<std::unique_ptr<ObjectSink>> BeginPut(const Identity& who,
                                                       const PutRequest& request) = 0;

  // Buckets are connections. CreateBucket: OK for an account key creating a new connection;
  // kBucketAlreadyOwnedByYou when the caller already owns it (rclone calls it before every
  // copy); kBucketAlreadyExists when another owns it; kAccessDenied for a connection key
  // creating another bucket. DeleteBucket: account keys only, kBucketNotEmpty unless empty.
  virtual Status CreateBucket(const Identity& who, const std::string& bucket) = 0;
  virtual Status DeleteBucket(const Identity& who, const std::string& bucket) = 0;

  // The newest stored version of a key (kNoSuchKey when none or deleted). The body is the
  // file exactly as pushed; `with_body` false for HeadObject.
  virtual Result<ObjectData> GetObject(const Identity& who, const std::string& bucket,
                                       const std::string& key, bool with_body) = 0;
  virtual Result<ListPage> ListObjects(const Identity& who, const std::string& bucket,
                                       const ListQuery& query) = 0;
  // Removes the key from listings and reads; loaded rows stay in the pool. OK when the key
  // does not exist (S3 answers 204 either way). Returns the delete marker the key then reads
  // as, if the backend names one.
  virtual Result<DeleteOutcome> DeleteObject(const Identity& who, const std::string& bucket,
                                             const std::string& key) = 0;

  // Versions. `version_id` is one the backend gave (ObjectInfo::version_id, VersionEntry):
  // kInvalidArgument when it cannot be one. GetObjectVersion: that version's bytes and headers;
  // kNoSuchVersion when it is no version of the key (any more), kMethodNotAllowed when it is
  // the key's delete marker.
  virtual Result<ObjectData> GetObjectVersion(const Identity& who, const std::string& bucket,
                                              const std::string& key, const std::string& version_id,
                                              bool with_body) = 0;
  // Work bounded by the page asked for, as ListObjects: a backend may end a page early
  // (truncated) after a bounded read.
  virtual Result<VersionPage> ListObjectVersions(const Identity& who, const std::string& bucket,
                                                 const VersionQuery& query) = 0;
  // Deletes one version for good, or removes the key's delete marker (the key reads as its
  // newest version again: DeleteOutcome::delete_marker set). OK when the id names nothing of
  // the key (S3 answers 204 either way).
  virtual Result<DeleteOutcome> DeleteObjectVersion(const Identity& who, const std::string& bucket,
                                                    const std::string& key,
                                                    const std::string& version_id) = 0;

  // Multipart uploads. Parts live on disk until Complete assembles them (without copying the
  // object through memory) into one landed file and one ledger entry: the upload's place in
  // its table's queue is the moment Complete succeeded. Complete checks the listed parts
  // (kInvalidPart: unknown part or ETag mismatch; kInvalidPartOrder; kEntityTooSmall: a part
  // under 5 MiB that is not the last) and its WriteCondition, and is idempotent for a while
  // after success (a repeated Complete returns the same result, whatever its condition).
  // kNoSuchUpload for unknown or aborted uploads. An upload created with a checksum gets the
  // checks of multipart_checksum.h (CompleteChecksum) too: the parts' listed checksums, and
  // `sent`, the object's checksum and type as the client sent them with Complete
  // (x-amz-checksum-<algorithm>, x-amz-checksum-type; empty when not sent).
  virtual Result<std::string> CreateMultipartUpload(const Identity& who,
                                                    const PutRequest& request) = 0;
  // A re-sent part replaces the earlier one. `size`: the part's declared length (as
  // PutRequest::size).
  virtual Result<std::unique_ptr<ObjectSink>> BeginUploadPart(const Identity& who,
                                                              const std::string& bucket,
                                                              const std::string& key,
                                                              const std::string& upload_id,
                                                              int part_number, uint64_t size) = 0;
  virtual Result<CompleteResult> CompleteMultipartUpload(
      const Identity& who, const std::string& bucket, const std::string& key,
      const std::string& upload_id, const std::vector<CompletedPart>& parts,
      const WriteCondition& condition = {}, const Checksum& sent = {}) = 0;
  virtual Status AbortMultipartUpload(const Identity& who, const std::string& bucket,
                                      const std::string& key, const std::string& upload_id) = 0;
  // Listings do work bounded by the page asked for: a seek and at most max + 1 rows.
  virtual Result<std::vector<PartInfo>> ListParts(const Identity& who, const std::string& bucket,
                                                  const std::string& key,
                                                  const std::string& upload_id,
                                                  const PartQuery& query) = 0;
  virtual Result<std::vector<UploadInfo>> ListMultipartUploads(const Identity& who,
                                                               const std::string& bucket,
                                                               const UploadQuery& query) = 0;
};

// `value` made safe for an HTTP header: printable ASCII kept, '%' and every other byte
// (CR, LF, controls, UTF-8) percent-escaped, cut to at most `max_bytes` with "..." appended.
std::string HeaderSafe(std::string_view value, size_t max_bytes);

struct ServiceOptions {
  std::string region = "us-east-1";
  // Virtual-hosted-style addressing: a Host of `<bucket>.<base_domain>` (any port) names the
  // bucket and the whole path is the key. Empty: path-style only.
  std::string base_domain;
  int64_t max_skew_seconds = 15 * 60;
  // A PutObject or UploadPart body over this is EntityTooLarge (before the body is read).
  uint64_t max_object_bytes = kMaxObjectBytes;  // S3's single-PUT and part limit
  // Browser origins allowed to call the endpoint (CORS): the admin console's, whose uploads go
  // straight to S3 through a presigned URL. A request with an allowed Origin gets
  // Access-Control-Allow-Origin (ETag exposed), and its preflight (OPTIONS, unauthenticated as
  // in S3) is answered; any other preflight is refused 403. Unset: no origin is allowed.
  std::function<bool(std::string_view origin)> cors_origin_allowed;
};

// The one table from ErrorCode to what S3 clients match on: the HTTP status and the S3 error
// code (e.g. kContentSha256Mismatch -> 400 "XAmzContentSHA256Mismatch"). Total over the enum.
struct S3Error {
  int http_status = 500;
  std::string_view code;  // static storage
};
S3Error S3ErrorFor(ErrorCode code);

// What a connection refused by the server's connection caps is sent before it is closed:
// 503 SlowDown with the S3 XML body, which clients retry with backoff. Built once at start,
// so it carries no request id or Date.
http::Response ConnectionOverloadResponse();

// The http::Handler for the S3 endpoint. `backend` and `clock` must outlive it.
std::unique_ptr<http::Handler> MakeService(Backend& backend, const Clock& clock,
                                           ServiceOptions options = {});

}  // namespace sluice::s3
