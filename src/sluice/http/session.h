#pragma once
// Private to http/: one accepted connection, served by one coroutine on its own strand.
//
// The session is a template over the stream so that a TLS stream (ssl_stream<tcp_stream>) can
// be served by the same code later; today only the plain TCP stream is instantiated.

#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <memory>

#include "sluice/http/http.h"
#include "sluice/http/runtime_state.h"

namespace sluice::http::internal {

// The per-connection limits, copied from ServerOptions once they have been validated.
struct SessionLimits {
  uint32_t header_limit = 64 * 1024;
  std::chrono::seconds idle_timeout{60};
  std::chrono::seconds body_timeout{30};
};

// Takes over `socket` (whose executor must be a strand of its own) and serves it until the
// client leaves, a timeout fires or the runtime stops. Returns at once; the work runs on the
// socket's executor. `handler` must outlive the runtime.
void StartPlainSession(const std::shared_ptr<RuntimeState>& state, Handler& handler,
                       const SessionLimits& limits, boost::asio::ip::tcp::socket socket);

}  // namespace sluice::http::internal
