#pragma once
// Private to catalog: the PostgreSQL catalog (OpenPostgresCatalog, docs/design/nodes.md). The
// same tables, columns and rules as the SQLite catalog, in schema _sluice_catalog of the pool's
// database, so that several `sluice serve` processes (nodes) share one ledger. What is
// specific to several nodes:
//
// - Sequences. A file's seq is drawn from one SEQUENCE, but only after the upload's
//   transaction has locked its table's row of table_counters (one upsert, pg_ledger.cc):
//   two uploads of one table serialise there, so the later committer draws the larger number
//   and a table's seq order is its commit order. Uploads of different tables do not wait for
//   each other.
// - A table's queue lock. That same row is the lock of the table's queue: whatever puts a
//   file in the queue (an append, a Retry or RetryForced) holds it until commit, and
//   RemoveTable holds it while it checks that no file is queued or loading and deletes the
//   configuration. So the check sees each such write either committed or not begun; one that
//   waited commits after the removal, and the loader, which reads the configuration after the
//   file is queued, fails that file TABLE_NOT_CONFIGURED. (MarkLoading needs no part in it:
//   it takes only a file already queued, which the check counts.)
// - Claims. ClaimTable locks the table's row of table_claims (FOR UPDATE SKIP LOCKED) in a
//   transaction of a connection of the claim's own, kept open until the claim is destroyed; a
//   node that dies releases it with its connection. Claim connections are apart from the ones
//   serving ordinary calls (a claim lasts a whole load).
// - Change notifications. Every committing write also runs pg_notify('sluice_ledger', '') in
//   its transaction; a listener thread (started by the first WatchChanges or ChangeCounter)
//   LISTENs and calls the WatchChanges callback for every notification another connection
//   sent. ChangeCounter = local writes + notifications seen.
// - The in-pool write (LoadedInPool): the ledger's side of a load, one statement the
//   PostgreSQL pool runs on its load connection just before its COMMIT (in the same round
//   trip); guarded so that a second applier fails: the statement raises (refuse()).
// - LoaderState::kStopped. A CLI holding one data directory's serve.lock cannot know that no
//   other node runs. A `loading` file is taken as held by nobody (kStopped honoured) only when
//   its table's claim can be taken (SKIP LOCKED) at that moment; the claim is held across the
//   operator's write. Otherwise the call is treated as kMayBeRunning.
//
// Thread-safety: safe to share between threads. Ordinary calls lease one of at most
// kMaxConnections connections (a mutex and a condition variable hand them out) and run one
// short transaction on it; a connection found broken is dropped and reopened on next use.
// Writes are durable at commit (synchronous_commit stays on).

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "sluice/catalog/alerts_internal.h"
#include "sluice/catalog/catalog.h"
#include "sluice/catalog/files_page_internal.h"
#include "sluice/catalog/rules_internal.h"
#include "sluice/catalog/secret_box_internal.h"
#include "sluice/core/mutex.h"
#include "sluice/postgres/postgres.h"

namespace sluice::catalog {

// The schema of the catalog's tables, and the channel its writes notify.
inline constexpr const char* kPgSchema = "_sluice_catalog";
inline constexpr const char* kPgChannel = "sluice_ledger";
// Every catalog connection resolves unqualified names in the catalog's schema, so that the
// statements read like the SQLite catalog's. Only the in-pool write, which runs on the pool's
// connection, names the schema.
inline constexpr const char* kPgSetup = "SET search_path = _sluice_catalog";
// Runs in each committing write's transaction, just before COMMIT.
inline constexpr const char* kPgNotify = "SELECT pg_notify('sluice_ledger', '')";

// Lock a table's queue until the transaction ends (see the file comment), as the upload's
// upsert of its counter row does (pg_ledger.cc, kTableSeqSql), without drawing a number: the
// queue of table $2 of connection $1, or of file $1's table. A table no upload has drawn for
// yet gets its row here, with 0, the value its first upload would insert.
inline constexpr const char* kPgLockQueueSql =
    "INSERT INTO table_counters AS t (connection_id, table_name, last_seq) VALUES ($1, $2, 0) "
    "ON CONFLICT (connection_id, table_name) DO UPDATE SET last_seq = t.last_seq";
inline constexpr const char* kPgLockQueueOfFileSql =
    "INSERT INTO table_counters AS t (connection_id, table_name, last_seq) "
    "SELECT connection_id, table_name, 0 FROM files WHERE seq = $1 "
    "ON CONFLICT (connection_id, table_name) DO UPDATE SET last_seq = t.last_seq";

// Ledger::ListFilesPage's statements (files_page_internal.h has the algorithm and the
// parameters). PostgreSQL picks plans by their estimated cost, so the statements leave it only
// bounded ones (listing_test.cc checks EXPLAIN on a long ledger):
// - The table seek and the table window, which stop at a LIMIT: their bounds are row
//   comparisons on (connection_id, table_name, seq), ordered the same way, an order only
//   files_by_table gives. Written `connection_id = $1 AND table_name = $2 AND seq > $3 ORDER
//   BY seq`, PostgreSQL may walk the primary key instead, filtering on the table, for as long
//   as it takes to meet the LIMIT: the whole ledger when the table's files lie elsewhere.
// - Statement 2 reads the window's range in a subquery (OFFSET 0 keeps the filter out of it),
//   then filters. With the filter beside the range, a status list the custom plan sees as only
//   'loaded' can make it read the table's whole files_by_content (WHERE status = 'loaded') and
//   sort. Inside, only the window's ends bound the read: files_by_table's range, or the primary
//   key's between the same ends when that is cheaper (the table is dense there). The outer
//   ORDER BY is the subquery's order, kept without a sort, and its LIMIT stops the read once
//   the page is full, unless PostgreSQL chose to read the whole range and sort it (a range it
//   estimates small).
inline constexpr FilesPageSql kPgFilesPage = {
    .table_seek = {SLUICE_FILE_COLUMNS
                   "WHERE (connection_id, table_name, seq) > ($1, $2, $3) AND (connection_id, "
                   "table_name, seq) < ($1, $2, $4) ORDER BY connection_id, table_name, seq "
                   "LIMIT $5",
                   SLUICE_FILE_COLUMNS
                   "WHERE (connection_id, table_name, seq) > ($1, $2, $3) AND (connection_id, "
                   "table_name, seq) < ($1, $2, $4) ORDER BY connection_id DESC, table_name "
                   "DESC, seq DESC LIMIT $5"},
    .table_window = {"SELECT min(seq), max(seq), count(*) FROM (SELECT seq FROM files WHERE "
                     "(connection_id, table_name, seq) > ($1, $2, $3) AND (connection_id, "
                     "table_name, seq) < ($1, $2, $4) ORDER BY connection_id, table_name, seq "
                     "LIMIT $5) AS w",
                     "SELECT min(seq), max(seq), count(*) FROM (SELECT seq FROM files WHERE "
                     "(connection_id, table_name, seq) > ($1, $2, $3) AND (connection_id, "
                     "table_name, seq) < ($1, $2, $4) ORDER BY connection_id DESC, table_name "
                     "DESC, seq DESC LIMIT $5) AS w"},
    .table_rows =
        {SLUICE_FILE_COLUMN_LIST
         "FROM (SELECT * FROM files WHERE connection_id = $9 AND table_name = $10 AND "
         "seq >= $11 AND seq <= $12 ORDER BY seq OFFSET 0) AS files WHERE " SLUICE_FILE_FILTER
         "ORDER BY seq LIMIT $13",
         SLUICE_FILE_COLUMN_LIST
         "FROM (SELECT * FROM files WHERE connection_id = $9 AND table_name = $10 AND "
         "seq >= $11 AND seq <= $12 ORDER BY seq DESC OFFSET 0) AS files WHERE " SLUICE_FILE_FILTER
         "ORDER BY seq DESC LIMIT $13"},
    .window = {kFilesWindowSql[0], kFilesWindowSql[1]},
    .rows = {SLUICE_FILE_COLUMN_LIST
             "FROM (SELECT * FROM files WHERE seq >= $10 AND seq <= $11 ORDER BY seq OFFSET 0) "
             "AS files WHERE " SLUICE_FILE_FILTER "AND connection_id = $9 ORDER BY seq LIMIT $12",
             SLUICE_FILE_COLUMN_LIST
             "FROM (SELECT * FROM files WHERE seq >= $10 AND seq <= $11 ORDER BY seq DESC "
             "OFFSET 0) AS files WHERE " SLUICE_FILE_FILTER
             "AND connection_id = $9 ORDER BY seq DESC LIMIT $12"},
};

// A row of a postgres::Rows read the way rules_internal.h's row readers read one (text format:
// integers in decimal; NULL reads as "" and 0).
class PgRow {
 public:
  PgRow(const postgres::Rows& rows, int row) : rows_(rows), row_(row) {}
  std::string Text(int col) const { return std::string(rows_.Text(row_, col)); }
  int64_t Int(int col) const;
  // A bytea column selected as encode(x, 'hex').
  std::string HexBytes(int col) const;

 private:
  const postgres::Rows& rows_;
  int row_;
};

template <class T>
Result<std::vector<T>> ReadAll(const postgres::Rows& rows, Result<T> (*from_row)(const PgRow&)) {
  std::vector<T> out;
  out.reserve(static_cast<size_t>(rows.size()));
  for (int i = 0; i < rows.size(); ++i) {
    SLUICE_ASSIGN_OR_RETURN(T value, from_row(PgRow(rows, i)));
    out.push_back(std::move(value));
  }
  return out;
}

// The first row of `rows` read by `from_row`; nullopt when there is none.
template <class T>
Result<std::optional<T>> ReadOne(const postgres::Rows& rows, Result<T> (*from_row)(const PgRow&)) {
  if (rows.size() == 0) return std::optional<T>();
  SLUICE_ASSIGN_OR_RETURN(T value, from_row(PgRow(rows, 0)));
  return std::optional<T>(std::move(value));
}

// Creates or migrates the catalog's schema (pg_schema.cc), serialised between processes by an
// advisory lock; returns whether the credentials table holds any row. Then checks `box` against
// the key check the catalog keeps (sealed by the first node's key): every node must use the
// same secret key, and a node with another one is refused at open rather than at its first
// request.
Result<bool> EnsurePgSchema(postgres::Conn& conn);
Status CheckSecretKey(postgres::Conn& conn, const SecretBox& box, const std::string& key_path);

// Connections for claims: opened on demand, kept idle for the next claim (claims.cc). Shared
// with the claims it hands out, so that a claim may outlive the catalog.
// A range of keys as PostgreSQL text can hold its bounds (pg_objects.cc). Keys are valid
// UTF-8 (the S3 layer refuses others), whose byte order is code point order, but a bound may
// hold bytes no key has and PostgreSQL refuses: the S3 layer's cursor past a common prefix
// (`<prefix>\xff`), PrefixEnd past a multi-byte character, a client's malformed marker. Each
// is replaced by a valid string that divides the keys the same way. The keys of the range:
// key > after AND key >= from AND (before is nullopt OR key < before); none when `empty`.
struct PgKeyRange {
  std::string after;
  std::string from;
  std::optional<std::string> before;
  bool empty = false;
};
PgKeyRange MakePgKeyRange(std::string_view prefix, std::string_view start_after);

class ClaimConns;

// The PostgreSQL engine's SharedSql (shared_sql_internal.h), on the caller's connection.
class PgSharedSql final : public SharedSql {
 public:
  PgSharedSql(postgres::Conn& conn, const SecretBox& box) : conn_(conn), box_(box) {}
  Result<SqlRows> Run(std::string_view sql, std::initializer_list<SqlArg> args) override;
  const SecretBox& box() const override { return box_; }
  std::string_view SkipLocked() const override { return " FOR UPDATE OF d SKIP LOCKED"; }

 private:
  postgres::Conn& conn_;
  const SecretBox& box_;
};

class PgCatalog final : public Catalog {
 public:
  // The connections serving ordinary calls.
  static constexpr size_t kMaxConnections = 4;

  PgCatalog(std::string conninfo, SecretBox box, const Clock& clock);
  ~PgCatalog() override;

  Result<CreatedConnection> CreateConnection(const std::string& name) override;
  Result<std::vector<Connection>> ListConnections() override;
  Result<std::vector<Connection>> ListConnectionsPage(const std::string& after_id,
                                                      size_t limit) override;
  Result<std::optional<Connection>> GetConnection(const std::string& id) override;
  Status SetUnconfiguredPolicy(const std::string& id, UnconfiguredPolicy policy) override;
  Status SetConnectionQuota(const std::string& id, std::optional<uint64_t> bytes) override;
  Result<std::optional<Credential>> LookupAccessKey(const AccessKeyId& key) override;
  Result<std::vector<KeyInfo>> ListKeys(const std::string& connection_id) override;
  Status RevokeKey(const AccessKeyId& key) override;
  Result<CreatedKey> RotateKey(const std::string& connection_id, int64_t expires_at) override;
  Status RecordKeyUses(const std::vector<std::pair<AccessKeyId, int64_t>>& uses) override;
  Result<CreatedKey> CreateAccountKey(int64_t expires_at) override;
  Result<Connection> CreateBucketConnection(const std::string& bucket) override;
  Result<std::vector<std::string>> DeleteConnection(const std::string& id) override;

  Status AddTable(const TableConfig& table) override;
  Status UpdateTable(const TableConfig& table) override;
  Result<std::optional<TableConfig>> GetTable(const std::string& connection_id,
                                              const std::string& name) override;
  Result<std::vector<TableConfig>> ListTables(const std::string& connection_id) override;
  Status RemoveTable(const std::string& connection_id, const std::string& name) override;

  // pg_ledger.cc
  Result<int64_t> AppendFile(FileRecord record) override;
  Result<std::optional<FileRecord>> GetFile(int64_t seq) override;
  Result<std::optional<FileRecord>> LatestFileForKey(const std::string& connection_id,
                                                     const std::string& key) override;
  Result<std::vector<FileRecord>> ListFiles(const std::string& connection_id,
                                            const std::string& table) override;
  Result<std::vector<ErrorGroup>> OpenErrors(const std::string& connection_id) override;
  using Ledger::ListFilesPage;
  Result<FilePage> ListFilesPage(const std::string& connection_id, const FileFilter& filter,
                                 size_t limit) override;
  Result<std::vector<TableKey>> TablesWithWork() override;
  Result<std::optional<FileRecord>> HeadOfQueue(const TableKey& table) override;
  Status MarkLoading(int64_t seq) override;
  Status MarkLoaded(int64_t seq, const LoadCounts& counts, int64_t finished_at) override;
  Status MarkFailed(int64_t seq, const Status& error) override;
  Status AbandonLoading(int64_t seq) override;
  Status Retry(int64_t seq, LoaderState loader) override;
  Status Skip(int64_t seq, LoaderState loader) override;
  Status RetryForced(int64_t seq, LoaderState loader) override;
  Status MovePast(int64_t seq) override;
  Result<std::optional<FileRecord>> FindLoadedDuplicate(const FileRecord& file) override;
  Status MarkDuplicate(int64_t seq, int64_t original_seq, const std::string& message) override;
  Result<std::vector<FileRecord>> UnfinishedFiles() override;
  Result<std::vector<std::string>> NotInLedger(std::vector<std::string> landed_ids) override;
  InPoolWrite LoadedInPool(int64_t seq, int64_t finished_at) override;

  // pg_objects.cc
  Result<std::optional<FileRecord>> VisibleFile(const std::string& connection_id,
                                                const std::string& key) override;
  Result<VisiblePage> ListVisible(const std::string& connection_id, const std::string& prefix,
                                  const std::string& start_after, size_t limit) override;
  Result<std::vector<FileRecord>> DeleteKey(const std::string& connection_id,
                                            const std::string& key) override;

  // pg_versions.cc
  Result<FileVersionPage> ListVersions(const std::string& connection_id, const std::string& prefix,
                                       const std::string& after_key, int64_t before_seq,
                                       size_t limit) override;
  Result<std::optional<FileVersion>> GetVersion(const std::string& connection_id,
                                                const std::string& key, int64_t seq) override;
  Result<std::optional<FileVersion>> DeleteVersion(const std::string& connection_id,
                                                   const std::string& key, int64_t seq) override;
  Result<bool> RemoveDeleteMarker(const std::string& connection_id, const std::string& key,
                                  int64_t seq) override;
  Result<std::vector<TableBacklog>> BacklogByTable() override;
  Result<std::vector<StatusCount>> CountPending() override;
  Result<std::vector<FileRecord>> RetainedBefore(int64_t finished_before, size_t limit) override;
  Status MarkPurged(int64_t seq, int64_t purged_at) override;
  Result<std::vector<std::pair<std::string, uint64_t>>> StoredBytesByConnection() override;

  // pg_uploads.cc
  Status CreateUpload(const UploadRecord& upload) override;
  Result<std::optional<UploadRecord>> GetUpload(const std::string& upload_id) override;
  Result<uint64_t> RecordPart(const std::string& upload_id, const PartRecord& part) override;
  Result<std::vector<PartRecord>> ListParts(const std::string& upload_id) override;
  Result<std::vector<PartRecord>> ListParts(const std::string& upload_id, int after_part,
                                            size_t limit) override;
  Result<std::vector<UploadRecord>> ListUploads(const std::string& connection_id,
                                                const std::string& prefix,
                                                const std::string& key_marker,
                                                const std::string& upload_id_marker,
                                                size_t limit) override;
  Result<int64_t> CompleteUpload(FileRecord file, CompletedUpload done,
                                 uint64_t* parts_bytes) override;
  Result<std::optional<CompletedUpload>> GetCompletedUpload(const std::string& upload_id) override;
  Result<uint64_t> DeleteUpload(const std::string& upload_id) override;
  Result<std::vector<UploadRecord>> UploadsTouchedBefore(int64_t micros) override;
  Result<int64_t> ForgetCompletedBefore(int64_t micros) override;

  // pg_nodes.cc
  Result<int64_t> ChangeCounter() override;
  bool Shared() const override { return true; }
  Result<std::unique_ptr<TableClaim>> ClaimTable(const TableKey& table) override;
  void WatchChanges(std::function<void()> on_change) override;

  // pg_admins.cc
  Status AddAdminUser(const AdminUser& user) override;
  Status SetAdminPassword(const std::string& name, const std::string& password_hash) override;
  Status SetAdminRole(const std::string& name, AdminRole role) override;
  Status RemoveAdminUser(const std::string& name) override;
  Result<std::optional<AdminUser>> GetAdminUser(const std::string& name) override;
  Result<std::vector<AdminUser>> ListAdminUsers() override;
  Result<int64_t> CountFailedLogin(const std::string& name) override;
  Status LockAdminUser(const std::string& name, int64_t until) override;
  Status StartAdminSession(const std::string& name, const std::string& token_sha256, int64_t now,
                           int64_t expires_at) override;
  Result<std::optional<AdminSession>> GetAdminSession(const std::string& token_sha256,
                                                      int64_t now) override;
  Status EndAdminSession(const std::string& token_sha256) override;

 protected:
  // pg_alerts.cc
  Status RunSharedSql(bool write, const std::function<Status(SharedSql&)>& body) override;

 private:
  // One statement on user `name` ($1, and `value` as $2 unless it removes the user); kNotFound
  // when it changed nothing; `end_sessions` ends the user's sessions in the same transaction.
  Status AdminUserWrite(const std::string& name, const char* sql, std::string_view value,
                        bool end_sessions);

  using Body = std::function<Status(postgres::Conn&)>;

  // Runs `body` on a leased connection outside any transaction block (reads: one statement,
  // or several that need not agree). Retried once on a fresh connection when an idle one
  // turns out to have been closed by the server meanwhile.
  Status Read(const Body& body);
  // Runs `body` in a transaction that also notifies the listeners, then commits (durably) and
  // counts a local change. Retried like Read, only when the transaction could not begin.
  Status Write(const Body& body);

  // An idle connection or a new one (at most kMaxConnections open; waits for one otherwise).
  // `reused`: it had served before (and may have been closed by the server since).
  Result<std::unique_ptr<postgres::Conn>> Acquire(bool* reused) EXCLUDES(mu_);
  // Gives a connection back: kept when healthy and idle, closed otherwise.
  void Release(std::unique_ptr<postgres::Conn> conn) EXCLUDES(mu_);

  // Inside the caller's transaction. kNotFound (NoFile) for an unknown seq; kInvalidArgument
  // unless its status is one of `allowed`. Locks the file's row until the transaction ends,
  // so that the check holds for the write that follows.
  Status RequireStatus(postgres::Conn& c, int64_t seq, std::span<const FileStatus> allowed,
                       std::string_view action);
  Status RequireBytes(postgres::Conn& c, int64_t seq, std::string_view action);
  // The loader state an operator action may assume (see the file comment); `hold` keeps the
  // claim that makes kStopped true until the action is over.
  Result<LoaderState> OperatorLoaderState(int64_t seq, LoaderState loader,
                                          std::unique_ptr<TableClaim>* hold);
  // Requeues (Retry, RetryForced) or skips a file an operator names.
  Status OperatorWrite(int64_t seq, LoaderState loader, bool forced, std::string_view action,
                       const std::string& set_sql);
  // Inside the caller's transaction: whether the connection exists; `lock` takes its row FOR
  // SHARE so that a concurrent DeleteConnection waits.
  Result<bool> ConnectionExists(postgres::Conn& c, const std::string& id, bool lock = false);
  // Inside the caller's transaction: inserts `r` with the table's next seq (see the file
  // comment) and returns it.
  Result<int64_t> InsertFile(postgres::Conn& c, const FileRecord& r);
  // Inside the caller's transaction: a new key with its sealed secret for `connection_id`
  // (empty: an account key).
  Result<CreatedKey> InsertKey(postgres::Conn& c, const std::string& connection_id,
                               int64_t created_at, int64_t expires_at);
  Status ValidateTable(postgres::Conn& c, const TableConfig& table);
  // Runs a table statement (AddTable, UpdateTable) that must change one row, else `none`.
  Status WriteTable(const TableConfig& table, const std::string& sql, const Status& none);
  // Reads files with one statement.
  Result<std::vector<FileRecord>> QueryFiles(const std::string& sql, const postgres::Params& p);
  Result<std::optional<FileRecord>> QueryFile(const std::string& sql, const postgres::Params& p);

  // Listener (pg_nodes.cc): started once, by the first WatchChanges or ChangeCounter.
  void StartListener();
  void ListenLoop();
  bool OwnBackend(int pid) EXCLUDES(mu_);

  const std::string conninfo_;
  const SecretBox box_;
  const Clock& clock_;

  Mutex mu_;
  CondVar conn_freed_;
  std::vector<std::unique_ptr<postgres::Conn>> idle_ GUARDED_BY(mu_);
  size_t open_ GUARDED_BY(mu_) = 0;
  // The backend pids of the connections above: their notifications are this node's own.
  std::set<int> own_pids_ GUARDED_BY(mu_);
  // Held while the callback runs, so that WatchChanges({}) returns only once no call is in
  // flight (the loader clears it before it goes).
  Mutex watch_mu_;
  std::function<void()> on_change_ GUARDED_BY(watch_mu_);
  bool listening_ GUARDED_BY(mu_) = false;
  CondVar listening_changed_;

  std::shared_ptr<ClaimConns> claims_;

  std::atomic<int64_t> local_writes_{0};
  std::atomic<int64_t> notifications_{0};
  std::once_flag listener_started_;
  std::atomic<bool> stopping_{false};
  int stop_fd_ = -1;  // an eventfd: written once, by the destructor, to end ListenLoop
  std::thread listener_;
};

}  // namespace sluice::catalog
