// Webhook URL checks on literal addresses of every class, and libcurl delivery against tiny
// HTTP and SMTP servers run on a thread (plain sockets on 127.0.0.1, an ephemeral port): what
// arrived, each kind of answer, the timeout, the address pin, and that no secret leaks.
#include "sluice/alerts/transport.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "sluice/alerts/webhook.h"

namespace sluice::alerts {
namespace {

using std::chrono::milliseconds;

// How long a fake server waits for the client before giving up, so that a broken test fails
// instead of hanging.
constexpr int kIoTimeoutMs = 5000;

bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Buffered reads from a client socket, each bounded by kIoTimeoutMs.
class Reader {
 public:
  explicit Reader(int fd) : fd_(fd) {}

  // Reads until `delimiter`; returns the text before it (consumed with it), nullopt at EOF.
  std::optional<std::string> Until(std::string_view delimiter) {
    while (true) {
      const size_t at = buffer_.find(delimiter);
      if (at != std::string::npos) {
        std::string out = buffer_.substr(0, at);
        buffer_.erase(0, at + delimiter.size());
        return out;
      }
      if (!Fill()) return std::nullopt;
    }
  }
  std::optional<std::string> Exactly(size_t n) {
    while (buffer_.size() < n) {
      if (!Fill()) return std::nullopt;
    }
    std::string out = buffer_.substr(0, n);
    buffer_.erase(0, n);
    return out;
  }

 private:
  bool Fill() {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, kIoTimeoutMs) <= 0) return false;
    char chunk[4096];
    const ssize_t n = recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  int fd_;
  std::string buffer_;
};

// Serves connections on 127.0.0.1 one at a time with `handle` until destroyed.
class FakeServer {
 public:
  using Handler = std::function<void(int fd)>;

  explicit FakeServer(Handler handle) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    EXPECT_EQ(bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(listen(listen_fd_, 8), 0);
    EXPECT_EQ(getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len), 0);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this, handle = std::move(handle)] {
      while (!stop_) {
        pollfd p{listen_fd_, POLLIN, 0};
        if (poll(&p, 1, 20) <= 0) continue;
        const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) continue;
        ++connections_;
        handle(fd);
        close(fd);
      }
    });
  }
  ~FakeServer() {
    stop_ = true;
    thread_.join();
    close(listen_fd_);
  }
  FakeServer(const FakeServer&) = delete;
  FakeServer& operator=(const FakeServer&) = delete;

  int port() const { return port_; }
  int connections() const { return connections_; }

 private:
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::thread thread_;
};

// What the fake HTTP server received: the request line and headers, and the body.
struct Recorded {
  std::mutex mu;
  std::string head;
  std::string body;

  std::string Head() {
    std::lock_guard<std::mutex> lock(mu);
    return head;
  }
  std::string Body() {
    std::lock_guard<std::mutex> lock(mu);
    return body;
  }
};

// Reads one request (Content-Length body), records it, waits `delay`, then sends `response`.
FakeServer::Handler Http(Recorded* rec, std::string response, milliseconds delay = {}) {
  return [rec, response = std::move(response), delay](int fd) {
    Reader reader(fd);
    std::optional<std::string> head = reader.Until("\r\n\r\n");
    if (!head) return;
    size_t length = 0;
    const std::string lower = AsciiLowered(*head);
    const size_t at = lower.find("\r\ncontent-length:");
    if (at != std::string::npos) length = std::stoul(lower.substr(at + 17));
    std::optional<std::string> body = reader.Exactly(length);
    {
      std::lock_guard<std::mutex> lock(rec->mu);
      rec->head = *head;
      rec->body = body.value_or("<short>");
    }
    std::this_thread::sleep_for(delay);
    SendAll(fd, response);
  };
}

std::string Answer(int status, std::string_view reason, std::string_view body,
                   std::string_view extra_headers = "") {
  return "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
         std::string(extra_headers) + "Connection: close\r\n\r\n" + std::string(body);
}

WebhookTarget Local(const FakeServer& server, std::string_view path = "/hook?x=1") {
  Result<WebhookTarget> t = CheckWebhookUrl(
      "http://127.0.0.1:" + std::to_string(server.port()) + std::string(path), true);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return t.ok() ? *t : WebhookTarget{};
}

int CountIgnoreCase(const std::string& text, std::string_view needle) {
  const std::string lower = AsciiLowered(text);
  const std::string n = AsciiLowered(needle);
  int count = 0;
  for (size_t at = lower.find(n); at != std::string::npos; at = lower.find(n, at + 1)) ++count;
  return count;
}

// --- CheckWebhookUrl ---

TEST(CheckWebhookUrlTest, PublicLiteralsPass) {
  Result<WebhookTarget> t = CheckWebhookUrl("https://93.184.216.34/hooks/T1/B2?x=1", false);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->url, "https://93.184.216.34/hooks/T1/B2?x=1");
  EXPECT_EQ(t->host, "93.184.216.34");
  EXPECT_EQ(t->port, 443);
  EXPECT_EQ(t->address, "93.184.216.34");

  t = CheckWebhookUrl("HTTP://[2606:4700:4700::1111]:8080", false);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->host, "2606:4700:4700::1111");
  EXPECT_EQ(t->port, 8080);
  EXPECT_EQ(t->address, "2606:4700:4700::1111");
  EXPECT_EQ(CheckWebhookUrl("http://8.8.8.8:/x", false).ValueOr({}).port, 80);
}

TEST(CheckWebhookUrlTest, NonPublicClassesNeedTheFlag) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"127.0.0.1", "a loopback address"},
      {"127.255.0.9", "a loopback address"},
      {"[::1]", "a loopback address"},
      {"10.0.0.5", "a private address"},
      {"172.16.0.1", "a private address"},
      {"172.31.255.255", "a private address"},
      {"192.168.1.1", "a private address"},
      {"[fc00::1]", "a private address"},
      {"[fd12:3456::1]", "a private address"},
      {"169.254.169.254", "a link-local address"},
      {"[fe80::1]", "a link-local address"},
      {"100.64.0.1", "a shared (CGNAT, 100.64/10) address"},
      {"100.127.255.254", "a shared (CGNAT, 100.64/10) address"},
      // IPv4 forms inside IPv6: mapped, compatible, NAT64.
      {"[::ffff:10.0.0.5]", "a private address"},
      {"[::ffff:127.0.0.1]", "a loopback address"},
      {"[::127.0.0.1]", "a loopback address"},
      {"[64:ff9b::169.254.169.254]", "a link-local address"},
  };
  for (const auto& [host, what] : cases) {
    const std::string url = "http://" + host + "/secret-token";
    Result<WebhookTarget> refused = CheckWebhookUrl(url, false);
    ASSERT_FALSE(refused.ok()) << url;
    EXPECT_EQ(refused.status().code(), ErrorCode::kAccessDenied);
    const std::string bare = host.front() == '[' ? host.substr(1, host.size() - 2) : host;
    EXPECT_EQ(refused.status().message(), "webhook target " + bare + " is " + what +
                                              "; start the server with --alert-allow-private "
                                              "to allow it");
    EXPECT_EQ(refused.status().message().find("secret-token"), std::string::npos);
    Result<WebhookTarget> allowed = CheckWebhookUrl(url, true);
    ASSERT_TRUE(allowed.ok()) << url << ": " << allowed.status().ToString();
    EXPECT_FALSE(allowed->address.empty());
  }
  // Just outside the ranges.
  for (const char* host : {"172.32.0.1", "100.128.0.1", "169.255.0.1", "11.0.0.1", "[fe00::1]"}) {
    EXPECT_TRUE(CheckWebhookUrl("http://" + std::string(host) + "/", false).ok()) << host;
  }
}

TEST(CheckWebhookUrlTest, AddressesNoServerListensOnAreAlwaysRefused) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"0.0.0.0", "the unspecified address"},
      {"0.1.2.3", "the unspecified address"},
      {"[::]", "the unspecified address"},
      {"224.0.0.1", "a multicast address"},
      {"239.255.255.250", "a multicast address"},
      {"[ff02::1]", "a multicast address"},
      {"255.255.255.255", "the broadcast address"},
      {"240.0.0.1", "a reserved address"},
      {"[::ffff:0.0.0.0]", "the unspecified address"},
  };
  for (const auto& [host, what] : cases) {
    for (bool allow_private : {false, true}) {
      Result<WebhookTarget> t = CheckWebhookUrl("http://" + host + "/", allow_private);
      ASSERT_FALSE(t.ok()) << host;
      EXPECT_EQ(t.status().code(), ErrorCode::kAccessDenied);
      const std::string bare = host.front() == '[' ? host.substr(1, host.size() - 2) : host;
      EXPECT_EQ(t.status().message(), "webhook target " + bare + " is " + what +
                                          ", which no webhook receiver can listen on");
    }
  }
}

TEST(CheckWebhookUrlTest, NamesAreCheckedByWhatTheyResolveTo) {
  // glibc reads a bare number as an IPv4 address: the check sees the address, not the text.
  Result<WebhookTarget> t = CheckWebhookUrl("http://2130706433/", false);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().message(),
            "webhook target 2130706433 resolves to 127.0.0.1, which is a loopback address; "
            "start the server with --alert-allow-private to allow it");
  t = CheckWebhookUrl("http://LocalHost:9/x", false);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), ErrorCode::kAccessDenied);
  t = CheckWebhookUrl("http://LocalHost:9/x", true);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->host, "localhost");
  EXPECT_EQ(t->address, "127.0.0.1");  // IPv4 preferred

  t = CheckWebhookUrl("https://no-such-host.invalid/hook", false);
  ASSERT_FALSE(t.ok());
  // kInvalidArgument from a resolver that answers, kUnavailable from one that cannot.
  EXPECT_TRUE(t.status().code() == ErrorCode::kInvalidArgument ||
              t.status().code() == ErrorCode::kUnavailable)
      << t.status().ToString();
  EXPECT_TRUE(
      t.status().message().starts_with("webhook host no-such-host.invalid does not "
                                       "resolve"))
      << t.status().message();
}

TEST(CheckWebhookUrlTest, MalformedUrlsAreRefused) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "is empty"},
      {"ftp://93.184.216.34/x", "must start with http:// or https://"},
      {"93.184.216.34/x", "must start with http:// or https://"},
      {"javascript:alert(1)", "must start with http:// or https://"},
      {"http:///path", "has no host"},
      {"http://:80/", "has no host"},
      {"http://user:pw@93.184.216.34/",
       "must not hold a user name or password (put a token in a header or the path)"},
      {"http://93.184.216.34@10.0.0.1/",
       "must not hold a user name or password (put a token in a header or the path)"},
      {"http://exa mple.com/", "holds a space, a control or a non-ASCII character"},
      {"http://example.com/\r\nX: y", "holds a space, a control or a non-ASCII character"},
      {"http://b\xC3\xBC"
       "cher.de/",
       "holds a space, a control or a non-ASCII character"},
      {"http://exa%6dple.com/", "has a host that is not a DNS name or an IP address"},
      {"http://93.184.216.34:0/", "has a port outside 1-65535"},
      {"http://93.184.216.34:65536/", "has a port outside 1-65535"},
      {"http://93.184.216.34:8o/", "has a port that is not a number"},
      {"http://[::1/", "has an unterminated [IPv6] host"},
      {"http://[::1]x/", "has text after its [IPv6] host"},
      {"http://[fe80::1%25eth0]/",
       "has an [IPv6] host that is not an IPv6 address (zone ids are not allowed)"},
      {"http://[example.com]/",
       "has an [IPv6] host that is not an IPv6 address (zone ids are not allowed)"},
  };
  for (const auto& [url, why] : cases) {
    Result<WebhookTarget> t = CheckWebhookUrl(url, true);
    ASSERT_FALSE(t.ok()) << url;
    EXPECT_EQ(t.status().code(), ErrorCode::kInvalidArgument) << url;
    EXPECT_EQ(t.status().message(), "webhook URL " + why) << url;
  }
  const std::string long_url = "https://93.184.216.34/" + std::string(kMaxWebhookUrl, 'a');
  EXPECT_EQ(CheckWebhookUrl(long_url, false).status().message(),
            "webhook URL is 2070 bytes, more than the 2048 allowed");
  EXPECT_TRUE(CheckWebhookUrl(long_url.substr(0, kMaxWebhookUrl), false).ok());
}

// --- PostJson ---

TEST(PostJsonTest, DeliversHeadersAndBody) {
  Recorded rec;
  FakeServer server(Http(&rec, Answer(200, "OK", "thanks")));
  const std::string body = R"({"specversion":"1.0","id":"evt_1"})";
  const HttpOutcome out =
      PostJson(Local(server), {{"webhook-id", "evt_1"}, {"webhook-timestamp", "1614265330"}}, body);
  EXPECT_EQ(out.status, 200);
  EXPECT_EQ(out.error, "");
  const std::string head = rec.Head();
  EXPECT_TRUE(head.starts_with("POST /hook?x=1 HTTP/1.1\r\n")) << head;
  EXPECT_NE(head.find("\r\nwebhook-id: evt_1"), std::string::npos) << head;
  EXPECT_NE(head.find("\r\nwebhook-timestamp: 1614265330"), std::string::npos) << head;
  EXPECT_NE(head.find("\r\nContent-Type: application/json"), std::string::npos) << head;
  EXPECT_NE(head.find("\r\nHost: 127.0.0.1:" + std::to_string(server.port())), std::string::npos);
  EXPECT_EQ(CountIgnoreCase(head, "\r\nexpect:"), 0) << head;
  EXPECT_EQ(rec.Body(), body);
}

TEST(PostJsonTest, AGivenContentTypeReplacesTheDefault) {
  Recorded rec;
  FakeServer server(Http(&rec, Answer(204, "No Content", "")));
  // A body over 1 KiB: curl would wait for 100-continue without the "Expect:" override.
  const std::string body = "{\"pad\":\"" + std::string(5000, 'p') + "\"}";
  const auto start = std::chrono::steady_clock::now();
  const HttpOutcome out = PostJson(
      Local(server), {{"Content-Type", "application/cloudevents+json; charset=UTF-8"}}, body);
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(900));
  EXPECT_EQ(out.status, 204);
  EXPECT_EQ(out.error, "");
  EXPECT_EQ(CountIgnoreCase(rec.Head(), "\r\ncontent-type:"), 1) << rec.Head();
  EXPECT_NE(rec.Head().find("application/cloudevents+json"), std::string::npos);
  EXPECT_EQ(rec.Body(), body);
}

TEST(PostJsonTest, ErrorStatusesCarryTheStartOfTheBody) {
  {
    Recorded rec;
    FakeServer server(
        Http(&rec, Answer(500, "Internal Server Error", "boom\n" + std::string(300, 'z'))));
    const HttpOutcome out = PostJson(Local(server), {}, "{}");
    EXPECT_EQ(out.status, 500);
    EXPECT_EQ(out.error, "HTTP 500: boom\\x0a" + std::string(195, 'z') + "...");
  }
  {
    Recorded rec;
    FakeServer server(Http(&rec, Answer(410, "Gone", "")));
    const HttpOutcome out = PostJson(Local(server), {}, "{}");
    EXPECT_EQ(out.status, 410);
    EXPECT_EQ(out.error, "HTTP 410");
  }
}

TEST(PostJsonTest, RedirectsAreNotFollowed) {
  Recorded rec;
  FakeServer server(Http(&rec, ""));
  Recorded rec2;
  FakeServer redirecting(
      Http(&rec2, Answer(302, "Found", "",
                         "Location: http://127.0.0.1:" + std::to_string(server.port()) + "/\r\n")));
  const HttpOutcome out = PostJson(Local(redirecting), {}, "{}");
  EXPECT_EQ(out.status, 302);
  EXPECT_EQ(out.error, "HTTP 302 (redirects are not followed: configure the final URL)");
  EXPECT_EQ(redirecting.connections(), 1);
  EXPECT_EQ(server.connections(), 0);
}

TEST(PostJsonTest, ALargeAnswerIsCutNotRead) {
  Recorded rec;
  FakeServer server(Http(&rec, Answer(200, "OK", std::string(4 * kMaxResponseBytes, 'a'))));
  const HttpOutcome out = PostJson(Local(server), {}, "{}");
  EXPECT_EQ(out.status, 200);
  EXPECT_EQ(out.error, "");
}

TEST(PostJsonTest, ASlowReceiverTimesOut) {
  Recorded rec;
  FakeServer server(Http(&rec, Answer(200, "OK", ""), milliseconds(1500)));
  const auto start = std::chrono::steady_clock::now();
  const HttpOutcome out = PostJson(Local(server), {}, "{}", {.timeout_ms = 300});
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(1200));
  EXPECT_EQ(out.status, 0);
  EXPECT_NE(out.error.find("timed out"), std::string::npos) << out.error;
  EXPECT_EQ(rec.Body(), "{}");  // it did arrive; the answer did not
}

TEST(PostJsonTest, NoListenerIsAConnectError) {
  int port = 0;
  {
    FakeServer closed(Http(nullptr, ""));
    port = closed.port();
  }
  WebhookTarget target{"http://127.0.0.1:" + std::to_string(port) + "/", "127.0.0.1", port,
                       "127.0.0.1"};
  const HttpOutcome out = PostJson(target, {}, "{}");
  EXPECT_EQ(out.status, 0);
  EXPECT_FALSE(out.error.empty());
}

TEST(PostJsonTest, ANameIsPinnedToTheCheckedAddress) {
  // The name does not exist in DNS: only the pin can take the request to 127.0.0.1.
  Recorded rec;
  FakeServer server(Http(&rec, Answer(200, "OK", "")));
  const std::string host = "alerts-pin-test.invalid";
  const WebhookTarget target{"http://" + host + ":" + std::to_string(server.port()) + "/p", host,
                             server.port(), "127.0.0.1"};
  const HttpOutcome out = PostJson(target, {}, "{}");
  EXPECT_EQ(out.status, 200) << out.error;
  EXPECT_NE(rec.Head().find("\r\nHost: " + host + ":" + std::to_string(server.port())),
            std::string::npos)
      << rec.Head();
}

TEST(PostJsonTest, NoOtherAddressIsConnectedTo) {
  Recorded rec;
  FakeServer server(Http(&rec, Answer(200, "OK", "")));
  WebhookTarget target = Local(server);
  target.address = "127.0.0.2";  // as if DNS had answered differently at the check
  const HttpOutcome out = PostJson(target, {}, "{}");
  EXPECT_EQ(out.status, 0);
  EXPECT_EQ(out.error,
            "refused to connect to webhook target 127.0.0.1 at an address other than the checked "
            "127.0.0.2");
  EXPECT_EQ(server.connections(), 0);
}

TEST(PostJsonTest, HeadersCannotBeInjected) {
  Recorded rec;
  FakeServer server(Http(&rec, Answer(200, "OK", "")));
  for (const auto& header :
       std::vector<std::pair<std::string, std::string>>{{"X-Ok", "a\r\nInjected: 1"},
                                                        {"X-Ok", "a\nb"},
                                                        {"Bad Name", "x"},
                                                        {"X:y", "z"},
                                                        {"", "v"}}) {
    const HttpOutcome out = PostJson(Local(server), {header}, "{}");
    EXPECT_EQ(out.status, 0);
    EXPECT_TRUE(out.error.starts_with("webhook header ")) << out.error;
  }
  EXPECT_EQ(server.connections(), 0);
}

// --- SendMail ---

struct SmtpLog {
  std::mutex mu;
  std::vector<std::string> commands;  // every command line received
  std::string data;                   // the message between DATA and the final dot
};

// A relay that speaks just enough SMTP: 220, EHLO (no STARTTLS, no AUTH offered), MAIL, RCPT
// (answered `rcpt_reply`), DATA to the dot, QUIT.
FakeServer::Handler Smtp(SmtpLog* log, std::string rcpt_reply = "250 ok") {
  return [log, rcpt_reply = std::move(rcpt_reply)](int fd) {
    Reader reader(fd);
    SendAll(fd, "220 fake.test ESMTP\r\n");
    while (std::optional<std::string> line = reader.Until("\r\n")) {
      {
        std::lock_guard<std::mutex> lock(log->mu);
        log->commands.push_back(*line);
      }
      const std::string verb = AsciiUppered(line->substr(0, 4));
      if (verb == "EHLO") {
        SendAll(fd, "250-fake.test\r\n250 8BITMIME\r\n");
      } else if (verb == "MAIL" || verb == "RSET" || verb == "NOOP" || verb == "HELO") {
        SendAll(fd, "250 ok\r\n");
      } else if (verb == "RCPT") {
        SendAll(fd, rcpt_reply + "\r\n");
      } else if (verb == "DATA") {
        SendAll(fd, "354 go ahead\r\n");
        std::optional<std::string> data = reader.Until("\r\n.\r\n");
        if (!data) return;
        {
          std::lock_guard<std::mutex> lock(log->mu);
          log->data = *data;
        }
        SendAll(fd, "250 queued\r\n");
      } else if (verb == "QUIT") {
        SendAll(fd, "221 bye\r\n");
        return;
      } else {
        SendAll(fd, "502 unknown\r\n");
      }
    }
  };
}

Event MailEvent() {
  Event e;
  e.id = "evt_0123456789abcdef0123456789abcdef";
  e.type = "table.blocked";
  e.source = "/sluice/connections/shop";
  e.subject = "orders";
  e.time_micros = 1796677452000912;
  e.data_json = R"({"error_code":"PK_NULL","error_message":"primary key order_id is null"})";
  return e;
}

TEST(SendMailTest, DeliversToEveryRecipient) {
  SmtpLog log;
  FakeServer server(Smtp(&log));
  const std::vector<std::string> to = {"ops@example.com", "dev@example.com"};
  const std::string mail = EmailMessage(MailEvent(), "alerts@sluice.test", to);
  const std::string message = mail + ".a line that starts with a dot\r\n";
  SmtpConfig config{.url = "smtp://127.0.0.1:" + std::to_string(server.port()),
                    .from = "alerts@sluice.test"};
  const Status st = SendMail(config, to, message);
  ASSERT_TRUE(st.ok()) << st.ToString();
  std::lock_guard<std::mutex> lock(log.mu);
  std::vector<std::string> envelope;
  for (const std::string& c : log.commands) {
    if (c.starts_with("MAIL") || c.starts_with("RCPT")) envelope.push_back(c);
  }
  ASSERT_EQ(envelope.size(), 3u);
  EXPECT_TRUE(envelope[0].starts_with("MAIL FROM:<alerts@sluice.test>")) << envelope[0];
  EXPECT_EQ(envelope[1], "RCPT TO:<ops@example.com>");
  EXPECT_EQ(envelope[2], "RCPT TO:<dev@example.com>");
  EXPECT_EQ(log.commands.back(), "QUIT");
  // The message arrived whole; curl dot-stuffed the line that starts with a dot.
  EXPECT_EQ(log.data, mail + "..a line that starts with a dot");
  EXPECT_NE(log.data.find("\r\nSubject: =?UTF-8?B?"), std::string::npos);
}

TEST(SendMailTest, ARefusedRecipientFailsWithoutThePassword) {
  SmtpLog log;
  FakeServer server(Smtp(&log, "550 no such user"));
  const std::string url = "smtp://127.0.0.1:" + std::to_string(server.port());
  const Status st = SendMail({.url = url, .from = "alerts@sluice.test"}, {"nobody@example.com"},
                             "Subject: x\r\n\r\nbody\r\n");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), ErrorCode::kUnavailable);
  EXPECT_TRUE(st.message().starts_with("sending mail through " + url + ": ")) << st.message();
}

TEST(SendMailTest, CredentialsAreNeverSentWithoutTls) {
  SmtpLog log;
  FakeServer server(Smtp(&log));
  const std::string url = "smtp://127.0.0.1:" + std::to_string(server.port());
  const Status st = SendMail(
      {.url = url, .from = "alerts@sluice.test", .user = "alerts", .password = "hunter2-secret"},
      {"ops@example.com"}, "Subject: x\r\n\r\nbody\r\n");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), ErrorCode::kUnavailable);
  EXPECT_EQ(st.message().find("hunter2"), std::string::npos) << st.message();
  std::lock_guard<std::mutex> lock(log.mu);
  for (const std::string& c : log.commands) {
    EXPECT_FALSE(c.starts_with("AUTH")) << c;
    EXPECT_FALSE(c.starts_with("MAIL")) << c;
  }
}

TEST(SendMailTest, UnreachableServerNamesTheUrl) {
  int port = 0;
  {
    FakeServer closed(Smtp(nullptr));
    port = closed.port();
  }
  const std::string url = "smtp://127.0.0.1:" + std::to_string(port);
  const Status st = SendMail({.url = url, .from = "a@b.test", .password = "pw-secret"},
                             {"ops@example.com"}, "x\r\n");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), ErrorCode::kUnavailable);
  EXPECT_TRUE(st.message().starts_with("sending mail through " + url + ": ")) << st.message();
  EXPECT_EQ(st.message().find("pw-secret"), std::string::npos);
}

TEST(SendMailTest, BadConfigurationIsRefusedBeforeConnecting) {
  const SmtpConfig good{.url = "smtp://127.0.0.1:1", .from = "a@b.test"};
  auto refused = [](const SmtpConfig& c, const std::vector<std::string>& to) {
    const Status st = SendMail(c, to, "x\r\n");
    EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument) << st.ToString();
    return st.message();
  };
  SmtpConfig c = good;
  c.url = "http://127.0.0.1/";
  EXPECT_EQ(refused(c, {"o@x.test"}), "the mail server URL must be smtp:// or smtps://");
  c.url = "smtps://user:hunter2@mail.example.com";
  const std::string m = refused(c, {"o@x.test"});
  EXPECT_EQ(m, "the mail server URL must not hold a user or password; set them separately");
  c.url = "smtp://";
  EXPECT_EQ(refused(c, {"o@x.test"}), "the mail server URL smtp:// is malformed");
  EXPECT_EQ(refused(good, {}), "an e-mail alert has no recipients");
  EXPECT_EQ(refused(good, {"o@x.test\r\nRCPT TO:<evil@x.test>"}),
            "the mail recipient o@x.test\\x0d\\x0aRCPT TO:<evil@x.test> is malformed");
  c = good;
  c.from = "a@b.test>";
  EXPECT_EQ(refused(c, {"o@x.test"}), "the mail sender address is empty or malformed");
}

}  // namespace
}  // namespace sluice::alerts
