// The server's abuse limits over real loopback sockets: connection caps, the request-target,
// chunk-extension and read-buffer limits, and the minimum body rate.

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "sluice/http/file_testing.h"
#include "sluice/http/http.h"

namespace sluice::http {
namespace {

using namespace std::chrono_literals;

// Answers every request "ok <body bytes>" (or 400 with the body status) and keeps each
// request's final body status.
class RecordingHandler : public Handler {
 public:
  class Ex : public Exchange {
   public:
    explicit Ex(RecordingHandler* h) : h_(h) {}
    Status OnBody(ByteView data) override {
      bytes_ += data.size();
      return Status::Ok();
    }
    Response Finish(const Status& body_status) override {
      {
        std::lock_guard<std::mutex> lock(h_->mu_);
        h_->finished_.push_back(body_status);
      }
      h_->cv_.notify_all();
      if (!body_status.ok()) return Response{400, {}, body_status.ToString(), true};
      return Response{200, {}, "ok " + std::to_string(bytes_), false};
    }

   private:
    RecordingHandler* h_;
    uint64_t bytes_ = 0;
  };
  Started Start(const RequestHead&) override {
    Started s;
    s.exchange = std::make_unique<Ex>(this);
    return s;
  }
  std::optional<Status> WaitFinished(size_t n, std::chrono::seconds timeout = 10s) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_for(lock, timeout, [&] { return finished_.size() >= n; })) return std::nullopt;
    return finished_[n - 1];
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Status> finished_;
};

class Conn {
 public:
  explicit Conn(uint16_t port) : fd_(internal::ConnectLoopback(port)) {}
  ~Conn() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool ok() const { return fd_ >= 0; }
  bool Send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }
  // Everything until the server closes (or `seconds` pass): the responses it sent.
  std::string ReadToEof(int seconds = 5) {
    timeval tv{seconds, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string out;
    char buf[4096];
    for (;;) {
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }
  // Reads until `needle` arrived after the previous match; false on EOF or timeout.
  bool ReadUntil(std::string_view needle, int seconds = 5) {
    timeval tv{seconds, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[4096];
    size_t at;
    while ((at = got_.find(needle, matched_)) == std::string::npos) {
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return false;
      got_.append(buf, static_cast<size_t>(n));
    }
    matched_ = at + needle.size();
    return true;
  }

 private:
  int fd_;
  std::string got_;
  size_t matched_ = 0;
};

class HttpLimitsTest : public ::testing::Test {
 protected:
  void StartServer(ServerOptions options = {}) {
    runtime_ = Runtime::Create(2);
    options.address = "127.0.0.1";
    options.port = 0;
    auto server = runtime_->Listen(options, handler_);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    runner_ = std::thread([this] { runtime_->Run(); });
  }
  void TearDown() override {
    if (runtime_) {
      runtime_->Stop();
      if (runner_.joinable()) runner_.join();
    }
  }
  uint16_t port() const { return server_->port(); }
  // A keep-alive GET on a new connection answered 200.
  bool Healthy() {
    Conn c(port());
    return c.ok() && c.Send("GET /h HTTP/1.1\r\nHost: h\r\n\r\n") && c.ReadUntil("ok 0");
  }

  RecordingHandler handler_;
  std::unique_ptr<Runtime> runtime_;
  std::unique_ptr<Server> server_;
  std::thread runner_;
};

TEST_F(HttpLimitsTest, LongRequestTargetGets414AndClose) {
  StartServer();
  Conn c(port());
  ASSERT_TRUE(c.Send("GET /" + std::string(17 * 1024, 'a') + " HTTP/1.1\r\nHost: h\r\n\r\n"));
  const std::string out = c.ReadToEof();
  EXPECT_EQ(out.rfind("HTTP/1.1 414 ", 0), 0u) << out.substr(0, 100);
  EXPECT_NE(out.find("Connection: close"), std::string::npos);
  EXPECT_FALSE(handler_.WaitFinished(1, 0s));  // the handler never saw it
  Conn ok(port());
  ASSERT_TRUE(ok.Send("GET /" + std::string(15 * 1024, 'a') + " HTTP/1.1\r\nHost: h\r\n\r\n"));
  EXPECT_TRUE(ok.ReadUntil("ok 0"));
}

TEST_F(HttpLimitsTest, LongChunkExtensionEndsTheBodyInvalidRequest) {
  StartServer();
  Conn c(port());
  ASSERT_TRUE(
      c.Send("PUT /k HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
             "3;a=" +
             std::string(5000, 'x') + "\r\nabc\r\n0\r\n\r\n"));
  auto st = handler_.WaitFinished(1);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->code(), ErrorCode::kInvalidRequest) << st->ToString();
  EXPECT_NE(st->message().find("chunk extensions longer than 4096"), std::string::npos)
      << st->ToString();
  EXPECT_NE(c.ReadToEof().find("HTTP/1.1 400"), std::string::npos);
  // Extensions within the limit are fine.
  Conn ok(port());
  ASSERT_TRUE(
      ok.Send("PUT /k HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
              "3;a=" +
              std::string(3000, 'x') + "\r\nabc\r\n0\r\n\r\n"));
  EXPECT_TRUE(ok.ReadUntil("ok 3"));
}

TEST_F(HttpLimitsTest, MegabyteChunkLineIsCutOffAtTheReadBuffer) {
  StartServer();
  Conn c(port());
  ASSERT_TRUE(c.Send("PUT /k HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3;a="));
  // The server stops reading at its 64 KiB buffer: the rest may not all be accepted.
  std::thread sender([&c] { c.Send(std::string(1024 * 1024, 'x')); });
  auto st = handler_.WaitFinished(1);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->code(), ErrorCode::kInvalidRequest) << st->ToString();
  EXPECT_NE(st->message().find("chunk-size line or trailer section longer than 65536"),
            std::string::npos)
      << st->ToString();
  c.ReadToEof();
  sender.join();
  EXPECT_TRUE(Healthy());
}

TEST_F(HttpLimitsTest, OversizedTrailerSectionIsCutOffAtTheReadBuffer) {
  StartServer();
  Conn c(port());
  std::string trailers;
  for (int i = 0; i < 2000; ++i)
    trailers += "X-T" + std::to_string(i) + ": " + std::string(60, 'v') + "\r\n";
  std::thread sender([&] {
    c.Send("PUT /k HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n" +
           trailers + "\r\n");
  });
  auto st = handler_.WaitFinished(1);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->code(), ErrorCode::kInvalidRequest) << st->ToString();
  c.ReadToEof();
  sender.join();
}

TEST_F(HttpLimitsTest, BodyBelowTheMinimumRateEndsRequestTimeout) {
  ServerOptions options;
  options.body_timeout_seconds = 1;
  options.min_body_rate = 1000;
  StartServer(options);
  Conn c(port());
  ASSERT_TRUE(c.Send("PUT /k HTTP/1.1\r\nHost: h\r\nContent-Length: 100000\r\n\r\n"));
  std::atomic<bool> stop{false};
  // 10 bytes every 50 ms: 200 B/s, never stalled, far below the minimum.
  std::thread trickle([&] {
    while (!stop && c.Send(std::string(10, 'x'))) std::this_thread::sleep_for(50ms);
  });
  auto st = handler_.WaitFinished(1);
  stop = true;
  trickle.join();
  ASSERT_TRUE(st);
  EXPECT_EQ(st->code(), ErrorCode::kRequestTimeout) << st->ToString();
  EXPECT_NE(st->message().find("below the minimum of 1000 B/s"), std::string::npos)
      << st->ToString();
  // When (at the end of the first window, not before) is BodyWatchTest's, on given times.
}

TEST_F(HttpLimitsTest, BodyAboveTheMinimumRateCompletesOverSeveralWindows) {
  ServerOptions options;
  options.body_timeout_seconds = 1;
  options.min_body_rate = 1000;
  StartServer(options);
  Conn c(port());
  constexpr int kPieces = 25;  // 2.5 s at 4,000 B/s
  ASSERT_TRUE(c.Send("PUT /k HTTP/1.1\r\nHost: h\r\nContent-Length: " +
                     std::to_string(kPieces * 400) + "\r\n\r\n"));
  for (int i = 0; i < kPieces; ++i) {
    ASSERT_TRUE(c.Send(std::string(400, 'x')));
    std::this_thread::sleep_for(100ms);
  }
  auto st = handler_.WaitFinished(1);
  ASSERT_TRUE(st);
  EXPECT_TRUE(st->ok()) << st->ToString();
  EXPECT_TRUE(c.ReadUntil("ok 10000"));
}

TEST_F(HttpLimitsTest, ConnectionsOverTheTotalAreRefusedAndSlotsComeBack) {
  ServerOptions options;
  options.max_connections = 3;
  options.max_connections_per_client = 0;
  options.overload_response = Response{503, {{"Retry-After", "1"}}, "busy\n"};
  StartServer(options);
  std::vector<std::unique_ptr<Conn>> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(std::make_unique<Conn>(port()));
    ASSERT_TRUE(held.back()->Send("GET /h HTTP/1.1\r\nHost: h\r\n\r\n"));
    ASSERT_TRUE(held.back()->ReadUntil("ok 0"));  // accepted and served: the slot is taken
  }
  Conn over(port());
  ASSERT_TRUE(over.ok());
  const std::string out = over.ReadToEof();
  EXPECT_EQ(out.rfind("HTTP/1.1 503 Service Unavailable\r\n", 0), 0u) << out;
  EXPECT_NE(out.find("Connection: close"), std::string::npos);
  EXPECT_NE(out.find("busy\n"), std::string::npos);
  held.pop_back();
  // The closed connection's slot is given back once the server has seen the close.
  bool served = false;
  for (int i = 0; i < 50 && !served; ++i) {
    served = Healthy();
    if (!served) std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(served);
}

TEST_F(HttpLimitsTest, ConnectionsOverThePerClientCapAreClosed) {
  ServerOptions options;
  options.max_connections = 100;
  options.max_connections_per_client = 2;
  StartServer(options);
  Conn a(port()), b(port());
  ASSERT_TRUE(a.Send("GET /h HTTP/1.1\r\nHost: h\r\n\r\n") && a.ReadUntil("ok 0"));
  ASSERT_TRUE(b.Send("GET /h HTTP/1.1\r\nHost: h\r\n\r\n") && b.ReadUntil("ok 0"));
  Conn c(port());
  c.Send("GET /h HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(c.ReadToEof(), "");  // no overload response configured: just closed
  EXPECT_TRUE(a.Send("GET /h HTTP/1.1\r\nHost: h\r\n\r\n") && a.ReadUntil("ok 0"));
}

// Finish blocks until the test calls Release on the blocking pool when the path is /slow, on the
// long pool when it is /long; /brief blocks (runs on the blocking pool) but returns at once;
// anything else runs on the I/O thread. What the slow calls must not hold up is shown while they
// are still held, with no clock.
class SlowFinishHandler : public Handler {
 public:
  class Ex : public Exchange {
   public:
    Ex(SlowFinishHandler* h, std::string path) : h_(h), path_(std::move(path)) {}
    Status OnBody(ByteView) override { return Status::Ok(); }
    Response Finish(const Status&) override {
      const bool slow = path_ == "/slow" || path_ == "/long";
      if (slow) {
        h_->slow_started_ = true;
        h_->AwaitRelease();
        h_->slow_finished_ = true;
      }
      return Response{200, {}, slow ? "slow" : path_ == "/brief" ? "brief" : "fast", false};
    }
    bool FinishBlocks() const override {
      return path_ == "/slow" || path_ == "/long" || path_ == "/brief";
    }
    bool FinishIsLong() const override { return path_ == "/long"; }

   private:
    SlowFinishHandler* h_;
    std::string path_;
  };
  Started Start(const RequestHead& head) override {
    Started s;
    s.exchange = std::make_unique<Ex>(this, std::string(head.raw_path));
    return s;
  }
  // Lets every held Finish call return.
  void Release() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      released_ = true;
    }
    cv_.notify_all();
  }
  // A safety net for a test that fails before it releases: the call returns after a minute.
  void AwaitRelease() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, 60s, [&] { return released_; });
  }

  std::atomic<bool> slow_started_{false};
  std::atomic<bool> slow_finished_{false};

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool released_ = false;
};

TEST(HttpBlockingTest, BlockingFinishLeavesTheIoThreadFree) {
  SlowFinishHandler handler;
  auto runtime = Runtime::Create(/*threads=*/1, /*blocking_threads=*/2);
  auto server = runtime->Listen(ServerOptions{}, handler);
  ASSERT_TRUE(server.ok());
  std::thread runner([&] { runtime->Run(); });
  const uint16_t port = (*server)->port();
  Conn slow_a(port), slow_b(port);
  ASSERT_TRUE(slow_a.Send("PUT /slow HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\nx"));
  ASSERT_TRUE(slow_b.Send("PUT /slow HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\nx"));
  for (int i = 0; i < 100 && !handler.slow_started_; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(handler.slow_started_);
  // The one I/O thread still serves others while two Finish calls block: all five are answered
  // before the slow ones are let go.
  for (int i = 0; i < 5; ++i) {
    Conn fast(port);
    ASSERT_TRUE(fast.Send("PUT /fast HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\ny"));
    ASSERT_TRUE(fast.ReadUntil("fast"));
  }
  EXPECT_FALSE(handler.slow_finished_);
  handler.Release();
  EXPECT_TRUE(slow_a.ReadUntil("slow"));
  EXPECT_TRUE(slow_b.ReadUntil("slow"));
  runtime->Stop();
  runner.join();
}

// Four 5 GiB Completes must not make a small PUT's commit wait for one of them: long Finish
// calls have their own pool.
TEST(HttpBlockingTest, LongFinishCallsDoNotHoldUpShortBlockingOnes) {
  SlowFinishHandler handler;
  auto runtime = Runtime::Create(/*threads=*/1, /*blocking_threads=*/1, /*long_threads=*/1);
  auto server = runtime->Listen(ServerOptions{}, handler);
  ASSERT_TRUE(server.ok());
  std::thread runner([&] { runtime->Run(); });
  const uint16_t port = (*server)->port();
  Conn long_a(port), long_b(port);
  ASSERT_TRUE(long_a.Send("PUT /long HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\nx"));
  ASSERT_TRUE(long_b.Send("PUT /long HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\nx"));
  for (int i = 0; i < 100 && !handler.slow_started_; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(handler.slow_started_);
  // All five brief ones are answered while the long ones are still held.
  for (int i = 0; i < 5; ++i) {
    Conn brief(port);
    ASSERT_TRUE(brief.Send("PUT /brief HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\ny"));
    ASSERT_TRUE(brief.ReadUntil("brief"));
  }
  EXPECT_FALSE(handler.slow_finished_);
  handler.Release();
  // The two long ones share their one thread: both are answered, one after the other.
  EXPECT_TRUE(long_a.ReadUntil("slow"));
  EXPECT_TRUE(long_b.ReadUntil("slow"));
  runtime->Stop();
  runner.join();
}

TEST(HttpBlockingTest, StopWaitsForBlockingFinishCalls) {
  SlowFinishHandler handler;
  auto runtime = Runtime::Create(1, 1);
  auto server = runtime->Listen(ServerOptions{}, handler);
  ASSERT_TRUE(server.ok());
  std::atomic<bool> run_returned{false};
  std::thread runner([&] {
    runtime->Run();
    run_returned = true;
  });
  Conn slow((*server)->port());
  ASSERT_TRUE(slow.Send("PUT /slow HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\nx"));
  for (int i = 0; i < 100 && !handler.slow_started_; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(handler.slow_started_);
  runtime->Stop();
  EXPECT_FALSE(run_returned);  // the Finish call is still held
  handler.Release();
  runner.join();
  // Run returned only after the Finish on the pool did (its exchange is never used late).
  EXPECT_TRUE(handler.slow_finished_);
  runtime.reset();
}

TEST(HttpLimitsOptionsTest, ListenRejectsBadLimits) {
  RecordingHandler handler;
  auto runtime = Runtime::Create(1);
  ServerOptions zero;
  zero.max_connections = 0;
  EXPECT_EQ(runtime->Listen(zero, handler).status().code(), ErrorCode::kInvalidArgument);
  ServerOptions rate;
  rate.min_body_rate = uint64_t{1} << 40;
  EXPECT_EQ(runtime->Listen(rate, handler).status().code(), ErrorCode::kInvalidArgument);
  ServerOptions overload;
  overload.overload_response = Response{503, {{"Bad\r\nName", "x"}}, ""};
  EXPECT_EQ(runtime->Listen(overload, handler).status().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace sluice::http
