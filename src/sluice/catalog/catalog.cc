// The Catalog's opening, connections, credentials and tables. The ledger is in ledger.cc.
#include <algorithm>

#include "sluice/catalog/catalog_internal.h"
#include "sluice/catalog/names_internal.h"

namespace sluice::catalog {
namespace {

constexpr char kDatabaseFile[] = "catalog.db";
constexpr char kSecretKeyFile[] = "secret.key";

}  // namespace

Result<std::unique_ptr<Catalog>> Catalog::Open(const std::string& data_dir, FileSystem& fs,
                                               const Clock& clock) {
  SLUICE_RETURN_IF_ERROR(fs.CreateDirs(data_dir));
  SLUICE_ASSIGN_OR_RETURN(
      std::unique_ptr<sqlite::Db> db,
      sqlite::Db::Open(
          JoinPath(data_dir, kDatabaseFile),
          {.label = "catalog", .pragmas = "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;"}));
  {
    // journal_mode answers with the mode in force; anything but "wal" (a file system without
    // shared memory, say) would silently lose the reader/writer concurrency we rely on.
    SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q, db->Cached("PRAGMA journal_mode = WAL"));
    SLUICE_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row || q.Text(0) != "wal") {
      return Err(ErrorCode::kIoError, "catalog: cannot put " + JoinPath(data_dir, kDatabaseFile) +
                                          " in WAL mode (got '" + (row ? q.Text(0) : "") + "')");
    }
  }

  // The schema and the key file are set up under the database's write lock, so that a server
  // and a CLI starting together agree on one secret.key.
  sqlite::WriteTransaction txn(*db);
  SLUICE_RETURN_IF_ERROR(txn.Begin());
  SLUICE_ASSIGN_OR_RETURN(bool has_credentials, EnsureSchema(*db));
  SLUICE_ASSIGN_OR_RETURN(SecretBox box,
                          SecretBox::LoadOrCreate(fs, JoinPath(data_dir, kSecretKeyFile),
                                                  /*create_if_missing=*/!has_credentials));
  SLUICE_RETURN_IF_ERROR(txn.Commit());
  return std::unique_ptr<Catalog>(new SqliteCatalog(std::move(db), box, clock));
}

Result<bool> SqliteCatalog::ConnectionExists(const std::string& id) {
  SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q,
                          db_->Cached("SELECT 1 FROM connections WHERE id = ?"));
  q.Bind(1, id);
  return q.Step();
}

Result<CreatedConnection> SqliteCatalog::CreateConnection(const std::string& name) {
  SLUICE_ASSIGN_OR_RETURN(std::string id, DeriveConnectionId(name));
  MutexLock lock(&mu_);
  CreatedConnection out;
  out.connection = Connection{id, name, UnconfiguredPolicy::kHold, clock_.NowMicros()};
  SLUICE_RETURN_IF_ERROR(Write([&]() REQUIRES(mu_) -> Status {
    SLUICE_ASSIGN_OR_RETURN(bool exists, ConnectionExists(id));
    if (exists) return ConnectionExistsError(id);
    {
      SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q,
                              db_->Cached("INSERT INTO connections (id, name, "
                                          "unconfigured, created_at) VALUES (?,?,?,?)"));
      q.Bind(1, id).Bind(2, name).Bind(3, PolicyName(out.connection.unconfigured));
      q.Bind(4, out.connection.created_at);
      SLUICE_RETURN_IF_ERROR(q.Run());
    }
    SLUICE_ASSIGN_OR_RETURN(CreatedKey key, InsertKey(id, out.connection.created_at));
    out.access_key = std::move(key.access_key);
    out.secret = std::move(key.secret);
    return Status::Ok();
  }));
  return out;
}

Result<CreatedKey> SqliteCatalog::InsertKey(const std::string& connection_id, int64_t created_at,
                                            int64_t expires_at) {
  SLUICE_ASSIGN_OR_RETURN(
      NewKey key, DrawKey(box_, [&](const std::string& candidate) REQUIRES(mu_) -> Result<bool> {
        SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q,
                                db_->Cached("SELECT 1 FROM credentials WHERE access_key = ?"));
        q.Bind(1, candidate);
        return q.Step();
      }));
  // NULLIF: an account key has no connection (NULL passes the foreign key).
  SLUICE_ASSIGN_OR_RETURN(
      sqlite::Statement q,
      db_->Cached("INSERT INTO credentials (access_key, connection_id, ciphertext, "
                  "nonce, active, created_at, expires_at) "
                  "VALUES (?,NULLIF(?, ''),?,?,1,?,?)"));
  q.Bind(1, key.access_key).Bind(2, connection_id).BindBlob(3, AsBytes(key.sealed.ciphertext));
  q.BindBlob(4, AsBytes(key.sealed.nonce)).Bind(5, created_at).Bind(6, expires_at);
  SLUICE_RETURN_IF_ERROR(q.Run());
  return CreatedKey{AccessKeyId(std::move(key.access_key)), std::move(key.secret)};
}

Result<CreatedKey> SqliteCatalog::CreateAccountKey(int64_t expires_at) {
  const int64_t now = clock_.NowMicros();
  SLUICE_RETURN_IF_ERROR(CheckKeyExpiry(expires_at, now));
  MutexLock lock(&mu_);
  CreatedKey out;
  SLUICE_RETURN_IF_ERROR(Write([&]() REQUIRES(mu_) -> Status {
    SLUICE_ASSIGN_OR_RETURN(out, InsertKey("", now, expires_at));
    return Status::Ok();
  }));
  return out;
}

Result<Connection> SqliteCatalog::CreateBucketConnection(const std::string& bucket) {
  SLUICE_ASSIGN_OR_RETURN(std::string id, DeriveConnectionId(bucket));
  if (id != bucket) return InvalidBucketName(bucket);
  MutexLock lock(&mu_);
  Connection out{id, id, UnconfiguredPolicy::kHold, clock_.NowMicros()};
  SLUICE_RETURN_IF_ERROR(Write([&]() REQUIRES(mu_) -> Status {
    SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q,
                            db_->Cached("INSERT INTO connections (id, name, "
                                        "unconfigured, created_at) VALUES (?,?,?,?) "
                                        "ON CONFLICT DO NOTHING"));
    q.Bind(1, id).Bind(2, id).Bind(3, PolicyName(out.unconfigured)).Bind(4, out.created_at);
    SLUICE_RETURN_IF_ERROR(q.Run());
    if (db_->Changes() == 0) return ConnectionExistsError(id);
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<Connection>> SqliteCatalog::ListConnections() {
  MutexLock lock(&mu_);
  static const std::string sql = std::string(SLUICE_CONNECTION_COLUMNS) + "ORDER BY id";
  SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q, db_->Cached(sql.c_str()));
  return sqlite::ReadRows(q, ConnectionFromRow<sqlite::Statement>);
}

Result<std::vector<Connection>> SqliteCatalog::ListConnectionsPage(const std::string& after_id,
                                                                   size_t limit) {
  limit = std::clamp<size_t>(limit, 1, kMaxListPage);
  MutexLock lock(&mu_);
  static const std::string sql =
      std::string(SLUICE_CONNECTION_COLUMNS) + "WHERE id > ? ORDER BY id LIMIT ?";
  SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q, db_->Cached(sql.c_str()));
  q.Bind(1, after_id).Bind(2, static_cast<int64_t>(limit));
  return sqlite::ReadRows(q, ConnectionFromRow<sqlite::Statement>);
}

Result<std::optional<Connection>> SqliteCatalog::GetConnection(const std::string& id) {
  MutexLock lock(&mu_);
  static const std::string sql = std::string(SLUICE_CONNECTION_COLUMNS) + "WHERE id = ?";
  SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q, db_->Cached(sql.c_str()));
  q.Bind(1, id);
  SLUICE_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<Connection>();
  SLUICE_ASSIGN_OR_RETURN(Connection c, ConnectionFromRow(q));
  return std::optional<Connection>(std::move(c));
}

Status SqliteCatalog::SetUnconfiguredPolicy(const std::string& id, UnconfiguredPolicy policy) {
  MutexLock lock(&mu_);
  return Write([&]() REQUIRES(mu_) -> Status {
    SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q,
                            db_->Cached("UPDATE connections SET unconfigured = ? WHERE id = ?"));
    q.Bind(1, PolicyName(policy)).Bind(2, id);
    SLUICE_RETURN_IF_ERROR(q.Run());
    if (db_->Changes() == 0) return NoConnection(id);
    return Status::Ok();
  });
}

Status SqliteCatalog::SetConnectionQuota(const std::string& id, std::optional<uint64_t> bytes) {
  SLUICE_RETURN_IF_ERROR(CheckQuotaBytes(bytes));
  MutexLock lock(&mu_);
  return Write([&]() REQUIRES(mu_) -> Status {
    // -1 stands for NULL (the server's default): sqlite::Statement binds no NULL.
    SLUICE_ASSIGN_OR_RETURN(
        sqlite::Statement q,
        db_->Cached("UPDATE connections SET quota_bytes = nullif(?, -1) WHERE id = ?"));
    q.Bind(1, bytes ? static_cast<int64_t>(*bytes) : int64_t{-1}).Bind(2, id);
    SLUICE_RETURN_IF_ERROR(q.Run());
    if (db_->Changes() == 0) return NoConnection(id);
    return Status::Ok();
  });
}

Result<std::optional<Credential>> SqliteCatalog::LookupAccessKey(const AccessKeyId& key) {
  MutexLock lock(&mu_);
  // Read on every request, no cache: a revocation by another process (the CLI) holds from
  // the next request on.
  SLUICE_ASSIGN_OR_RETURN(
      sqlite::Statement q,
      db_->Cached("SELECT connection_id, ciphertext, nonce FROM credentials WHERE "
                  "access_key = ? AND active AND revoked_at = 0 AND "
                  "(expires_at = 0 OR expires_at > ?)"));
  q.Bind(1, key.str()).Bind(2, clock_.NowMicros());
  SLUICE_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<Credential>();
  Credential c;
  c.access_key = key;
  c.connection_id = q.Text(0);
  Sealed sealed{q.Blob(2), q.Blob(1)};
  SLUICE_ASSIGN_OR_RETURN(c.secret, box_.Open(sealed, key.str()));
  c.active = true;
  return std::optional<Credential>(std::move(c));
}

Status SqliteCatalog::ValidateTable(const TableConfig& table) {
  SLUICE_RETURN_IF_ERROR(ValidateTableFields(table));
  SLUICE_ASSIGN_OR_RETURN(bool exists, ConnectionExists(table.connection_id));
  if (!exists) return NoConnection(table.connection_id);
  return Status::Ok();
}

Status SqliteCatalog::AddTable(const TableConfig& table) {
  MutexLock lock(&mu_);
  return Write([&]() REQUIRES(mu_) -> Status {
    SLUICE_RETURN_IF_ERROR(ValidateTable(table));
    SLUICE_ASSIGN_OR_RETURN(
        sqlite::Statement q,
        db_->Cached(
            "INSERT INTO tables (connection_id, name, primary_key, age_column, "
            "on_error, delete_column, nested_json, load_hidden_keys) VALUES (?,?,?,?,?,?,?,?) "
            "ON CONFLICT DO NOTHING"));
    q.Bind(1, table.connection_id).Bind(2, table.name).Bind(3, PrimaryKeyToJson(table.primary_key));
    q.Bind(4, table.age_column).Bind(5, OnErrorName(table.on_error)).Bind(6, table.delete_column);
    q.Bind(7, table.nested_json).Bind(8, int64_t{table.load_hidden_keys});
    SLUICE_RETURN_IF_ERROR(q.Run());
    if (db_->Changes() == 0) return TableExistsError(table);
    return Status::Ok();
  });
}

Status SqliteCatalog::UpdateTable(const TableConfig& table) {
  MutexLock lock(&mu_);
  return Write([&]() REQUIRES(mu_) -> Status {
    SLUICE_RETURN_IF_ERROR(ValidateTable(table));
    SLUICE_ASSIGN_OR_RETURN(
        sqlite::Statement q,
        db_->Cached(
            "UPDATE tables SET primary_key = ?, age_column = ?, on_error = ?, "
            "delete_column = ?, nested_json = ?, load_hidden_keys = ? WHERE connection_id = ? "
            "AND name = ?"));
    q.Bind(1, PrimaryKeyToJson(table.primary_key)).Bind(2, table.age_column);
    q.Bind(3, OnErrorName(table.on_error)).Bind(4, table.delete_column);
    q.Bind(5, table.nested_json).Bind(6, int64_t{table.load_hidden_keys});
    q.Bind(7, table.connection_id).Bind(8, table.name);
    SLUICE_RETURN_IF_ERROR(q.Run());
    if (db_->Changes() == 0) return NoTable(table);
    return Status::Ok();
  });
}

Status SqliteCatalog::RemoveTable(const std::string& connection_id, const std::string& name) {
  MutexLock lock(&mu_);
  // One write transaction: it holds the database's write lock from its BEGIN IMMEDIATE, so no
  // append, retry or MarkLoading of this or another process commits between the check and the
  // delete. Nothing else refers to the configuration (no cache): the loader and the S3 layer
  // read it afresh for every file.
  return Write([&]() REQUIRES(mu_) -> Status {
    {
      SLUICE_ASSIGN_OR_RETURN(
          sqlite::Statement q,
          db_->Cached("SELECT 1 FROM tables WHERE connection_id = ? AND name = ?"));
      q.Bind(1, connection_id).Bind(2, name);
      SLUICE_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) {
        SLUICE_ASSIGN_OR_RETURN(bool exists, ConnectionExists(connection_id));
        return exists ? NoTable(TableConfig{connection_id, name}) : NoConnection(connection_id);
      }
    }
    {
      SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q, db_->Cached(kTableBusySql));
      q.Bind(1, connection_id).Bind(2, name);
      SLUICE_ASSIGN_OR_RETURN(bool row, q.Step());
      if (row && q.Int(0) > 0) return TableBusy(name, q.Int(0));
    }
    SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q,
                            db_->Cached("DELETE FROM tables WHERE connection_id = ? AND name = ?"));
    q.Bind(1, connection_id).Bind(2, name);
    return q.Run();
  });
}

Result<std::optional<TableConfig>> SqliteCatalog::GetTable(const std::string& connection_id,
                                                           const std::string& name) {
  MutexLock lock(&mu_);
  SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q,
                          db_->Cached(SLUICE_TABLE_COLUMNS "WHERE connection_id = ? AND name = ?"));
  q.Bind(1, connection_id).Bind(2, name);
  SLUICE_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<TableConfig>();
  SLUICE_ASSIGN_OR_RETURN(TableConfig t, TableFromRow(q));
  return std::optional<TableConfig>(std::move(t));
}

Result<std::vector<TableConfig>> SqliteCatalog::ListTables(const std::string& connection_id) {
  MutexLock lock(&mu_);
  SLUICE_ASSIGN_OR_RETURN(bool exists, ConnectionExists(connection_id));
  if (!exists) return NoConnection(connection_id);
  SLUICE_ASSIGN_OR_RETURN(
      sqlite::Statement q,
      db_->Cached(SLUICE_TABLE_COLUMNS "WHERE connection_id = ? ORDER BY name"));
  q.Bind(1, connection_id);
  std::vector<TableConfig> out;
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    SLUICE_ASSIGN_OR_RETURN(TableConfig t, TableFromRow(q));
    out.push_back(std::move(t));
  }
  return out;
}

Result<int64_t> SqliteCatalog::ChangeCounter() {
  MutexLock lock(&mu_);
  // data_version moves only for commits by other connections; local commits are counted in
  // Write. The sum of the two monotonic counts changes whenever either does.
  SLUICE_ASSIGN_OR_RETURN(int64_t version, db_->QueryInt("PRAGMA data_version"));
  if (version != last_data_version_) {
    last_data_version_ = version;
    ++change_counter_;
  }
  return change_counter_ + local_writes_;
}

namespace {
// One server per data directory (serve.lock): nobody else loads from this ledger.
class LocalClaim final : public TableClaim {};
}  // namespace

Result<std::unique_ptr<TableClaim>> SqliteCatalog::ClaimTable(const TableKey& /*table*/) {
  return std::unique_ptr<TableClaim>(std::make_unique<LocalClaim>());
}

}  // namespace sluice::catalog
