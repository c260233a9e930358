// The data directory's SQLite pool: `<data>/pool/<connection>.db`, one file per connection
// (docs/design/pool.md, "Namespaces"), and the move from the single `<data>/pool.db` that
// releases before namespaces kept.
//
// The move is crash-safe. The new files are made in `pool.migrating/`, which one rename turns
// into `pool/`; a crash before that rename leaves the old file untouched (the half-made
// directory is removed and the move starts again), a crash after it leaves only clean-up.
//   - One connection owned everything (the usual case): pool.db (checkpointed first) is
//     renamed into pool.migrating/<connection>.db; nothing is copied.
//   - Several: each connection gets a copy (VACUUM INTO) from which the tables and applied
//     records of the others are dropped; a table that several connections loaded into (they
//     shared one namespace) is kept by each. The old file is then kept beside as
//     pool.db.pre-namespaces, for the operator to delete.

#include <map>
#include <set>
#include <string>
#include <vector>

#include "sluice/app/app.h"
#include "sluice/catalog/catalog.h"
#include "sluice/core/log.h"
#include "sluice/core/text.h"
#include "sluice/landing/landing.h"
#include "sluice/pool/pool.h"
#include "sluice/postgres/postgres.h"
#include "sluice/sqlite/sqlite.h"

namespace sluice::app {
namespace {

using ::sluice::sqlite::Db;
using ::sluice::sqlite::QuoteIdent;
using ::sluice::sqlite::Statement;

constexpr const char* kOldPool = "pool.db";
constexpr const char* kPoolDir = "pool";
constexpr const char* kMigrating = "pool.migrating";
constexpr const char* kKeptOld = "pool.db.pre-namespaces";
// The pool a data directory loads into, when it is not the embedded default: the PostgreSQL
// connection string given to the first `sluice serve --pool` (mode 0600: it may hold a
// password).
constexpr const char* kPoolRecord = "pool.uri";
constexpr std::string_view kEmbedded = "sqlite";
// The landing directory when it is not <data>/landing (serve's --landing), and this node's
// name in a shared one (tmp/<node>/).
constexpr const char* kLandingRecord = "landing.path";
constexpr const char* kNodeRecord = "node.id";
constexpr const char* kDefaultLanding = "landing";
// The catalog of a data directory on the embedded pool, and of one made before the catalog
// moved to PostgreSQL beside a PostgreSQL pool.
constexpr const char* kCatalogFile = "catalog.db";
// The key that seals the credentials of a PostgreSQL catalog: in the landing directory, which
// every node sharing the catalog shares.
constexpr const char* kSharedSecretKey = "secret.key";

bool IsPostgres(std::string_view pool) {
  return pool.starts_with("postgresql://") || pool.starts_with("postgres://") ||
         pool.find('=') != std::string_view::npos;
}

// A one-line record in the data directory (pool.uri, landing.path, node.id); `fallback` when
// there is none.
Result<std::string> ReadRecord(FileSystem& fs, const std::string& data_dir, const char* name,
                               std::string_view fallback) {
  const std::string path = JoinPath(data_dir, name);
  if (!fs.Exists(path)) return std::string(fallback);
  SLUICE_ASSIGN_OR_RETURN(std::string text, fs.ReadSmallFile(path));
  return std::string(TrimAscii(text));
}

// Writes a record durably (mode 0600: pool.uri may hold a password): a temporary file,
// synced, renamed over the old one.
Status WriteRecord(FileSystem& fs, const std::string& data_dir, const char* name,
                   const std::string& value) {
  const std::string path = JoinPath(data_dir, name);
  SLUICE_ASSIGN_OR_RETURN(auto file, fs.NewWritableFile(path + ".tmp"));
  SLUICE_RETURN_IF_ERROR(file->Append(AsBytes(value + "\n")));
  SLUICE_RETURN_IF_ERROR(file->Sync());
  SLUICE_RETURN_IF_ERROR(file->Close());
  SLUICE_RETURN_IF_ERROR(fs.Rename(path + ".tmp", path));
  return fs.SyncDir(data_dir);
}

Result<std::string> RecordedPool(FileSystem& fs, const std::string& data_dir) {
  return ReadRecord(fs, data_dir, kPoolRecord, kEmbedded);
}

// Which connections own each user table of the old pool: the connections of the files that
// created, changed or loaded it.
Result<std::map<std::string, std::set<std::string>>> TableOwners(Db& db, catalog::Ledger& catalog) {
  std::map<int64_t, std::string> connection_of;  // seq -> connection id
  auto owner = [&](int64_t seq) -> Result<std::string> {
    auto it = connection_of.find(seq);
    if (it != connection_of.end()) return it->second;
    SLUICE_ASSIGN_OR_RETURN(auto file, catalog.GetFile(seq));
    std::string id = file ? file->connection_id : "";
    connection_of.emplace(seq, id);
    return id;
  };
  std::map<std::string, std::set<std::string>> owners;
  SLUICE_ASSIGN_OR_RETURN(
      Statement tables,
      db.Prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE "
                 "'\\_sluice\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"));
  while (true) {
    SLUICE_ASSIGN_OR_RETURN(bool row, tables.Step());
    if (!row) break;
    owners[tables.Text(0)];
  }
  for (const char* sql : {"SELECT seq, table_name FROM _sluice_applied",
                          "SELECT seq, table_name FROM _sluice_applied_tables",
                          "SELECT seq, table_name FROM _sluice_schema_history"}) {
    auto q = db.Prepare(sql);
    if (!q.ok()) continue;  // a pool from before that table existed
    while (true) {
      SLUICE_ASSIGN_OR_RETURN(bool row, q->Step());
      if (!row) break;
      SLUICE_ASSIGN_OR_RETURN(std::string id, owner(q->Int(0)));
      auto it = owners.find(q->Text(1));
      if (!id.empty() && it != owners.end()) it->second.insert(id);
    }
  }
  return owners;
}

// In the copy for `keep_connection`: drops every user table it does not own (and the
// tombstones and metadata of those), and the applied records of other connections' files.
Status Prune(Db& db, const std::map<std::string, std::set<std::string>>& owners,
             const std::string& keep_connection, catalog::Ledger& catalog) {
  SLUICE_RETURN_IF_ERROR(db.Exec("BEGIN"));
  for (const auto& [table, ids] : owners) {
    if (ids.count(keep_connection) != 0) continue;
    SLUICE_RETURN_IF_ERROR(db.Exec("DROP TABLE IF EXISTS " + QuoteIdent(table)));
    SLUICE_RETURN_IF_ERROR(
        db.Exec("DROP TABLE IF EXISTS " + QuoteIdent("_sluice_tombstones_" + table)));
    for (const char* meta : {"_sluice_columns", "_sluice_schema_history"}) {
      SLUICE_ASSIGN_OR_RETURN(
          Statement d, db.Prepare(std::string("DELETE FROM ") + meta + " WHERE table_name = ?"));
      d.Bind(1, table);
      SLUICE_RETURN_IF_ERROR(d.Run());
    }
  }
  std::vector<int64_t> foreign;
  {
    SLUICE_ASSIGN_OR_RETURN(Statement q, db.Prepare("SELECT seq FROM _sluice_applied"));
    while (true) {
      SLUICE_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      SLUICE_ASSIGN_OR_RETURN(auto file, catalog.GetFile(q.Int(0)));
      if (!file || file->connection_id != keep_connection) foreign.push_back(q.Int(0));
    }
  }
  for (int64_t seq : foreign) {
    for (const char* meta : {"_sluice_applied", "_sluice_applied_tables"}) {
      auto d = db.Prepare(std::string("DELETE FROM ") + meta + " WHERE seq = ?");
      if (!d.ok()) continue;  // _sluice_applied_tables: a pool from before nested tables
      d->Bind(1, seq);
      SLUICE_RETURN_IF_ERROR(d->Run());
    }
  }
  return db.Exec("COMMIT");
}

}  // namespace

Status MigrateSinglePoolFile(const std::string& data_dir, catalog::Ledger& catalog) {
  FileSystem& fs = FileSystem::Default();
  const std::string old_path = JoinPath(data_dir, kOldPool);
  const std::string pool_dir = JoinPath(data_dir, kPoolDir);
  const std::string migrating = JoinPath(data_dir, kMigrating);
  if (!fs.Exists(old_path)) {
    // A move whose last rename a crash cut short (the single-owner case moved the file).
    if (fs.Exists(migrating) && !fs.Exists(pool_dir)) {
      SLUICE_RETURN_IF_ERROR(fs.Rename(migrating, pool_dir));
      SLUICE_RETURN_IF_ERROR(fs.SyncDir(data_dir));
    }
    return Status::Ok();
  }
  if (fs.Exists(pool_dir)) {
    return Err(ErrorCode::kInvalidArgument,
               data_dir + " holds both the old single pool file (" + kOldPool +
                   ") and the per-connection pool directory (" + kPoolDir +
                   "/): move one away (a copy of a data directory from before the upgrade?)");
  }
  // Anything in pool.migrating is from a move a crash cut short: start again.
  if (fs.Exists(migrating)) {
    SLUICE_ASSIGN_OR_RETURN(std::vector<std::string> names, fs.ListDir(migrating));
    for (const std::string& n : names) SLUICE_RETURN_IF_ERROR(fs.Remove(JoinPath(migrating, n)));
    SLUICE_RETURN_IF_ERROR(fs.RemoveDir(migrating));
  }
  SLUICE_RETURN_IF_ERROR(fs.CreateDirs(migrating));

  std::map<std::string, std::set<std::string>> owners;
  std::set<std::string> connections;
  {
    SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<Db> db,
                            Db::Open(old_path, {.label = "old pool", .pragmas = ""}));
    // Everything into the main file, so that it can be moved or copied alone.
    SLUICE_RETURN_IF_ERROR(db->Exec("PRAGMA wal_checkpoint(TRUNCATE)"));
    SLUICE_ASSIGN_OR_RETURN(owners, TableOwners(*db, catalog));
    for (const auto& [table, ids] : owners) {
      connections.insert(ids.begin(), ids.end());
      if (ids.empty()) {
        LogWarn("app", "pool migration: table '" + table +
                           "' of pool.db has no loaded file in the ledger; it stays only in " +
                           kKeptOld);
      } else if (ids.size() > 1) {
        std::string list;
        for (const std::string& id : ids) list += (list.empty() ? "" : ", ") + id;
        LogWarn("app", "pool migration: table '" + table + "' was loaded by connections " + list +
                           " (one namespace before); each gets a copy of all its rows");
      }
    }
    for (const std::string& id : connections) SLUICE_RETURN_IF_ERROR(pool::CheckSchemaName(id));
    bool unowned = false;
    for (const auto& [table, ids] : owners) unowned |= ids.empty();
    if (connections.size() > 1 || unowned) {
      for (const std::string& id : connections) {
        const std::string copy = JoinPath(migrating, id + ".db");
        SLUICE_ASSIGN_OR_RETURN(Statement vacuum, db->Prepare("VACUUM INTO ?"));
        vacuum.Bind(1, copy);
        SLUICE_RETURN_IF_ERROR(vacuum.Run("copying pool.db for connection '" + id + "'"));
        SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<Db> part,
                                Db::Open(copy, {.label = "pool " + id, .pragmas = ""}));
        SLUICE_RETURN_IF_ERROR(Prune(*part, owners, id, catalog));
        SLUICE_RETURN_IF_ERROR(part->Exec("PRAGMA journal_mode=WAL"));
      }
    }
  }
  const bool moved = connections.size() == 1 && fs.Exists(old_path) &&
                     !fs.Exists(JoinPath(migrating, *connections.begin() + ".db"));
  if (moved) {
    // One owner: the file itself becomes that connection's (its -wal is empty after the
    // TRUNCATE checkpoint; the -shm is rebuilt).
    for (const char* suffix : {"-wal", "-shm"}) {
      if (fs.Exists(old_path + suffix)) SLUICE_RETURN_IF_ERROR(fs.Remove(old_path + suffix));
    }
    SLUICE_RETURN_IF_ERROR(fs.Rename(old_path, JoinPath(migrating, *connections.begin() + ".db")));
  }
  SLUICE_RETURN_IF_ERROR(fs.SyncDir(migrating));
  SLUICE_RETURN_IF_ERROR(fs.Rename(migrating, pool_dir));
  if (!moved) {
    SLUICE_RETURN_IF_ERROR(fs.Rename(old_path, JoinPath(data_dir, kKeptOld)));
    for (const char* suffix : {"-wal", "-shm"}) {
      if (fs.Exists(old_path + suffix)) SLUICE_RETURN_IF_ERROR(fs.Remove(old_path + suffix));
    }
  }
  SLUICE_RETURN_IF_ERROR(fs.SyncDir(data_dir));
  std::string list;
  for (const std::string& id : connections) list += (list.empty() ? "" : ", ") + id;
  LogInfo("app", "pool migrated to one database per connection: " + JoinPath(data_dir, kPoolDir) +
                     "/<connection>.db (" + (list.empty() ? std::string("no tables") : list) + ")" +
                     (moved ? std::string()
                            : "; the old file is kept as " + JoinPath(data_dir, kKeptOld) +
                                  ", delete it once the tables look right"));
  return Status::Ok();
}

Result<std::string> ChoosePool(const std::string& data_dir, const std::string& requested) {
  FileSystem& fs = FileSystem::Default();
  SLUICE_ASSIGN_OR_RETURN(std::string recorded, RecordedPool(fs, data_dir));
  if (requested.empty() || requested == recorded) return recorded;
  if (requested != kEmbedded && !IsPostgres(requested)) {
    return Err(ErrorCode::kInvalidArgument,
               "--pool " + postgres::RedactConninfo(requested) +
                   ": expected `sqlite` (the embedded default) or a PostgreSQL connection string "
                   "(postgresql://USER@HOST:PORT/DB?..., or libpq's key=value form)");
  }
  // A data directory whose embedded pool holds nothing yet may still choose PostgreSQL.
  bool embedded_empty = !fs.Exists(JoinPath(data_dir, kOldPool));
  if (embedded_empty && fs.Exists(JoinPath(data_dir, kPoolDir))) {
    SLUICE_ASSIGN_OR_RETURN(std::vector<std::string> names,
                            fs.ListDir(JoinPath(data_dir, kPoolDir)));
    embedded_empty = names.empty();
  }
  const bool may_switch = recorded == kEmbedded && embedded_empty;
  if ((requested == kEmbedded) != (recorded == kEmbedded) && !may_switch) {
    // The rows, their applied records and their history stay where they were loaded.
    return Err(
        ErrorCode::kInvalidArgument,
        data_dir + " loads into " +
            (recorded == kEmbedded ? std::string("its embedded SQLite pool")
                                   : "PostgreSQL (" + postgres::RedactConninfo(recorded) + ")") +
            "; it cannot switch to " +
            (requested == kEmbedded ? std::string("the embedded pool") : "PostgreSQL") +
            ": start that pool with a new data directory");
  }
  // The same kind: a new PostgreSQL connection string (another password, host name or
  // option) for the same database is the operator's to give.
  if (recorded != kEmbedded) {
    LogInfo("app", "pool connection string changed to " + postgres::RedactConninfo(requested));
  }
  SLUICE_RETURN_IF_ERROR(WriteRecord(fs, data_dir, kPoolRecord, requested));
  return requested;
}

std::string DescribePool(const std::string& pool, const std::string& data_dir) {
  if (pool == kEmbedded) return "SQLite, " + JoinPath(data_dir, kPoolDir) + "/<connection>.db";
  return "PostgreSQL, " + postgres::RedactConninfo(pool);
}

Result<std::unique_ptr<pool::Pool>> OpenDataDirPool(const std::string& data_dir,
                                                    const Clock& clock) {
  FileSystem& fs = FileSystem::Default();
  SLUICE_ASSIGN_OR_RETURN(std::string pool, RecordedPool(fs, data_dir));
  if (pool != kEmbedded) return pool::OpenPostgresPool(pool, clock);
  if (fs.Exists(JoinPath(data_dir, kOldPool)) || fs.Exists(JoinPath(data_dir, kMigrating))) {
    return Err(ErrorCode::kUnavailable,
               "the pool in " + data_dir +
                   " is still the single pool.db of an older release: start `sluice serve` once "
                   "to move it to one database per connection");
  }
  return pool::OpenSqlitePool(JoinPath(data_dir, kPoolDir), clock);
}

Result<std::string> ChooseLanding(const std::string& data_dir, const std::string& requested) {
  SLUICE_ASSIGN_OR_RETURN(std::string recorded, LandingDirOf(data_dir));
  if (requested.empty() || requested == recorded) return recorded;
  if (requested.front() != '/') {
    return Err(ErrorCode::kInvalidArgument,
               "--landing " + requested +
                   ": give an absolute path (every node names the same "
                   "directory, and the CLI finds it from the data directory)");
  }
  // Landed files the ledger names stay where they are: moving the directory is the
  // operator's, done with the server stopped, before naming the new place.
  LogInfo("app", "landing directory is " + requested + " (was " + recorded + ")");
  SLUICE_RETURN_IF_ERROR(WriteRecord(FileSystem::Default(), data_dir, kLandingRecord, requested));
  return requested;
}

Result<std::string> LandingDirOf(const std::string& data_dir) {
  return ReadRecord(FileSystem::Default(), data_dir, kLandingRecord,
                    JoinPath(data_dir, kDefaultLanding));
}

Result<std::string> NodeName(const std::string& data_dir) {
  FileSystem& fs = FileSystem::Default();
  SLUICE_ASSIGN_OR_RETURN(std::string node, ReadRecord(fs, data_dir, kNodeRecord, ""));
  if (!node.empty()) return node;
  SLUICE_ASSIGN_OR_RETURN(node, landing::Store::NewId());
  SLUICE_RETURN_IF_ERROR(WriteRecord(fs, data_dir, kNodeRecord, node));
  return node;
}

Result<std::unique_ptr<catalog::Catalog>> OpenDataDirCatalog(const std::string& data_dir,
                                                             const Clock& clock) {
  FileSystem& fs = FileSystem::Default();
  SLUICE_ASSIGN_OR_RETURN(std::string pool, RecordedPool(fs, data_dir));
  if (pool == kEmbedded || fs.Exists(JoinPath(data_dir, kCatalogFile))) {
    if (pool != kEmbedded) {
      LogWarn("app", data_dir + " keeps its catalog in " + kCatalogFile +
                         " (made before the catalog moved to PostgreSQL): this node cannot share "
                         "its ledger with others; start several nodes from new data directories");
    }
    return catalog::Catalog::Open(data_dir, fs, clock);
  }
  SLUICE_ASSIGN_OR_RETURN(const std::string landing, LandingDirOf(data_dir));
  SLUICE_RETURN_IF_ERROR(fs.CreateDirs(landing));
  return catalog::OpenPostgresCatalog(pool, JoinPath(landing, kSharedSecretKey), fs, clock);
}

}  // namespace sluice::app
