#pragma once
// Private to catalog: what the SQLite and the PostgreSQL catalogs share because it does not
// depend on the engine: the stored names of enums, the checks on a table configuration, the
// errors every engine words alike, and the mapping of a stored row to a record. Both engines
// store the same columns in the same order under the same names (booleans as 0/1 integers,
// times as int64 micros), so one row reader serves both: a Row is any type with
// `std::string Text(int col) const` and `int64_t Int(int col) const` (sqlite::Statement, the
// PostgreSQL catalog's PgRow).

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/catalog/catalog.h"
#include "sluice/catalog/secret_box_internal.h"

namespace sluice::catalog {

// The columns FileFromRow reads, in its order.
#define SLUICE_FILE_COLUMN_LIST                                                                \
  "SELECT seq, connection_id, table_name, key, landed_id, size, md5_hex, sha256_hex, "         \
  "content_type, metadata_json, received_at, started_at, finished_at, status, rows_inserted, " \
  "rows_updated, rows_refused, error_code, error_message, etag, deleted, rows_deleted, "       \
  "checksums_json, duplicate_of, purged_at, passed, forced, load_attempts "
#define SLUICE_FILE_COLUMNS SLUICE_FILE_COLUMN_LIST "FROM files "
// The columns UploadFromRow reads, in its order.
#define SLUICE_UPLOAD_COLUMNS                                                               \
  "SELECT upload_id, connection_id, key, table_name, content_type, metadata_json, status, " \
  "error_code, error_message, initiated_at, touched_at, checksum_algorithm, checksum_type " \
  "FROM uploads "
// The columns ConnectionFromRow, TableFromRow and KeyFromRow read, in their order.
#define SLUICE_CONNECTION_COLUMNS \
  "SELECT id, name, unconfigured, created_at, coalesce(quota_bytes, -1) FROM connections "
#define SLUICE_TABLE_COLUMNS                                                                    \
  "SELECT connection_id, name, primary_key, age_column, on_error, delete_column, nested_json, " \
  "load_hidden_keys FROM tables "
#define SLUICE_KEY_COLUMNS                                                                   \
  "SELECT access_key, connection_id, created_at, expires_at, last_used_at, revoked_at FROM " \
  "credentials "

// Files that still need attention (queued, loading, failed and not moved past), grouped for
// /metrics. The WHERE clause is files_pending's, so only that partial index is read: the cost
// follows the backlog and the blocked files, not the ledger's history.
inline constexpr const char* kCountPendingSql =
    "SELECT connection_id, table_name, status, error_code, count(*) FROM files "
    "WHERE status IN ('queued', 'loading') OR (status = 'failed' AND passed = 0) "
    "GROUP BY connection_id, table_name, status, error_code "
    "ORDER BY connection_id, table_name, status, error_code";

// Tables::RemoveTable's check: how many files of table $2 of connection $1 are queued or
// loading. The WHERE is files_with_work's, so only that partial index is read.
inline constexpr const char* kTableBusySql =
    "SELECT count(*) FROM files WHERE connection_id = $1 AND table_name = $2 AND "
    "status IN ('queued', 'loading')";

// Ledger::OpenErrors: the newest file of each (table, error code) of the connection's failed,
// not passed files, and the group's count after the file's columns. The WHERE repeats
// files_pending's condition word for word (SQLite proves the partial index applies only so);
// $1 is the connection (SQLite reads $1 as its first parameter, as PostgreSQL does).
inline constexpr const char* kOpenErrorsSql = SLUICE_FILE_COLUMN_LIST
    ", g.n FROM files JOIN (SELECT max(seq) AS newest, count(*) AS n FROM files WHERE (status "
    "IN ('queued', 'loading') OR (status = 'failed' AND passed = 0)) AND status = 'failed' AND "
    "connection_id = $1 GROUP BY table_name, error_code) g ON seq = g.newest "
    "ORDER BY table_name, error_code";

// The SET list that requeues a file as never tried: its last attempt's outcome forgotten.
inline constexpr std::string_view kRequeue =
    "status = 'queued', error_code = '', error_message = '', started_at = 0, finished_at = 0, "
    "passed = 0, rows_inserted = 0, rows_updated = 0, rows_refused = 0, rows_deleted = 0, "
    "load_attempts = 0";
// What Skip records for a file it takes while `loading` (it has no error of its own).
inline constexpr std::string_view kSkippedWhileLoading =
    "skipped by an operator while loading (no server was running: a crash had cut its load "
    "short)";

std::string_view PolicyName(UnconfiguredPolicy p);
Result<UnconfiguredPolicy> PolicyFromName(const std::string& s);
std::string_view OnErrorName(OnError e);
Result<OnError> OnErrorFromName(const std::string& s);
std::string PrimaryKeyToJson(const std::vector<std::string>& columns);
Result<std::vector<std::string>> PrimaryKeyFromJson(const std::string& text,
                                                    const std::string& table);
Result<FileStatus> FileStatusFromName(const std::string& s);

// kInvalidArgument unless the record names a connection, a key and a landed id, and its size
// fits the ledger.
Status ValidateFileRecord(const FileRecord& r);
// Everything AddTable and UpdateTable check but the connection's existence: the name, the
// primary key, the delete column, the nested configuration.
Status ValidateTableFields(const TableConfig& table);
// kInvalidArgument unless `expires_at` (micros) is 0 (never) or after `now`.
Status CheckKeyExpiry(int64_t expires_at, int64_t now);
// kInvalidArgument unless an upload record can be stored (id, connection, key, a status an
// upload completes with).
Status ValidateUpload(const UploadRecord& u);

// The smallest string greater than every string starting with `prefix` (byte order), or
// nullopt when there is none (a prefix of only 0xFF bytes, or an empty one): the exclusive
// end of a prefix range that an index can seek (objects.cc).
std::optional<std::string> PrefixEnd(std::string prefix);

// The statuses the status guards accept.
inline constexpr FileStatus kQueuedOrLoading[] = {FileStatus::kQueued, FileStatus::kLoading};
inline constexpr FileStatus kLoadingOnly[] = {FileStatus::kLoading};
inline constexpr FileStatus kFailedOnly[] = {FileStatus::kFailed};
inline constexpr FileStatus kLoadedOrSkipped[] = {FileStatus::kLoaded, FileStatus::kSkipped};
// The statuses an operator action accepts: a failed file (and a skipped one when `forced`),
// and a `loading` one only when no loader can hold it (LoaderState::kStopped).
std::span<const FileStatus> OperatorStatuses(LoaderState loader, bool forced);
// OK when `status` is one of `allowed`; otherwise kInvalidArgument naming the file, its status
// and what it cannot be (`action`).
Status CheckStatus(int64_t seq, FileStatus status, std::span<const FileStatus> allowed,
                   std::string_view action);

// The errors both engines word alike.
Status NoConnection(const std::string& id);
Status NoFile(int64_t seq);
Status NoSuchUpload(const std::string& upload_id);
Status ConnectionExistsError(const std::string& id);
Status TableExistsError(const TableConfig& table);
Status NoTable(const TableConfig& table);
// RemoveTable's refusal: `files` of the table are queued or loading.
Status TableBusy(const std::string& table, int64_t files);
Status InvalidBucketName(const std::string& bucket);
Status NotOkFailure(int64_t seq);
// A file whose bytes retention removed (at `purged_at`) cannot be `action`.
Status PurgedError(int64_t seq, const std::string& key, int64_t purged_at, std::string_view action);
// RotateKey's refusal: the connection already has these `active` keys, oldest first.
Status TooManyActiveKeys(const std::string& connection_id, const std::vector<std::string>& active);
Status AlreadyRevoked(const AccessKeyId& key, int64_t revoked_at);
Status AccountKeyRotation();
Status NoAccessKey(const AccessKeyId& key);
// DeleteConnection's refusal, `why` being one of kConnectionInUse's reasons.
Status BucketNotEmpty(const std::string& id, std::string_view why);
// What keeps a connection from being deleted, each a condition on one table of the connection
// (the connection's id the only parameter) and the reason DeleteConnection gives.
struct InUseCheck {
  std::string_view table;
  std::string_view where;  // a condition beside "connection_id = <id>"
  std::string_view why;
};
inline constexpr InUseCheck kConnectionInUse[] = {
    {"tables", "", "it has configured tables"},
    {"files", "deleted = 0 AND purged_at = 0", "it holds objects"},
    {"uploads", "", "it has multipart uploads in progress"},
    {"files", "status IN ('queued', 'loading')", "files of it are still queued or loading"},
};
// The statement of an InUseCheck, with `placeholder` ("?" or "$1") for the connection id.
std::string InUseSql(const InUseCheck& check, std::string_view placeholder);

// kInvalidArgument for a quota or a part size the catalog's int64 columns cannot hold.
Status CheckQuotaBytes(std::optional<uint64_t> bytes);
Status CheckPartSize(const PartRecord& part);

// A new access key and secret, the secret sealed under the key. `taken` says whether a
// candidate access key is in use already (a query inside the caller's transaction).
struct NewKey {
  std::string access_key;
  Secret secret;
  Sealed sealed;
};
Result<NewKey> DrawKey(const SecretBox& box,
                       const std::function<Result<bool>(const std::string&)>& taken);

// `newest`, the newest file of a key, when it is visible: not deleted and not purged.
std::optional<FileRecord> IfVisible(std::optional<FileRecord> newest);

// The newest file of a key below sequence `seq`: what the key showed before the append of `seq`.
#define SLUICE_PREVIOUS_FILE_SQL(P1, P2, P3)                                        \
  SLUICE_FILE_COLUMNS "WHERE connection_id = " P1 " AND key = " P2 " AND seq < " P3 \
                      " ORDER BY seq DESC LIMIT 1"

KeyState KeyStateAt(int64_t revoked_at, int64_t expires_at, int64_t now);

template <class Row>
Result<Connection> ConnectionFromRow(const Row& q) {
  Connection c;
  c.id = q.Text(0);
  c.name = q.Text(1);
  SLUICE_ASSIGN_OR_RETURN(c.unconfigured, PolicyFromName(q.Text(2)));
  c.created_at = q.Int(3);
  if (q.Int(4) >= 0) c.quota_bytes = static_cast<uint64_t>(q.Int(4));
  return c;
}

template <class Row>
Result<TableConfig> TableFromRow(const Row& q) {
  TableConfig t;
  t.connection_id = q.Text(0);
  t.name = q.Text(1);
  SLUICE_ASSIGN_OR_RETURN(t.primary_key,
                          PrimaryKeyFromJson(q.Text(2), t.connection_id + "/" + t.name));
  t.age_column = q.Text(3);
  SLUICE_ASSIGN_OR_RETURN(t.on_error, OnErrorFromName(q.Text(4)));
  t.delete_column = q.Text(5);
  t.nested_json = q.Text(6);
  t.load_hidden_keys = q.Int(7) != 0;
  return t;
}

template <class Row>
KeyInfo KeyFromRow(const Row& q, int64_t now) {
  KeyInfo k;
  k.access_key = AccessKeyId(q.Text(0));
  k.connection_id = q.Text(1);
  k.created_at = q.Int(2);
  k.expires_at = q.Int(3);
  k.last_used_at = q.Int(4);
  k.revoked_at = q.Int(5);
  k.state = KeyStateAt(k.revoked_at, k.expires_at, now);
  return k;
}

template <class Row>
Result<FileRecord> FileFromRow(const Row& q) {
  FileRecord f;
  f.seq = q.Int(0);
  f.connection_id = q.Text(1);
  f.table = q.Text(2);
  f.key = q.Text(3);
  f.landed_id = q.Text(4);
  f.size = static_cast<uint64_t>(q.Int(5));
  f.md5_hex = q.Text(6);
  f.sha256_hex = q.Text(7);
  f.content_type = q.Text(8);
  f.metadata_json = q.Text(9);
  f.received_at = q.Int(10);
  f.started_at = q.Int(11);
  f.finished_at = q.Int(12);
  SLUICE_ASSIGN_OR_RETURN(f.status, FileStatusFromName(q.Text(13)));
  f.rows_inserted = q.Int(14);
  f.rows_updated = q.Int(15);
  f.rows_refused = q.Int(16);
  f.error_code = q.Text(17);
  f.error_message = q.Text(18);
  f.etag = q.Text(19);
  f.deleted = q.Int(20) != 0;
  f.rows_deleted = q.Int(21);
  f.checksums_json = q.Text(22);
  f.duplicate_of = q.Int(23);
  f.purged_at = q.Int(24);
  f.passed = q.Int(25) != 0;
  f.forced = q.Int(26) != 0;
  f.load_attempts = q.Int(27);
  return f;
}

// A row of kOpenErrorsSql.
template <class Row>
Result<ErrorGroup> ErrorGroupFromRow(const Row& q) {
  ErrorGroup g;
  SLUICE_ASSIGN_OR_RETURN(g.newest, FileFromRow(q));
  g.files = q.Int(28);  // after the file's columns
  return g;
}

template <class Row>
Result<UploadRecord> UploadFromRow(const Row& q) {
  UploadRecord u;
  u.upload_id = q.Text(0);
  u.connection_id = q.Text(1);
  u.key = q.Text(2);
  u.table = q.Text(3);
  u.content_type = q.Text(4);
  u.metadata_json = q.Text(5);
  SLUICE_ASSIGN_OR_RETURN(u.status, FileStatusFromName(q.Text(6)));
  u.error_code = q.Text(7);
  u.error_message = q.Text(8);
  u.initiated_at = q.Int(9);
  u.touched_at = q.Int(10);
  u.checksum_algorithm = q.Text(11);
  u.checksum_type = q.Text(12);
  return u;
}

// A row of part_number, size, md5_hex, uploaded_at, checksum_algorithm, checksum.
template <class Row>
PartRecord PartRecordFromRow(const Row& q) {
  PartRecord p{static_cast<int>(q.Int(0)), static_cast<uint64_t>(q.Int(1)), q.Text(2), q.Int(3)};
  p.checksum_algorithm = q.Text(4);
  p.checksum = q.Text(5);
  return p;
}

template <class Row>
CompletedUpload CompletedFromRow(const Row& q) {
  return CompletedUpload{q.Text(0), q.Text(1), q.Text(2), q.Int(3), q.Text(4), q.Text(5), q.Int(6)};
}

}  // namespace sluice::catalog
