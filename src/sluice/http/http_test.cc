// End-to-end tests of the server over real loopback sockets. The client side is written with
// plain POSIX sockets and a hand parser, so the server's Beast code is not checking itself.

#include "sluice/http/http.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "sluice/core/testing/memory_file.h"
#include "sluice/core/text.h"
#include "sluice/http/file_testing.h"

namespace sluice::http {
namespace {

using namespace std::chrono_literals;

// GCC defines __SANITIZE_ADDRESS__; clang 14 (the sanitizer gate's compiler) only answers
// __has_feature(address_sanitizer).
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SLUICE_TEST_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(SLUICE_TEST_ASAN)
constexpr bool kAddressSanitizer = true;
#else
constexpr bool kAddressSanitizer = false;
#endif

// ---- The test handler -------------------------------------------------------------------

struct Record {
  RequestHead head;
  std::string body;  // kept unless the path is /big
  uint64_t bytes = 0;
  uint64_t checksum = 1469598103934665603ull;  // FNV-1a of the body
  size_t pieces = 0;
  size_t max_piece = 0;
  Status status;
};

uint64_t Fnv(uint64_t h, ByteView data) {
  for (uint8_t b : data) h = (h ^ b) * 1099511628211ull;
  return h;
}

class TestHandler : public Handler {
 public:
  Started Start(const RequestHead& head) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      starts_.push_back(head);
    }
    cv_.notify_all();
    Started started;
    if (head.raw_path.starts_with("/refuse")) {
      started.response = Response{403, {{"Content-Type", "text/plain"}}, "refused\n"};
      return started;
    }
    if (head.raw_path == "/bad-header") {
      started.response = Response{200, {{"X-Evil", "a\r\nInjected: yes"}}, "x"};
      return started;
    }
    started.exchange = std::make_unique<TestExchange>(this, head);
    return started;
  }

  // Waits for the n-th (1-based) finished exchange.
  std::optional<Record> WaitFinished(size_t n, std::chrono::milliseconds timeout = 10s) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_for(lock, timeout, [&] { return finished_.size() >= n; })) return std::nullopt;
    return finished_[n - 1];
  }
  std::optional<RequestHead> WaitStarted(size_t n, std::chrono::milliseconds timeout = 10s) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_for(lock, timeout, [&] { return starts_.size() >= n; })) return std::nullopt;
    return starts_[n - 1];
  }
  size_t finished_count() {
    std::lock_guard<std::mutex> lock(mu_);
    return finished_.size();
  }
  size_t body_bytes_seen() { return body_bytes_seen_.load(); }
  // What /file and /file-range stream. Set before the server starts.
  void set_file(std::shared_ptr<const RandomAccessFile> file) { file_ = std::move(file); }
  // Completes every pending /defer response with 200 and body "done <n>" (n: its order).
  size_t CompleteDeferred() {
    std::vector<std::shared_ptr<DeferredResponse>> pending;
    {
      std::lock_guard<std::mutex> lock(mu_);
      pending.swap(deferred_);
    }
    for (size_t i = 0; i < pending.size(); ++i) {
      pending[i]->Complete(Response{200, {{"X-Deferred", "yes"}}, "done " + std::to_string(i)});
    }
    return pending.size();
  }

 private:
  class TestExchange : public Exchange {
   public:
    TestExchange(TestHandler* owner, const RequestHead& head) : owner_(owner) {
      record_.head = head;
    }
    Status OnBody(ByteView data) override {
      owner_->body_bytes_seen_ += data.size();
      record_.bytes += data.size();
      record_.pieces++;
      record_.max_piece = std::max(record_.max_piece, data.size());
      record_.checksum = Fnv(record_.checksum, data);
      if (record_.head.raw_path != "/big") record_.body.append(AsChars(data));
      if (record_.head.raw_path == "/fail") {
        return Err(ErrorCode::kEntityTooLarge, "test handler refuses any body");
      }
      return Status::Ok();
    }
    Response Finish(const Status& body_status) override {
      record_.status = body_status;
      Response response;
      if (body_status.ok()) {
        response.status = 200;
        response.body = "ok " + std::to_string(record_.bytes);
      } else {
        response.status = body_status == ErrorCode::kRequestTimeout ? 400 : 413;
        response.body = body_status.ToString();
      }
      response.headers.emplace_back("X-Bytes", std::to_string(record_.bytes));
      const std::string& path = record_.head.raw_path;
      if (path == "/file" || path == "/file-range") {
        // The file set by the test; /file-range leaves out 1000 bytes at each end.
        response.body.clear();
        response.file = owner_->file_;
        const uint64_t size = owner_->file_->size();
        response.file_offset = path == "/file" ? 0 : 1000;
        response.file_length = path == "/file" ? size : size - 2000;
      } else if (record_.head.method == "HEAD") {
        response.headers.emplace_back("Content-Length", "12345");
      }
      if (record_.head.raw_path == "/close") response.close = true;
      if (path == "/defer") {
        // Answered later by the test (CompleteDeferred), or with a 503 when the runtime stops.
        auto self = std::make_shared<std::weak_ptr<DeferredResponse>>();
        response.deferred = DeferredResponse::Create([self] {
          if (auto d = self->lock()) d->Complete(Response{503, {}, "stopping"});
        });
        *self = response.deferred;
      }
      {
        std::lock_guard<std::mutex> lock(owner_->mu_);
        if (path == "/defer") owner_->deferred_.push_back(response.deferred);
        owner_->finished_.push_back(record_);
      }
      owner_->cv_.notify_all();
      return response;
    }

   private:
    TestHandler* owner_;
    Record record_;
  };

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<RequestHead> starts_;
  std::vector<Record> finished_;
  std::vector<std::shared_ptr<DeferredResponse>> deferred_;
  std::atomic<size_t> body_bytes_seen_{0};
  std::shared_ptr<const RandomAccessFile> file_;
};

// ---- A small blocking client ----------------------------------------------------------------

struct ClientResponse {
  int status = 0;
  std::string status_line;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string Header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? "" : it->second;
  }
};

class Client {
 public:
  explicit Client(uint16_t port) {
    fd_ = internal::ConnectLoopback(port);
    connected_ = fd_ >= 0;
  }
  ~Client() { Close(); }
  bool connected() const { return connected_; }

  bool Send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }
  void ShutdownWrite() { ::shutdown(fd_, SHUT_WR); }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  // Closes with an RST instead of a FIN.
  void Reset() {
    linger l{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    Close();
  }

  // Reads up to and including the blank line ending a head; nullopt on EOF/timeout.
  std::optional<std::string> ReadHead() {
    for (;;) {
      size_t end = buffered_.find("\r\n\r\n");
      if (end != std::string::npos) {
        std::string head = buffered_.substr(0, end + 4);
        buffered_.erase(0, end + 4);
        return head;
      }
      if (!Fill()) return std::nullopt;
    }
  }

  // Reads one response (skipping nothing: a 100 Continue is returned as such).
  std::optional<ClientResponse> ReadResponse(bool head_request = false) {
    auto head = ReadHead();
    if (!head) return std::nullopt;
    ClientResponse r;
    size_t line_end = head->find("\r\n");
    r.status_line = head->substr(0, line_end);
    if (r.status_line.size() < 12) return std::nullopt;
    r.status = std::stoi(r.status_line.substr(9, 3));
    size_t pos = line_end + 2;
    while (pos < head->size() - 2) {
      size_t eol = head->find("\r\n", pos);
      std::string line = head->substr(pos, eol - pos);
      size_t colon = line.find(':');
      std::string value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      r.headers[AsciiLowered(line.substr(0, colon))] = value;
      pos = eol + 2;
    }
    if (head_request || r.status < 200 || r.status == 204 || r.status == 304) return r;
    size_t length = r.headers.count("content-length") ? std::stoul(r.headers["content-length"]) : 0;
    while (buffered_.size() < length) {
      if (!Fill()) return std::nullopt;
    }
    r.body = buffered_.substr(0, length);
    buffered_.erase(0, length);
    return r;
  }

  // Reads up to `length` body bytes without keeping them (after ReadResponse(true) of a GET):
  // how many arrived before EOF, and their FNV-1a.
  std::pair<uint64_t, uint64_t> ReadBodyDigest(uint64_t length) {
    uint64_t got = 0;
    uint64_t digest = 1469598103934665603ull;
    const size_t from_buffer = static_cast<size_t>(std::min<uint64_t>(buffered_.size(), length));
    digest = Fnv(digest, AsBytes(std::string_view(buffered_).substr(0, from_buffer)));
    buffered_.erase(0, from_buffer);
    got += from_buffer;
    std::vector<char> chunk(256 * 1024);
    while (got < length) {
      const size_t want = static_cast<size_t>(std::min<uint64_t>(chunk.size(), length - got));
      ssize_t n = ::recv(fd_, chunk.data(), want, 0);
      if (n <= 0) break;
      digest = Fnv(
          digest, ByteView(reinterpret_cast<const uint8_t*>(chunk.data()), static_cast<size_t>(n)));
      got += static_cast<uint64_t>(n);
    }
    return {got, digest};
  }

  // True when the server closed its side: a read returns 0 (or a reset) before the timeout.
  bool WaitEof(int seconds = 5) {
    timeval tv{seconds, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char c[4096];
    for (;;) {
      ssize_t n = ::recv(fd_, c, sizeof c, 0);
      if (n == 0) return true;
      if (n < 0) return errno == ECONNRESET;
      buffered_.append(c, static_cast<size_t>(n));
    }
  }
  const std::string& buffered() const { return buffered_; }

 private:
  bool Fill() {
    char chunk[65536];
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buffered_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string buffered_;
};

std::string Pattern(size_t n, uint32_t seed) {
  std::string s(n, '\0');
  uint32_t x = seed;
  for (size_t i = 0; i < n; ++i) {
    x = x * 1664525u + 1013904223u;
    s[i] = static_cast<char>(x >> 24);
  }
  return s;
}

size_t RssBytes() {
  std::ifstream statm("/proc/self/statm");
  size_t pages_total = 0, pages_resident = 0;
  statm >> pages_total >> pages_resident;
  return pages_resident * static_cast<size_t>(::sysconf(_SC_PAGESIZE));
}

// ---- The fixture ------------------------------------------------------------------------------

// What `stop` (a Stop and the wait for Run) logs. A stop is prompt when the grace period did not
// run out (the runtime logs kGraceExpired when it does): the connections were closed or answered
// by the stop itself. That is behaviour, where a stopwatch would also measure the machine.
constexpr std::string_view kGraceExpired = "after the grace period";
template <class Fn>
std::string LogOf(Fn stop) {
  ::testing::internal::CaptureStderr();
  stop();
  return ::testing::internal::GetCapturedStderr();
}

class HttpServerTest : public ::testing::Test {
 protected:
  void StartServer(ServerOptions options = {}, int threads = 2) {
    runtime_ = Runtime::Create(threads);
    options.address = "127.0.0.1";
    options.port = 0;
    auto server = runtime_->Listen(options, handler_);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    ASSERT_NE(server_->port(), 0);
    runner_ = std::thread([this] {
      runtime_->Run();
      run_returned_ = true;
    });
  }
  void TearDown() override {
    if (runtime_) {
      runtime_->Stop();
      if (runner_.joinable()) runner_.join();
    }
  }
  uint16_t port() const { return server_->port(); }

  TestHandler handler_;
  std::unique_ptr<Runtime> runtime_;
  std::unique_ptr<Server> server_;
  std::thread runner_;
  std::atomic<bool> run_returned_{false};
};

TEST_F(HttpServerTest, GetWithKeepAliveServesTwoRequestsOnOneConnection) {
  StartServer();
  Client c(port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(
      c.Send("GET /bucket/key%20a?list-type=2&x=%3F HTTP/1.1\r\nHost: h\r\n"
             "X-Mixed-Case: One\r\nx-amz-meta-a: 1\r\nX-Amz-Meta-A: 2\r\n\r\n"));
  auto r1 = c.ReadResponse();
  ASSERT_TRUE(r1);
  EXPECT_EQ(r1->status, 200);
  EXPECT_EQ(r1->body, "ok 0");
  EXPECT_EQ(r1->Header("connection"), "");  // keep-alive is the HTTP/1.1 default
  ASSERT_TRUE(c.Send("GET /second HTTP/1.1\r\nHost: h\r\n\r\n"));
  auto r2 = c.ReadResponse();
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->status, 200);

  auto rec = handler_.WaitFinished(1);
  ASSERT_TRUE(rec);
  const RequestHead& head = rec->head;
  EXPECT_EQ(head.method, "GET");
  EXPECT_EQ(head.target, "/bucket/key%20a?list-type=2&x=%3F");
  EXPECT_EQ(head.raw_path, "/bucket/key%20a");
  EXPECT_EQ(head.raw_query, "list-type=2&x=%3F");
  ASSERT_EQ(head.headers.size(), 4u);
  EXPECT_EQ(head.headers[0], (std::pair<std::string, std::string>("Host", "h")));
  EXPECT_EQ(head.headers[1], (std::pair<std::string, std::string>("X-Mixed-Case", "One")));
  EXPECT_EQ(head.headers[2], (std::pair<std::string, std::string>("x-amz-meta-a", "1")));
  EXPECT_EQ(head.headers[3], (std::pair<std::string, std::string>("X-Amz-Meta-A", "2")));
  EXPECT_EQ(head.Header("x-mixed-case"), "One");
  EXPECT_EQ(head.Header("X-AMZ-META-A"), "1");
  EXPECT_FALSE(head.Header("absent"));
  EXPECT_FALSE(head.content_length);
  EXPECT_FALSE(head.chunked);
  EXPECT_FALSE(head.expect_continue);
  EXPECT_EQ(head.remote_address, "127.0.0.1");
  auto rec2 = handler_.WaitFinished(2);
  ASSERT_TRUE(rec2);
  EXPECT_EQ(rec2->head.raw_path, "/second");
  EXPECT_EQ(rec2->head.raw_query, "");
}

TEST_F(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  StartServer();
  Client c(port());
  ASSERT_TRUE(
      c.Send("PUT /a HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"
             "GET /b HTTP/1.1\r\nHost: h\r\n\r\n"));
  auto r1 = c.ReadResponse();
  auto r2 = c.ReadResponse();
  ASSERT_TRUE(r1 && r2);
  EXPECT_EQ(r1->body, "ok 3");
  EXPECT_EQ(r2->body, "ok 0");
  auto rec = handler_.WaitFinished(1);
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->body, "abc");
}

TEST_F(HttpServerTest, PutWithContentLengthStreamsExactBytesInPieces) {
  StartServer();
  const std::string body = Pattern(700 * 1024 + 13, 7);
  Client c(port());
  ASSERT_TRUE(c.Send("PUT /bucket/obj HTTP/1.1\r\nHost: h\r\nContent-Length: " +
                     std::to_string(body.size()) + "\r\n\r\n"));
  // Several writes with pauses, so the server sees the body arrive over time.
  for (size_t off = 0; off < body.size(); off += 100 * 1024) {
    ASSERT_TRUE(c.Send(std::string_view(body).substr(off, 100 * 1024)));
    std::this_thread::sleep_for(5ms);
  }
  auto r = c.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "ok " + std::to_string(body.size()));
  auto rec = handler_.WaitFinished(1);
  ASSERT_TRUE(rec);
  EXPECT_TRUE(rec->status.ok());
  EXPECT_EQ(rec->head.content_length, body.size());
  EXPECT_GE(rec->pieces, 3u);
  EXPECT_LE(rec->max_piece, 256u * 1024);
  EXPECT_TRUE(rec->body == body) << "body differs";
}

TEST_F(HttpServerTest, ChunkedBodyWithOddChunksExtensionsAndTrailerIsReassembled) {
  StartServer();
  const std::string body = Pattern(1 + 7 + 300000 + 13 + 65537, 11);
  std::string wire =
      "PUT /bucket/chunked HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
  size_t off = 0;
  int n = 0;
  for (size_t size : {1, 7, 300000, 13, 65537}) {
    char hex[32];
    std::snprintf(hex, sizeof hex, "%zx", size);
    wire += hex;
    if (n++ % 2 == 1) wire += ";name=value";  // a chunk extension, to be ignored
    wire += "\r\n" + body.substr(off, size) + "\r\n";
    off += size;
  }
  wire += "0\r\nX-Trailer-Checksum: abc\r\n\r\n";
  Client c(port());
  ASSERT_TRUE(c.Send(wire));
  auto r = c.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  auto rec = handler_.WaitFinished(1);
  ASSERT_TRUE(rec);
  EXPECT_TRUE(rec->status.ok()) << rec->status.ToString();
  EXPECT_TRUE(rec->head.chunked);
  EXPECT_FALSE(rec->head.content_length);
  EXPECT_EQ(rec->bytes, body.size());
  EXPECT_TRUE(rec->body == body) << "body differs";
  // The trailer was consumed: the connection serves the next request.
  ASSERT_TRUE(c.Send("GET /next HTTP/1.1\r\nHost: h\r\n\r\n"));
  auto r2 = c.ReadResponse();
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->status, 200);
}

TEST_F(HttpServerTest, ExpectContinueGets100BeforeTheBody) {
  StartServer();
  Client c(port());
  ASSERT_TRUE(
      c.Send("PUT /bucket/k HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n"
             "Expect: 100-continue\r\n\r\n"));
  auto interim = c.ReadHead();
  ASSERT_TRUE(interim);
  EXPECT_EQ(*interim, "HTTP/1.1 100 Continue\r\n\r\n");
  ASSERT_TRUE(c.Send("hello world"));
  auto r = c.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  auto rec = handler_.WaitFinished(1);
  ASSERT_TRUE(rec);
  EXPECT_TRUE(rec->head.expect_continue);
  EXPECT_EQ(rec->body, "hello world");
}

TEST_F(HttpServerTest, RefusalWithExpectContinueSendsFinalStatusAndCloses) {
  StartServer();
  Client c(port());
  ASSERT_TRUE(
      c.Send("PUT /refuse/k HTTP/1.1\r\nHost: h\r\nContent-Length: 1000\r\n"
             "Expect: 100-Continue\r\n\r\n"));
  auto r = c.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403) << r->status_line;  // no 100 Continue first
  EXPECT_EQ(AsciiLowered(r->Header("connection")), "close");
  EXPECT_EQ(r->body, "refused\n");
  EXPECT_TRUE(c.WaitEof());
  EXPECT_EQ(c.buffered(), "");
  auto head = handler_.WaitStarted(1);
  ASSERT_TRUE(head);
  EXPECT_TRUE(head->expect_continue);
  EXPECT_EQ(handler_.body_bytes_seen(), 0u);
  EXPECT_EQ(handler_.finished_count(), 0u);
}

TEST_F(HttpServerTest, RefusalWithoutExpectClosesWhenABodyFollows) {
  StartServer();
  Client c(port());
  ASSERT_TRUE(c.Send("PUT /refuse/k HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"));
  auto r = c.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  EXPECT_EQ(AsciiLowered(r->Header("connection")), "close");
  EXPECT_TRUE(c.WaitEof());
}

TEST_F(HttpServerTest, RefusalWithoutBodyKeepsTheConnection) {
  StartServer();
  Client c(port());
  ASSERT_TRUE(c.Send("GET /refuse/k HTTP/1.1\r\nHost: h\r\n\r\n"));
  auto r = c.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  EXPECT_EQ(r->Header("connection"), "");
  ASSERT_TRUE(c.Send("GET /ok HTTP/1.1\r\nHost: h\r\n\r\n"));
  auto r2 = c.ReadResponse();
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->status, 200);
}

TEST_F(HttpServerTest, StalledBodyFinishesWithRequestTimeout) {
  ServerOptions options;
  options.body_timeout_seconds = 1;
  // Only the stall rule: 10 bytes in 1 s is also below the default minimum rate, and which of
  // the two fires first at that second is a race (the slow-rate rule has its own test).
  options.min_body_rate = 0;
  StartServer(options);
  Client c(port());
  ASSERT_TRUE(
      c.Send("PUT /bucket/slow HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\n0123456789"));
  auto rec = handler_.WaitFinished(1, 10s);
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->status.code(), ErrorCode::kRequestTimeout) << rec->status.ToString();
  EXPECT_NE(rec->status.message().find("no request body bytes for 1 s after 10 bytes"),
            std::string::npos)
      << rec->status.ToString();  // a stall; exactly when is BodyWatchTest's, on given times
  EXPECT_EQ(rec->bytes, 10u);
  // The socket stayed usable: the handler's response arrives, then the connection closes.
  auto r = c.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(AsciiLowered(r->Header("connection")), "close");
  EXPECT_TRUE(c.WaitEof());
}

TEST_F(HttpServerTest, ClientLeavingMidBodyFinishesWithIncompleteBody) {
  StartServer();
  {
    Client c(port());
    ASSERT_TRUE(c.Send("PUT /bucket/cut HTTP/1.1\r\nHost: h\r\nContent-Length: 1000\r\n\r\n" +
                       std::string(100, 'x')));
    std::this_thread::sleep_for(50ms);
  }  // closed
  auto rec = handler_.WaitFinished(1);
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->status.code(), ErrorCode::kIncompleteBody) << rec->status.ToString();

  Client c2(port());
  ASSERT_TRUE(
      c2.Send("PUT /bucket/cut2 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
              "10\r\n0123456789abcdef\r\n40\r\n0123"));
  std::this_thread::sleep_for(50ms);
  c2.Reset();
  auto rec2 = handler_.WaitFinished(2);
  ASSERT_TRUE(rec2);
  EXPECT_EQ(rec2->status.code(), ErrorCode::kIncompleteBody) << rec2->status.ToString();
}

TEST_F(HttpServerTest, OnBodyErrorStopsReadingAndIsAnswered) {
  StartServer();
  Client c(port());
  const std::string body = Pattern(1024 * 1024, 3);  // refused at the first piece
  ASSERT_TRUE(c.Send("PUT /fail HTTP/1.1\r\nHost: h\r\nContent-Length: " +
                     std::to_string(body.size()) + "\r\n\r\n" + body));
  auto r = c.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(AsciiLowered(r->Header("connection")), "close");
  auto rec = handler_.WaitFinished(1);
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->status.code(), ErrorCode::kEntityTooLarge);
  EXPECT_EQ(rec->pieces, 1u);
  EXPECT_TRUE(c.WaitEof());
}

TEST_F(HttpServerTest, OnBodyErrorAfterTheWholeBodyKeepsTheConnection) {
  StartServer();
  Client c(port());
  ASSERT_TRUE(c.Send("PUT /fail HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"));
  auto r = c.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(r->Header("connection"), "");
  ASSERT_TRUE(c.Send("GET /next HTTP/1.1\r\nHost: h\r\n\r\n"));
  auto r2 = c.ReadResponse();
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->status, 200);
}

TEST_F(HttpServerTest, MalformedRequestLineGets400AndClose) {
  StartServer();
  Client c(port());
  ASSERT_TRUE(c.Send("THIS IS NOT HTTP\r\n\r\n"));
  auto r = c.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(AsciiLowered(r->Header("connection")), "close");
  EXPECT_TRUE(c.WaitEof());
  EXPECT_FALSE(handler_.WaitStarted(1, 100ms));
}

TEST_F(HttpServerTest, MalformedChunkFramingFinishesWithInvalidRequest) {
  StartServer();
  Client c(port());
  ASSERT_TRUE(
      c.Send("PUT /bucket/k HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
             "zz\r\nabc\r\n"));
  auto rec = handler_.WaitFinished(1);
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->status.code(), ErrorCode::kInvalidRequest) << rec->status.ToString();
  auto r = c.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(AsciiLowered(r->Header("connection")), "close");
}

TEST_F(HttpServerTest, OversizedHeaderGets431AndClose) {
  ServerOptions options;
  options.header_limit = 1024;
  StartServer(options);
  Client c(port());
  ASSERT_TRUE(c.Send("GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + std::string(2000, 'a') + "\r\n\r\n"));
  auto r = c.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 431);
  EXPECT_EQ(AsciiLowered(r->Header("connection")), "close");
  EXPECT_TRUE(c.WaitEof());
}

TEST_F(HttpServerTest, HeadKeepsTheHandlersContentLengthAndSendsNoBody) {
  StartServer();
  Client c(port());
  ASSERT_TRUE(c.Send("HEAD /bucket/k HTTP/1.1\r\nHost: h\r\n\r\n"));
  auto r = c.ReadResponse(/*head_request=*/true);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->Header("content-length"), "12345");
  ASSERT_TRUE(c.Send("GET /after HTTP/1.1\r\nHost: h\r\n\r\n"));
  auto r2 = c.ReadResponse();
  ASSERT_TRUE(r2);  // parses only if the HEAD response carried no body bytes
  EXPECT_EQ(r2->status, 200);
  EXPECT_EQ(r2->body, "ok 0");
}

TEST_F(HttpServerTest, Http10WithoutKeepAliveCloses) {
  StartServer();
  Client c(port());
  ASSERT_TRUE(c.Send("GET /old HTTP/1.0\r\n\r\n"));
  auto r = c.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->status_line.substr(0, 8), "HTTP/1.0");
  EXPECT_TRUE(c.WaitEof());
}

TEST_F(HttpServerTest, ClientConnectionCloseAndResponseCloseAreHonoured) {
  StartServer();
  {
    Client c(port());
    ASSERT_TRUE(c.Send("GET /x HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"));
    auto r = c.ReadResponse();
    ASSERT_TRUE(r);
    EXPECT_EQ(AsciiLowered(r->Header("connection")), "close");
    EXPECT_TRUE(c.WaitEof());
  }
  Client c(port());
  ASSERT_TRUE(c.Send("GET /close HTTP/1.1\r\nHost: h\r\n\r\n"));
  auto r = c.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(AsciiLowered(r->Header("connection")), "close");
  EXPECT_TRUE(c.WaitEof());
}

TEST_F(HttpServerTest, InvalidHandlerHeaderBecomes500) {
  StartServer();
  Client c(port());
  ASSERT_TRUE(c.Send("GET /bad-header HTTP/1.1\r\nHost: h\r\n\r\n"));
  auto r = c.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(r->Header("injected"), "");
  EXPECT_TRUE(c.WaitEof());
}

TEST_F(HttpServerTest, StopReturnsRunPromptlyWithAnIdleConnectionOpen) {
  StartServer();
  Client c(port());
  ASSERT_TRUE(c.Send("GET /x HTTP/1.1\r\nHost: h\r\n\r\n"));
  ASSERT_TRUE(c.ReadResponse());
  Client idle(port());  // connected, never sends
  std::this_thread::sleep_for(50ms);
  const std::string log = LogOf([&] {
    runtime_->Stop();
    runner_.join();
  });
  EXPECT_TRUE(run_returned_);
  EXPECT_EQ(log.find(kGraceExpired), std::string::npos) << log;  // the idle one was closed
  EXPECT_TRUE(c.WaitEof(2));
}

TEST_F(HttpServerTest, StopLetsAnInFlightRequestFinish) {
  StartServer();
  Client c(port());
  ASSERT_TRUE(c.Send("PUT /bucket/k HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n01234"));
  ASSERT_TRUE(handler_.WaitStarted(1));
  std::this_thread::sleep_for(50ms);
  runtime_->Stop();
  std::this_thread::sleep_for(100ms);
  ASSERT_TRUE(c.Send("56789"));
  auto r = c.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "ok 10");
  EXPECT_EQ(AsciiLowered(r->Header("connection")), "close");
  runner_.join();
  EXPECT_TRUE(run_returned_);
}

TEST_F(HttpServerTest, DeferredResponsesHoldNoThreadAndArriveWhenCompleted) {
  ServerOptions options;
  options.max_connections_per_client = 0;  // every client here is 127.0.0.1
  StartServer(options, /*threads=*/1);
  constexpr size_t kWaiting = 64;
  std::vector<std::unique_ptr<Client>> waiting;
  for (size_t i = 0; i < kWaiting; ++i) {
    waiting.push_back(std::make_unique<Client>(port()));
    ASSERT_TRUE(
        waiting.back()->Send("PUT /defer HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nab"));
  }
  ASSERT_TRUE(handler_.WaitFinished(kWaiting));
  // The one I/O thread is free: other requests, on new and on kept-alive connections, pass.
  for (int i = 0; i < 3; ++i) {
    Client other(port());
    ASSERT_TRUE(other.Send("GET /x HTTP/1.1\r\nHost: h\r\n\r\n"));
    auto r = other.ReadResponse();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
  }
  EXPECT_EQ(handler_.CompleteDeferred(), kWaiting);
  std::set<std::string> bodies;
  for (auto& c : waiting) {
    auto r = c->ReadResponse();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->Header("x-deferred"), "yes");
    bodies.insert(r->body);
    // The connection is kept alive after a deferred response.
    ASSERT_TRUE(c->Send("GET /after HTTP/1.1\r\nHost: h\r\n\r\n"));
    auto again = c->ReadResponse();
    ASSERT_TRUE(again);
    EXPECT_EQ(again->status, 200);
  }
  EXPECT_EQ(bodies.size(), kWaiting);
}

TEST_F(HttpServerTest, StopCompletesPendingDeferredResponsesPromptly) {
  StartServer({}, /*threads=*/1);
  Client c(port());
  ASSERT_TRUE(c.Send("GET /defer HTTP/1.1\r\nHost: h\r\n\r\n"));
  ASSERT_TRUE(handler_.WaitFinished(1));
  std::optional<ClientResponse> r;
  const std::string log = LogOf([&] {
    runtime_->Stop();
    r = c.ReadResponse();
    runner_.join();
  });
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->body, "stopping");
  EXPECT_EQ(log.find(kGraceExpired), std::string::npos) << log;
}

TEST_F(HttpServerTest, LargeBodyStreamsWithoutGrowingMemory) {
  StartServer();
  Client c(port());
  const std::string block = Pattern(64 * 1024, 5);
  auto put = [&](size_t blocks) {
    const size_t total = blocks * block.size();
    EXPECT_TRUE(c.Send("PUT /big HTTP/1.1\r\nHost: h\r\nContent-Length: " + std::to_string(total) +
                       "\r\n\r\n"));
    for (size_t i = 0; i < blocks; ++i) {
      if (!c.Send(block)) return std::optional<ClientResponse>();
    }
    return c.ReadResponse();
  };
  ASSERT_TRUE(put(16));  // warm up: buffers and thread arenas exist before measuring
  const size_t rss_before = RssBytes();
  const size_t blocks = 20 * 1024 * 1024 / block.size();
  auto r = put(blocks);
  const size_t rss_after = RssBytes();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "ok " + std::to_string(20 * 1024 * 1024));
  auto rec = handler_.WaitFinished(2);
  ASSERT_TRUE(rec);
  EXPECT_TRUE(rec->status.ok());
  EXPECT_EQ(rec->bytes, 20u * 1024 * 1024);
  EXPECT_LE(rec->max_piece, 256u * 1024);
  EXPECT_GE(rec->pieces, 80u);
  uint64_t expected = 1469598103934665603ull;
  for (size_t i = 0; i < blocks; ++i) expected = Fnv(expected, AsBytes(block));
  EXPECT_EQ(rec->checksum, expected);
  const long growth = static_cast<long>(rss_after) - static_cast<long>(rss_before);
  // AddressSanitizer's quarantine holds freed memory, so RSS says nothing there.
  if (!kAddressSanitizer) {
    EXPECT_LT(growth, 4l * 1024 * 1024) << "RSS grew by " << growth << " bytes";
  }
}

// ---- Streamed response bodies ----------------------------------------------------------------

uint64_t PatternDigest(uint64_t from, uint64_t length) {
  uint64_t h = 1469598103934665603ull;
  for (uint64_t i = from; i < from + length; ++i)
    h = (h ^ internal::PatternByte(i)) * 1099511628211ull;
  return h;
}

TEST_F(HttpServerTest, FileResponseStreamsTheFileOrARangeAndHeadSendsOnlyTheLength) {
  const uint64_t size = 3 * 256 * 1024 + 4321;
  handler_.set_file(std::make_shared<internal::PatternFile>(size));
  StartServer();
  Client c(port());
  ASSERT_TRUE(c.Send("GET /file HTTP/1.1\r\nHost: h\r\n\r\n"));
  auto r = c.ReadResponse(/*head_request=*/true);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->Header("content-length"), std::to_string(size));
  auto [got, digest] = c.ReadBodyDigest(size);
  EXPECT_EQ(got, size);
  EXPECT_EQ(digest, PatternDigest(0, size));

  ASSERT_TRUE(c.Send("GET /file-range HTTP/1.1\r\nHost: h\r\n\r\n"));
  r = c.ReadResponse(true);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->Header("content-length"), std::to_string(size - 2000));
  std::tie(got, digest) = c.ReadBodyDigest(size - 2000);
  EXPECT_EQ(got, size - 2000);
  EXPECT_EQ(digest, PatternDigest(1000, size - 2000));

  ASSERT_TRUE(c.Send("HEAD /file HTTP/1.1\r\nHost: h\r\n\r\n"));
  r = c.ReadResponse(true);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->Header("content-length"), std::to_string(size));
  ASSERT_TRUE(c.Send("GET /after HTTP/1.1\r\nHost: h\r\n\r\n"));
  r = c.ReadResponse();
  ASSERT_TRUE(r);  // parses only if the HEAD response carried no body bytes
  EXPECT_EQ(r->body, "ok 0");
}

TEST_F(HttpServerTest, FileOnDiskStreamsThroughTheFileSystemSeam) {
  char path[] = "/tmp/sluice-http-test-XXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  const std::string content = Pattern(1024 * 1024 + 17, 23);
  ASSERT_EQ(::write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
  ::close(fd);
  auto file = FileSystem::Default().OpenRandomAccess(path);
  ::unlink(path);  // the open descriptor keeps it readable
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  handler_.set_file(std::shared_ptr<const RandomAccessFile>(std::move(file).value()));
  StartServer();
  Client c(port());
  ASSERT_TRUE(c.Send("GET /file-range HTTP/1.1\r\nHost: h\r\n\r\n"));
  auto r = c.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->body == content.substr(1000, content.size() - 2000)) << "body differs";
}

TEST_F(HttpServerTest, FileReadErrorMidBodyClosesTheConnectionAfterAShortBody) {
  const size_t size = 1024 * 1024;
  auto file = std::make_shared<testing::MemoryFile>(Pattern(size, 3));
  file->FailReadsFrom(300 * 1024);
  handler_.set_file(std::move(file));
  StartServer();
  Client c(port());
  ASSERT_TRUE(c.Send("GET /file HTTP/1.1\r\nHost: h\r\n\r\n"));
  auto r = c.ReadResponse(true);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->Header("content-length"), std::to_string(size));
  auto [got, digest] = c.ReadBodyDigest(size);
  EXPECT_EQ(got, 256u * 1024);  // the one piece read before the failing one
  EXPECT_TRUE(c.WaitEof());
}

TEST_F(HttpServerTest, InvalidFileRangeBecomes500) {
  handler_.set_file(std::make_shared<testing::MemoryFile>("short"));  // /file-range needs 2000
  StartServer();
  Client c(port());
  ASSERT_TRUE(c.Send("GET /file-range HTTP/1.1\r\nHost: h\r\n\r\n"));
  auto r = c.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  EXPECT_TRUE(c.WaitEof());
}

TEST_F(HttpServerTest, LargeFileResponseStreamsWithoutGrowingMemory) {
  const uint64_t size = 192ull * 1024 * 1024;
  handler_.set_file(std::make_shared<internal::PatternFile>(size));
  StartServer();
  Client c(port());
  auto get = [&](const char* path, uint64_t length) {
    EXPECT_TRUE(c.Send(std::string("GET ") + path + " HTTP/1.1\r\nHost: h\r\n\r\n"));
    auto r = c.ReadResponse(true);
    EXPECT_TRUE(r);
    return c.ReadBodyDigest(length);
  };
  get("/file-range", size - 2000);  // warm up: buffers and thread arenas exist before measuring
  const size_t rss_before = RssBytes();
  auto [got, digest] = get("/file", size);
  const size_t rss_after = RssBytes();
  EXPECT_EQ(got, size);
  EXPECT_EQ(digest, PatternDigest(0, size));
  const long growth = static_cast<long>(rss_after) - static_cast<long>(rss_before);
  if (!kAddressSanitizer) {
    EXPECT_LT(growth, 4l * 1024 * 1024) << "RSS grew by " << growth << " bytes";
  }
}

TEST_F(HttpServerTest, ClientThatStopsReadingAFileIsCutOffByTheWriteTimeout) {
  const uint64_t size = 256ull * 1024 * 1024;  // far more than the socket buffers hold
  handler_.set_file(std::make_shared<internal::PatternFile>(size));
  ServerOptions options;
  options.idle_timeout_seconds = 1;
  StartServer(options);
  Client c(port());
  ASSERT_TRUE(c.Send("GET /file HTTP/1.1\r\nHost: h\r\n\r\n"));
  std::this_thread::sleep_for(2500ms);  // not reading: the server's write stalls and expires
  const std::string log = LogOf([&] {
    runtime_->Stop();  // nothing is in flight any more: Run returns at once
    runner_.join();
  });
  EXPECT_EQ(log.find(kGraceExpired), std::string::npos) << log;
  auto r = c.ReadResponse(true);
  ASSERT_TRUE(r);
  auto [got, digest] = c.ReadBodyDigest(size);
  EXPECT_LT(got, size);
  EXPECT_EQ(digest, PatternDigest(0, got));
}

TEST(HttpRuntimeTest, ListenRejectsBadOptionsAndBusyPorts) {
  TestHandler handler;
  auto runtime = Runtime::Create(1);
  ServerOptions bad_address;
  bad_address.address = "not-an-address";
  auto r1 = runtime->Listen(bad_address, handler);
  ASSERT_FALSE(r1.ok());
  EXPECT_EQ(r1.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(r1.status().message().find("not-an-address"), std::string::npos);

  ServerOptions bad_limit;
  bad_limit.header_limit = 0;
  EXPECT_EQ(runtime->Listen(bad_limit, handler).status().code(), ErrorCode::kInvalidArgument);
  ServerOptions bad_timeout;
  bad_timeout.body_timeout_seconds = 0;
  EXPECT_EQ(runtime->Listen(bad_timeout, handler).status().code(), ErrorCode::kInvalidArgument);

  auto first = runtime->Listen(ServerOptions{}, handler);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ServerOptions same;
  same.port = (*first)->port();
  auto second = runtime->Listen(same, handler);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), ErrorCode::kIoError);
  EXPECT_NE(second.status().message().find(std::to_string(same.port)), std::string::npos);
}

TEST(HttpRuntimeTest, StopBeforeRunMakesRunReturn) {
  TestHandler handler;
  auto runtime = Runtime::Create(2);
  ASSERT_TRUE(runtime->Listen(ServerOptions{}, handler).ok());
  runtime->Stop();
  const std::string log = LogOf([&] { runtime->Run(); });
  EXPECT_EQ(log.find(kGraceExpired), std::string::npos) << log;
}

}  // namespace
}  // namespace sluice::http
