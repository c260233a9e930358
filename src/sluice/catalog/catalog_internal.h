#pragma once
// Private to catalog: the SQLite-backed Catalog. Connections, credentials and tables live in
// catalog.cc, the ledger in ledger.cc; the schema in schema.cc.

#include "sluice/catalog/catalog.h"
#include "sluice/catalog/rules_internal.h"
#include "sluice/catalog/secret_box_internal.h"
#include "sluice/core/mutex.h"
#include "sluice/sqlite/sqlite.h"

namespace sluice::catalog {

// Creates or migrates the schema inside the caller's write transaction. Returns whether the
// credentials table holds any row (a missing secret.key is then an error, not a fresh start).
Result<bool> EnsureSchema(sqlite::Db& db);

class SqliteCatalog final : public Catalog {
 public:
  SqliteCatalog(std::unique_ptr<sqlite::Db> db, SecretBox box, const Clock& clock)
      : db_(std::move(db)), box_(box), clock_(clock) {}

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

  Status AddTable(const TableConfig& table) override;
  Status UpdateTable(const TableConfig& table) override;
  Result<std::optional<TableConfig>> GetTable(const std::string& connection_id,
                                              const std::string& name) override;
  Result<std::vector<TableConfig>> ListTables(const std::string& connection_id) override;
  Status RemoveTable(const std::string& connection_id, const std::string& name) override;

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
  Result<std::optional<FileRecord>> VisibleFile(const std::string& connection_id,
                                                const std::string& key) override;
  Result<VisiblePage> ListVisible(const std::string& connection_id, const std::string& prefix,
                                  const std::string& start_after, size_t limit) override;
  Result<std::vector<FileRecord>> DeleteKey(const std::string& connection_id,
                                            const std::string& key) override;
  // versions.cc
  Result<FileVersionPage> ListVersions(const std::string& connection_id, const std::string& prefix,
                                       const std::string& after_key, int64_t before_seq,
                                       size_t limit) override;
  Result<std::optional<FileVersion>> GetVersion(const std::string& connection_id,
                                                const std::string& key, int64_t seq) override;
  Result<std::optional<FileVersion>> DeleteVersion(const std::string& connection_id,
                                                   const std::string& key, int64_t seq) override;
  Result<bool> RemoveDeleteMarker(const std::string& connection_id, const std::string& key,
                                  int64_t seq) override;
  Result<CreatedKey> CreateAccountKey(int64_t expires_at) override;
  Result<Connection> CreateBucketConnection(const std::string& bucket) override;
  Result<std::vector<std::string>> DeleteConnection(const std::string& id) override;

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
  Result<int64_t> ChangeCounter() override;
  bool Shared() const override { return false; }
  Result<std::unique_ptr<TableClaim>> ClaimTable(const TableKey& table) override;
  void WatchChanges(std::function<void()> /*on_change*/) override {}
  InPoolWrite LoadedInPool(int64_t /*seq*/, int64_t /*finished_at*/) override { return {}; }

  // stats.cc
  Result<std::vector<TableBacklog>> BacklogByTable() override;
  Result<std::vector<StatusCount>> CountPending() override;
  Result<std::vector<FileRecord>> RetainedBefore(int64_t finished_before, size_t limit) override;
  Status MarkPurged(int64_t seq, int64_t purged_at) override;
  Result<std::vector<std::pair<std::string, uint64_t>>> StoredBytesByConnection() override;

  // admins.cc
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
  // alerts.cc
  Status RunSharedSql(bool write, const std::function<Status(SharedSql&)>& body) override;

 private:
  // One statement on user `name` ($1, and `value` as $2 unless it removes the user); kNotFound
  // when it changed nothing; `end_sessions` ends the user's sessions in the same transaction.
  Status AdminUserWrite(const std::string& name, const char* sql, std::string_view value,
                        bool end_sessions);

  // Runs `body` in a durable write transaction (synchronous=FULL: the WAL is fsync'd at
  // commit) and counts the commit as a local change. Caller holds mu_, and `body` runs
  // under it: bodies are lambdas declared `[&]() REQUIRES(mu_) -> Status`.
  template <class Body>
  Status Write(Body&& body) REQUIRES(mu_) {
    sqlite::WriteTransaction txn(*db_);
    SLUICE_RETURN_IF_ERROR(txn.Begin());
    SLUICE_RETURN_IF_ERROR(body());
    SLUICE_RETURN_IF_ERROR(txn.Commit());
    ++local_writes_;
    return Status::Ok();
  }

  Result<bool> ConnectionExists(const std::string& id) REQUIRES(mu_);
  // The insert of AppendFile, inside the caller's transaction; returns the seq.
  Result<int64_t> InsertFile(const FileRecord& r) REQUIRES(mu_);
  // An unused access key with its sealed secret, inserted for `connection_id` (empty: an
  // account key), inside the caller's transaction.
  Result<CreatedKey> InsertKey(const std::string& connection_id, int64_t created_at,
                               int64_t expires_at = 0) REQUIRES(mu_);
  Status ValidateTable(const TableConfig& table) REQUIRES(mu_);
  // The caller holds mu_ for these.
  Result<std::optional<FileRecord>> FileLocked(int64_t seq) REQUIRES(mu_);
  // GetVersion, the caller holding mu_.
  Result<std::optional<FileVersion>> VersionLocked(const std::string& connection_id,
                                                   const std::string& key, int64_t seq)
      REQUIRES(mu_);
  // kNotFound when there is no file `seq`, kInvalidArgument naming its status when that is
  // not one of `allowed`.
  Status RequireStatus(int64_t seq, std::span<const FileStatus> allowed, std::string_view action)
      REQUIRES(mu_);
  Status RequireOperatorStatus(int64_t seq, LoaderState loader, bool forced,
                               std::string_view action) REQUIRES(mu_);
  // kInvalidArgument naming the file when retention purged its bytes: nothing to load.
  Status RequireBytes(int64_t seq, std::string_view action) REQUIRES(mu_);

  Mutex mu_;
  // One SQLite connection, used by one thread at a time.
  std::unique_ptr<sqlite::Db> db_ GUARDED_BY(mu_);
  SecretBox box_;
  const Clock& clock_;
  int64_t local_writes_ GUARDED_BY(mu_) = 0;
  int64_t last_data_version_ GUARDED_BY(mu_) = -1;
  int64_t change_counter_ GUARDED_BY(mu_) = 0;
};

}  // namespace sluice::catalog
