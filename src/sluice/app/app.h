#pragma once
// app: the composition root. It is the only module that sees every other one: it reads the
// configuration, opens the catalog, the landing store and the pool, builds the S3 object store
// over them (store/) and the admin side (api/), starts the loader, the store's threads and the
// HTTP servers, and stops everything on SIGINT/SIGTERM. It owns no domain logic.
//
// Thread-safety: RunServer blocks the calling thread until the server stops.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "sluice/batch/limits.h"
#include "sluice/catalog/catalog.h"
#include "sluice/core/core.h"
#include "sluice/pool/pool.h"
#include "sluice/s3/limits.h"

namespace sluice::app {

struct ServeConfig {
  std::string data_dir = "./data";
  // `sqlite` (the embedded default) or a PostgreSQL connection string; empty: what the data
  // directory recorded at its first start (ChoosePool).
  std::string pool;
  // Where pushed files land; empty: what the data directory recorded (ChooseLanding), by
  // default <data>/landing. Several nodes name one shared directory.
  std::string landing;
  std::string s3_address = "127.0.0.1";  // loopback unless told otherwise
  uint16_t s3_port = 8787;
  std::string admin_address = "127.0.0.1";
  uint16_t admin_port = 8788;
  int http_threads = 4;
  int load_workers = 2;
  // Memory one load may use for the file it reads (batch/limits.h splits it into the batch
  // and buffer budgets); a file that needs more fails LIMIT_EXCEEDED.
  uint64_t load_memory = batch::kDefaultLoadMemory;
  std::string region = "us-east-1";
  // The URL clients use for the S3 endpoint, when it is not http://<s3_address>:<s3_port>
  // (a proxy, a public name). Only used in what sluice prints.
  std::string public_endpoint;
  // https beside http, on when both PEM files are given (the certificate file may hold the
  // chain). The address defaults to s3_address and the port to kDefaultHttpsPort; giving either
  // without the files is a configuration error.
  std::string tls_cert_file;
  std::string tls_key_file;
  std::optional<std::string> https_address;
  std::optional<uint16_t> https_port;  // 0: any free port
  // The admin side (console, API) over https only, with the same certificate: its session
  // cookie is then Secure. Needs tls_cert_file and tls_key_file.
  bool admin_tls = false;
  // Virtual-hosted-style addressing: `<bucket>.<base_domain>` names a bucket. Empty: off.
  std::string base_domain;
  // Largest object one PutObject or UploadPart may carry (EntityTooLarge beyond it); S3's own
  // limit by default.
  uint64_t max_object_bytes = s3::kMaxObjectBytes;
  // Seconds a request body may stall before the request fails with RequestTimeout.
  int body_timeout_seconds = 30;
  // HTTP abuse limits, on every listener (S3, https, admin), each counting its own: a body
  // slower than min_body_rate bytes/s over a body_timeout window fails RequestTimeout (0:
  // off); a keep-alive connection idle this long is closed; connections held at once, in
  // total and per client address (0: no per-address cap).
  uint64_t min_body_rate = 1024;
  int idle_timeout_seconds = 60;
  uint32_t max_connections = 1024;
  uint32_t max_connections_per_client = 64;
  // Backpressure (503 SlowDown before the body is read), per connection: files and bytes
  // queued or loading; and a floor of free space on the data directory's file system.
  // 0 turns a limit off. The byte defaults: a backlog of 64 GiB is hours of loading on one
  // disk, and 1 GiB keeps room for the catalog, the pool's WAL and loads in progress.
  uint64_t max_pending_files = 100'000;
  uint64_t max_pending_bytes = uint64_t{64} << 30;
  uint64_t min_free_disk = uint64_t{1} << 30;
  // The disk quota of a connection that has none of its own (`sluice connection set-quota`):
  // the bytes it may keep in the data directory (quota.h says what counts); past it uploads get
  // 403 QuotaExceeded. 0: none. Off by default: a fitting size depends on the disk and on how
  // many connections share it, and the free-disk floor above already keeps the disk from
  // filling; an operator who hosts several parties sets it.
  uint64_t connection_quota = 0;
  // Landed files are deleted this long after they were loaded or skipped (failed, queued and
  // loading files are kept); 0 keeps them for ever.
  int64_t retention_seconds = int64_t{7} * 24 * 3600;
  // The poison-file guard (load.h): a file whose load was cut short by this many crashes
  // fails (INTERNAL) at the next start instead of loading again. 0: off.
  int max_load_attempts = 3;
  // /metrics requires the admin token as a Bearer credential (api/admin.h).
  bool metrics_token = false;
  // Alerts (alerts/alerts.h): webhook targets on loopback and private addresses are refused
  // unless allowed; e-mail goes through this SMTP server (smtp:// or smtps:// URL; empty: no
  // e-mail), from this sender, logging in when a user is set (its password from the file
  // smtp_password_file, never a flag: flags show in `ps`).
  bool alert_allow_private = false;
  std::string smtp_url;
  std::string smtp_from;
  std::string smtp_user;
  std::string smtp_password_file;
};

// "1073741824", "512M", "1G", "64GiB", "10k": bytes with an optional binary suffix (K, M, G,
// T; "i" and "B" allowed after it, any case). kInvalidArgument naming the text otherwise.
Result<uint64_t> ParseByteSize(std::string_view text);
// "30", "30s", "15m", "12h", "7d": seconds. kInvalidArgument naming the text otherwise.
Result<int64_t> ParseDurationSeconds(std::string_view text);

inline constexpr uint16_t kDefaultHttpsPort = 8789;

// The lock that makes one `sluice serve` per data directory: <data_dir>/serve.lock, held
// (flock) for the server's whole life. The CLI takes it too, briefly, to act on a file left
// `loading` by a crash: holding it proves no loader is at work. kUnavailable when a running
// process holds it: "another sluice serve holds <dir>/serve.lock (pid N)".
inline constexpr const char* kServeLockFile = "serve.lock";
Result<std::unique_ptr<FileLock>> LockDataDir(const std::string& data_dir);

// Creates `data_dir` if needed and makes it private: the directory 0700, its database files
// (catalog.db, pool.db and their -wal/-shm) 0600. Files created later are 0600 through
// FileSystem::NewWritableFile and the umask the caller sets (077) for SQLite's files.
Status SecureDataDir(const std::string& data_dir);
// kInvalidArgument, saying how to fix it (chmod 600 <path>), when the group or others have
// any permission on `path` (a secret: `what` names it, e.g. "the admin token").
Status CheckPrivateFile(const std::string& path, std::string_view what);
// Reads <data_dir>/admin.token, creating it (mode 0600, 32 random hex chars) when missing.
Result<Secret> LoadOrCreateAdminToken(FileSystem& fs, const std::string& data_dir);

// Runs `sluice serve` until SIGINT/SIGTERM. Before it touches anything in the data directory
// it takes serve.lock (LockDataDir), so a second server on the same directory exits at once.
// At start it removes landed objects no ledger entry names (a crash between the landing
// rename and the ledger commit: never acknowledged). Writes <data_dir>/serve.json with the bound
// endpoints (ports chosen by the OS when 0) so that the CLI and tests can find the server:
// s3_endpoint, s3_https_endpoint (only with TLS), admin_url, region, pid.
Status RunServer(const ServeConfig& config);

// The S3 endpoint recorded by a running (or the last) server of `data_dir`, or the default.
std::string EndpointFor(const std::string& data_dir);

// Which pool a data directory loads into: `sqlite`, the embedded default, or a PostgreSQL
// connection string, recorded in <data>/pool.uri by the first start that names one (so the CLI
// and later starts find it). `requested` (serve's --pool) empty: the recorded one. A data
// directory cannot switch between the two kinds (its rows stay where they were loaded);
// another connection string for PostgreSQL replaces the recorded one.
Result<std::string> ChoosePool(const std::string& data_dir, const std::string& requested);
// The pool as people read it, without a password: "SQLite, <data>/pool/<connection>.db" or
// "PostgreSQL, <connection string redacted>".
std::string DescribePool(const std::string& pool, const std::string& data_dir);

// The data directory's pool: PostgreSQL when recorded (ChoosePool), else the embedded one,
// `<data>/pool/<connection>.db` (pool_setup.cc), which is kUnavailable while the directory
// still holds the single pool.db of an older release (the server moves it at start:
// MigrateSinglePoolFile).
Result<std::unique_ptr<pool::Pool>> OpenDataDirPool(const std::string& data_dir,
                                                    const Clock& clock);

// Where a data directory lands pushed files: <data>/landing, or the absolute path given to
// serve's --landing, recorded in <data>/landing.path (so the CLI and later starts find it).
// Several nodes sharing one PostgreSQL name one shared directory (docs/design/nodes.md).
Result<std::string> ChooseLanding(const std::string& data_dir, const std::string& requested);
// The recorded landing directory (ChooseLanding), for the CLI.
Result<std::string> LandingDirOf(const std::string& data_dir);
// This node's name in a shared landing directory: a random id made once, in <data>/node.id.
Result<std::string> NodeName(const std::string& data_dir);

// The data directory's catalog. Beside a PostgreSQL pool (ChoosePool) it is the PostgreSQL
// catalog in the same database, shared by every node that uses it, its credentials sealed with
// `<landing>/secret.key` (every node shares the landing directory, and so the key); else
// `<data>/catalog.db`. A data directory whose catalog.db was made beside a PostgreSQL pool
// before the catalog moved there keeps it (one node; a warning says so).
Result<std::unique_ptr<catalog::Catalog>> OpenDataDirCatalog(const std::string& data_dir,
                                                             const Clock& clock);

// Moves the single `<data>/pool.db` of releases before namespaces to one database per
// connection, in place and crash-safe (pool_setup.cc says how), logging what it did; the
// catalog's ledger says which connection each applied file belongs to. Nothing to do (OK)
// when there is no such file. The caller holds serve.lock.
Status MigrateSinglePoolFile(const std::string& data_dir, catalog::Ledger& ledger);

}  // namespace sluice::app
