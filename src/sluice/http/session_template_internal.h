#pragma once
// Private to http/: the connection coroutine, as a template over the stream. Included by
// session.cc (plain TCP and TLS over TCP) and by the tests, which run it over an in-memory
// stream that fails its Nth operation. Nothing outside http/ may include this file.
//
// One HTTP/1.1 connection: a coroutine that (for TLS) completes the handshake, reads a request
// head with a fresh parser, hands it to the Handler, streams the body through a fixed buffer,
// writes the response — a file-backed body through a second fixed buffer — and loops while the
// connection is kept alive (the shape of Beast's awaitable and advanced servers). It is one
// class template whose members must all be visible where it is instantiated, hence one header
// past the usual size.
//
// Timeouts: the tcp_stream's expiry bounds the wait for a request head (idle keep-alive and
// slow heads alike) and every write; on expiry Beast closes the socket, which is what we want
// there. While a body is read the expiry is off and a separate timer cancels the read after
// body_timeout without progress, or at the end of a body_timeout window in which the body came
// slower than min_body_rate (slowloris), so the socket stays open and the handler's
// RequestTimeout response can still be sent. That timer fires about once per window and reads
// only record their progress: re-arming it per read cost a timerfd_settime system call and a
// wakeup per 64 KiB, which capped uploads near 160 MB/s. The TLS handshake has its own
// deadline; the TLS close_notify exchange is bounded by kLingerTime.
//
// Memory per connection is bounded by the limits below whatever the client sends: the read
// buffer has a hard cap (Beast's parser keeps a whole chunk-size line, with its extensions, or
// a whole trailer section in it before parsing), the head by header_limit, bodies by the
// fixed piece buffer.

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "sluice/core/log.h"
#include "sluice/http/body_watch_internal.h"
#include "sluice/http/http.h"
#include "sluice/http/runtime_state_internal.h"
#include "sluice/http/session_internal.h"
#include "sluice/http/wire_internal.h"

namespace sluice::http::internal {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using ErrorCodeT = boost::system::error_code;

inline constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

// The largest piece handed to Exchange::OnBody, and the one buffer a connection reading a body
// holds: memory per connection does not grow with the body size.
inline constexpr size_t kBodyPieceBytes = 256 * 1024;
// Capacity of the connection's read buffer while a body streams. Beast sizes each read by the
// buffer's free capacity (at least 512 bytes, at most 64 KiB): left to grow on its own, a buffer
// that only ever held a request head reads bodies 512 bytes at a time, which capped uploads near
// 160 MB/s.
inline constexpr size_t kBodyReadBytes = 64 * 1024;
// The hard cap on the connection's read buffer (at least kBodyReadBytes, which is reserved in
// it, and at least the header limit, or a head could not fit): a chunk-size line or a trailer
// section that does not fit ends the body kInvalidRequest (Beast reports buffer_overflow).
inline size_t ReadBufferLimit(uint32_t header_limit) {
  return std::max<size_t>(kBodyReadBytes, header_limit);
}
// Request targets beyond this get 414: S3 keys are at most 1 KiB, and a presigned URL's query
// with every signed parameter is well under 4 KiB.
inline constexpr size_t kMaxTargetBytes = 16 * 1024;
// Extensions of one chunk (`;name=value...` after the size): nothing sluice serves uses them
// beyond aws-chunked's `;chunk-signature=` (64 hex digits), so 4 KiB is generous.
inline constexpr size_t kMaxChunkExtensionBytes = 4 * 1024;
// The piece a streamed response body is read from its file in, into one reused buffer: large
// enough that the read and write calls cost little per byte, small enough per connection.
inline constexpr size_t kFilePieceBytes = 256 * 1024;
// After refusing a request whose body was not read, the connection is half-closed and what the
// client still sends is read and dropped for a while, so that it sees the response rather than
// a reset. Bounded in time and bytes: a client that keeps sending is cut off.
inline constexpr auto kLingerTime = std::chrono::seconds(2);
inline constexpr size_t kLingerBytes = 1024 * 1024;
inline constexpr size_t kLingerChunkBytes = 16 * 1024;

// How a request leaves the connection.
enum class Outcome {
  kKeepAlive,    // read the next request
  kClose,        // graceful close; the request was read completely
  kCloseLinger,  // graceful close; part of the request may still be arriving
  kAbort,        // the socket is unusable: just close it
};

struct BodyResult {
  Status status;
  bool can_respond = true;  // false when the socket failed (reset): nothing can be written
};

inline bool IsMalformedRequest(const ErrorCodeT& ec) {
  if (ec.category() != bhttp::make_error_code(bhttp::error::bad_method).category()) return false;
  return ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message &&
         ec != bhttp::error::need_buffer && ec != bhttp::error::need_more;
}

inline bool IsPeerGone(const ErrorCodeT& ec) {
  return ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::error::connection_aborted || ec == asio::error::not_connected ||
         ec == asio::error::bad_descriptor;
}

// What the session needs from the bottom layer of its stream. Specialised per lowest layer:
// the TCP stream here; the tests add one for Beast's in-memory test stream.
template <class Lowest>
struct LowestLayerOps;

template <>
struct LowestLayerOps<beast::tcp_stream> {
  static void ExpiresAfter(beast::tcp_stream& s, std::chrono::seconds d) { s.expires_after(d); }
  static void ExpiresNever(beast::tcp_stream& s) { s.expires_never(); }
  // Cancels pending operations; the socket stays open.
  static void Cancel(beast::tcp_stream& s) {
    ErrorCodeT ignored;
    s.socket().cancel(ignored);
  }
  static bool ShutdownSend(beast::tcp_stream& s) {
    ErrorCodeT ec;
    s.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ec);
    return !ec;
  }
  static void Close(beast::tcp_stream& s) { s.close(); }
};

// True for a TLS stream: the session then runs the handshake first and ends with close_notify.
template <class Stream>
struct IsTlsStream : std::false_type {};
template <class Next>
struct IsTlsStream<beast::ssl_stream<Next>> : std::true_type {};

template <class Stream>
class Session final : public SessionControl, public std::enable_shared_from_this<Session<Stream>> {
 public:
  Session(std::shared_ptr<RuntimeState> state, Handler& handler, const SessionLimits& limits,
          Stream stream, std::string remote)
      : state_(std::move(state)),
        handler_(handler),
        limits_(limits),
        stream_(std::move(stream)),
        buffer_(ReadBufferLimit(limits.header_limit)),
        body_timer_(stream_.get_executor()),
        remote_(std::move(remote)),
        on_chunk_header_([this](uint64_t, beast::string_view extensions, ErrorCodeT& ec) {
          if (extensions.size() > kMaxChunkExtensionBytes) {
            chunk_extension_too_long_ = true;
            ec = bhttp::error::bad_chunk_extension;
          }
        }),
        body_watch_(limits.body_timeout, limits.min_body_rate) {}

  ~Session() override {
    if (id_ != 0) state_->Remove(id_);
  }

  void set_id(uint64_t id) { id_ = id; }
  void set_slot(ConnectionLimiter::Slot slot) { slot_ = std::move(slot); }
  auto executor() { return stream_.get_executor(); }

  void OnStop() override {
    asio::post(stream_.get_executor(), [self = this->shared_from_this()] {
      if (self->awaiting_head_) Ops::Cancel(self->Lowest());
      if (self->deferred_) DeferredAccess::Stop(*self->deferred_);
    });
  }

  asio::awaitable<void> Run();

 private:
  using Parser = bhttp::request_parser<bhttp::buffer_body>;
  static constexpr bool kTls = IsTlsStream<Stream>::value;

  using Ops = LowestLayerOps<beast::lowest_layer_type<Stream>>;
  beast::lowest_layer_type<Stream>& Lowest() { return beast::get_lowest_layer(stream_); }

  asio::awaitable<Outcome> Serve(Parser& parser);
  asio::awaitable<BodyResult> ReadBody(Parser& parser, Exchange& exchange);
  // Sends `response`; `*close` is in (the caller's decision) and out (a handler's
  // `Connection: close` or an invalid response also close). False when the write failed.
  asio::awaitable<bool> Write(Response response, unsigned version, bool is_head, bool* close);
  // Writes `length` bytes of `file` from `offset` after the head; false on a read or write
  // error (the connection must then be dropped: the client has a head promising more).
  asio::awaitable<bool> WriteFileBody(const RandomAccessFile& file, uint64_t offset,
                                      uint64_t length);
  asio::awaitable<bool> WriteContinue();
  // Parks the coroutine until `deferred` is completed (by any thread) and returns its response.
  asio::awaitable<Response> AwaitDeferred(std::shared_ptr<DeferredResponse> deferred);
  // exchange.Finish(status): on the blocking pool when the exchange asks for it (the
  // coroutine parked meanwhile, as for a deferred response), else here.
  asio::awaitable<Response> FinishExchange(Exchange& exchange, const Status& status);
  asio::awaitable<bool> Handshake();
  asio::awaitable<void> Close(Outcome outcome);
  // Starts watching body progress; OnBodyTimer re-arms itself until body_watch_ finds the
  // body stalled or too slow, or the body is read.
  void ArmBodyTimer();
  void OnBodyTimer(const ErrorCodeT& ec);
  void WaitBodyTimer();
  // Why the body timer cancelled the read (kRequestTimeout).
  Status BodyTimeoutStatus() const;
  RequestHead MakeHead(const Parser& parser) const;

  std::shared_ptr<RuntimeState> state_;
  Handler& handler_;
  const SessionLimits limits_;
  Stream stream_;
  // Bytes read past the current message (pipelining) stay here; capped (ReadBufferLimit).
  beast::flat_buffer buffer_;
  asio::steady_timer body_timer_;
  std::unique_ptr<uint8_t[]> body_piece_;  // kBodyPieceBytes, allocated on the first body
  std::vector<uint8_t> file_piece_;        // kFilePieceBytes, reserved on the first file body
  std::string remote_;
  // Given to each parser by reference (Beast keeps a reference): refuses long extensions.
  std::function<void(uint64_t, beast::string_view, ErrorCodeT&)> on_chunk_header_;
  ConnectionLimiter::Slot slot_;  // the listener's place for this connection, if capped
  uint64_t id_ = 0;
  bool awaiting_head_ = false;  // waiting for a handshake or the next head: Stop may close us
  bool body_timed_out_ = false;
  bool body_too_slow_ = false;  // the timeout was a window below min_body_rate, not a stall
  bool chunk_extension_too_long_ = false;
  bool body_watched_ = false;  // a body is being read: the body timer may fire
  BodyWatch body_watch_;       // the stall and rate rules, fed with the body's progress
  std::shared_ptr<DeferredResponse> deferred_;  // the response being awaited, if any
};

template <class Stream>
asio::awaitable<bool> Session<Stream>::Handshake() {
  if constexpr (kTls) {
    awaiting_head_ = true;
    if (state_->stopping()) co_return false;
    Ops::ExpiresAfter(Lowest(), limits_.handshake_timeout);
    auto [ec] = co_await stream_.async_handshake(asio::ssl::stream_base::server, kUseTuple);
    awaiting_head_ = false;
    if (ec) {
      // Plain HTTP sent to the TLS port, a client that distrusts our certificate, a scanner:
      // nothing to answer in a protocol the client speaks.
      LogDebug("http", "TLS handshake with " + remote_ + " failed: " + ec.message());
      co_return false;
    }
  }
  co_return true;
}

template <class Stream>
asio::awaitable<void> Session<Stream>::Run() {
  Outcome outcome = Outcome::kClose;
  if (!co_await Handshake()) {
    co_await Close(Outcome::kAbort);
    co_return;
  }
  for (;;) {
    // Checked and the read started without yielding, so OnStop (on this strand) either sees
    // awaiting_head_ or happened before this check.
    awaiting_head_ = true;
    if (state_->stopping()) break;
    Parser parser;
    parser.header_limit(limits_.header_limit);
    parser.body_limit(boost::none);  // the handler enforces sizes while the body streams
    parser.on_chunk_header(on_chunk_header_);
    Ops::ExpiresAfter(Lowest(), limits_.idle_timeout);
    auto [ec, unused] = co_await bhttp::async_read_header(stream_, buffer_, parser, kUseTuple);
    awaiting_head_ = false;
    if (ec) {
      if (ec == bhttp::error::header_limit) {
        Response r{431, {{"Content-Type", "text/plain"}}, "request header fields too large\n"};
        bool close = true;
        outcome = co_await Write(std::move(r), 11, false, &close) ? Outcome::kCloseLinger
                                                                  : Outcome::kAbort;
      } else if (ec == bhttp::error::buffer_overflow) {
        // Cannot happen while the buffer is at least the header limit; kept for safety.
        Response r{431, {{"Content-Type", "text/plain"}}, "request head too large\n"};
        bool close = true;
        outcome = co_await Write(std::move(r), 11, false, &close) ? Outcome::kCloseLinger
                                                                  : Outcome::kAbort;
      } else if (IsMalformedRequest(ec)) {
        LogDebug("http", "malformed request from " + remote_ + ": " + ec.message());
        Response r{
            400, {{"Content-Type", "text/plain"}}, "malformed request: " + ec.message() + "\n"};
        bool close = true;
        outcome = co_await Write(std::move(r), 11, false, &close) ? Outcome::kCloseLinger
                                                                  : Outcome::kAbort;
      } else {
        // The client left, went quiet past the idle timeout, or the runtime is stopping.
        outcome = Outcome::kAbort;
      }
      break;
    }
    if (parser.get().target().size() > kMaxTargetBytes) {
      LogDebug("http", "request target of " + std::to_string(parser.get().target().size()) +
                           " bytes from " + remote_);
      Response r{414,
                 {{"Content-Type", "text/plain"}},
                 "request target longer than " + std::to_string(kMaxTargetBytes) + " bytes\n"};
      bool close = true;
      outcome = co_await Write(std::move(r), parser.get().version(), false, &close)
                    ? (parser.is_done() ? Outcome::kClose : Outcome::kCloseLinger)
                    : Outcome::kAbort;
      break;
    }
    outcome = co_await Serve(parser);
    if (outcome != Outcome::kKeepAlive) break;
  }
  if (outcome == Outcome::kKeepAlive) outcome = Outcome::kClose;
  co_await Close(outcome);
}

template <class Stream>
RequestHead Session<Stream>::MakeHead(const Parser& parser) const {
  const auto& req = parser.get();
  RequestHead head;
  head.method.assign(req.method_string().data(), req.method_string().size());
  head.target.assign(req.target().data(), req.target().size());
  SplitTarget(head.target, &head.raw_path, &head.raw_query);
  for (const auto& field : req) {
    std::string_view name(field.name_string().data(), field.name_string().size());
    std::string_view value(field.value().data(), field.value().size());
    head.headers.emplace_back(std::string(name), std::string(value));
    if (EqualsIgnoreCase(name, "Expect") && EqualsIgnoreCase(value, "100-continue")) {
      head.expect_continue = true;
    }
  }
  if (auto length = parser.content_length()) head.content_length = *length;
  head.chunked = parser.chunked();
  head.remote_address = remote_;
  head.tls = kTls;
  return head;
}

template <class Stream>
asio::awaitable<Outcome> Session<Stream>::Serve(Parser& parser) {
  const auto& req = parser.get();
  const RequestHead head = MakeHead(parser);
  const bool is_head = req.method() == bhttp::verb::head;
  const unsigned version = req.version();
  const bool client_close = !req.keep_alive();
  const bool body_pending = !parser.is_done();

  Handler::Started started = handler_.Start(head);
  if (started.response) {
    // Refused (or answered) before the body: the unread body cannot be skipped reliably, so
    // the connection closes. With `Expect: 100-continue` the client has not sent it yet and
    // gets this final status instead of 100.
    bool close = started.response->close || client_close || body_pending || state_->stopping();
    if (!co_await Write(std::move(*started.response), version, is_head, &close)) {
      co_return Outcome::kAbort;
    }
    if (!close) co_return Outcome::kKeepAlive;
    co_return body_pending ? Outcome::kCloseLinger : Outcome::kClose;
  }
  if (!started.exchange) {
    LogError("http", "handler returned neither a response nor an exchange for " + head.method +
                         " " + head.raw_path);
    Response r{500, {{"Content-Type", "text/plain"}}, "internal error\n"};
    bool close = true;
    if (!co_await Write(std::move(r), version, is_head, &close)) co_return Outcome::kAbort;
    co_return body_pending ? Outcome::kCloseLinger : Outcome::kClose;
  }

  BodyResult body{Status::Ok(), true};
  if (body_pending) {
    // RFC 9110 10.1.1: an HTTP/1.0 request's expectation is ignored.
    if (head.expect_continue && version >= 11 && !co_await WriteContinue()) {
      started.exchange->Finish(
          Err(ErrorCode::kIncompleteBody, "connection lost while sending 100 Continue"));
      co_return Outcome::kAbort;
    }
    body = co_await ReadBody(parser, *started.exchange);
  }
  Response response = co_await FinishExchange(*started.exchange, body.status);
  started.exchange.reset();
  if (!body.can_respond) co_return Outcome::kAbort;
  if (response.deferred) response = co_await AwaitDeferred(std::move(response.deferred));

  const bool complete = parser.is_done();
  bool close = response.close || client_close || !complete || state_->stopping();
  if (!co_await Write(std::move(response), version, is_head, &close)) co_return Outcome::kAbort;
  if (!close) co_return Outcome::kKeepAlive;
  co_return complete ? Outcome::kClose : Outcome::kCloseLinger;
}

template <class Stream>
void Session<Stream>::ArmBodyTimer() {
  body_watched_ = true;
  body_timed_out_ = false;
  body_too_slow_ = false;
  body_watch_.Start(asio::steady_timer::clock_type::now());
  WaitBodyTimer();
}

template <class Stream>
void Session<Stream>::WaitBodyTimer() {
  body_timer_.expires_at(body_watch_.NextCheck());
  body_timer_.async_wait([weak = this->weak_from_this()](const ErrorCodeT& ec) {
    if (auto self = weak.lock()) self->OnBodyTimer(ec);
  });
}

template <class Stream>
void Session<Stream>::OnBodyTimer(const ErrorCodeT& ec) {
  // Runs on the session's strand, like the coroutine. A wait that completed just before the
  // body ended (or before the next body re-armed) finds body_watched_ false or fresh progress.
  if (ec || !body_watched_) return;
  const BodyWatch::Verdict verdict = body_watch_.Check(asio::steady_timer::clock_type::now());
  if (verdict != BodyWatch::Verdict::kWatching) {
    body_timed_out_ = true;
    body_too_slow_ = verdict == BodyWatch::Verdict::kTooSlow;
    Ops::Cancel(Lowest());
    return;
  }
  WaitBodyTimer();
}

template <class Stream>
Status Session<Stream>::BodyTimeoutStatus() const {
  if (body_too_slow_) {
    const uint64_t slow_window_bytes = body_watch_.slow_window_bytes();
    const double seconds = std::chrono::duration<double>(body_watch_.slow_window_length()).count();
    const uint64_t rate =
        seconds > 0 ? static_cast<uint64_t>(static_cast<double>(slow_window_bytes) / seconds) : 0;
    return Err(ErrorCode::kRequestTimeout,
               "request body too slow: " + std::to_string(slow_window_bytes) + " bytes in " +
                   std::to_string(static_cast<int64_t>(seconds)) + " s (" + std::to_string(rate) +
                   " B/s), below the minimum of " + std::to_string(limits_.min_body_rate) +
                   " B/s, after " + std::to_string(body_watch_.received()) + " bytes");
  }
  return Err(ErrorCode::kRequestTimeout,
             "no request body bytes for " + std::to_string(limits_.body_timeout.count()) +
                 " s after " + std::to_string(body_watch_.received()) + " bytes");
}

template <class Stream>
asio::awaitable<BodyResult> Session<Stream>::ReadBody(Parser& parser, Exchange& exchange) {
  if (!body_piece_) body_piece_ = std::make_unique<uint8_t[]>(kBodyPieceBytes);
  if (buffer_.capacity() < kBodyReadBytes) buffer_.reserve(kBodyReadBytes);
  uint8_t* const piece = body_piece_.get();
  Ops::ExpiresNever(Lowest());  // progress is watched by body_timer_ instead
  chunk_extension_too_long_ = false;
  uint64_t received = 0;
  size_t filled = 0;
  BodyResult result{Status::Ok(), true};
  ArmBodyTimer();
  // OnBody's time is the handler's, not the client's: it is taken out of the rate window.
  auto deliver = [&](ByteView data) {
    const auto before = asio::steady_timer::clock_type::now();
    Status st = exchange.OnBody(data);
    body_watch_.AddBusy(asio::steady_timer::clock_type::now() - before);
    return st;
  };
  while (!parser.is_done()) {
    auto& body = parser.get().body();
    body.data = piece + filled;
    body.size = kBodyPieceBytes - filled;
    const size_t offered = body.size;
    auto [ec, unused] = co_await bhttp::async_read_some(stream_, buffer_, parser, kUseTuple);
    const size_t got = offered - parser.get().body().size;
    filled += got;
    received += got;
    body_watch_.OnProgress(asio::steady_timer::clock_type::now(), received);
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec) {
      // What arrived before the failure is still handed over, in order; the read error is
      // what Finish hears about.
      if (filled > 0) deliver(ByteView(piece, filled)).IgnoreError();
      if (body_timed_out_) {
        result.status = BodyTimeoutStatus();
      } else if (chunk_extension_too_long_) {
        result.status =
            Err(ErrorCode::kInvalidRequest,
                "chunk extensions longer than " + std::to_string(kMaxChunkExtensionBytes) +
                    " bytes after " + std::to_string(received) + " body bytes");
      } else if (ec == bhttp::error::buffer_overflow) {
        result.status = Err(ErrorCode::kInvalidRequest,
                            "a chunk-size line or trailer section longer than " +
                                std::to_string(buffer_.max_size()) + " bytes after " +
                                std::to_string(received) + " body bytes");
      } else if (ec == bhttp::error::partial_message || ec == bhttp::error::end_of_stream ||
                 ec == asio::error::eof) {
        result.status =
            Err(ErrorCode::kIncompleteBody,
                "client closed the connection after " + std::to_string(received) + " body bytes");
      } else if (IsMalformedRequest(ec)) {
        result.status = Err(
            ErrorCode::kInvalidRequest,
            "malformed request body after " + std::to_string(received) + " bytes: " + ec.message());
      } else {
        result.status =
            Err(ErrorCode::kIncompleteBody, "connection failed after " + std::to_string(received) +
                                                " body bytes: " + ec.message());
        result.can_respond = !IsPeerGone(ec);
      }
      break;
    }
    if (filled == kBodyPieceBytes || (parser.is_done() && filled > 0)) {
      Status st = deliver(ByteView(piece, filled));
      filled = 0;
      if (!st.ok()) {
        result.status = std::move(st);
        break;
      }
    }
  }
  body_watched_ = false;
  body_timer_.cancel();
  co_return result;
}

template <class Stream>
asio::awaitable<Response> Session<Stream>::AwaitDeferred(
    std::shared_ptr<DeferredResponse> deferred) {
  // A timer that never expires on its own is the park: the waker, run by Complete on any
  // thread, posts its cancellation to this connection's strand. The post cannot run before
  // the wait below has started (both are on the strand), and the loop re-checks after every
  // wake, so a completion is never missed.
  auto wake = std::make_shared<asio::steady_timer>(stream_.get_executor(),
                                                   asio::steady_timer::time_point::max());
  DeferredAccess::SetWaker(*deferred, [wake, executor = stream_.get_executor()] {
    asio::post(executor, [wake] { wake->cancel(); });
  });
  deferred_ = deferred;
  if (state_->stopping()) DeferredAccess::Stop(*deferred);
  for (;;) {
    if (std::optional<Response> ready = DeferredAccess::Take(*deferred)) {
      deferred_.reset();
      co_return std::move(*ready);
    }
    co_await wake->async_wait(kUseTuple);
  }
}

template <class Stream>
asio::awaitable<Response> Session<Stream>::FinishExchange(Exchange& exchange,
                                                          const Status& status) {
  if (!exchange.FinishBlocks()) co_return exchange.Finish(status);
  // The exchange stays alive in this coroutine's frame until the result is back: the runtime
  // joins its blocking pool before it destroys the io_context that owns the frame.
  auto result = std::make_shared<std::optional<Response>>();
  auto wake = std::make_shared<asio::steady_timer>(stream_.get_executor(),
                                                   asio::steady_timer::time_point::max());
  const bool posted = state_->PostBlocking(
      [&exchange, status, result, wake, executor = stream_.get_executor()] {
        Response r = exchange.Finish(status);
        asio::post(executor, [result, wake, r = std::move(r)]() mutable {
          *result = std::move(r);
          wake->cancel();
        });
      },
      exchange.FinishIsLong());
  if (!posted) co_return exchange.Finish(status);
  // The post above runs on this strand, so not before the wait below has started.
  while (!result->has_value()) co_await wake->async_wait(kUseTuple);
  co_return std::move(**result);
}

template <class Stream>
asio::awaitable<bool> Session<Stream>::WriteContinue() {
  bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, 11};
  Ops::ExpiresAfter(Lowest(), limits_.idle_timeout);
  auto [ec, unused] = co_await bhttp::async_write(stream_, cont, kUseTuple);
  co_return !ec;
}

template <class Stream>
asio::awaitable<bool> Session<Stream>::Write(Response response, unsigned version, bool is_head,
                                             bool* close) {
  bhttp::response<bhttp::string_body> res;
  res.version(version);
  std::string problem = CheckResponse(response);
  if (!problem.empty()) {
    LogError("http", "handler produced an invalid response: " + problem);
    response = Response{500, {{"Content-Type", "text/plain"}}, "internal error\n", true};
    *close = true;
  }
  res.result(static_cast<unsigned>(response.status));
  bool handler_length = false;
  for (const auto& [name, value] : response.headers) {
    // Framing is ours: Content-Length follows the body (except on HEAD, where the handler
    // states the length of the body it would send), and Connection follows `close`.
    if (EqualsIgnoreCase(name, "Content-Length")) {
      if (is_head) {
        handler_length = true;
        res.insert(name, value);
      }
      continue;
    }
    if (EqualsIgnoreCase(name, "Connection")) {
      if (EqualsIgnoreCase(value, "close")) *close = true;
      continue;
    }
    if (EqualsIgnoreCase(name, "Transfer-Encoding")) continue;
    res.insert(name, value);
  }
  const bool bodiless_status = response.status == 204 || response.status == 304;
  const bool from_file = response.file != nullptr && !bodiless_status;
  const uint64_t length = from_file ? response.file_length : response.body.size();
  if (!bodiless_status && !handler_length) res.content_length(length);
  if (!is_head && !bodiless_status && !from_file) res.body() = std::move(response.body);
  res.keep_alive(!*close);

  Ops::ExpiresAfter(Lowest(), limits_.idle_timeout);
  ErrorCodeT ec;
  if (is_head || from_file) {
    bhttp::response_serializer<bhttp::string_body> serializer(res);
    std::tie(ec, std::ignore) = co_await bhttp::async_write_header(stream_, serializer, kUseTuple);
  } else {
    std::tie(ec, std::ignore) = co_await bhttp::async_write(stream_, res, kUseTuple);
  }
  if (ec) {
    LogDebug("http", "write to " + remote_ + " failed: " + ec.message());
    co_return false;
  }
  if (from_file && !is_head) {
    co_return co_await WriteFileBody(*response.file, response.file_offset, length);
  }
  co_return true;
}

template <class Stream>
asio::awaitable<bool> Session<Stream>::WriteFileBody(const RandomAccessFile& file, uint64_t offset,
                                                     uint64_t length) {
  // ReadAt resizes the vector to each piece; with this capacity it never reallocates.
  if (file_piece_.capacity() < kFilePieceBytes) file_piece_.reserve(kFilePieceBytes);
  uint64_t sent = 0;
  while (sent < length) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(kFilePieceBytes, length - sent));
    Status read = file.ReadAt(offset + sent, n, &file_piece_);
    if (!read.ok()) {
      LogWarn("http", "reading " + file.name() + " for " + remote_ + " failed after " +
                          std::to_string(sent) + " of " + std::to_string(length) +
                          " bytes; closing the connection: " + read.ToString());
      co_return false;
    }
    // Each piece gets the full timeout: a slow reader that keeps reading is not cut off.
    Ops::ExpiresAfter(Lowest(), limits_.idle_timeout);
    auto [ec, unused] =
        co_await asio::async_write(stream_, asio::buffer(file_piece_.data(), n), kUseTuple);
    if (ec) {
      LogDebug("http", "streaming to " + remote_ + " failed after " + std::to_string(sent) +
                           " bytes: " + ec.message());
      co_return false;
    }
    sent += n;
  }
  co_return true;
}

template <class Stream>
asio::awaitable<void> Session<Stream>::Close(Outcome outcome) {
  bool linger = outcome == Outcome::kCloseLinger;
  if constexpr (kTls) {
    if (outcome != Outcome::kAbort) {
      // close_notify, then wait (bounded) for the client's. A client that just closes TCP ends
      // the wait with an error, which is fine: our close_notify is out. So does one still
      // sending (an unread body): OpenSSL fails the shutdown on application data after our
      // close_notify, so the rest is drained below the TLS layer, as for plain TCP.
      Ops::ExpiresAfter(Lowest(), kLingerTime);
      auto [ec] = co_await stream_.async_shutdown(kUseTuple);
      if (ec) LogDebug("http", "TLS shutdown with " + remote_ + ": " + ec.message());
      linger = linger || (ec && ec != asio::error::eof && ec != asio::error::operation_aborted);
    }
  }
  bool half_closed = false;
  if (outcome != Outcome::kAbort) half_closed = Ops::ShutdownSend(Lowest());
  if (linger && half_closed) {
    std::array<char, kLingerChunkBytes> sink;
    size_t drained = 0;
    Ops::ExpiresAfter(Lowest(), kLingerTime);
    while (drained < kLingerBytes) {
      auto [ec, n] = co_await Lowest().async_read_some(asio::buffer(sink), kUseTuple);
      if (ec) break;
      drained += n;
    }
  }
  Ops::Close(Lowest());
}

}  // namespace sluice::http::internal
