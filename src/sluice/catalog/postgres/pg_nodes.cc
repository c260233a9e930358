// What several nodes sharing the PostgreSQL catalog need from it: table claims, change
// notifications (the listener thread) and the change counter.
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

#include "sluice/catalog/postgres/pg_catalog_internal.h"

namespace sluice::catalog {
namespace {

using postgres::Conn;
using postgres::Params;
using postgres::Rows;

// Idle claim connections kept for the next claim (a node's loader claims one table per worker).
constexpr size_t kMaxIdleClaimConns = 8;
// The listener's reconnection back-off: from the first to the last, doubling.
constexpr auto kListenRetryFirst = std::chrono::milliseconds(100);
constexpr auto kListenRetryLast = std::chrono::seconds(5);
// How long the first ChangeCounter waits for the listener to be in place, so that what commits
// after it returns is counted.
constexpr auto kListenStartWait = std::chrono::seconds(2);

}  // namespace

class ClaimConns {
 public:
  explicit ClaimConns(std::string conninfo) : conninfo_(std::move(conninfo)) {}

  Result<std::unique_ptr<Conn>> Acquire(bool* reused) EXCLUDES(mu_) {
    {
      MutexLock lock(&mu_);
      *reused = !idle_.empty();
      if (*reused) {
        std::unique_ptr<Conn> conn = std::move(idle_.back());
        idle_.pop_back();
        return conn;
      }
    }
    return Conn::Open(conninfo_, {.label = "catalog claim", .setup = kPgSetup});
  }

  void Release(std::unique_ptr<Conn> conn) EXCLUDES(mu_) {
    if (!conn->Idle()) return;  // broken: closed with it
    MutexLock lock(&mu_);
    if (idle_.size() < kMaxIdleClaimConns) idle_.push_back(std::move(conn));
  }

 private:
  const std::string conninfo_;
  Mutex mu_;
  std::vector<std::unique_ptr<Conn>> idle_ GUARDED_BY(mu_);
};

namespace {

// Holds the claim row's lock in an open transaction of its own connection.
class PgClaim final : public TableClaim {
 public:
  PgClaim(std::shared_ptr<ClaimConns> conns, std::unique_ptr<Conn> conn)
      : conns_(std::move(conns)), conn_(std::move(conn)) {}
  ~PgClaim() override {
    conn_->Exec("ROLLBACK").IgnoreError();  // a lost connection released the lock already
    conns_->Release(std::move(conn_));
  }

 private:
  std::shared_ptr<ClaimConns> conns_;
  std::unique_ptr<Conn> conn_;
};

}  // namespace

PgCatalog::PgCatalog(std::string conninfo, SecretBox box, const Clock& clock)
    : conninfo_(std::move(conninfo)),
      box_(box),
      clock_(clock),
      claims_(std::make_shared<ClaimConns>(conninfo_)) {}

PgCatalog::~PgCatalog() {
  stopping_.store(true);
  if (listener_.joinable()) {
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(stop_fd_, &one, sizeof(one));
    listener_.join();
  }
  if (stop_fd_ >= 0) ::close(stop_fd_);
}

Result<std::unique_ptr<TableClaim>> PgCatalog::ClaimTable(const TableKey& table) {
  const Params key = Params().Text(table.connection_id).Text(table.table);
  while (true) {
    bool reused = false;
    SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<Conn> conn, claims_->Acquire(&reused));
    // The row must exist before it can be locked; created in a transaction of its own.
    Status st = conn->Query("INSERT INTO table_claims VALUES ($1, $2) ON CONFLICT DO NOTHING", key,
                            "creating a table's claim")
                    .status();
    Result<Rows> rows = Rows();
    if (st.ok()) st = conn->Exec("BEGIN");
    if (st.ok()) {
      rows = conn->Query(
          "SELECT 1 FROM table_claims WHERE connection_id = $1 AND table_name = $2 "
          "FOR UPDATE SKIP LOCKED",
          key, "claiming a table");
      st = rows.status();
    }
    if (!st.ok()) {
      const bool retry = reused && st.code() == ErrorCode::kUnavailable && !conn->Idle();
      if (!conn->Idle()) conn->Exec("ROLLBACK").IgnoreError();
      claims_->Release(std::move(conn));
      if (retry) continue;  // an idle connection the server had closed: nothing was claimed
      return st;
    }
    if (rows->size() == 0) {  // another node holds it
      conn->Exec("ROLLBACK").IgnoreError();
      claims_->Release(std::move(conn));
      return std::unique_ptr<TableClaim>();
    }
    return std::unique_ptr<TableClaim>(std::make_unique<PgClaim>(claims_, std::move(conn)));
  }
}

bool PgCatalog::OwnBackend(int pid) {
  MutexLock lock(&mu_);
  return own_pids_.count(pid) != 0;
}

void PgCatalog::StartListener() {
  std::call_once(listener_started_, [this] {
    stop_fd_ = ::eventfd(0, EFD_CLOEXEC);
    if (stop_fd_ < 0) {
      LogWarn("catalog", "cannot create the listener's eventfd: no change notifications");
      return;
    }
    listener_ = std::thread([this] { ListenLoop(); });
  });
  MutexLock lock(&mu_);
  const auto deadline = std::chrono::steady_clock::now() + kListenStartWait;
  while (!listening_ && listener_.joinable()) {
    if (!listening_changed_.WaitUntil(&mu_, deadline)) break;
  }
}

void PgCatalog::ListenLoop() {
  auto backoff = std::chrono::milliseconds(kListenRetryFirst);
  bool connected_before = false;
  // Waits up to `timeout` (-1: for ever) for `fd` to be readable; false when asked to stop.
  auto wait = [this](int fd, int timeout_ms) {
    pollfd fds[2] = {{stop_fd_, POLLIN, 0}, {fd, POLLIN, 0}};
    const int n = ::poll(fds, fd >= 0 ? 2 : 1, timeout_ms);
    return !(n > 0 && (fds[0].revents & POLLIN) != 0) && !stopping_.load();
  };
  while (!stopping_.load()) {
    Result<std::unique_ptr<Conn>> conn =
        Conn::Open(conninfo_, {.label = "catalog listener", .setup = kPgSetup});
    Status st = conn.ok() ? (*conn)->Exec(std::string("LISTEN ") + kPgChannel) : conn.status();
    if (!st.ok()) {
      LogWarn("catalog", "change notifications paused: " + st.ToString());
      if (!wait(-1, static_cast<int>(backoff.count()))) return;
      backoff = std::min<std::chrono::milliseconds>(backoff * 2, kListenRetryLast);
      continue;
    }
    backoff = kListenRetryFirst;
    {
      MutexLock lock(&mu_);
      listening_ = true;
      listening_changed_.SignalAll();
    }
    // Notifications sent while the listener was away are lost: tell the watcher once.
    bool changed = connected_before;
    connected_before = true;
    while (true) {
      if (changed) {
        MutexLock lock(&watch_mu_);
        if (on_change_) on_change_();
        changed = false;
      }
      if (!wait((*conn)->Socket(), -1)) return;
      Result<std::vector<Conn::Notification>> got = (*conn)->ConsumeNotifications();
      if (!got.ok()) {
        LogWarn("catalog", "change notifications lost, reconnecting: " + got.status().ToString());
        break;
      }
      for (const Conn::Notification& n : *got) {
        notifications_.fetch_add(1, std::memory_order_relaxed);
        if (!OwnBackend(n.sender_pid)) changed = true;
      }
    }
    MutexLock lock(&mu_);
    listening_ = false;
  }
}

void PgCatalog::WatchChanges(std::function<void()> on_change) {
  {
    MutexLock lock(&watch_mu_);
    on_change_ = std::move(on_change);
  }
  StartListener();
}

Result<int64_t> PgCatalog::ChangeCounter() {
  StartListener();
  return local_writes_.load(std::memory_order_relaxed) +
         notifications_.load(std::memory_order_relaxed);
}

}  // namespace sluice::catalog
