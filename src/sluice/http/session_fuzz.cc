// libFuzzer target: the server's own request parsing — a Session (session_template_internal.h)
// reading the fuzz bytes as everything a client sends on one connection: request heads,
// Content-Length and chunked bodies (chunk sizes, extensions, trailers), pipelined requests, with
// the server's real limits (header, target, chunk extension, read buffer). Nothing may crash, hang,
// leak, read out of bounds or throw; every exchange opened must be finished exactly once.
//
// Input layout: byte 0 sets how many bytes each read returns (byte % 97 + 1, so framing is
// split everywhere), byte 1 the header limit (small ones reach the 431 path); the rest is the
// connection's bytes. A request for /refuse is refused before its body (the linger path); a
// body piece containing "!" fails OnBody (the stop-reading path).

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <string_view>

#include "sluice/http/stream_ops_testing.h"

namespace sluice::http::internal {
namespace {

struct Tally {
  int opened = 0;
  int finished = 0;
};

class FuzzExchange final : public Exchange {
 public:
  explicit FuzzExchange(Tally* t) : t_(t) { t_->opened++; }
  ~FuzzExchange() override {
    if (!finished_) __builtin_trap();  // an exchange dropped without Finish
  }
  Status OnBody(ByteView data) override {
    if (finished_) __builtin_trap();
    if (data.empty() || data.size() > kBodyPieceBytes) __builtin_trap();
    for (uint8_t b : data) {
      if (b == '!') return Err(ErrorCode::kInvalidRequest, "refused by the fuzz handler");
    }
    return Status::Ok();
  }
  Response Finish(const Status& body_status) override {
    if (finished_) __builtin_trap();
    finished_ = true;
    t_->finished++;
    return Response{body_status.ok() ? 200 : 400, {{"X-A", "b"}}, "done", false};
  }

 private:
  Tally* t_;
  bool finished_ = false;
};

class FuzzHandler final : public Handler {
 public:
  explicit FuzzHandler(Tally* t) : t_(t) {}
  Started Start(const RequestHead& head) override {
    // What MakeHead promises: the target split at its first '?', nothing decoded.
    if (head.raw_path.size() + (head.raw_query.empty() ? 0 : head.raw_query.size() + 1) >
        head.target.size()) {
      __builtin_trap();
    }
    if (head.target.size() > kMaxTargetBytes) __builtin_trap();
    Started s;
    if (head.raw_path == "/refuse") {
      s.response = Response{403, {}, "no", false};
    } else {
      s.exchange = std::make_unique<FuzzExchange>(t_);
    }
    return s;
  }

 private:
  Tally* t_;
};

}  // namespace
}  // namespace sluice::http::internal

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sluice::http::internal;
  if (size < 2) return 0;
  const size_t read_size = data[0] % 97 + 1;
  SessionLimits limits;
  limits.header_limit = data[1] < 16 ? 64u + data[1] * 64u : 64 * 1024;
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 2, size - 2);

  asio::io_context ioc;
  beast::test::stream server(ioc, bytes);
  beast::test::stream client(ioc);
  server.connect(client);
  server.read_size(read_size);
  server.close_remote();  // EOF once the bytes have been read
  Tally tally;
  FuzzHandler handler(&tally);
  auto state = std::make_shared<RuntimeState>();
  auto session = std::make_shared<Session<beast::test::stream>>(state, handler, limits,
                                                                std::move(server), "fuzz");
  bool ended = false;
  asio::co_spawn(
      ioc, [session]() -> asio::awaitable<void> { co_await session->Run(); },
      [&ended](std::exception_ptr e) {
        if (e) __builtin_trap();  // nothing may escape the session
        ended = true;
      });
  session.reset();
  ioc.run();
  if (!ended || tally.opened != tally.finished) __builtin_trap();
  return 0;
}
