#pragma once
// http: the HTTP/1.1 server on Boost.Beast/Asio (asynchronous, one coroutine per connection,
// keep-alive, a small thread pool). Beast and Asio names stay inside this module: handlers see
// only the types below.
//
// Per request: a fresh parser with explicit header and body limits; the head goes to
// Handler::Start, which either answers at once (auth failure, refusal — sent instead of
// `100 Continue` when the client expects it, and the connection is closed if a body would
// follow) or returns an Exchange that receives the body as it arrives (HTTP chunked framing
// removed) and then produces the response. Idle and stalled connections time out.
//
// Threading: Start, OnBody and Finish run on an I/O thread and may block briefly (file
// writes, a short SQLite transaction). Handlers must be thread-safe. The calls for one request
// never overlap and come in order: Start, OnBody*, Finish. An exchange whose Finish may block
// for long (assembling a multipart upload, fsyncing gigabytes) says so (FinishBlocks): its
// Finish then runs on the runtime's blocking pool while the connection waits holding no I/O
// thread, so that other connections (health checks, small PUTs) are still served. An exchange
// whose Finish may take seconds also says so (FinishIsLong): it runs on a second pool, so that
// a few of those (four Completes of 5 GiB) cannot hold up the short blocking Finish calls (a
// small PUT's fsync and ledger commit) queued behind them.
//
// Deferred responses: a handler that cannot answer yet (a PUT that waits for its file's load)
// returns from Finish a Response whose `deferred` is set. The connection then waits for
// DeferredResponse::Complete, called later from any thread, holding no thread meanwhile (the
// coroutine is parked on a timer), and sends the completed response. While it waits the
// connection reads nothing more; a client that leaves is noticed when the response is written.
//
// Framing is the server's: the response's Content-Length is the body's size (on HEAD the
// handler's own Content-Length is kept — or, without one, the streamed file's length — and no
// body is sent; 204 and 304 get none), handler
// `Transfer-Encoding` headers are dropped and `Connection: close` is honoured. A response with
// a status outside 200..599 or a header that could split the head (CR, LF, NUL, a non-token
// name) is replaced by a 500 and logged. Malformed requests get 400, oversized heads 431; both
// close the connection.
//
// Limits on what a client can make a connection hold (each named in session_template_internal.h):
// the request head (ServerOptions::header_limit, 431), the request target inside it (16 KiB, 414),
// a chunk's extensions (4 KiB) and, through the connection's read buffer (64 KiB, or the
// header limit if larger), any one chunk-size line or trailer section: past these the body
// ends kInvalidRequest and the connection closes. Bodies stream through one fixed buffer, a
// slow one ends kRequestTimeout (see min_body_rate), idle keep-alive connections close after
// idle_timeout, and the connections a listener holds are capped (max_connections).
//
// TLS: a listener given a certificate and key serves https only (TLS 1.2 and 1.3, forward-
// secret AEAD ciphers), with the same sessions as plain http; one Runtime may hold plain and TLS
// listeners at once. A client that does not complete the handshake within the handshake
// timeout, or speaks plain HTTP to the TLS port, is disconnected without a response. Closes
// after a response send close_notify; aborted connections (a failed read or write, a file read
// error mid-body) do not, so the client can tell truncation from the end.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sluice/core/core.h"
#include "sluice/core/mutex.h"

namespace sluice::http {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct RequestHead {
  std::string method;     // "PUT"
  std::string target;     // raw request target as sent: path and query, not decoded
  std::string raw_path;   // target before the first '?'
  std::string raw_query;  // target after the first '?' (empty if none)
  HeaderList headers;     // wire order, original case, duplicates kept
  std::optional<uint64_t> content_length;
  bool chunked = false;  // Transfer-Encoding: chunked
  bool expect_continue = false;
  std::string remote_address;  // the peer's IP address, without the port
  bool tls = false;

  // First header with this name (case-insensitive), or nullopt.
  std::optional<std::string_view> Header(std::string_view name) const;
};

class DeferredResponse;

struct Response {
  int status = 200;
  HeaderList headers;
  std::string body;    // small bodies (XML, JSON)
  bool close = false;  // close the connection after sending
  // A large body streamed from a file instead of `body` (GetObject): `file_length` bytes of
  // `file` from `file_offset`, read in 256 KiB pieces into one reused buffer per connection,
  // each written before the next is read (memory does not grow with the length). Content-Length
  // is file_length. `body` must then be empty and the range inside the file, or the response is
  // replaced by a 500. A read error mid-body closes the connection: the client sees a short
  // body. HEAD responses read nothing (Content-Length: the handler's, else file_length).
  std::shared_ptr<const RandomAccessFile> file;
  uint64_t file_offset = 0;
  uint64_t file_length = 0;
  // Set (by Exchange::Finish only): every other field is ignored, and the response sent is the
  // one later given to deferred->Complete.
  std::shared_ptr<DeferredResponse> deferred;
};

namespace internal {
struct DeferredAccess;
}

// A response produced later, on any thread (see "Deferred responses" above).
class DeferredResponse {
 public:
  // `on_stop` runs at most once, on an I/O thread, when the runtime stops while the response is
  // still pending: it should lead to a prompt Complete (e.g. with the state so far). Without
  // it, a stopping runtime waits for Complete until its grace period ends.
  static std::shared_ptr<DeferredResponse> Create(std::function<void()> on_stop = nullptr);
  explicit DeferredResponse(std::function<void()> on_stop) : on_stop_(std::move(on_stop)) {}
  DeferredResponse(const DeferredResponse&) = delete;
  DeferredResponse& operator=(const DeferredResponse&) = delete;

  // Delivers the response. The first call wins; later ones are ignored. Thread-safe, cheap (it
  // only schedules the write on the connection's strand). The response must not itself be
  // deferred.
  void Complete(Response response);
  bool completed() const;
  // A copy of the completed response while no connection has taken it (for tests and
  // synchronous callers); nullopt while pending.
  std::optional<Response> Peek() const;

 private:
  friend struct internal::DeferredAccess;
  mutable Mutex mu_;
  bool completed_ GUARDED_BY(mu_) = false;
  std::optional<Response> response_ GUARDED_BY(mu_);  // until the connection takes it
  std::function<void()> waker_ GUARDED_BY(mu_);       // set by the waiting connection
  std::function<void()> on_stop_ GUARDED_BY(mu_);
};

class Exchange {
 public:
  virtual ~Exchange() = default;
  // A piece of the body, in order, at most 256 KiB; `data` is valid only during the call. A
  // non-OK status stops reading: Finish gets it.
  virtual Status OnBody(ByteView data) = 0;
  // End of the request: `body_status` is OK when the whole body arrived, otherwise why not
  // (kRequestTimeout, kIncompleteBody, kInvalidRequest for broken chunked framing, an OnBody
  // error). Returns the response to send. When the body was not read to its end the connection
  // closes after the response; when the socket itself failed the response is dropped.
  virtual Response Finish(const Status& body_status) = 0;
  // True: Finish runs on the blocking pool (see Threading above), at the cost of two thread
  // hops. Asked once, after the body.
  virtual bool FinishBlocks() const { return false; }
  // True (with FinishBlocks): Finish may take seconds; it runs on the long pool. Asked once,
  // after the body.
  virtual bool FinishIsLong() const { return false; }
};

class Handler {
 public:
  virtual ~Handler() = default;
  // Either an immediate response or an exchange for the body (also for requests without a
  // body, whose Finish is then called at once).
  struct Started {
    std::optional<Response> response;
    std::unique_ptr<Exchange> exchange;
  };
  virtual Started Start(const RequestHead& head) = 0;
};

// Listen rejects (kInvalidArgument) an address that is not an IP literal or "localhost", a
// header_limit outside 1..1 MiB, timeouts outside 1..86400 seconds, max_connections outside
// 1..1,000,000, only one of the two TLS files, and a TLS file that cannot be read or used (the
// message names the file).
struct ServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 0;  // 0: pick a free port (see Server::port())
  int threads = 4;    // not read by Listen: the Runtime's pool (Create) serves all servers
  uint64_t header_limit = 64 * 1024;  // bytes of request line + headers
  // Seconds without progress before a request is answered RequestTimeout / the connection
  // is closed.
  int idle_timeout_seconds = 60;
  int body_timeout_seconds = 30;
  // Slowloris: a body must also arrive at this many bytes per second on average over each
  // body_timeout window (time spent in Exchange::OnBody does not count against the client),
  // else it ends kRequestTimeout like a stalled one. 0: only a stall fails a body.
  uint64_t min_body_rate = 1024;
  // Connections this listener holds at once, in total and per client address (0: no
  // per-address cap). One over is accepted and closed at once, after `overload_response` when
  // one is given (written without waiting: a client that does not read it just sees the
  // close). Each listener counts its own, so a flood of the S3 port leaves the admin port up.
  uint32_t max_connections = 1024;
  uint32_t max_connections_per_client = 64;
  std::optional<Response> overload_response;  // small body, no file, no deferral
  // https: PEM files, read once by Listen. The certificate file may hold the chain (leaf
  // first); the key must not be passphrase-protected. Both empty: plain http.
  std::string tls_cert_file;
  std::string tls_key_file;
  int handshake_timeout_seconds = 10;  // TLS only: connect to the end of the handshake
};

// Listens on one address; several servers may share one thread pool via Runtime. This is a
// handle: the listener belongs to the runtime and stops with it.
class Server {
 public:
  virtual ~Server() = default;
  virtual uint16_t port() const = 0;
};

// The I/O thread pool. Create servers, Run() (blocks until Stop()), Stop() from any thread or
// a signal handler thread: stops accepting, closes idle keep-alive connections, lets in-flight
// requests finish (bounded: 5 s), returns once the blocking pool has finished the Finish calls
// it was given. Run() is called once; Stop() before Run() makes it return at once. Destroy the
// runtime only after Run() has returned (or was never called).
class Runtime {
 public:
  virtual ~Runtime() = default;
  // `threads` I/O threads; `blocking_threads` for the Finish calls of exchanges that block
  // (FinishBlocks), so that many at once cannot starve the I/O threads; `long_threads` for
  // those that block for long (FinishIsLong), so that they cannot starve the short ones.
  static std::unique_ptr<Runtime> Create(int threads, int blocking_threads = 4,
                                         int long_threads = 4);
  // `handler` must outlive the runtime.
  virtual Result<std::unique_ptr<Server>> Listen(const ServerOptions& options,
                                                 Handler& handler) = 0;
  // Stops Run() on SIGINT/SIGTERM.
  virtual void StopOnSignals() = 0;
  virtual void Run() = 0;
  virtual void Stop() = 0;
};

}  // namespace sluice::http
