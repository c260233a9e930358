// Starts plain-TCP and TLS sessions; the session itself is in session_template_internal.h.

#include <boost/asio/co_spawn.hpp>
#include <boost/beast/core.hpp>
#include <exception>
#include <memory>
#include <string>
#include <utility>

#include "sluice/core/log.h"
#include "sluice/http/session_internal.h"
#include "sluice/http/session_template_internal.h"

namespace sluice::http::internal {
namespace {

void LogSessionEnd(const std::exception_ptr& error) {
  if (!error) return;
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    LogError("http", std::string("connection ended by an exception: ") + e.what());
  } catch (...) {
    LogError("http", "connection ended by an unknown exception");
  }
}

template <class Stream>
void Spawn(const std::shared_ptr<RuntimeState>& state,
           const std::shared_ptr<Session<Stream>>& session) {
  uint64_t id = state->Add(session);
  if (id == 0) return;  // stopping: the socket closes with the session
  session->set_id(id);
  asio::co_spawn(
      session->executor(), [session]() -> asio::awaitable<void> { co_await session->Run(); },
      LogSessionEnd);
}

}  // namespace

void StartPlainSession(const std::shared_ptr<RuntimeState>& state, Handler& handler,
                       const SessionLimits& limits, boost::asio::ip::tcp::socket socket,
                       std::string remote, ConnectionLimiter::Slot slot) {
  ErrorCodeT ec;
  socket.set_option(asio::ip::tcp::no_delay(true), ec);
  auto session = std::make_shared<Session<beast::tcp_stream>>(
      state, handler, limits, beast::tcp_stream(std::move(socket)), std::move(remote));
  session->set_slot(std::move(slot));
  Spawn(state, session);
}

void StartTlsSession(const std::shared_ptr<RuntimeState>& state, Handler& handler,
                     const SessionLimits& limits, boost::asio::ip::tcp::socket socket,
                     std::string remote, ConnectionLimiter::Slot slot,
                     const std::shared_ptr<boost::asio::ssl::context>& context) {
  ErrorCodeT ec;
  socket.set_option(asio::ip::tcp::no_delay(true), ec);
  // The SSL object created here holds its own reference to the context's SSL_CTX.
  using TlsStream = beast::ssl_stream<beast::tcp_stream>;
  auto session = std::make_shared<Session<TlsStream>>(
      state, handler, limits, TlsStream(beast::tcp_stream(std::move(socket)), *context),
      std::move(remote));
  session->set_slot(std::move(slot));
  Spawn(state, session);
}

}  // namespace sluice::http::internal
