#pragma once
// catalog: connections, credentials, table configurations and the file ledger, in one SQLite
// database (<data>/catalog.db, WAL, synchronous=FULL so that a committed ledger entry is
// durable), or in schema _sluice_catalog of a PostgreSQL database shared by several nodes
// (OpenPostgresCatalog). Its users see it through four roles — Connections (with their
// credentials), Tables, Ledger and Uploads — and take only the ones they need; Catalog is all four.
// The ledger is the single source of truth for each pushed file; the pool records which sequences
// it applied, and the loader reconciles the two after a crash.
//
// Secrets are encrypted at rest (AES-256-GCM) with a key in <data>/secret.key (mode 0600,
// created on first open). They are decrypted only by LookupAccessKey and returned as Secret,
// which never prints; CreateConnection returns the plaintext once, for the operator.
//
// Thread-safety: a Catalog is safe to share between threads (every call is a short
// transaction; the SQLite catalog serialises on an internal mutex, the PostgreSQL one hands out
// a few connections). Several processes (the server and the CLI) may open the same data
// directory at once: SQLite's locking arbitrates, with a busy timeout; PostgreSQL's row locks
// arbitrate between the nodes sharing its catalog.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/catalog/admins.h"
#include "sluice/catalog/alerts.h"
#include "sluice/core/core.h"

namespace sluice::catalog {

// What happens to a key whose table is not configured (DESIGN.md, "The S3 surface").
enum class UnconfiguredPolicy { kHold, kRefuse, kStore };

struct Connection {
  std::string id;    // DNS-safe, the S3 bucket name
  std::string name;  // human name as given
  UnconfiguredPolicy unconfigured = UnconfiguredPolicy::kHold;
  int64_t created_at = 0;  // micros
  // The bytes the connection may keep in the data directory (app's DiskQuota): nullopt, the
  // server's --connection-quota; 0, no quota.
  std::optional<uint64_t> quota_bytes;
};

struct Credential {
  AccessKeyId access_key;
  std::string connection_id;  // empty for an account key (reaches every connection)
  Secret secret;
  bool active = true;
};

// A key as `credentials list` shows it: everything but the secret.
enum class KeyState { kActive, kRevoked, kExpired };
struct KeyInfo {
  AccessKeyId access_key;
  std::string connection_id;  // empty for an account key
  int64_t created_at = 0;     // micros
  int64_t expires_at = 0;     // micros; 0: never
  int64_t last_used_at = 0;   // micros of the last recorded use; 0: never (see RecordKeyUses)
  int64_t revoked_at = 0;     // micros; 0: not revoked
  KeyState state = KeyState::kActive;  // at the time of the listing
};
std::string_view KeyStateName(KeyState state);  // "active", "revoked", "expired"

// A connection has at most this many active keys: the old and the new one while clients move
// over (a rotation). A third is refused until one is revoked or expires.
inline constexpr int kMaxActiveKeysPerConnection = 2;

struct CreatedConnection {
  Connection connection;
  AccessKeyId access_key;
  Secret secret;  // shown to the operator once; only its ciphertext is stored
};

// An account-level key: may create and delete connections (S3 CreateBucket/DeleteBucket)
// and reaches every connection.
struct CreatedKey {
  AccessKeyId access_key;
  Secret secret;  // shown to the operator once
};

enum class OnError { kBlock, kSkip };

// Whether a loader may be working on the data directory. Only the holder of the data
// directory's serve.lock (app::LockDataDir) may say kStopped: no `sluice serve` runs, so a file
// left `loading` is held by nobody and an operator may retry or skip it.
enum class LoaderState { kMayBeRunning, kStopped };

struct TableConfig {
  std::string connection_id;
  std::string name;                      // also the key prefix: s3://<conn>/<name>/...
  std::vector<std::string> primary_key;  // one or more columns, required
  std::string age_column;                // empty: none
  OnError on_error = OnError::kBlock;
  // A column whose true value deletes the row (DESIGN.md, "Delete column"); empty: none.
  std::string delete_column;
  // A nested table (DESIGN.md, "Nested tables"): its configuration as the JSON text of
  // shape::NestedConfigToJson (the catalog stores it and checks only that it is a JSON object;
  // shape parses it). Empty: a flat table. For a nested table, primary_key, age_column and
  // delete_column are the root table's and repeat what the JSON says.
  std::string nested_json;
  // Load keys with a path segment starting with '_' or '.' below the table prefix
  // (`_temporary/...`, `_SUCCESS`, `.spark-staging/...`). By default such keys are hidden, the
  // Hive/Spark convention: stored as plain objects (readable, listable) and never loaded, so a
  // committer's temporary files and markers do not reach the table.
  bool load_hidden_keys = false;
};

// Whether `key` has a path segment starting with '_' or '.': a hidden key (see
// TableConfig::load_hidden_keys).
bool IsHiddenKey(std::string_view key);

// A precondition on a key's visible object (Ledger::VisibleFile), checked in the transaction
// that appends a file of the key (AppendFile, CompleteUpload), after the append drew its
// sequence: S3's conditional writes. Appends of one table serialise on the sequence (both
// engines), so of two racing creates of a key exactly one commits.
struct WriteCondition {
  // If-None-Match: * -- the key has no visible object, else kPreconditionFailed.
  bool if_none_match = false;
  // If-Match -- the visible object's ETag (unquoted; "*": any), else kPreconditionFailed;
  // kNoSuchKey when the key has no visible object. Empty: no condition.
  std::string if_match;
  bool empty() const { return !if_none_match && if_match.empty(); }
};

enum class FileStatus { kQueued, kLoading, kLoaded, kFailed, kSkipped };
std::string_view FileStatusName(FileStatus status);  // "queued", "loading", ...
// Every status, in the order of a file's life.
inline constexpr FileStatus kFileStatuses[] = {FileStatus::kQueued, FileStatus::kLoading,
                                               FileStatus::kLoaded, FileStatus::kFailed,
                                               FileStatus::kSkipped};

struct FileRecord {
  // Assigned when the upload commits: unique in the ledger, and within a table increasing in
  // commit order (the table's FIFO order, also across several nodes sharing one ledger).
  int64_t seq = 0;
  std::string connection_id;
  std::string table;  // first segment of the key
  std::string key;
  std::string landed_id;  // landing::Store id
  uint64_t size = 0;
  std::string md5_hex;
  std::string sha256_hex;  // empty when the client did not send a payload hash
  std::string content_type;
  std::string metadata_json;  // user metadata (x-amz-meta-*) as a JSON object
  int64_t received_at = 0;    // micros
  int64_t started_at = 0;
  int64_t finished_at = 0;
  FileStatus status = FileStatus::kQueued;
  int64_t rows_inserted = 0;
  int64_t rows_updated = 0;
  int64_t rows_refused = 0;  // refused as stale by the age column
  int64_t rows_deleted = 0;  // deleted by the delete column
  std::string error_code;    // ErrorCodeName(...), empty unless failed
  std::string error_message;
  // The S3 ETag, unquoted: md5_hex for a single PUT (used when this is empty), "<hex>-N" for
  // a multipart upload.
  std::string etag;
  // Deleted through S3: hidden from reads and listings. The file's place in the ledger and
  // its load are unaffected (loaded rows stay in the pool). The column keeps how (FileVersion):
  // 1 with its key (DeleteKey), 2 as one version (DeleteVersion), 3 both.
  bool deleted = false;
  // The object's checksum, as a JSON object of algorithm name (lower-case, as in the
  // x-amz-checksum-<algorithm> header) to its base64 value, and for a multipart upload
  // created with a checksum its S3 type: {"crc32c":"..."} for a single PUT (the checksum the
  // client sent and sluice verified; type FULL_OBJECT, implied), {"crc32c":"...-3",
  // "type":"COMPOSITE"} or {"crc64nvme":"...","type":"FULL_OBJECT"} for a multipart upload
  // (s3/multipart_checksum.h); "{}" when none.
  std::string checksums_json = "{}";
  // A file skipped as a byte-identical re-push of a file already loaded into the same table:
  // that file's sequence. 0 otherwise.
  int64_t duplicate_of = 0;
  // When retention removed the landed bytes (micros); 0 while they are stored.
  int64_t purged_at = 0;
  // A failed file its table moved past (on_error: skip): it no longer blocks the table, even
  // if the table is later set back to block. A retry clears it.
  bool passed = false;
  // Load even when the content repeats a loaded file (`sluice files retry --force`). The
  // client's x-amz-meta-sluice-force, kept in metadata_json, forces the same way.
  bool forced = false;
  // Not stored: the precondition its append must meet (WriteCondition).
  WriteCondition condition;
  // Loads begun (MarkLoading) and not ended cleanly: the poison-file guard. A file still
  // `loading` at start-up with this many attempts was cut short by that many crashes.
  int64_t load_attempts = 0;
};

// Whether a write meets `condition`, given the key's newest file (before the write; nullopt:
// none). OK, or the error named on WriteCondition.
Status CheckWriteCondition(const WriteCondition& condition, const std::string& key,
                           std::optional<FileRecord> newest);

// A group of OpenErrors: the files of one table that failed with one error code.
struct ErrorGroup {
  int64_t files = 0;
  FileRecord newest;  // the sample: its table, code, message and key
};

// A multipart upload in progress. The disposition (status and error) is decided at creation
// from the table policy and becomes the ledger entry's at completion.
struct UploadRecord {
  std::string upload_id;
  std::string connection_id;
  std::string key;
  std::string table;
  std::string content_type;
  std::string metadata_json;
  FileStatus status = FileStatus::kQueued;
  std::string error_code;
  std::string error_message;
  int64_t initiated_at = 0;  // micros
  int64_t touched_at = 0;    // the last creation or part; uploads expire from here
  // The checksum chosen at creation (x-amz-checksum-algorithm, lower-case: "crc32c"; empty:
  // none) and its S3 type ("COMPOSITE" or "FULL_OBJECT"; empty with no algorithm).
  std::string checksum_algorithm;
  std::string checksum_type;
};

struct PartRecord {
  int part_number = 0;
  uint64_t size = 0;
  std::string md5_hex;
  int64_t uploaded_at = 0;
  // The part's verified checksum: its algorithm (lower-case; empty: none) and base64 value.
  std::string checksum_algorithm;
  std::string checksum;
};

// What a successful CompleteMultipartUpload produced, kept so that a repeated Complete can
// answer the same (S3 clients retry Complete after a lost response).
struct CompletedUpload {
  std::string upload_id;
  std::string connection_id;
  std::string key;
  int64_t seq = 0;
  std::string etag;
  std::string parts;  // the completed part list, "<n>:<md5>,...", compared on a repeat
  int64_t completed_at = 0;
};

struct LoadCounts {
  int64_t inserted = 0;
  int64_t updated = 0;
  int64_t refused = 0;
  int64_t deleted = 0;
};

// Which files a page of the ledger holds, and in which order (Ledger::ListFilesPage). Each
// condition is optional (its zero value keeps every file); they combine with AND.
struct FileFilter {
  std::string table;                 // only this table's files
  std::vector<FileStatus> statuses;  // only files in one of these statuses
  std::string error_code;            // only files with this error code (ErrorCodeName)
  // Only files received in [since, until) (micros; 0: no bound). received_at is read as the
  // upload lands, before its append draws the seq, so it is nearly but not strictly in seq
  // order: these bounds are checked on the entries a page reads, they do not narrow where it
  // reads (ListFilesPage).
  int64_t since = 0;
  int64_t until = 0;
  // Only files with after_seq < seq < before_seq (0: no bound). A listing pages by moving the
  // bound it starts from: after_seq oldest first, before_seq newest first (FilePage).
  int64_t after_seq = 0;
  int64_t before_seq = 0;
  bool newest_first = false;  // descending sequence order
};

// A page of the ledger. When more may follow, the bound of the next page: ask again with the
// same filter and after_seq = next_after (oldest first) or before_seq = next_before (newest
// first). Both 0 when the listing is complete (a file appended later has a higher seq: oldest
// first, ask again after the last seq seen).
struct FilePage {
  std::vector<FileRecord> files;
  int64_t next_after = 0;   // oldest first
  int64_t next_before = 0;  // newest first
};
// The largest page ListFilesPage and ListConnectionsPage return, and the ledger entries
// ListFilesPage reads for a page that is not one table's unfiltered: each call holds the
// catalog's lock for a bounded time, whatever the ledger's length and however rare the
// matches.
inline constexpr size_t kMaxListPage = 1000;
inline constexpr size_t kFileScanWindow = 10 * kMaxListPage;

// A page of visible objects (Catalog::ListVisible).
struct VisiblePage {
  std::vector<FileRecord> files;
  // Non-empty when the read window ended before the page filled: every key up to and
  // including this one was read; more may follow it.
  std::string scanned_to;
};
// The (connection, key) index entries ListVisible reads for a page of `limit` keys.
constexpr size_t ListScanWindow(size_t limit) {
  return limit > 1024 ? 16384 : (limit < 16 ? 256 : limit * 16);
}

// A file seen as a version of its key (Ledger::ListVersions, GetVersion): every file of a key
// is one, its seq the S3 version id, for as long as its bytes are stored and it was not
// deleted as a version.
struct FileVersion {
  FileRecord file;
  bool newest = false;  // the key's newest file: the key's object unless file.deleted
  // Deleted with its key (a plain S3 delete). On the newest file this is S3's delete marker:
  // the key reads as deleted, and RemoveDeleteMarker takes that back.
  bool marked = false;
  // Deleted as this one version (DeleteVersion): no longer a version of its key.
  bool removed = false;
  bool IsVersion() const { return file.purged_at == 0 && !removed; }
  bool HasDeleteMarker() const { return newest && marked; }
};
// A page of ListVersions: keys in byte order, each key's files newest first.
struct FileVersionPage {
  std::vector<FileVersion> files;
  // More may follow: the next call continues with after_key = resume_key and before_seq =
  // resume_before (0: after every file of resume_key).
  bool more = false;
  std::string resume_key;
  int64_t resume_before = 0;
};

struct TableKey {
  std::string connection_id;
  std::string table;
  auto operator<=>(const TableKey&) const = default;  // NOLINT(modernize-use-nullptr)
};

// A table claimed by this process's loader (Ledger::ClaimTable); destroying it releases the
// claim.
class TableClaim {
 public:
  virtual ~TableClaim() = default;
};

// Connections (the S3 buckets) and their credentials: who may push where (catalog.cc,
// credentials.cc).
class Connections {
 public:
  virtual ~Connections() = default;

  // Connections and credentials. The id is derived from the name (lower-case, [a-z0-9-],
  // 3..63 chars, S3 bucket rules); kAlreadyExists when taken.
  virtual Result<CreatedConnection> CreateConnection(const std::string& name) = 0;
  virtual Result<std::vector<Connection>> ListConnections() = 0;
  // At most `limit` (capped at kMaxListPage) connections whose id sorts after `after_id`, by
  // id: a seek on the primary key.
  virtual Result<std::vector<Connection>> ListConnectionsPage(const std::string& after_id,
                                                              size_t limit) = 0;
  virtual Result<std::optional<Connection>> GetConnection(const std::string& id) = 0;
  virtual Status SetUnconfiguredPolicy(const std::string& id, UnconfiguredPolicy policy) = 0;
  // Sets the connection's disk quota (nullopt: back to the server's default; 0: none);
  // kNotFound for an unknown connection.
  virtual Status SetConnectionQuota(const std::string& id, std::optional<uint64_t> bytes) = 0;
  // The active credential with this access key, secret decrypted; nullopt when unknown,
  // revoked or expired (expires_at <= now): every refused key looks the same to a client.
  virtual Result<std::optional<Credential>> LookupAccessKey(const AccessKeyId& key) = 0;
  // The keys of a connection (every key, account keys included, when `connection_id` is
  // empty), oldest first. Secrets stay sealed.
  virtual Result<std::vector<KeyInfo>> ListKeys(const std::string& connection_id) = 0;
  // Revokes a key at once (its next request is refused); kNotFound when unknown,
  // kInvalidArgument when already revoked.
  virtual Status RevokeKey(const AccessKeyId& key) = 0;
  // A new key for the connection beside its current ones (expires_at micros, 0: never);
  // kNotFound for an unknown connection, kLimitExceeded when it already has
  // kMaxActiveKeysPerConnection active keys.
  virtual Result<CreatedKey> RotateKey(const std::string& connection_id, int64_t expires_at) = 0;
  // Records when keys were last used (micros), in one transaction; a time older than the
  // stored one is ignored, an unknown key skipped. Callers batch: one call per minute, not
  // one write per request.
  virtual Status RecordKeyUses(const std::vector<std::pair<AccessKeyId, int64_t>>& uses) = 0;

  // Buckets and account keys.
  // expires_at: micros, 0 for never; kInvalidArgument when not in the future.
  virtual Result<CreatedKey> CreateAccountKey(int64_t expires_at) = 0;
  // A connection whose id and name are `bucket` (already a valid id: kInvalidArgument
  // otherwise), with no key of its own; kAlreadyExists when taken.
  virtual Result<Connection> CreateBucketConnection(const std::string& bucket) = 0;
  // Deletes an empty connection: kBucketNotEmpty unless it has no table configured, no
  // visible object, no multipart upload in progress and no file queued or loading. Its
  // ledger history (deleted objects only, by then), completed-upload records and keys go with
  // it; returns the landed ids of those files for the caller to remove. kNotFound when absent.
  virtual Result<std::vector<std::string>> DeleteConnection(const std::string& id) = 0;
};

// Table configurations: what each key prefix loads into (catalog.cc, pg_catalog.cc).
class Tables {
 public:
  virtual ~Tables() = default;

  // Tables. AddTable fails with kAlreadyExists; UpdateTable with kNotFound.
  virtual Status AddTable(const TableConfig& table) = 0;
  virtual Status UpdateTable(const TableConfig& table) = 0;
  virtual Result<std::optional<TableConfig>> GetTable(const std::string& connection_id,
                                                      const std::string& name) = 0;
  virtual Result<std::vector<TableConfig>> ListTables(const std::string& connection_id) = 0;
  // Removes table `name` of connection `connection_id` from the configuration: its keys then
  // follow the connection's unconfigured-key policy, and its rows stay in the pool. kNotFound
  // when there is no such table (or connection); kInvalidArgument ("table T has N file(s)
  // queued or loading; wait until they are loaded before removing it") while any file of
  // the table is queued or loading, checked in the same transaction as the delete so that no
  // load can start on a removed table. Its ledger history (files loaded, failed, skipped) stays.
  //
  // The check and the delete are atomic with respect to whatever puts a file in the table's
  // queue (an append, a retry): SQLite's write lock covers both; the PostgreSQL catalog takes
  // the lock an append of the table takes (its table_counters row), and a retry takes it too.
  // What the removal cannot see is a push whose disposition was read while the table was still
  // configured (a PUT whose body was arriving, a multipart upload created before): it is
  // appended queued afterwards, and the loader fails it TABLE_NOT_CONFIGURED, as under the
  // `hold` policy, whatever the connection's policy.
  //
  // What stays with the name: a failed file not moved past stays the head of the table's
  // queue (HeadOfQueue, OpenErrors, CountPending) until it is retried (it then fails again,
  // TABLE_NOT_CONFIGURED) or skipped. Adding the table again under the same name takes the
  // history back: such a failed file blocks the new table again, the files loaded before count
  // for duplicate detection (FindLoadedDuplicate), and the sequence order goes on.
  virtual Status RemoveTable(const std::string& connection_id, const std::string& name) = 0;
};

// The file ledger: every pushed file, its place in its table's queue and its outcome; the
// objects S3 sees; scheduling, flow control and retention (ledger.cc, objects.cc, stats.cc).
class Ledger {
 public:
  virtual ~Ledger() = default;

  // The ledger. AppendFile assigns the sequence and is durable when it returns. A record may
  // be appended already failed (TABLE_NOT_CONFIGURED under the `hold` policy).
  virtual Result<int64_t> AppendFile(FileRecord record) = 0;
  virtual Result<std::optional<FileRecord>> GetFile(int64_t seq) = 0;
  // Newest file (highest seq) stored under `key` in the connection, if any.
  virtual Result<std::optional<FileRecord>> LatestFileForKey(const std::string& connection_id,
                                                             const std::string& key) = 0;
  // Files of a connection (optionally one table), in sequence order: the whole history, for
  // tests and small ledgers. Listings people and clients page through use ListFilesPage.
  virtual Result<std::vector<FileRecord>> ListFiles(const std::string& connection_id,
                                                    const std::string& table = "") = 0;
  // One page of a connection's files that pass `filter`, in sequence order (newest first
  // with filter.newest_first), at most `limit` (capped at kMaxListPage). One table's files
  // with no other condition: one seek on files_by_table. Any other page reads the next
  // kFileScanWindow ledger entries in its order (the table's on files_by_table, or every
  // connection's by seq) and keeps those that pass, so it may hold fewer than `limit` files,
  // even none, and still have a next page (files_page_internal.h). The filter's since/until
  // are checked on each entry read and do not shorten the listing: received_at is not in seq
  // order. kNotFound for an unknown connection.
  virtual Result<FilePage> ListFilesPage(const std::string& connection_id, const FileFilter& filter,
                                         size_t limit) = 0;
  // The files of one table (every table's when empty) with seq > `after_seq`, oldest first.
  Result<FilePage> ListFilesPage(const std::string& connection_id, const std::string& table,
                                 int64_t after_seq, size_t limit) {
    return ListFilesPage(connection_id, FileFilter{.table = table, .after_seq = after_seq}, limit);
  }
  // The open errors of a connection: its files failed and not passed (blocking their table,
  // or awaiting an operator), grouped by table and error code, in that order, each with its
  // count and its newest file as the sample. Reads only the unfinished files (files_pending).
  // kNotFound for an unknown connection.
  virtual Result<std::vector<ErrorGroup>> OpenErrors(const std::string& connection_id) = 0;

  // Objects: the ledger seen through S3. A key's object is its newest file unless deleted (or
  // purged by retention: its bytes are gone).
  // The newest file of `key` unless it is deleted or purged; nullopt otherwise.
  virtual Result<std::optional<FileRecord>> VisibleFile(const std::string& connection_id,
                                                        const std::string& key) = 0;
  // Visible keys (newest file each) in byte order, after `start_after`, starting with
  // `prefix`, at most `limit`. Walks the (connection, key) index and reads at most
  // ListScanWindow(limit) of its entries (plus the versions of the last key read), so a
  // connection whose history is mostly deleted or purged keys costs no more per call: when the
  // window ends before `limit` visible keys, `scanned_to` names the last key read and the
  // caller continues after it.
  virtual Result<VisiblePage> ListVisible(const std::string& connection_id,
                                          const std::string& prefix, const std::string& start_after,
                                          size_t limit) = 0;
  // Marks every file of `key` deleted; returns the files newly marked (empty when the key had
  // no visible object). A later AppendFile of the key makes it visible again.
  virtual Result<std::vector<FileRecord>> DeleteKey(const std::string& connection_id,
                                                    const std::string& key) = 0;

  // ---- Versions (versions.cc, postgres/pg_versions.cc) ----

  // The files of keys starting with `prefix` that matter to a listing of versions: each key's
  // versions (FileVersion::IsVersion) and its newest file whatever its state, keys in byte
  // order, each key's files newest first. They start after `after_key` (before_seq 0), or
  // with after_key's files below seq `before_seq`. At most `limit` files (capped at
  // kMaxListPage); the (connection, key) index is walked for at most ListScanWindow(limit)
  // entries per statement, a few statements per call, so a key with a long purged history
  // costs no more per call: `more` says where to go on.
  virtual Result<FileVersionPage> ListVersions(const std::string& connection_id,
                                               const std::string& prefix,
                                               const std::string& after_key, int64_t before_seq,
                                               size_t limit) = 0;
  // File `seq` of `key` in the connection (its newest file when seq is 0), in whatever state;
  // nullopt when it is not a file of that key.
  virtual Result<std::optional<FileVersion>> GetVersion(const std::string& connection_id,
                                                        const std::string& key, int64_t seq) = 0;
  // Marks file `seq` of `key` deleted as a version (idempotent) and returns it so marked;
  // nullopt when it is not a file of that key. Like DeleteKey it touches nothing else: its
  // load and its bytes are the caller's business. When it is the key's newest file, the key
  // reads as deleted (there is no older file to fall back to: a key's object is its newest
  // file), without a delete marker.
  virtual Result<std::optional<FileVersion>> DeleteVersion(const std::string& connection_id,
                                                           const std::string& key, int64_t seq) = 0;
  // Takes back the delete of `key` whose marker stands on its newest file `seq`: clears the
  // file's `marked`, so that it is the key's object again when it was not removed as a version
  // and its bytes are stored. false (and nothing changes) unless `seq` is the key's newest file
  // and marked.
  virtual Result<bool> RemoveDeleteMarker(const std::string& connection_id, const std::string& key,
                                          int64_t seq) = 0;

  // Scheduling. Tables that have at least one queued or loading file.
  virtual Result<std::vector<TableKey>> TablesWithWork() = 0;
  // The file a table's worker must handle next: its oldest file that is queued, loading, or
  // failed and not passed (a failed file blocks under on_error: block, so the caller sees it
  // and waits; under skip the caller moves past it). nullopt when the table has no such file.
  virtual Result<std::optional<FileRecord>> HeadOfQueue(const TableKey& table) = 0;
  // Marks the file `loading` and counts the attempt (load_attempts + 1) in one durable
  // commit, before any of the file is read: a load that a crash cuts short leaves the count
  // behind, which is how the poison-file guard finds a file that keeps killing the process.
  virtual Status MarkLoading(int64_t seq) = 0;
  // The attempt ended without an outcome and without a crash (a transient error: the file
  // stays `loading` and is taken up again): takes the attempt back. kInvalidArgument unless
  // the file is loading.
  virtual Status AbandonLoading(int64_t seq) = 0;
  virtual Status MarkLoaded(int64_t seq, const LoadCounts& counts, int64_t finished_at) = 0;
  virtual Status MarkFailed(int64_t seq, const Status& error) = 0;
  // Operator actions on a failed file: retry puts it back to queued in its original place;
  // skip marks it skipped so that the table moves past it. kInvalidArgument when the file is
  // not failed. With `loader` kStopped (the caller holds serve.lock) a `loading` file, left so
  // by a crash, may be retried or skipped too. A retry starts the attempt count afresh.
  virtual Status Retry(int64_t seq, LoaderState loader = LoaderState::kMayBeRunning) = 0;
  virtual Status Skip(int64_t seq, LoaderState loader = LoaderState::kMayBeRunning) = 0;
  // Re-queues a failed or skipped file (a skipped duplicate, say) with `forced` set: it is
  // loaded even when its content repeats a loaded file. It keeps its sequence, so it is the
  // next file its table loads. kInvalidArgument for a file in another status, and for a file
  // whose bytes retention purged (there is nothing left to load).
  virtual Status RetryForced(int64_t seq, LoaderState loader = LoaderState::kMayBeRunning) = 0;
  // Marks a failed file passed: its table (on_error: skip) moves on. kInvalidArgument when
  // the file is not failed.
  virtual Status MovePast(int64_t seq) = 0;
  // The content identity of a file is its size and MD5 (a single PUT always has the MD5;
  // SHA-256 only when the client sent a payload hash). A multipart object has no whole-file
  // MD5: its multipart ETag (the MD5 of the part MD5s, "-N") and size stand in, so the same
  // bytes pushed with other part sizes are not recognised (they load again: never a false
  // skip). Returns the newest loaded file of `file`'s table (other than `file`) with the same
  // identity; nullopt when there is none or `file` has neither MD5 nor ETag.
  virtual Result<std::optional<FileRecord>> FindLoadedDuplicate(const FileRecord& file) = 0;
  // Records a queued or loading file as skipped, a duplicate of `original_seq`, with
  // `message` as its message (no error code: nothing failed).
  virtual Status MarkDuplicate(int64_t seq, int64_t original_seq, const std::string& message) = 0;
  // Files whose status is queued or loading, in sequence order (crash reconciliation).
  virtual Result<std::vector<FileRecord>> UnfinishedFiles() = 0;
  // The ids of `landed_ids` that no ledger entry names (start-up: objects landed by a process
  // that died between the landing rename and the ledger commit). One pass over the ledger's
  // landed ids; memory follows the number of ids asked about, not the ledger.
  virtual Result<std::vector<std::string>> NotInLedger(std::vector<std::string> landed_ids) = 0;
  // A number that changes whenever another process or thread commits (SQLite
  // data_version + local writes): the loader polls it to notice CLI retries and new tables.
  virtual Result<int64_t> ChangeCounter() = 0;

  // ---- Several processes on one ledger (docs/design/nodes.md) ----

  // Whether other `sluice serve` processes may share this ledger (the PostgreSQL catalog):
  // then a file `loading` may be another node's load in progress, and the landing store is
  // shared with them.
  virtual bool Shared() const = 0;
  // Claims `table` for this process's loader: while the claim lives, no loader of another
  // process sharing the ledger works on the table (threads of one process keep apart on their
  // own). nullptr when another process holds it. The SQLite catalog has one server per data
  // directory (serve.lock) and always grants it; the PostgreSQL catalog locks the table's claim
  // row (FOR UPDATE SKIP LOCKED) in a transaction of the claim's own, which a process that
  // dies releases with its connection.
  virtual Result<std::unique_ptr<TableClaim>> ClaimTable(const TableKey& table) = 0;
  // Calls `on_change` (on a thread of the catalog's, quickly) after another process commits a
  // change to the ledger: a new file, a retry, a table configured. The PostgreSQL catalog
  // listens for it (LISTEN/NOTIFY); the SQLite catalog never calls it (ChangeCounter's poll
  // covers the CLI). Replaces the callback; WatchChanges({}) stops the calls, and when it
  // returns no call is running (the loader clears its callback before it goes).
  virtual void WatchChanges(std::function<void()> on_change) = 0;
  // The write that records file `seq` loaded, for the pool to run inside the load's own
  // transaction, on the load's connection, when the ledger lives in the pool's database (the
  // PostgreSQL catalog beside the PostgreSQL pool): the rows, the file's status and its
  // table's applied position then commit together, and the write is guarded (the file must
  // still be `loading`, the position below `seq`) so that a second applier of the file rolls
  // back (its statement raises; kAlreadyExists). It is the SQL statement of a
  // pool::InTransactionWrite: called with `counts`, the pool's query of the load's counts.
  // Empty when the ledger is elsewhere (SQLite): the loader calls MarkLoaded after the pool's
  // commit.
  using InPoolWrite = std::function<std::string(std::string_view counts)>;
  virtual InPoolWrite LoadedInPool(int64_t seq, int64_t finished_at) = 0;

  // ---- Flow control, retention and metrics (stats.cc) ----

  // The backlog of one table: its files queued or loading.
  struct TableBacklog {
    TableKey table;
    int64_t files = 0;
    uint64_t bytes = 0;
    int64_t oldest_queued_at = 0;  // received_at of its oldest queued file; 0 when none
  };
  // Every table with a backlog, by connection then table. One grouped query over the partial
  // index of unfinished files: its cost follows the backlog, not the ledger's history.
  virtual Result<std::vector<TableBacklog>> BacklogByTable() = 0;

  struct StatusCount {
    TableKey table;
    FileStatus status = FileStatus::kQueued;
    std::string error_code;  // empty unless failed (or skipped with a reason)
    int64_t files = 0;
  };
  // Files that still need attention (queued, loading, failed and not moved past) grouped by
  // connection, table, status and error code: one query over the partial index files_pending,
  // so its cost follows the backlog and the blocked files, not the ledger's history. Files
  // that finished are counted by the loader's events instead (api/metrics.h).
  virtual Result<std::vector<StatusCount>> CountPending() = 0;

  // Files loaded or skipped whose landed bytes are still stored and that finished before
  // `finished_before` (micros), oldest first, at most `limit` (index files_retained). Objects
  // kept as plain objects by the `store` policy are not among them: retention never purges them.
  virtual Result<std::vector<FileRecord>> RetainedBefore(int64_t finished_before, size_t limit) = 0;
  // Records that the file's landed bytes were removed (by retention, or by a delete of a
  // finished file): sets purged_at, which hides the file from S3 reads and listings (it has
  // no body any more) without calling it deleted; the ledger keeps the record. purged_at = 0
  // is exactly "the bytes are stored", which the disk quota counts. kInvalidArgument unless
  // the file is loaded or skipped; kNotFound when absent.
  virtual Status MarkPurged(int64_t seq, int64_t purged_at) = 0;

  // The bytes each connection keeps in the data directory: its landed files whose bytes are
  // stored (purged_at = 0: queued, loading, failed, held, stored as plain objects, and loaded
  // or skipped files retention has not purged yet) plus the parts of its multipart uploads in
  // progress. Connections keeping nothing are left out. One grouped query over the partial
  // index files_stored (its cost follows the stored files, not the purged history): the disk
  // quota's running counter starts from it, and `sluice connection list` shows it.
  virtual Result<std::vector<std::pair<std::string, uint64_t>>> StoredBytesByConnection() = 0;
};

// Multipart uploads in progress and the record of completed ones (uploads.cc).
class Uploads {
 public:
  virtual ~Uploads() = default;

  // Multipart uploads. CreateUpload: kNotFound for an unknown connection.
  virtual Status CreateUpload(const UploadRecord& upload) = 0;
  virtual Result<std::optional<UploadRecord>> GetUpload(const std::string& upload_id) = 0;
  // Records (or replaces) a part and touches the upload; kNoSuchUpload when it is gone.
  // Returns the size of the part it replaced (0 when the part is new): the disk quota counts
  // only the newest copy of a re-sent part.
  virtual Result<uint64_t> RecordPart(const std::string& upload_id, const PartRecord& part) = 0;
  // Every part of the upload, by number (at most s3's 10,000): what Complete checks against.
  virtual Result<std::vector<PartRecord>> ListParts(const std::string& upload_id) = 0;
  // At most `limit` parts numbered above `after_part`, by number: a seek on the primary key.
  // kNoSuchUpload when the upload is gone.
  virtual Result<std::vector<PartRecord>> ListParts(const std::string& upload_id, int after_part,
                                                    size_t limit) = 0;
  // At most `limit` uploads in progress of a connection whose key starts with `prefix`, in S3's
  // order (key, then initiation time), after a marker: with `key_marker` alone, the uploads of
  // keys after it; with `upload_id_marker` too, first the uploads of key_marker that follow that
  // upload (when it is an upload of key_marker; otherwise it is ignored). Seeks on
  // uploads_by_key and reads at most `limit` rows per seek.
  virtual Result<std::vector<UploadRecord>> ListUploads(const std::string& connection_id,
                                                        const std::string& prefix,
                                                        const std::string& key_marker,
                                                        const std::string& upload_id_marker,
                                                        size_t limit) = 0;
  // In one transaction: appends `file` to the ledger, keeps `done` (with the new seq) and
  // forgets the upload and its parts. kNoSuchUpload when the upload is gone. Returns the seq;
  // `parts_bytes`, when not null, receives the total size of the parts forgotten (the listed
  // ones and any the Complete left out), read in the same transaction.
  virtual Result<int64_t> CompleteUpload(FileRecord file, CompletedUpload done,
                                         uint64_t* parts_bytes = nullptr) = 0;
  virtual Result<std::optional<CompletedUpload>> GetCompletedUpload(
      const std::string& upload_id) = 0;
  // Forgets an upload and its parts; kNoSuchUpload when there is none. Returns the total size
  // of the parts forgotten, read in the same transaction.
  virtual Result<uint64_t> DeleteUpload(const std::string& upload_id) = 0;
  // Uploads whose last creation or part is older than `micros`, for the reaper.
  virtual Result<std::vector<UploadRecord>> UploadsTouchedBefore(int64_t micros) = 0;
  // Drops completed-upload records older than `micros`; returns how many.
  virtual Result<int64_t> ForgetCompletedBefore(int64_t micros) = 0;
};

// The catalog: the four roles in one database. Code that needs one role takes that role's
// interface; one implementation per engine (SqliteCatalog, catalog_internal.h) provides them all.
class Catalog : public Connections,
                public Tables,
                public Ledger,
                public Uploads,
                public Admins,
                public Alerts {
 public:
  // ---- What the ledger did lately, for the console (activity.cc; both engines) ----

  struct TableActivity {
    TableKey table;
    int64_t files = 0;           // files loaded
    int64_t rows = 0;            // rows written: inserted + updated + deleted
    int64_t last_loaded_at = 0;  // micros, the newest of them
    int64_t failed = 0;          // files that failed and are still failed (moved past, say)
  };
  // Per table, the files loaded or failed since `since` (micros): one grouped read of the index
  // of finished files by finish time, so its cost follows the files finished in the window.
  Result<std::vector<TableActivity>> LoadedSince(int64_t since);

  // One minute of the whole ledger's activity (ActivitySince).
  struct MinuteActivity {
    int64_t minute = 0;         // micros, the minute's start
    int64_t files_loaded = 0;   // finished loading in it
    int64_t rows = 0;           // rows those files wrote
    int64_t backlog_files = 0;  // received and not finished at the minute's end
  };
  // The minutes from `since` to `now`, oldest first. Reads the files that loaded or failed in
  // the window and those still unfinished, at most `max_files` of them (the rest are left out:
  // the counts are then a lower bound, which `*complete` says when not null).
  Result<std::vector<MinuteActivity>> ActivitySince(int64_t since, int64_t now, size_t max_files,
                                                    bool* complete = nullptr);

  // Opens (creating if needed) the catalog in `data_dir`. `clock` must outlive the catalog.
  static Result<std::unique_ptr<Catalog>> Open(const std::string& data_dir, FileSystem& fs,
                                               const Clock& clock);
};

// The PostgreSQL catalog (docs/design/nodes.md): the tables of schema _sluice_catalog in the
// database `conninfo` names, shared by every node that opens it. Secrets are sealed with the
// key in `secret_key_path` (created, 0600, when missing and the catalog holds no credential
// yet); every node must use the same key file.
Result<std::unique_ptr<Catalog>> OpenPostgresCatalog(const std::string& conninfo,
                                                     const std::string& secret_key_path,
                                                     FileSystem& fs, const Clock& clock);

}  // namespace sluice::catalog
