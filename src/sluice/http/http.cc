// The Runtime (one io_context run by N threads), its listeners and the stop sequence.
//
// Strands: each listener's acceptor and each connection run on a strand of their own; the
// runtime's own work (signals, the stop sequence, the grace timer) runs on `control_`.
//
// Stop: stop accepting, tell live connections (idle ones close at once, busy ones finish their
// request and close), then stop the io_context when the last connection has gone or after
// kStopGrace, whichever comes first. Run() returns once its threads have left the io_context.

#include "sluice/http/http.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/status.hpp>
#include <chrono>
#include <csignal>
#include <exception>
#include <limits>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "sluice/core/clock.h"
#include "sluice/core/log.h"
#include "sluice/core/mutex.h"
#include "sluice/http/connection_limiter_internal.h"
#include "sluice/http/runtime_state_internal.h"
#include "sluice/http/session_internal.h"
#include "sluice/http/tls_internal.h"
#include "sluice/http/wire_internal.h"

namespace sluice::http {

std::optional<std::string_view> RequestHead::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoreCase(key, name)) return std::string_view(value);
  }
  return std::nullopt;
}

std::shared_ptr<DeferredResponse> DeferredResponse::Create(std::function<void()> on_stop) {
  return std::make_shared<DeferredResponse>(std::move(on_stop));
}

void DeferredResponse::Complete(Response response) {
  std::function<void()> waker;
  {
    MutexLock lock(&mu_);
    if (completed_) return;
    completed_ = true;
    response.deferred.reset();  // a deferred response cannot defer again
    response_ = std::move(response);
    waker = std::move(waker_);
    on_stop_ = nullptr;
  }
  if (waker) waker();
}

bool DeferredResponse::completed() const {
  MutexLock lock(&mu_);
  return completed_;
}

std::optional<Response> DeferredResponse::Peek() const {
  MutexLock lock(&mu_);
  return response_;
}

namespace internal {

bool DeferredAccess::SetWaker(DeferredResponse& d, std::function<void()> waker) {
  MutexLock lock(&d.mu_);
  if (d.completed_) return false;
  d.waker_ = std::move(waker);
  return true;
}

std::optional<Response> DeferredAccess::Take(DeferredResponse& d) {
  MutexLock lock(&d.mu_);
  std::optional<Response> out = std::move(d.response_);
  d.response_.reset();
  return out;
}

void DeferredAccess::Stop(DeferredResponse& d) {
  std::function<void()> on_stop;
  {
    MutexLock lock(&d.mu_);
    if (d.completed_) return;
    on_stop = std::move(d.on_stop_);
    d.on_stop_ = nullptr;
  }
  if (on_stop) on_stop();
}

}  // namespace internal

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using ErrorCodeT = boost::system::error_code;

// How long Stop() lets in-flight requests finish before the io_context is stopped regardless.
constexpr auto kStopGrace = std::chrono::seconds(5);
// Pause after an accept error such as EMFILE before trying again, so the loop does not spin.
constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(100);
// Request heads beyond this are not sent by any real client; a larger option is a config error.
constexpr uint64_t kMaxHeaderLimit = 1024 * 1024;
// A timeout beyond a day is a config error (and would overflow nothing, but means "never").
constexpr int kMaxTimeoutSeconds = 24 * 3600;
// More connections than this per listener would exceed any sane descriptor limit.
constexpr uint32_t kMaxConnections = 1'000'000;
// A minimum body rate above 1 GiB/s would refuse healthy clients on any network.
constexpr uint64_t kMaxMinBodyRate = uint64_t{1} << 30;
// The overload response is written in one non-blocking send; a larger one is a config error.
constexpr size_t kMaxOverloadBytes = 4096;

void LogCoroutineError(const std::exception_ptr& error) {
  if (!error) return;
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    LogError("http", std::string("listener ended by an exception: ") + e.what());
  } catch (...) {
    LogError("http", "listener ended by an unknown exception");
  }
}

struct Listener {
  Listener(asio::io_context& ioc, Handler& h, internal::SessionLimits l,
           std::shared_ptr<asio::ssl::context> t, std::shared_ptr<internal::ConnectionLimiter> c,
           std::string o)
      : acceptor(asio::make_strand(ioc)),
        handler(h),
        limits(l),
        tls(std::move(t)),
        limiter(std::move(c)),
        overload(std::move(o)) {}
  tcp::acceptor acceptor;
  Handler& handler;
  internal::SessionLimits limits;
  std::shared_ptr<asio::ssl::context> tls;  // null: plain http
  std::shared_ptr<internal::ConnectionLimiter> limiter;
  std::string overload;  // the wire bytes sent to a refused connection; empty: none (or TLS)
  std::string where;     // "address:port", for log lines
};

// The wire form of `r` as a complete HTTP/1.1 response that closes the connection.
std::string SerializeOverload(const Response& r) {
  std::string out = "HTTP/1.1 " + std::to_string(r.status) + " ";
  const auto reason = boost::beast::http::obsolete_reason(
      static_cast<boost::beast::http::status>(static_cast<unsigned>(r.status)));
  out.append(reason.data(), reason.size());
  out += "\r\n";
  for (const auto& [name, value] : r.headers) {
    if (EqualsIgnoreCase(name, "Content-Length") || EqualsIgnoreCase(name, "Connection") ||
        EqualsIgnoreCase(name, "Transfer-Encoding")) {
      continue;
    }
    out += name + ": " + value + "\r\n";
  }
  out += "Content-Length: " + std::to_string(r.body.size()) + "\r\nConnection: close\r\n\r\n";
  out += r.body;
  return out;
}

// A connection over a cap: tell it (best effort, never waiting) and close it. The client's
// unread request may make the close a reset; clients retry either way.
void Refuse(Listener& listener, tcp::socket& socket, const std::string& remote,
            internal::ConnectionLimiter::Refusal why) {
  uint64_t refused = 0;
  if (listener.limiter->ShouldLog(remote, MonotonicClock::Real().Now(), &refused)) {
    const uint32_t cap = why == internal::ConnectionLimiter::Refusal::kTotal
                             ? listener.limiter->max_total()
                             : listener.limiter->max_per_client();
    LogWarn("http", "refused " + std::to_string(refused) + " connection(s) from " + remote +
                        " on " + listener.where + ": over the " +
                        std::string(internal::RefusalName(why)) + " limit of " +
                        std::to_string(cap) + " (--max-connections" +
                        (why == internal::ConnectionLimiter::Refusal::kTotal ? "" : "-per-client") +
                        "); next report for this address in at most " +
                        std::to_string(internal::ConnectionLimiter::kLogInterval.count()) + " s");
  }
  ErrorCodeT ec;
  if (!listener.overload.empty()) {
    socket.non_blocking(true, ec);
    if (!ec) socket.write_some(asio::buffer(listener.overload), ec);
    socket.shutdown(tcp::socket::shutdown_send, ec);
  }
  socket.close(ec);
}

asio::awaitable<void> AcceptLoop(asio::io_context& ioc, std::shared_ptr<Listener> listener,
                                 std::shared_ptr<internal::RuntimeState> state) {
  asio::steady_timer retry(listener->acceptor.get_executor());
  for (;;) {
    tcp::socket socket(asio::make_strand(ioc));
    auto [ec] =
        co_await listener->acceptor.async_accept(socket, asio::as_tuple(asio::use_awaitable));
    if (ec) {
      if (ec == asio::error::operation_aborted || !listener->acceptor.is_open()) co_return;
      LogWarn("http", "accept failed: " + ec.message());
      retry.expires_after(kAcceptRetryDelay);
      co_await retry.async_wait(asio::as_tuple(asio::use_awaitable));
      continue;
    }
    if (state->stopping()) co_return;  // `socket` closes as it goes out of scope
    auto endpoint = socket.remote_endpoint(ec);
    if (ec) continue;  // already gone
    std::string remote = endpoint.address().to_string();
    internal::ConnectionLimiter::Refusal why;
    internal::ConnectionLimiter::Slot slot = listener->limiter->TryAcquire(remote, &why);
    if (!slot) {
      Refuse(*listener, socket, remote, why);
      continue;
    }
    if (listener->tls) {
      internal::StartTlsSession(state, listener->handler, listener->limits, std::move(socket),
                                std::move(remote), std::move(slot), listener->tls);
    } else {
      internal::StartPlainSession(state, listener->handler, listener->limits, std::move(socket),
                                  std::move(remote), std::move(slot));
    }
  }
}

class ServerImpl final : public Server {
 public:
  explicit ServerImpl(uint16_t port) : port_(port) {}
  uint16_t port() const override { return port_; }

 private:
  uint16_t port_;
};

Status ValidateOptions(const ServerOptions& options, internal::SessionLimits* limits) {
  if (options.header_limit == 0 || options.header_limit > kMaxHeaderLimit) {
    return Err(ErrorCode::kInvalidArgument,
               "http: header_limit " + std::to_string(options.header_limit) + " is outside 1.." +
                   std::to_string(kMaxHeaderLimit));
  }
  if (options.idle_timeout_seconds <= 0 || options.idle_timeout_seconds > kMaxTimeoutSeconds) {
    return Err(ErrorCode::kInvalidArgument,
               "http: idle_timeout_seconds " + std::to_string(options.idle_timeout_seconds) +
                   " is outside 1.." + std::to_string(kMaxTimeoutSeconds));
  }
  if (options.body_timeout_seconds <= 0 || options.body_timeout_seconds > kMaxTimeoutSeconds) {
    return Err(ErrorCode::kInvalidArgument,
               "http: body_timeout_seconds " + std::to_string(options.body_timeout_seconds) +
                   " is outside 1.." + std::to_string(kMaxTimeoutSeconds));
  }
  if (options.handshake_timeout_seconds <= 0 ||
      options.handshake_timeout_seconds > kMaxTimeoutSeconds) {
    return Err(ErrorCode::kInvalidArgument, "http: handshake_timeout_seconds " +
                                                std::to_string(options.handshake_timeout_seconds) +
                                                " is outside 1.." +
                                                std::to_string(kMaxTimeoutSeconds));
  }
  if (options.max_connections == 0 || options.max_connections > kMaxConnections) {
    return Err(ErrorCode::kInvalidArgument,
               "http: max_connections " + std::to_string(options.max_connections) +
                   " is outside 1.." + std::to_string(kMaxConnections));
  }
  if (options.max_connections_per_client > kMaxConnections) {
    return Err(ErrorCode::kInvalidArgument, "http: max_connections_per_client " +
                                                std::to_string(options.max_connections_per_client) +
                                                " is outside 0.." +
                                                std::to_string(kMaxConnections));
  }
  if (options.min_body_rate > kMaxMinBodyRate) {
    return Err(ErrorCode::kInvalidArgument,
               "http: min_body_rate " + std::to_string(options.min_body_rate) + " is outside 0.." +
                   std::to_string(kMaxMinBodyRate) + " bytes per second");
  }
  if (options.overload_response) {
    const Response& r = *options.overload_response;
    if (r.file || r.deferred || !internal::CheckResponse(r).empty() ||
        SerializeOverload(r).size() > kMaxOverloadBytes) {
      return Err(ErrorCode::kInvalidArgument,
                 "http: overload_response must be a valid response of at most " +
                     std::to_string(kMaxOverloadBytes) + " bytes without a file or deferral");
    }
  }
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    return Err(ErrorCode::kInvalidArgument,
               options.tls_cert_file.empty()
                   ? "http: a TLS key file was given without a certificate file"
                   : "http: a TLS certificate file was given without a key file");
  }
  limits->header_limit = static_cast<uint32_t>(options.header_limit);
  limits->handshake_timeout = std::chrono::seconds(options.handshake_timeout_seconds);
  limits->idle_timeout = std::chrono::seconds(options.idle_timeout_seconds);
  limits->body_timeout = std::chrono::seconds(options.body_timeout_seconds);
  limits->min_body_rate = options.min_body_rate;
  return Status::Ok();
}

class RuntimeImpl final : public Runtime {
 public:
  RuntimeImpl(int threads, int blocking_threads, int long_threads)
      : threads_(threads > 0 ? threads : 1),
        ioc_(threads_),
        blocking_(static_cast<size_t>(blocking_threads > 0 ? blocking_threads : 1)),
        long_(static_cast<size_t>(long_threads > 0 ? long_threads : 1)),
        work_(asio::make_work_guard(ioc_)),
        control_(asio::make_strand(ioc_)),
        grace_timer_(control_),
        state_(std::make_shared<internal::RuntimeState>()) {
    state_->SetOnDrained([this] { ioc_.stop(); });
    state_->SetBlocking([this](std::function<void()> work, bool long_work) {
      asio::post(long_work ? long_ : blocking_, [work = std::move(work)] {
        try {
          work();
        } catch (const std::exception& e) {
          LogError("http", std::string("blocking work ended by an exception: ") + e.what());
        }
      });
    });
  }

  ~RuntimeImpl() override {
    Stop();
    // Sessions still parked in the io_context are destroyed with it; they must not call back
    // into this object on their way out.
    state_->Detach();
    ioc_.stop();
    // Work still on the blocking pool uses exchanges owned by parked sessions: it finishes
    // (what never started is dropped) before the io_context, and the sessions, go.
    blocking_.stop();
    long_.stop();
    blocking_.join();
    long_.join();
    signals_.reset();
    listeners_.clear();
  }

  Result<std::unique_ptr<Server>> Listen(const ServerOptions& options, Handler& handler) override {
    internal::SessionLimits limits;
    SLUICE_RETURN_IF_ERROR(ValidateOptions(options, &limits));
    if (state_->stopping()) {
      return Err(ErrorCode::kUnavailable, "http: the runtime is stopping");
    }
    const std::string where = options.address + ":" + std::to_string(options.port);
    ErrorCodeT ec;
    auto address =
        asio::ip::make_address(options.address == "localhost" ? "127.0.0.1" : options.address, ec);
    if (ec) {
      return Err(ErrorCode::kInvalidArgument,
                 "http: listen address '" + options.address + "' is not an IP address");
    }
    std::shared_ptr<asio::ssl::context> tls;
    if (!options.tls_cert_file.empty()) {
      SLUICE_ASSIGN_OR_RETURN(
          tls, internal::MakeServerTlsContext(options.tls_cert_file, options.tls_key_file));
    }
    // A TLS client would take plain bytes for a broken handshake: it is just closed.
    std::string overload = options.overload_response && !tls
                               ? SerializeOverload(*options.overload_response)
                               : std::string();
    auto listener =
        std::make_shared<Listener>(ioc_, handler, limits, tls,
                                   internal::ConnectionLimiter::Create(
                                       options.max_connections, options.max_connections_per_client),
                                   std::move(overload));
    tcp::endpoint endpoint(address, options.port);
    tcp::acceptor& acceptor = listener->acceptor;
    acceptor.open(endpoint.protocol(), ec);
    if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor.bind(endpoint, ec);
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
      return Err(ErrorCode::kIoError, "http: cannot listen on " + where + ": " + ec.message());
    uint16_t port = acceptor.local_endpoint(ec).port();
    if (ec) return Err(ErrorCode::kIoError, "http: cannot read the port of " + where);
    listener->where = address.to_string() + ":" + std::to_string(port);
    {
      MutexLock lock(&mu_);
      listeners_.push_back(listener);
    }
    asio::co_spawn(acceptor.get_executor(), AcceptLoop(ioc_, listener, state_), LogCoroutineError);
    LogInfo("http", std::string(tls ? "listening (https) on " : "listening on ") +
                        address.to_string() + ":" + std::to_string(port));
    return std::unique_ptr<Server>(std::make_unique<ServerImpl>(port));
  }

  void StopOnSignals() override {
    asio::post(control_, [this] {
      if (signals_ || state_->stopping()) return;
      signals_.emplace(control_, SIGINT, SIGTERM);
      signals_->async_wait([this](const ErrorCodeT& ec, int signal_number) {
        if (ec) return;
        LogInfo("http", "signal " + std::to_string(signal_number) + ": stopping");
        Stop();
      });
    });
  }

  void Run() override {
    std::vector<std::thread> pool;
    pool.reserve(threads_ - 1);
    for (int i = 1; i < threads_; ++i) pool.emplace_back([this] { RunThread(); });
    RunThread();
    for (auto& t : pool) t.join();
    // Finish calls handed to the blocking pool complete (their responses can no longer be
    // sent) before the caller goes on to stop what they use.
    blocking_.join();
    long_.join();
  }

  void Stop() override {
    if (stop_requested_.exchange(true)) return;
    asio::post(control_, [this] { DoStop(); });
  }

 private:
  void RunThread() {
    try {
      ioc_.run();
    } catch (const std::exception& e) {
      // Handlers are not meant to throw; one that does takes the runtime down cleanly.
      LogError("http", std::string("I/O thread stopped by an exception: ") + e.what());
      Stop();
      ioc_.stop();
    }
  }

  void DoStop() {
    std::vector<std::shared_ptr<Listener>> listeners;
    {
      MutexLock lock(&mu_);
      listeners = listeners_;
    }
    for (const auto& listener : listeners) {
      asio::post(listener->acceptor.get_executor(), [listener] {
        ErrorCodeT ignored;
        listener->acceptor.close(ignored);
      });
    }
    if (signals_) {
      ErrorCodeT ignored;
      signals_->cancel(ignored);
    }
    work_.reset();
    if (state_->BeginStop()) {
      ioc_.stop();
      return;
    }
    grace_timer_.expires_after(kStopGrace);
    grace_timer_.async_wait([this](const ErrorCodeT& ec) {
      if (ec) return;
      LogWarn("http", "stopping with requests still in flight after the grace period");
      ioc_.stop();
    });
  }

  const int threads_;
  asio::io_context ioc_;
  asio::thread_pool blocking_;  // after ioc_: joined (in the destructor) before it goes
  asio::thread_pool long_;      // the same, for FinishIsLong
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  asio::strand<asio::io_context::executor_type> control_;
  asio::steady_timer grace_timer_;
  std::optional<asio::signal_set> signals_;
  std::shared_ptr<internal::RuntimeState> state_;
  std::atomic<bool> stop_requested_{false};
  Mutex mu_;
  std::vector<std::shared_ptr<Listener>> listeners_ GUARDED_BY(mu_);
};

}  // namespace

std::unique_ptr<Runtime> Runtime::Create(int threads, int blocking_threads, int long_threads) {
  return std::make_unique<RuntimeImpl>(threads, blocking_threads, long_threads);
}

}  // namespace sluice::http
