// The PostgreSQL catalog's connections to the database, and the catalog's connections (the
// S3 buckets), credentials and tables. The ledger is in pg_ledger.cc.
#include <algorithm>

#include "sluice/catalog/names_internal.h"
#include "sluice/catalog/postgres/pg_catalog_internal.h"

namespace sluice::catalog {

using postgres::Conn;
using postgres::Params;
using postgres::Rows;

Result<std::unique_ptr<Conn>> PgCatalog::Acquire(bool* reused) {
  {
    MutexLock lock(&mu_);
    while (idle_.empty() && open_ >= kMaxConnections) conn_freed_.Wait(&mu_);
    *reused = !idle_.empty();
    if (*reused) {
      std::unique_ptr<Conn> conn = std::move(idle_.back());
      idle_.pop_back();
      return conn;
    }
    ++open_;  // reserved while connecting, outside the lock
  }
  Result<std::unique_ptr<Conn>> conn =
      Conn::Open(conninfo_, {.label = "catalog", .setup = kPgSetup});
  MutexLock lock(&mu_);
  if (!conn.ok()) {
    --open_;
    conn_freed_.Signal();
    return conn.status();
  }
  own_pids_.insert((*conn)->BackendPid());
  return conn;
}

void PgCatalog::Release(std::unique_ptr<Conn> conn) {
  MutexLock lock(&mu_);
  if (conn->Idle()) {
    idle_.push_back(std::move(conn));
  } else {
    // Broken, or left in a transaction by a failure: closed, and reopened on next use.
    own_pids_.erase(conn->BackendPid());
    conn.reset();
    --open_;
  }
  conn_freed_.Signal();
}

Status PgCatalog::Read(const Body& body) {
  while (true) {
    bool reused = false;
    SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<Conn> conn, Acquire(&reused));
    Status st = body(*conn);
    const bool lost = st.code() == ErrorCode::kUnavailable && !conn->Idle();
    Release(std::move(conn));
    // An idle connection the server closed meanwhile (a restart, an idle timeout) shows only
    // now; a read may simply run again on a new one.
    if (!(lost && reused)) return st;
  }
}

Status PgCatalog::Write(const Body& body) {
  while (true) {
    bool reused = false;
    SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<Conn> conn, Acquire(&reused));
    Status st;
    {
      postgres::Transaction txn(*conn);
      st = txn.Begin();
      if (!st.ok()) {
        const bool retry = reused && st.code() == ErrorCode::kUnavailable;
        txn.Rollback();
        Release(std::move(conn));
        if (retry) continue;  // nothing ran: safe to begin again
        return st;
      }
      st = body(*conn);
      // The notification goes out only if the transaction commits.
      if (st.ok()) st = txn.Commit(kPgNotify);
    }
    Release(std::move(conn));
    if (st.ok()) local_writes_.fetch_add(1, std::memory_order_relaxed);
    return st;
  }
}

Result<bool> PgCatalog::ConnectionExists(Conn& c, const std::string& id, bool lock) {
  SLUICE_ASSIGN_OR_RETURN(Rows rows,
                          c.Query(lock ? "SELECT 1 FROM connections WHERE id = $1 FOR SHARE"
                                       : "SELECT 1 FROM connections WHERE id = $1",
                                  Params().Text(id)));
  return rows.size() > 0;
}

Result<CreatedKey> PgCatalog::InsertKey(Conn& c, const std::string& connection_id,
                                        int64_t created_at, int64_t expires_at) {
  SLUICE_ASSIGN_OR_RETURN(
      NewKey key, DrawKey(box_, [&c](const std::string& candidate) -> Result<bool> {
        SLUICE_ASSIGN_OR_RETURN(
            Rows rows,
            c.Query("SELECT 1 FROM credentials WHERE access_key = $1", Params().Text(candidate)));
        return rows.size() > 0;
      }));
  // NULLIF: an account key has no connection (NULL passes the foreign key).
  SLUICE_RETURN_IF_ERROR(
      c.Query("INSERT INTO credentials (access_key, connection_id, ciphertext, nonce, active, "
              "created_at, expires_at) VALUES ($1, NULLIF($2, ''), $3, $4, 1, $5, $6)",
              Params()
                  .Text(key.access_key)
                  .Text(connection_id)
                  .Binary(postgres::oid::kBytea, key.sealed.ciphertext)
                  .Binary(postgres::oid::kBytea, key.sealed.nonce)
                  .Int(created_at)
                  .Int(expires_at),
              "inserting a credential")
          .status());
  return CreatedKey{AccessKeyId(std::move(key.access_key)), std::move(key.secret)};
}

Result<CreatedConnection> PgCatalog::CreateConnection(const std::string& name) {
  SLUICE_ASSIGN_OR_RETURN(std::string id, DeriveConnectionId(name));
  CreatedConnection out;
  out.connection = Connection{id, name, UnconfiguredPolicy::kHold, clock_.NowMicros()};
  SLUICE_RETURN_IF_ERROR(Write([&](Conn& c) -> Status {
    SLUICE_ASSIGN_OR_RETURN(Rows rows,
                            c.Query("INSERT INTO connections (id, name, unconfigured, created_at) "
                                    "VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                                    Params()
                                        .Text(id)
                                        .Text(name)
                                        .Text(PolicyName(out.connection.unconfigured))
                                        .Int(out.connection.created_at)));
    if (rows.affected() == 0) return ConnectionExistsError(id);
    SLUICE_ASSIGN_OR_RETURN(CreatedKey key, InsertKey(c, id, out.connection.created_at, 0));
    out.access_key = std::move(key.access_key);
    out.secret = std::move(key.secret);
    return Status::Ok();
  }));
  return out;
}

Result<CreatedKey> PgCatalog::CreateAccountKey(int64_t expires_at) {
  const int64_t now = clock_.NowMicros();
  SLUICE_RETURN_IF_ERROR(CheckKeyExpiry(expires_at, now));
  CreatedKey out;
  SLUICE_RETURN_IF_ERROR(Write([&](Conn& c) -> Status {
    SLUICE_ASSIGN_OR_RETURN(out, InsertKey(c, "", now, expires_at));
    return Status::Ok();
  }));
  return out;
}

Result<Connection> PgCatalog::CreateBucketConnection(const std::string& bucket) {
  SLUICE_ASSIGN_OR_RETURN(std::string id, DeriveConnectionId(bucket));
  if (id != bucket) return InvalidBucketName(bucket);
  Connection out{id, id, UnconfiguredPolicy::kHold, clock_.NowMicros()};
  SLUICE_RETURN_IF_ERROR(Write([&](Conn& c) -> Status {
    SLUICE_ASSIGN_OR_RETURN(
        Rows rows,
        c.Query("INSERT INTO connections (id, name, unconfigured, created_at) "
                "VALUES ($1, $1, $2, $3) ON CONFLICT DO NOTHING",
                Params().Text(id).Text(PolicyName(out.unconfigured)).Int(out.created_at)));
    if (rows.affected() == 0) return ConnectionExistsError(id);
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<Connection>> PgCatalog::ListConnections() {
  std::vector<Connection> out;
  SLUICE_RETURN_IF_ERROR(Read([&](Conn& c) -> Status {
    SLUICE_ASSIGN_OR_RETURN(Rows rows, c.Query(SLUICE_CONNECTION_COLUMNS "ORDER BY id"));
    SLUICE_ASSIGN_OR_RETURN(out, ReadAll(rows, ConnectionFromRow<PgRow>));
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<Connection>> PgCatalog::ListConnectionsPage(const std::string& after_id,
                                                               size_t limit) {
  limit = std::clamp<size_t>(limit, 1, kMaxListPage);
  std::vector<Connection> out;
  SLUICE_RETURN_IF_ERROR(Read([&](Conn& c) -> Status {
    SLUICE_ASSIGN_OR_RETURN(Rows rows,
                            c.Query(SLUICE_CONNECTION_COLUMNS "WHERE id > $1 ORDER BY id LIMIT $2",
                                    Params().Text(after_id).Int(static_cast<int64_t>(limit))));
    SLUICE_ASSIGN_OR_RETURN(out, ReadAll(rows, ConnectionFromRow<PgRow>));
    return Status::Ok();
  }));
  return out;
}

Result<std::optional<Connection>> PgCatalog::GetConnection(const std::string& id) {
  std::optional<Connection> out;
  SLUICE_RETURN_IF_ERROR(Read([&](Conn& c) -> Status {
    SLUICE_ASSIGN_OR_RETURN(Rows rows,
                            c.Query(SLUICE_CONNECTION_COLUMNS "WHERE id = $1", Params().Text(id)));
    SLUICE_ASSIGN_OR_RETURN(out, ReadOne(rows, ConnectionFromRow<PgRow>));
    return Status::Ok();
  }));
  return out;
}

Status PgCatalog::SetUnconfiguredPolicy(const std::string& id, UnconfiguredPolicy policy) {
  return Write([&](Conn& c) -> Status {
    SLUICE_ASSIGN_OR_RETURN(Rows rows,
                            c.Query("UPDATE connections SET unconfigured = $1 WHERE id = $2",
                                    Params().Text(PolicyName(policy)).Text(id)));
    return rows.affected() == 0 ? NoConnection(id) : Status::Ok();
  });
}

Status PgCatalog::SetConnectionQuota(const std::string& id, std::optional<uint64_t> bytes) {
  SLUICE_RETURN_IF_ERROR(CheckQuotaBytes(bytes));
  return Write([&](Conn& c) -> Status {
    Params p;
    if (bytes) {
      p.Int(static_cast<int64_t>(*bytes));
    } else {
      p.Null();
    }
    SLUICE_ASSIGN_OR_RETURN(
        Rows rows,
        c.Query("UPDATE connections SET quota_bytes = $1::bigint WHERE id = $2", p.Text(id)));
    return rows.affected() == 0 ? NoConnection(id) : Status::Ok();
  });
}

Result<std::optional<Credential>> PgCatalog::LookupAccessKey(const AccessKeyId& key) {
  std::optional<Credential> out;
  // Read on every request, no cache: a revocation by another node holds from the next request.
  SLUICE_RETURN_IF_ERROR(Read([&](Conn& c) -> Status {
    SLUICE_ASSIGN_OR_RETURN(
        Rows rows,
        c.Query("SELECT coalesce(connection_id, ''), encode(ciphertext, 'hex'), "
                "encode(nonce, 'hex') FROM credentials WHERE access_key = $1 AND active = 1 "
                "AND revoked_at = 0 AND (expires_at = 0 OR expires_at > $2)",
                Params().Text(key.str()).Int(clock_.NowMicros()), "looking up an access key"));
    if (rows.size() == 0) return Status::Ok();
    const PgRow row(rows, 0);
    Credential cred;
    cred.access_key = key;
    cred.connection_id = row.Text(0);
    SLUICE_ASSIGN_OR_RETURN(cred.secret,
                            box_.Open(Sealed{row.HexBytes(2), row.HexBytes(1)}, key.str()));
    cred.active = true;
    out = std::move(cred);
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<KeyInfo>> PgCatalog::ListKeys(const std::string& connection_id) {
  const int64_t now = clock_.NowMicros();
  std::vector<KeyInfo> out;
  SLUICE_RETURN_IF_ERROR(Read([&](Conn& c) -> Status {
    Result<Rows> rows =
        connection_id.empty()
            ? c.Query(SLUICE_KEY_COLUMNS "ORDER BY created_at, access_key")
            : c.Query(SLUICE_KEY_COLUMNS "WHERE connection_id = $1 ORDER BY created_at, access_key",
                      Params().Text(connection_id));
    if (!rows.ok()) return rows.status();
    for (int i = 0; i < rows->size(); ++i) out.push_back(KeyFromRow(PgRow(*rows, i), now));
    return Status::Ok();
  }));
  return out;
}

Status PgCatalog::RevokeKey(const AccessKeyId& key) {
  const int64_t now = clock_.NowMicros();
  return Write([&](Conn& c) -> Status {
    SLUICE_ASSIGN_OR_RETURN(
        Rows rows, c.Query("SELECT revoked_at FROM credentials WHERE access_key = $1 FOR UPDATE",
                           Params().Text(key.str())));
    if (rows.size() == 0) return NoAccessKey(key);
    if (PgRow(rows, 0).Int(0) != 0) return AlreadyRevoked(key, PgRow(rows, 0).Int(0));
    return c
        .Query("UPDATE credentials SET active = 0, revoked_at = $1 WHERE access_key = $2",
               Params().Int(now).Text(key.str()))
        .status();
  });
}

Result<CreatedKey> PgCatalog::RotateKey(const std::string& connection_id, int64_t expires_at) {
  const int64_t now = clock_.NowMicros();
  SLUICE_RETURN_IF_ERROR(CheckKeyExpiry(expires_at, now));
  if (connection_id.empty()) return AccountKeyRotation();
  CreatedKey out;
  SLUICE_RETURN_IF_ERROR(Write([&](Conn& c) -> Status {
    // The connection's row, locked: two rotations at once count one after the other.
    SLUICE_ASSIGN_OR_RETURN(Rows conn, c.Query("SELECT 1 FROM connections WHERE id = $1 FOR UPDATE",
                                               Params().Text(connection_id)));
    if (conn.size() == 0) return NoConnection(connection_id);
    SLUICE_ASSIGN_OR_RETURN(
        Rows rows,
        c.Query("SELECT access_key FROM credentials WHERE connection_id = $1 AND active = 1 "
                "AND revoked_at = 0 AND (expires_at = 0 OR expires_at > $2) "
                "ORDER BY created_at, access_key",
                Params().Text(connection_id).Int(now)));
    std::vector<std::string> active;
    active.reserve(static_cast<size_t>(rows.size()));
    for (int i = 0; i < rows.size(); ++i) active.push_back(PgRow(rows, i).Text(0));
    if (active.size() >= static_cast<size_t>(kMaxActiveKeysPerConnection)) {
      return TooManyActiveKeys(connection_id, active);
    }
    SLUICE_ASSIGN_OR_RETURN(out, InsertKey(c, connection_id, now, expires_at));
    return Status::Ok();
  }));
  return out;
}

Status PgCatalog::RecordKeyUses(const std::vector<std::pair<AccessKeyId, int64_t>>& uses) {
  if (uses.empty()) return Status::Ok();
  return Write([&](Conn& c) -> Status {
    for (const auto& [key, at] : uses) {
      SLUICE_RETURN_IF_ERROR(c.Query("UPDATE credentials SET last_used_at = $1 "
                                     "WHERE access_key = $2 AND last_used_at < $1",
                                     Params().Int(at).Text(key.str()))
                                 .status());
    }
    return Status::Ok();
  });
}

Status PgCatalog::ValidateTable(Conn& c, const TableConfig& table) {
  SLUICE_RETURN_IF_ERROR(ValidateTableFields(table));
  SLUICE_ASSIGN_OR_RETURN(bool exists, ConnectionExists(c, table.connection_id));
  return exists ? Status::Ok() : NoConnection(table.connection_id);
}

Status PgCatalog::WriteTable(const TableConfig& table, const std::string& sql, const Status& none) {
  return Write([&](Conn& c) -> Status {
    SLUICE_RETURN_IF_ERROR(ValidateTable(c, table));
    SLUICE_ASSIGN_OR_RETURN(Rows rows, c.Query(sql, Params()
                                                        .Text(table.connection_id)
                                                        .Text(table.name)
                                                        .Text(PrimaryKeyToJson(table.primary_key))
                                                        .Text(table.age_column)
                                                        .Text(OnErrorName(table.on_error))
                                                        .Text(table.delete_column)
                                                        .Text(table.nested_json)
                                                        .Int(table.load_hidden_keys ? 1 : 0)));
    return rows.affected() == 0 ? none : Status::Ok();
  });
}

Status PgCatalog::AddTable(const TableConfig& table) {
  return WriteTable(
      table,
      "INSERT INTO tables (connection_id, name, primary_key, age_column, on_error, "
      "delete_column, nested_json, load_hidden_keys) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
      "ON CONFLICT DO NOTHING",
      TableExistsError(table));
}

Status PgCatalog::UpdateTable(const TableConfig& table) {
  return WriteTable(
      table,
      "UPDATE tables SET primary_key = $3, age_column = $4, on_error = $5, "
      "delete_column = $6, nested_json = $7, load_hidden_keys = $8 WHERE connection_id = $1 "
      "AND name = $2",
      NoTable(table));
}

Status PgCatalog::RemoveTable(const std::string& connection_id, const std::string& name) {
  return Write([&](Conn& c) -> Status {
    const Params table = Params().Text(connection_id).Text(name);
    // The connection's row shared (a DeleteConnection waits), the configuration's row locked
    // (an UpdateTable or another removal waits), then the table's queue: an append or a retry
    // of the table that is under way commits before the count below, and one that comes later
    // waits for this removal to commit (pg_catalog_internal.h). Read committed: each statement
    // sees what committed before it began, the count what committed while its lock was awaited.
    SLUICE_ASSIGN_OR_RETURN(bool exists, ConnectionExists(c, connection_id, /*lock=*/true));
    if (!exists) return NoConnection(connection_id);
    SLUICE_ASSIGN_OR_RETURN(
        Rows config,
        c.Query("SELECT 1 FROM tables WHERE connection_id = $1 AND name = $2 FOR UPDATE", table));
    if (config.size() == 0) return NoTable(TableConfig{connection_id, name});
    SLUICE_RETURN_IF_ERROR(c.Query(kPgLockQueueSql, table, "locking the table's queue").status());
    SLUICE_ASSIGN_OR_RETURN(Rows busy, c.Query(kTableBusySql, table));
    const int64_t files = PgRow(busy, 0).Int(0);
    if (files > 0) return TableBusy(name, files);
    return c.Query("DELETE FROM tables WHERE connection_id = $1 AND name = $2", table).status();
  });
}

Result<std::optional<TableConfig>> PgCatalog::GetTable(const std::string& connection_id,
                                                       const std::string& name) {
  std::optional<TableConfig> out;
  SLUICE_RETURN_IF_ERROR(Read([&](Conn& c) -> Status {
    SLUICE_ASSIGN_OR_RETURN(Rows rows,
                            c.Query(SLUICE_TABLE_COLUMNS "WHERE connection_id = $1 AND name = $2",
                                    Params().Text(connection_id).Text(name)));
    SLUICE_ASSIGN_OR_RETURN(out, ReadOne(rows, TableFromRow<PgRow>));
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<TableConfig>> PgCatalog::ListTables(const std::string& connection_id) {
  std::vector<TableConfig> out;
  SLUICE_RETURN_IF_ERROR(Read([&](Conn& c) -> Status {
    SLUICE_ASSIGN_OR_RETURN(bool exists, ConnectionExists(c, connection_id));
    if (!exists) return NoConnection(connection_id);
    SLUICE_ASSIGN_OR_RETURN(Rows rows,
                            c.Query(SLUICE_TABLE_COLUMNS "WHERE connection_id = $1 ORDER BY name",
                                    Params().Text(connection_id)));
    SLUICE_ASSIGN_OR_RETURN(out, ReadAll(rows, TableFromRow<PgRow>));
    return Status::Ok();
  }));
  return out;
}

}  // namespace sluice::catalog
