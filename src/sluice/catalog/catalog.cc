// The Catalog's opening, connections, credentials and tables. The ledger is in ledger.cc.
#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "sluice/catalog/catalog_internal.h"
#include "sluice/catalog/names_internal.h"

namespace sluice::catalog {
namespace {

constexpr char kDatabaseFile[] = "catalog.db";
constexpr char kSecretKeyFile[] = "secret.key";
// Operator input, but bounded anyway: a composite key wider than this is a mistake.
constexpr size_t kMaxPrimaryKeyColumns = 32;
// Access keys are 18 random characters from 36; a collision is astronomically unlikely, but
// the loop is cheap insurance against handing out a key twice.
constexpr int kAccessKeyAttempts = 4;

std::string_view PolicyName(UnconfiguredPolicy p) {
  switch (p) {
    case UnconfiguredPolicy::kHold:
      return "hold";
    case UnconfiguredPolicy::kRefuse:
      return "refuse";
    case UnconfiguredPolicy::kStore:
      return "store";
  }
  return "hold";
}

Result<UnconfiguredPolicy> PolicyFromName(const std::string& s) {
  if (s == "hold") return UnconfiguredPolicy::kHold;
  if (s == "refuse") return UnconfiguredPolicy::kRefuse;
  if (s == "store") return UnconfiguredPolicy::kStore;
  return Err(ErrorCode::kInternal, "catalog: unknown unconfigured-table policy '" + s + "'");
}

std::string_view OnErrorName(OnError e) { return e == OnError::kSkip ? "skip" : "block"; }

Result<OnError> OnErrorFromName(const std::string& s) {
  if (s == "block") return OnError::kBlock;
  if (s == "skip") return OnError::kSkip;
  return Err(ErrorCode::kInternal, "catalog: unknown on_error value '" + s + "'");
}

std::string PrimaryKeyToJson(const std::vector<std::string>& columns) {
  return nlohmann::json(columns).dump();
}

Result<std::vector<std::string>> PrimaryKeyFromJson(const std::string& text,
                                                    const std::string& table) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  std::vector<std::string> out;
  if (j.is_array()) {
    for (const auto& item : j) {
      if (!item.is_string()) break;
      out.push_back(item.get<std::string>());
    }
    if (out.size() == j.size()) return out;
  }
  return Err(ErrorCode::kInternal,
             "catalog: the stored primary key of table " + table + " is not a JSON string array");
}

constexpr const char* kConnectionColumns =
    "SELECT id, name, unconfigured, created_at, coalesce(quota_bytes, -1) FROM connections";

Result<Connection> ConnectionFromRow(const sqlite::Statement& q) {
  Connection c;
  c.id = q.Text(0);
  c.name = q.Text(1);
  SLUICE_ASSIGN_OR_RETURN(c.unconfigured, PolicyFromName(q.Text(2)));
  c.created_at = q.Int(3);
  if (q.Int(4) >= 0) c.quota_bytes = static_cast<uint64_t>(q.Int(4));
  return c;
}

Result<TableConfig> TableFromRow(const sqlite::Statement& q) {
  TableConfig t;
  t.connection_id = q.Text(0);
  t.name = q.Text(1);
  SLUICE_ASSIGN_OR_RETURN(t.primary_key,
                          PrimaryKeyFromJson(q.Text(2), t.connection_id + "/" + t.name));
  t.age_column = q.Text(3);
  SLUICE_ASSIGN_OR_RETURN(t.on_error, OnErrorFromName(q.Text(4)));
  t.delete_column = q.Text(5);
  t.nested_json = q.Text(6);
  return t;
}

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
    if (exists) {
      return Err(ErrorCode::kAlreadyExists, "connection '" + id + "' already exists");
    }
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
  std::string access_key;
  for (int attempt = 0; attempt < kAccessKeyAttempts && access_key.empty(); ++attempt) {
    SLUICE_ASSIGN_OR_RETURN(std::string candidate, NewAccessKey());
    SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q,
                            db_->Cached("SELECT 1 FROM credentials WHERE access_key = ?"));
    q.Bind(1, candidate);
    SLUICE_ASSIGN_OR_RETURN(bool taken, q.Step());
    if (!taken) access_key = candidate;
  }
  if (access_key.empty()) {
    return Err(ErrorCode::kInternal, "catalog: could not draw an unused access key");
  }
  SLUICE_ASSIGN_OR_RETURN(Secret secret, NewSecret());
  SLUICE_ASSIGN_OR_RETURN(Sealed sealed, box_.Seal(secret, access_key));
  // NULLIF: an account key has no connection (NULL passes the foreign key).
  SLUICE_ASSIGN_OR_RETURN(
      sqlite::Statement q,
      db_->Cached("INSERT INTO credentials (access_key, connection_id, ciphertext, "
                  "nonce, active, created_at, expires_at) "
                  "VALUES (?,NULLIF(?, ''),?,?,1,?,?)"));
  q.Bind(1, access_key).Bind(2, connection_id).BindBlob(3, AsBytes(sealed.ciphertext));
  q.BindBlob(4, AsBytes(sealed.nonce)).Bind(5, created_at).Bind(6, expires_at);
  SLUICE_RETURN_IF_ERROR(q.Run());
  return CreatedKey{AccessKeyId(std::move(access_key)), std::move(secret)};
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
  if (id != bucket) {
    return Err(ErrorCode::kInvalidArgument,
               "bucket name '" + bucket +
                   "' is not a valid connection id: use 3 to 63 characters from a-z, 0-9 and "
                   "'-', starting and ending with a letter or digit");
  }
  MutexLock lock(&mu_);
  Connection out{id, id, UnconfiguredPolicy::kHold, clock_.NowMicros()};
  SLUICE_RETURN_IF_ERROR(Write([&]() REQUIRES(mu_) -> Status {
    SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q,
                            db_->Cached("INSERT INTO connections (id, name, "
                                        "unconfigured, created_at) VALUES (?,?,?,?) "
                                        "ON CONFLICT DO NOTHING"));
    q.Bind(1, id).Bind(2, id).Bind(3, PolicyName(out.unconfigured)).Bind(4, out.created_at);
    SLUICE_RETURN_IF_ERROR(q.Run());
    if (db_->Changes() == 0) {
      return Err(ErrorCode::kAlreadyExists, "connection '" + id + "' already exists");
    }
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<Connection>> SqliteCatalog::ListConnections() {
  MutexLock lock(&mu_);
  static const std::string sql = std::string(kConnectionColumns) + " ORDER BY id";
  SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q, db_->Cached(sql.c_str()));
  return sqlite::ReadRows(q, ConnectionFromRow);
}

Result<std::vector<Connection>> SqliteCatalog::ListConnectionsPage(const std::string& after_id,
                                                                   size_t limit) {
  limit = std::clamp<size_t>(limit, 1, kMaxListPage);
  MutexLock lock(&mu_);
  static const std::string sql =
      std::string(kConnectionColumns) + " WHERE id > ? ORDER BY id LIMIT ?";
  SLUICE_ASSIGN_OR_RETURN(sqlite::Statement q, db_->Cached(sql.c_str()));
  q.Bind(1, after_id).Bind(2, static_cast<int64_t>(limit));
  return sqlite::ReadRows(q, ConnectionFromRow);
}

Result<std::optional<Connection>> SqliteCatalog::GetConnection(const std::string& id) {
  MutexLock lock(&mu_);
  static const std::string sql = std::string(kConnectionColumns) + " WHERE id = ?";
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
    if (db_->Changes() == 0) return Err(ErrorCode::kNotFound, "no connection '" + id + "'");
    return Status::Ok();
  });
}

Status SqliteCatalog::SetConnectionQuota(const std::string& id, std::optional<uint64_t> bytes) {
  if (bytes && *bytes > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return Err(ErrorCode::kInvalidArgument, "catalog: a quota of " + std::to_string(*bytes) +
                                                " bytes is larger than the catalog can store");
  }
  MutexLock lock(&mu_);
  return Write([&]() REQUIRES(mu_) -> Status {
    // -1 stands for NULL (the server's default): sqlite::Statement binds no NULL.
    SLUICE_ASSIGN_OR_RETURN(
        sqlite::Statement q,
        db_->Cached("UPDATE connections SET quota_bytes = nullif(?, -1) WHERE id = ?"));
    q.Bind(1, bytes ? static_cast<int64_t>(*bytes) : int64_t{-1}).Bind(2, id);
    SLUICE_RETURN_IF_ERROR(q.Run());
    if (db_->Changes() == 0) return Err(ErrorCode::kNotFound, "no connection '" + id + "'");
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
  SLUICE_RETURN_IF_ERROR(ValidateTableName(table.name));
  if (table.primary_key.empty()) {
    return Err(ErrorCode::kInvalidArgument,
               "table " + table.name + ": at least one primary-key column is required");
  }
  if (table.primary_key.size() > kMaxPrimaryKeyColumns) {
    return Err(ErrorCode::kInvalidArgument,
               "table " + table.name + ": " + std::to_string(table.primary_key.size()) +
                   " primary-key columns; at most " + std::to_string(kMaxPrimaryKeyColumns));
  }
  std::set<std::string> seen;
  for (const std::string& column : table.primary_key) {
    if (column.empty()) {
      return Err(ErrorCode::kInvalidArgument,
                 "table " + table.name + ": a primary-key column name is empty");
    }
    if (!seen.insert(column).second) {
      return Err(ErrorCode::kInvalidArgument,
                 "table " + table.name + ": primary-key column '" + column + "' is listed twice");
    }
  }
  if (!table.delete_column.empty()) {
    // A key column cannot say "delete me", and the age column orders deletes.
    if (seen.count(table.delete_column) != 0) {
      return Err(ErrorCode::kInvalidArgument, "table " + table.name + ": delete column '" +
                                                  table.delete_column +
                                                  "' is a primary-key column");
    }
    if (table.delete_column == table.age_column) {
      return Err(ErrorCode::kInvalidArgument, "table " + table.name + ": delete column '" +
                                                  table.delete_column + "' is also the age column");
    }
  }
  if (!table.nested_json.empty()) {
    // The shape module owns the format; the catalog keeps garbage out.
    const nlohmann::json j =
        nlohmann::json::parse(table.nested_json, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) {
      return Err(ErrorCode::kInvalidArgument,
                 "table " + table.name + ": the nested configuration is not a JSON object");
    }
  }
  SLUICE_ASSIGN_OR_RETURN(bool exists, ConnectionExists(table.connection_id));
  if (!exists) {
    return Err(ErrorCode::kNotFound, "no connection '" + table.connection_id + "'");
  }
  return Status::Ok();
}

Status SqliteCatalog::AddTable(const TableConfig& table) {
  MutexLock lock(&mu_);
  return Write([&]() REQUIRES(mu_) -> Status {
    SLUICE_RETURN_IF_ERROR(ValidateTable(table));
    SLUICE_ASSIGN_OR_RETURN(
        sqlite::Statement q,
        db_->Cached("INSERT INTO tables (connection_id, name, primary_key, age_column, "
                    "on_error, delete_column, nested_json) VALUES (?,?,?,?,?,?,?) "
                    "ON CONFLICT DO NOTHING"));
    q.Bind(1, table.connection_id).Bind(2, table.name).Bind(3, PrimaryKeyToJson(table.primary_key));
    q.Bind(4, table.age_column).Bind(5, OnErrorName(table.on_error)).Bind(6, table.delete_column);
    q.Bind(7, table.nested_json);
    SLUICE_RETURN_IF_ERROR(q.Run());
    if (db_->Changes() == 0) {
      return Err(ErrorCode::kAlreadyExists,
                 "table " + table.name + " already exists in connection " + table.connection_id);
    }
    return Status::Ok();
  });
}

Status SqliteCatalog::UpdateTable(const TableConfig& table) {
  MutexLock lock(&mu_);
  return Write([&]() REQUIRES(mu_) -> Status {
    SLUICE_RETURN_IF_ERROR(ValidateTable(table));
    SLUICE_ASSIGN_OR_RETURN(
        sqlite::Statement q,
        db_->Cached("UPDATE tables SET primary_key = ?, age_column = ?, on_error = ?, "
                    "delete_column = ?, nested_json = ? WHERE connection_id = ? AND name = ?"));
    q.Bind(1, PrimaryKeyToJson(table.primary_key)).Bind(2, table.age_column);
    q.Bind(3, OnErrorName(table.on_error)).Bind(4, table.delete_column);
    q.Bind(5, table.nested_json).Bind(6, table.connection_id).Bind(7, table.name);
    SLUICE_RETURN_IF_ERROR(q.Run());
    if (db_->Changes() == 0) {
      return Err(ErrorCode::kNotFound,
                 "no table " + table.name + " in connection " + table.connection_id);
    }
    return Status::Ok();
  });
}

Result<std::optional<TableConfig>> SqliteCatalog::GetTable(const std::string& connection_id,
                                                           const std::string& name) {
  MutexLock lock(&mu_);
  SLUICE_ASSIGN_OR_RETURN(
      sqlite::Statement q,
      db_->Cached("SELECT connection_id, name, primary_key, age_column, on_error, "
                  "delete_column, nested_json FROM "
                  "tables WHERE connection_id = ? AND name = ?"));
  q.Bind(1, connection_id).Bind(2, name);
  SLUICE_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<TableConfig>();
  SLUICE_ASSIGN_OR_RETURN(TableConfig t, TableFromRow(q));
  return std::optional<TableConfig>(std::move(t));
}

Result<std::vector<TableConfig>> SqliteCatalog::ListTables(const std::string& connection_id) {
  MutexLock lock(&mu_);
  SLUICE_ASSIGN_OR_RETURN(bool exists, ConnectionExists(connection_id));
  if (!exists) return Err(ErrorCode::kNotFound, "no connection '" + connection_id + "'");
  SLUICE_ASSIGN_OR_RETURN(
      sqlite::Statement q,
      db_->Cached("SELECT connection_id, name, primary_key, age_column, on_error, "
                  "delete_column, nested_json FROM "
                  "tables WHERE connection_id = ? ORDER BY name"));
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
