// The session over Beast's in-memory test stream: every read and write in turn is made to
// fail, and each time the session must end cleanly, with every exchange it opened finished
// exactly once and no exception escaping. The stream also hands out 3 bytes per read, so
// bodies and chunk framing arrive split at every possible place. Streamed file responses are
// part of the script, so failures while streaming a response body are covered too.

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/_experimental/test/stream.hpp>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "sluice/core/testing/memory_file.h"
#include "sluice/http/file_testing.h"
#include "sluice/http/session_template_internal.h"
#include "sluice/http/stream_ops_testing.h"

namespace sluice::http::internal {

namespace {

// The file streamed by /file (three pieces and a bit) and /badfile (which fails after one).
constexpr size_t kFileBytes = 2 * kFilePieceBytes + 1000;

std::string FileContent() {
  std::string s(kFileBytes, '\0');
  for (size_t i = 0; i < s.size(); ++i) s[i] = static_cast<char>(PatternByte(i));
  return s;
}

struct Counts {
  int starts = 0;
  int exchanges = 0;
  int finishes = 0;
  int destroyed_unfinished = 0;
  std::vector<std::string> bodies;  // of successful exchanges
};

class CountingExchange : public Exchange {
 public:
  CountingExchange(Counts* counts, std::string path) : counts_(counts), path_(std::move(path)) {
    counts_->exchanges++;
  }
  ~CountingExchange() override {
    if (!finished_) counts_->destroyed_unfinished++;
  }
  Status OnBody(ByteView data) override {
    EXPECT_FALSE(finished_);
    body_.append(AsChars(data));
    return Status::Ok();
  }
  Response Finish(const Status& body_status) override {
    EXPECT_FALSE(finished_);
    finished_ = true;
    counts_->finishes++;
    if (body_status.ok()) counts_->bodies.push_back(body_);
    if (path_ == "/file" || path_ == "/badfile") {
      Response r;
      auto file = std::make_shared<testing::MemoryFile>(FileContent());
      if (path_ == "/badfile") file->FailReadsFrom(kFilePieceBytes + 10);
      r.file = std::move(file);
      r.file_offset = 0;
      r.file_length = kFileBytes;
      return r;
    }
    return Response{body_status.ok() ? 200 : 400, {}, "ok " + std::to_string(body_.size()), false};
  }

 private:
  Counts* counts_;
  std::string path_;
  std::string body_;
  bool finished_ = false;
};

class CountingHandler : public Handler {
 public:
  explicit CountingHandler(Counts* counts) : counts_(counts) {}
  Started Start(const RequestHead& head) override {
    counts_->starts++;
    Started started;
    if (head.raw_path == "/refuse") {
      started.response = Response{403, {}, "no", false};
    } else {
      started.exchange = std::make_unique<CountingExchange>(counts_, head.raw_path);
    }
    return started;
  }

 private:
  Counts* counts_;
};

constexpr std::string_view kRequests =
    "PUT /a HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 10\r\n\r\n0123456789"
    "PUT /b HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
    "3\r\nabc\r\n4;ext=1\r\ndefg\r\n0\r\nTrailer-Field: v\r\n\r\n"
    "GET /file HTTP/1.1\r\nHost: h\r\n\r\n"
    "HEAD /file HTTP/1.1\r\nHost: h\r\n\r\n"
    "GET /refuse HTTP/1.1\r\nHost: h\r\n\r\n"
    "GET /c HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";

struct RunResult {
  bool ended = false;
  bool threw = false;
  std::string output;
};

RunResult RunSession(beast::test::fail_count& fc, Counts* counts,
                     std::string_view requests = kRequests) {
  asio::io_context ioc;
  beast::test::stream server(ioc, fc, requests);
  beast::test::stream client(ioc);
  server.connect(client);
  server.read_size(3);
  server.close_remote();  // EOF once the requests have been read
  CountingHandler handler(counts);
  auto state = std::make_shared<RuntimeState>();
  auto session = std::make_shared<Session<beast::test::stream>>(state, handler, SessionLimits{},
                                                                std::move(server), "memory");
  RunResult result;
  asio::co_spawn(
      ioc, [session]() -> asio::awaitable<void> { co_await session->Run(); },
      [&result](std::exception_ptr e) {
        result.ended = true;
        result.threw = e != nullptr;
      });
  session.reset();
  ioc.run_for(std::chrono::seconds(10));
  result.output = std::string(client.str());
  return result;
}

TEST(SessionTest, EveryFailedOperationEndsTheSessionCleanly) {
  bool succeeded = false;
  int n = 0;
  for (; n < 1000 && !succeeded; ++n) {
    SCOPED_TRACE("failing operation " + std::to_string(n));
    beast::test::fail_count fc(n);
    Counts counts;
    RunResult r = RunSession(fc, &counts);
    ASSERT_TRUE(r.ended);
    EXPECT_FALSE(r.threw);
    EXPECT_EQ(counts.exchanges, counts.finishes);
    EXPECT_EQ(counts.destroyed_unfinished, 0);
    EXPECT_LE(counts.exchanges, counts.starts);
    if (counts.starts == 6 && counts.finishes == 5 &&
        r.output.find("200 OK") != std::string::npos && r.output.ends_with("ok 0")) {
      succeeded = true;
      EXPECT_EQ(counts.bodies, (std::vector<std::string>{"0123456789", "abcdefg", "", "", ""}));
      const std::string length = "Content-Length: " + std::to_string(kFileBytes) + "\r\n";
      size_t cont = r.output.find("HTTP/1.1 100 Continue\r\n\r\n");
      size_t ok_a = r.output.find("ok 10");
      size_t ok_b = r.output.find("ok 7");
      size_t file_head = r.output.find(length);
      size_t file_body = r.output.find(FileContent());
      size_t head_head = r.output.find(length, file_head + 1);
      size_t refused = r.output.find("HTTP/1.1 403 Forbidden");
      size_t closing = r.output.find("Connection: close");
      EXPECT_EQ(cont, 0u);
      EXPECT_LT(cont, ok_a);
      EXPECT_LT(ok_a, ok_b);
      EXPECT_LT(ok_b, file_head);
      EXPECT_LT(file_head, file_body);
      EXPECT_NE(file_body, std::string::npos);
      EXPECT_LT(file_body, head_head);  // the HEAD response: the same length, no body
      EXPECT_NE(head_head, std::string::npos);
      EXPECT_EQ(r.output.find(FileContent(), file_body + 1), std::string::npos);
      EXPECT_LT(head_head, refused);
      EXPECT_NE(refused, std::string::npos);
      EXPECT_LT(refused, closing);
      EXPECT_NE(closing, std::string::npos);
    }
  }
  EXPECT_TRUE(succeeded) << "no run completed within " << n << " operations";
  EXPECT_GT(n, 10);
}

TEST(SessionTest, FileReadErrorMidBodyDropsTheConnection) {
  beast::test::fail_count fc(1000);
  Counts counts;
  RunResult r = RunSession(fc, &counts,
                           "GET /badfile HTTP/1.1\r\nHost: h\r\n\r\n"
                           "GET /c HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_TRUE(r.ended);
  EXPECT_FALSE(r.threw);
  EXPECT_EQ(counts.starts, 1);  // the next request is never read
  EXPECT_EQ(counts.finishes, 1);
  const size_t head_end = r.output.find("\r\n\r\n");
  ASSERT_NE(head_end, std::string::npos);
  EXPECT_NE(r.output.find("Content-Length: " + std::to_string(kFileBytes)), std::string::npos);
  // Exactly the pieces read before the failure: one.
  EXPECT_EQ(r.output.size() - head_end - 4, kFilePieceBytes);
  EXPECT_EQ(r.output.substr(head_end + 4), FileContent().substr(0, kFilePieceBytes));
}

}  // namespace
}  // namespace sluice::http::internal
