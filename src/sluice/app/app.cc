#include "sluice/app/app.h"

#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>

#include "sluice/alerts/alerts.h"
#include "sluice/api/admin.h"
#include "sluice/catalog/catalog.h"
#include "sluice/core/text.h"
#include "sluice/http/http.h"
#include "sluice/landing/landing.h"
#include "sluice/load/load.h"
#include "sluice/pool/pool.h"
#include "sluice/s3/s3.h"
#include "sluice/store/store.h"

namespace sluice::app {
namespace {

constexpr const char* kServeFile = "serve.json";

std::string HostForUrl(const std::string& address) {
  if (address == "0.0.0.0" || address == "::") return "127.0.0.1";
  if (address.find(':') != std::string::npos) return "[" + address + "]";
  return address;
}

Status WriteServeFile(FileSystem& fs, const std::string& data_dir, const nlohmann::json& info) {
  const std::string path = JoinPath(data_dir, kServeFile);
  const std::string tmp = path + ".tmp";
  SLUICE_ASSIGN_OR_RETURN(auto file, fs.NewWritableFile(tmp));
  SLUICE_RETURN_IF_ERROR(file->Append(AsBytes(info.dump(2) + "\n")));
  SLUICE_RETURN_IF_ERROR(file->Close());
  return fs.Rename(tmp, path);
}

// The number at the start of `text` and the rest; nullopt without digits or on overflow.
std::optional<std::pair<uint64_t, std::string_view>> LeadingNumber(std::string_view text) {
  uint64_t n = 0;
  size_t i = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    if (n > (UINT64_MAX - 9) / 10) return std::nullopt;
    n = n * 10 + static_cast<uint64_t>(text[i] - '0');
  }
  if (i == 0) return std::nullopt;
  return std::make_pair(n, text.substr(i));
}

// --max-connections per listener needs that many descriptors and more (files, the databases);
// the soft limit is often 1024 while the hard one is far higher, so take what is allowed and
// warn when even that is short.
void RaiseOpenFileLimit(const ServeConfig& config) {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
  if (lim.rlim_cur < lim.rlim_max) {
    rlimit raised = lim;
    raised.rlim_cur = lim.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) lim = raised;
  }
  const uint64_t wanted = uint64_t{config.max_connections} * 2 + 256;  // S3 and admin, files
  if (lim.rlim_cur != RLIM_INFINITY && lim.rlim_cur < wanted) {
    LogWarn("app", "the open-file limit is " + std::to_string(lim.rlim_cur) + ", below the " +
                       std::to_string(wanted) + " that --max-connections " +
                       std::to_string(config.max_connections) +
                       " may need: connections past it fail to be accepted (raise ulimit -n)");
  }
}

// The dispatcher's settings from the server's: the SMTP password is read from its file (kept
// private like the admin token), trailing newline dropped.
Result<alerts::DispatcherOptions> AlertOptions(FileSystem& fs, const ServeConfig& config) {
  alerts::DispatcherOptions o;
  o.allow_private = config.alert_allow_private;
  o.smtp.url = config.smtp_url;
  o.smtp.from = config.smtp_from;
  o.smtp.user = config.smtp_user;
  if (!config.smtp_url.empty() && config.smtp_from.empty()) {
    return Err(ErrorCode::kInvalidArgument, "--smtp-url needs --smtp-from (the sender address)");
  }
  if (!config.smtp_password_file.empty()) {
    SLUICE_RETURN_IF_ERROR(CheckPrivateFile(config.smtp_password_file, "the SMTP password"));
    SLUICE_ASSIGN_OR_RETURN(std::string password, fs.ReadSmallFile(config.smtp_password_file));
    while (!password.empty() && (password.back() == '\n' || password.back() == '\r')) {
      password.pop_back();
    }
    o.smtp.password = std::move(password);
  }
  return o;
}

}  // namespace

Result<uint64_t> ParseByteSize(std::string_view text) {
  const Status bad(ErrorCode::kInvalidArgument,
                   "'" + std::string(text) +
                       "' is not a size in bytes (a number, optionally with K, M, G or T)");
  auto parsed = LeadingNumber(text);
  if (!parsed) return bad;
  auto [n, rest] = *parsed;
  int shift = 0;
  if (!rest.empty()) {
    switch (AsciiLower(rest.front())) {
      case 'k':
        shift = 10;
        break;
      case 'm':
        shift = 20;
        break;
      case 'g':
        shift = 30;
        break;
      case 't':
        shift = 40;
        break;
      case 'b':
        break;
      default:
        return bad;
    }
    if (shift > 0) rest.remove_prefix(1);
    if (!rest.empty() && AsciiLower(rest.front()) == 'i' && shift > 0) rest.remove_prefix(1);
    if (!rest.empty() && AsciiLower(rest.front()) == 'b') rest.remove_prefix(1);
    if (!rest.empty()) return bad;
  }
  if (shift > 0 && n > (UINT64_MAX >> shift)) return bad;
  return n << shift;
}

Result<int64_t> ParseDurationSeconds(std::string_view text) {
  const Status bad(ErrorCode::kInvalidArgument,
                   "'" + std::string(text) + "' is not a duration (a number of seconds, or with " +
                       "s, m, h or d: 30s, 15m, 12h, 7d)");
  auto parsed = LeadingNumber(text);
  if (!parsed) return bad;
  auto [n, rest] = *parsed;
  uint64_t unit = 1;
  if (rest.size() > 1) return bad;
  if (rest.size() == 1) {
    switch (AsciiLower(rest.front())) {
      case 's':
        break;
      case 'm':
        unit = 60;
        break;
      case 'h':
        unit = 3600;
        break;
      case 'd':
        unit = 86400;
        break;
      default:
        return bad;
    }
  }
  // A century is "for ever" already; beyond it the micros would overflow.
  constexpr uint64_t kMaxSeconds = uint64_t{100} * 365 * 86400;
  if (n > kMaxSeconds / unit) return bad;
  return static_cast<int64_t>(n * unit);
}

Result<std::unique_ptr<FileLock>> LockDataDir(const std::string& data_dir) {
  const std::string path = JoinPath(data_dir, kServeLockFile);
  auto lock = FileLock::TryAcquire(path);
  if (lock.ok() || lock.status().code() != ErrorCode::kUnavailable) return lock;
  const int64_t pid = FileLock::HolderPid(path);
  return Err(ErrorCode::kUnavailable,
             "another sluice serve holds " + path +
                 (pid > 0 ? " (pid " + std::to_string(pid) + ")" : std::string()) +
                 ": one server per data directory");
}

std::string EndpointFor(const std::string& data_dir) {
  auto text = FileSystem::Default().ReadSmallFile(JoinPath(data_dir, kServeFile));
  if (text.ok()) {
    auto info = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
    if (info.is_object() && info.contains("s3_endpoint") && info["s3_endpoint"].is_string()) {
      return info["s3_endpoint"].get<std::string>();
    }
  }
  return "http://127.0.0.1:" + std::to_string(ServeConfig{}.s3_port);
}

Status RunServer(const ServeConfig& config) {
  const bool tls = !config.tls_cert_file.empty() || !config.tls_key_file.empty();
  if (tls && (config.tls_cert_file.empty() || config.tls_key_file.empty())) {
    return Err(ErrorCode::kInvalidArgument, "--tls-cert and --tls-key go together");
  }
  if (!tls && (config.https_port || config.https_address || config.admin_tls)) {
    return Err(ErrorCode::kInvalidArgument,
               "--https-port, --https-address and --admin-tls need --tls-cert and --tls-key");
  }
  FileSystem& fs = FileSystem::Default();
  const Clock& clock = SystemClock::Instance();
  // Everything the server creates from here on (SQLite's files, directories, landed objects)
  // is for the service user only.
  ::umask(077);
  SLUICE_RETURN_IF_ERROR(fs.CreateDirs(config.data_dir));
  // First, before anything in the directory is read or changed: a second server here would
  // delete the first one's incoming files and load its files twice over.
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<FileLock> serve_lock, LockDataDir(config.data_dir));
  SLUICE_RETURN_IF_ERROR(SecureDataDir(config.data_dir));
  RaiseOpenFileLimit(config);

  SLUICE_ASSIGN_OR_RETURN(const std::string pool_choice, ChoosePool(config.data_dir, config.pool));
  SLUICE_ASSIGN_OR_RETURN(const std::string landing_dir,
                          ChooseLanding(config.data_dir, config.landing));
  SLUICE_ASSIGN_OR_RETURN(auto catalog, OpenDataDirCatalog(config.data_dir, clock));
  // Nodes sharing a ledger share the landing directory: each keeps its incoming files apart.
  std::string node;
  if (catalog->Shared()) {
    SLUICE_ASSIGN_OR_RETURN(node, NodeName(config.data_dir));
  }
  landing::DirectoryStore landing_store(fs, landing_dir, node);
  SLUICE_RETURN_IF_ERROR(landing_store.Init());
  SLUICE_RETURN_IF_ERROR(MigrateSinglePoolFile(config.data_dir, *catalog)
                             .WithContext("moving the pool to one database per connection"));
  SLUICE_ASSIGN_OR_RETURN(auto pool, OpenDataDirPool(config.data_dir, clock));
  SLUICE_ASSIGN_OR_RETURN(Secret admin_token, LoadOrCreateAdminToken(fs, config.data_dir));
  // The entries made at first start (the data directory in its parent; catalog.db, pool/,
  // landing/ and the key files in it) must survive a power cut before anything is
  // acknowledged; a later start syncs nothing new, cheaply.
  SLUICE_RETURN_IF_ERROR(fs.SyncDir(config.data_dir));
  SLUICE_RETURN_IF_ERROR(fs.SyncDir(DirName(config.data_dir)));
  SLUICE_RETURN_IF_ERROR(store::RemoveUnrecordedObjects(*catalog, landing_store, clock));

  load::Loader loader(*catalog, landing_store, *pool, clock,
                      {.workers = config.load_workers,
                       .max_load_attempts = config.max_load_attempts,
                       .read_limits = batch::ReadLimits::ForLoadMemory(config.load_memory)});
  SLUICE_RETURN_IF_ERROR(loader.Reconcile());

  // The per-connection disk quota counts from the ledger as it is now (orphans removed above).
  store::DiskQuota quota(config.connection_quota);
  SLUICE_RETURN_IF_ERROR(quota.Load(*catalog).WithContext("counting each connection's bytes"));

  // Flow control and metrics observe the loader; all outlive the runtime (declared before it).
  api::Metrics metrics;
  metrics.WatchDiskQuota(&quota);
  store::Backpressure backpressure(*catalog, landing_store,
                                   {.max_pending_files = config.max_pending_files,
                                    .max_pending_bytes = config.max_pending_bytes,
                                    .min_free_disk = config.min_free_disk},
                                   &metrics);
  store::LoadWaits waits(*catalog);
  loader.AddObserver(&metrics);
  loader.AddObserver(&backpressure);
  loader.AddObserver(&waits);
  backpressure.Start();
  waits.Start();

  store::BackendOptions backend_options;
  backend_options.backpressure = &backpressure;
  backend_options.waits = &waits;
  backend_options.metrics = &metrics;
  backend_options.quota = &quota;
  store::StoreBackend backend(*catalog, landing_store, loader, clock, backend_options);
  s3::ServiceOptions s3_options;
  s3_options.region = config.region;
  s3_options.base_domain = config.base_domain;
  s3_options.max_object_bytes = config.max_object_bytes;
  // The console's origin may call the S3 endpoint from the browser (its uploads); it is known
  // once the admin listener has its port, before the runtime serves a request.
  auto console_origin = std::make_shared<std::string>();
  s3_options.cors_origin_allowed = [console_origin](std::string_view origin) {
    return !console_origin->empty() && origin == *console_origin;
  };
  auto service = s3::MakeService(backend, clock, s3_options);

  auto runtime = http::Runtime::Create(config.http_threads);
  http::ServerOptions s3_listen;
  s3_listen.address = config.s3_address;
  s3_listen.port = config.s3_port;
  s3_listen.threads = config.http_threads;
  s3_listen.body_timeout_seconds = config.body_timeout_seconds;
  s3_listen.idle_timeout_seconds = config.idle_timeout_seconds;
  s3_listen.min_body_rate = config.min_body_rate;
  s3_listen.max_connections = config.max_connections;
  s3_listen.max_connections_per_client = config.max_connections_per_client;
  s3_listen.overload_response = s3::ConnectionOverloadResponse();
  SLUICE_ASSIGN_OR_RETURN(auto s3_server, runtime->Listen(s3_listen, *service));
  std::unique_ptr<http::Server> https_server;
  std::string https_endpoint;
  if (tls) {
    http::ServerOptions https_listen = s3_listen;
    https_listen.address = config.https_address.value_or(config.s3_address);
    https_listen.port = config.https_port.value_or(kDefaultHttpsPort);
    https_listen.tls_cert_file = config.tls_cert_file;
    https_listen.tls_key_file = config.tls_key_file;
    SLUICE_ASSIGN_OR_RETURN(https_server, runtime->Listen(https_listen, *service));
    https_endpoint =
        "https://" + HostForUrl(https_listen.address) + ":" + std::to_string(https_server->port());
  }
  const std::string endpoint =
      !config.public_endpoint.empty()
          ? config.public_endpoint
          : "http://" + HostForUrl(config.s3_address) + ":" + std::to_string(s3_server->port());
  SLUICE_ASSIGN_OR_RETURN(alerts::DispatcherOptions alert_options, AlertOptions(fs, config));
  alerts::Dispatcher dispatcher(*catalog, *pool, clock, std::move(alert_options));
  loader.AddObserver(&dispatcher);
  auto admin = api::MakeAdminHandler(*catalog, admin_token, metrics, clock,
                                     api::AdminOptions{.metrics_token = config.metrics_token,
                                                       .landing = &landing_store,
                                                       .pool = pool.get(),
                                                       .backend = &backend,
                                                       .alerts = &dispatcher,
                                                       .s3_endpoint = endpoint,
                                                       .region = config.region});
  http::ServerOptions admin_listen = s3_listen;
  admin_listen.address = config.admin_address;
  admin_listen.port = config.admin_port;
  admin_listen.overload_response.reset();
  admin_listen.tls_cert_file = config.admin_tls ? config.tls_cert_file : "";
  admin_listen.tls_key_file = config.admin_tls ? config.tls_key_file : "";
  SLUICE_ASSIGN_OR_RETURN(auto admin_server, runtime->Listen(admin_listen, *admin));

  const std::string admin_url = std::string(config.admin_tls ? "https://" : "http://") +
                                HostForUrl(config.admin_address) + ":" +
                                std::to_string(admin_server->port());
  *console_origin = admin_url;
  nlohmann::json info = {{"s3_endpoint", endpoint},
                         {"admin_url", admin_url},
                         {"region", config.region},
                         {"pid", static_cast<int64_t>(::getpid())}};
  if (tls) info["s3_https_endpoint"] = https_endpoint;
  SLUICE_RETURN_IF_ERROR(WriteServeFile(fs, config.data_dir, info));

  loader.Start();
  dispatcher.Start();
  store::UploadReaper reaper(backend, store::kUploadReapInterval,
                             config.retention_seconds * 1'000'000);
  reaper.Start();
  const std::string addressing =
      config.base_domain.empty() ? "path-style"
                                 : "path-style, and virtual-hosted as BUCKET." + config.base_domain;
  std::printf("sluice is serving\n  S3 endpoint  %s   (region %s, %s)\n", endpoint.c_str(),
              config.region.c_str(), addressing.c_str());
  if (tls) {
    std::printf("  S3 https     %s   (certificate %s)\n", https_endpoint.c_str(),
                config.tls_cert_file.c_str());
  }
  std::printf(
      "  admin        %s   (the console: sluice admin user add to log in; /api/v1 also with the "
      "token in %s)\n"
      "  data         %s\n"
      "  landing      %s\n"
      "  pool         %s\n"
      "Next: sluice connection create NAME --data-dir %s\n",
      admin_url.c_str(), JoinPath(config.data_dir, "admin.token").c_str(), config.data_dir.c_str(),
      (landing_dir + (node.empty() ? "" : "   (shared; node " + node + ")")).c_str(),
      DescribePool(pool_choice, config.data_dir).c_str(), config.data_dir.c_str());
  std::fflush(stdout);

  runtime->StopOnSignals();
  runtime->Run();
  LogInfo("app", "shutting down: finishing loads in progress");
  // Waits still pending were answered as the runtime stopped; late ones get the state so far.
  waits.Stop();
  reaper.Stop();
  dispatcher.Stop();
  loader.Stop();
  backpressure.Stop();
  LogInfo("app", "stopped");
  return Status::Ok();
}

}  // namespace sluice::app
