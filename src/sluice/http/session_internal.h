#pragma once
// Private to http/: one accepted connection, served by one coroutine on its own strand.
//
// The session is a template over the stream: plain TCP and TLS (ssl_stream<tcp_stream>) are
// served by the same code.

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "sluice/http/connection_limiter_internal.h"
#include "sluice/http/http.h"
#include "sluice/http/runtime_state_internal.h"

namespace sluice::http::internal {

// What a waiting connection does with a DeferredResponse (http.h). Thread-safe.
struct DeferredAccess {
  // Sets the function Complete calls (outside the lock) to wake the waiting connection; when
  // the response is already there it is not called. Returns whether it was set.
  static bool SetWaker(DeferredResponse& d, std::function<void()> waker);
  // The completed response, once (nullopt before Complete and after the first take).
  static std::optional<Response> Take(DeferredResponse& d);
  // The runtime is stopping: runs the producer's on_stop once, unless already completed.
  static void Stop(DeferredResponse& d);
};

// The per-connection limits, copied from ServerOptions once they have been validated.
struct SessionLimits {
  uint32_t header_limit = 64 * 1024;
  std::chrono::seconds idle_timeout{60};
  std::chrono::seconds body_timeout{30};
  uint64_t min_body_rate = 1024;               // bytes per second; 0: off
  std::chrono::seconds handshake_timeout{10};  // TLS only
};

// Takes over `socket` (whose executor must be a strand of its own) and serves it until the
// client leaves, a timeout fires or the runtime stops. Returns at once; the work runs on the
// socket's executor. `handler` must outlive the runtime.
// `slot` is the connection's place in its listener's ConnectionLimiter, held until it closes;
// `remote` its peer's address.
void StartPlainSession(const std::shared_ptr<RuntimeState>& state, Handler& handler,
                       const SessionLimits& limits, boost::asio::ip::tcp::socket socket,
                       std::string remote, ConnectionLimiter::Slot slot);

// The same over TLS with `context` (each connection's SSL object holds a reference to it).
void StartTlsSession(const std::shared_ptr<RuntimeState>& state, Handler& handler,
                     const SessionLimits& limits, boost::asio::ip::tcp::socket socket,
                     std::string remote, ConnectionLimiter::Slot slot,
                     const std::shared_ptr<boost::asio::ssl::context>& context);

}  // namespace sluice::http::internal
