// The server over TLS on real loopback sockets. The certificates are made here with the OpenSSL
// C API (a CA and a leaf for 127.0.0.1 signed by it, served as a chain); the client is a plain
// blocking OpenSSL client that verifies the chain and the IP address, so the server's Beast code
// is not checking itself.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "sluice/core/testing/temp_dir.h"
#include "sluice/core/text.h"
#include "sluice/http/file_testing.h"
#include "sluice/http/http.h"

namespace sluice::http {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// ---- Certificates ---------------------------------------------------------------------------

using KeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using CertPtr = std::unique_ptr<X509, decltype(&X509_free)>;

KeyPtr NewKey() { return KeyPtr(EVP_EC_gen("P-256"), EVP_PKEY_free); }

void AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  ASSERT_NE(ext, nullptr);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

// A certificate for `key` named `cn`, signed by `issuer_key` (self-signed when issuer is null).
CertPtr NewCert(EVP_PKEY* key, const char* cn, X509* issuer, EVP_PKEY* issuer_key, bool ca) {
  CertPtr cert(X509_new(), X509_free);
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), ca ? 1 : 2);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn),
                             -1, -1, 0);
  X509* signer = issuer != nullptr ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
  if (ca) {
    AddExtension(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE");
    AddExtension(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    AddExtension(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE");
    AddExtension(cert.get(), signer, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost");
    AddExtension(cert.get(), signer, NID_ext_key_usage, "serverAuth");
  }
  X509_sign(cert.get(), issuer_key != nullptr ? issuer_key : key, EVP_sha256());
  return cert;
}

void WritePem(const fs::path& path, const std::vector<X509*>& certs, EVP_PKEY* key,
              const char* passphrase = nullptr) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  for (X509* cert : certs) PEM_write_X509(f, cert);
  if (key != nullptr) {
    const EVP_CIPHER* cipher = passphrase != nullptr ? EVP_aes_128_cbc() : nullptr;
    PEM_write_PrivateKey(f, key, cipher, nullptr, 0, nullptr, const_cast<char*>(passphrase));
  }
  std::fclose(f);
}

// A temporary directory with ca.pem, chain.pem (leaf then CA), key.pem, other_key.pem (matches
// nothing), locked_key.pem (passphrase-protected) and garbage.pem.
class CertDir {
 public:
  CertDir() {
    KeyPtr ca_key = NewKey();
    KeyPtr leaf_key = NewKey();
    KeyPtr other_key = NewKey();
    CertPtr ca = NewCert(ca_key.get(), "sluice test CA", nullptr, nullptr, true);
    CertPtr leaf = NewCert(leaf_key.get(), "127.0.0.1", ca.get(), ca_key.get(), false);
    WritePem(path("ca.pem"), {ca.get()}, nullptr);
    WritePem(path("chain.pem"), {leaf.get(), ca.get()}, nullptr);
    WritePem(path("key.pem"), {}, leaf_key.get());
    WritePem(path("other_key.pem"), {}, other_key.get());
    WritePem(path("locked_key.pem"), {}, leaf_key.get(), "passphrase");
    std::FILE* f = std::fopen(path("garbage.pem").c_str(), "w");
    std::fputs("this is not PEM\n", f);
    std::fclose(f);
  }
  std::string path(const char* name) const { return dir_.Join(name); }

 private:
  sluice::testing::TempDir dir_{"sluice-tls-test"};
};

// ---- The test handler -------------------------------------------------------------------------

class TlsTestHandler : public Handler {
 public:
  Started Start(const RequestHead& head) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      heads_.push_back(head);
    }
    Started started;
    if (head.raw_path.starts_with("/refuse")) {
      started.response = Response{403, {{"Content-Type", "text/plain"}}, "refused\n"};
    } else {
      started.exchange = std::make_unique<Echo>(this, head.raw_path);
    }
    return started;
  }
  std::vector<RequestHead> heads() {
    std::lock_guard<std::mutex> lock(mu_);
    return heads_;
  }
  std::vector<std::string> bodies() {
    std::lock_guard<std::mutex> lock(mu_);
    return bodies_;
  }
  static constexpr uint64_t kFileBytes = 5 * 1024 * 1024 + 77;

 private:
  class Echo : public Exchange {
   public:
    Echo(TlsTestHandler* owner, std::string path) : owner_(owner), path_(std::move(path)) {}
    Status OnBody(ByteView data) override {
      body_.append(AsChars(data));
      return Status::Ok();
    }
    Response Finish(const Status& body_status) override {
      {
        std::lock_guard<std::mutex> lock(owner_->mu_);
        owner_->bodies_.push_back(body_status.ok() ? body_ : body_status.ToString());
      }
      Response r;
      if (!body_status.ok()) {
        r.status = 400;
        r.body = body_status.ToString();
      } else if (path_ == "/file") {
        r.file = std::make_shared<internal::PatternFile>(kFileBytes);
        r.file_length = kFileBytes;
      } else {
        r.body = "ok " + std::to_string(body_.size());
      }
      return r;
    }

   private:
    TlsTestHandler* owner_;
    std::string path_;
    std::string body_;
  };

  std::mutex mu_;
  std::vector<RequestHead> heads_;
  std::vector<std::string> bodies_;
};

// ---- A blocking TLS client --------------------------------------------------------------------

struct Reply {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

class TlsClient {
 public:
  // `max_version` 0: the library's default.
  TlsClient(uint16_t port, const std::string& ca_file, int max_version = 0) {
    // OpenSSL writes with write(2): a reset must fail the test, not kill it.
    std::signal(SIGPIPE, SIG_IGN);
    ctx_ = SSL_CTX_new(TLS_client_method());
    SSL_CTX_load_verify_locations(ctx_, ca_file.c_str(), nullptr);
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    if (max_version != 0) {
      SSL_CTX_set_min_proto_version(ctx_, TLS1_VERSION);
      SSL_CTX_set_max_proto_version(ctx_, max_version);
      SSL_CTX_set_security_level(ctx_, 0);  // let this client offer the old versions at all
    }
    fd_ = internal::ConnectLoopback(port);
    if (fd_ < 0) return;
    ssl_ = SSL_new(ctx_);
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), "127.0.0.1");
    SSL_set_fd(ssl_, fd_);
    connected_ = SSL_connect(ssl_) == 1;
    if (connected_) version_ = SSL_get_version(ssl_);
    ERR_clear_error();
  }
  ~TlsClient() {
    if (ssl_ != nullptr) SSL_free(ssl_);
    if (fd_ >= 0) ::close(fd_);
    SSL_CTX_free(ctx_);
  }
  bool connected() const { return connected_; }
  const std::string& version() const { return version_; }

  bool Send(std::string_view data) {
    while (!data.empty()) {
      int n =
          SSL_write(ssl_, data.data(), static_cast<int>(std::min<size_t>(data.size(), 1 << 20)));
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  std::optional<std::string> ReadHead() {
    for (;;) {
      size_t end = buffered_.find("\r\n\r\n");
      if (end != std::string::npos) {
        std::string head = buffered_.substr(0, end + 4);
        buffered_.erase(0, end + 4);
        return head;
      }
      if (Fill() <= 0) return std::nullopt;
    }
  }

  // One response; with `head_only` the body is left unread.
  std::optional<Reply> ReadResponse(bool head_only = false) {
    auto head = ReadHead();
    if (!head || head->size() < 12) return std::nullopt;
    Reply r;
    r.status = std::stoi(head->substr(9, 3));
    size_t pos = head->find("\r\n") + 2;
    while (pos < head->size() - 2) {
      size_t eol = head->find("\r\n", pos);
      std::string line = head->substr(pos, eol - pos);
      size_t colon = line.find(':');
      std::string name = line.substr(0, colon);
      AsciiLowerInPlace(name);
      std::string value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      r.headers[name] = value;
      pos = eol + 2;
    }
    if (head_only || r.status < 200) return r;
    size_t length = r.headers.count("content-length") ? std::stoul(r.headers["content-length"]) : 0;
    while (buffered_.size() < length) {
      if (Fill() <= 0) return std::nullopt;
    }
    r.body = buffered_.substr(0, length);
    buffered_.erase(0, length);
    return r;
  }

  // Reads `length` body bytes without keeping them: how many arrived, and whether each matched
  // PatternByte from `from`.
  std::pair<uint64_t, bool> ReadPattern(uint64_t from, uint64_t length) {
    uint64_t got = 0;
    bool same = true;
    auto check = [&](std::string_view data) {
      for (char c : data)
        same = same && static_cast<uint8_t>(c) == internal::PatternByte(from + got++);
    };
    size_t take = static_cast<size_t>(std::min<uint64_t>(buffered_.size(), length));
    check(std::string_view(buffered_).substr(0, take));
    buffered_.erase(0, take);
    std::vector<char> chunk(64 * 1024);
    while (got < length) {
      int n = SSL_read(ssl_, chunk.data(),
                       static_cast<int>(std::min<uint64_t>(chunk.size(), length - got)));
      if (n <= 0) break;
      check(std::string_view(chunk.data(), static_cast<size_t>(n)));
    }
    return {got, same};
  }

  // How the server ended the connection: "close_notify" (a graceful TLS close), "eof" (TCP
  // closed without close_notify), "reset", or "timeout".
  std::string WaitClose() {
    char c[4096];
    for (;;) {
      int n = SSL_read(ssl_, c, sizeof c);
      if (n > 0) continue;
      int error = SSL_get_error(ssl_, n);
      ERR_clear_error();
      if (error == SSL_ERROR_ZERO_RETURN) return "close_notify";
      if (error == SSL_ERROR_SYSCALL || error == SSL_ERROR_SSL) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) return "timeout";
        if (errno == ECONNRESET) return "reset";
        return "eof";
      }
      return "error " + std::to_string(error);
    }
  }

 private:
  int Fill() {
    char chunk[16384];
    int n = SSL_read(ssl_, chunk, sizeof chunk);
    if (n > 0) buffered_.append(chunk, static_cast<size_t>(n));
    return n;
  }

  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  int fd_ = -1;
  bool connected_ = false;
  std::string version_;
  std::string buffered_;
};

std::string Pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(internal::PatternByte(i * 7));
  return s;
}

// ---- The fixture ------------------------------------------------------------------------------

class TlsServerTest : public ::testing::Test {
 protected:
  void StartServer(ServerOptions options = {}) {
    runtime_ = Runtime::Create(2);
    options.tls_cert_file = certs_.path("chain.pem");
    options.tls_key_file = certs_.path("key.pem");
    auto server = runtime_->Listen(options, handler_);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    tls_ = std::move(server).value();
    auto plain = runtime_->Listen(ServerOptions{}, handler_);
    ASSERT_TRUE(plain.ok()) << plain.status().ToString();
    plain_ = std::move(plain).value();
    runner_ = std::thread([this] { runtime_->Run(); });
  }
  void TearDown() override {
    if (runtime_) {
      runtime_->Stop();
      if (runner_.joinable()) runner_.join();
    }
  }
  uint16_t port() const { return tls_->port(); }
  std::string ca() const { return certs_.path("ca.pem"); }

  CertDir certs_;
  TlsTestHandler handler_;
  std::unique_ptr<Runtime> runtime_;
  std::unique_ptr<Server> tls_;
  std::unique_ptr<Server> plain_;
  std::thread runner_;
};

TEST_F(TlsServerTest, PutKeepAliveAndExpectContinueOverOneConnection) {
  StartServer();
  TlsClient c(port(), ca());
  ASSERT_TRUE(c.connected());
  EXPECT_TRUE(c.version() == "TLSv1.3" || c.version() == "TLSv1.2") << c.version();
  const std::string body = Pattern(700 * 1024 + 13);
  ASSERT_TRUE(c.Send("PUT /b/k HTTP/1.1\r\nHost: h\r\nContent-Length: " +
                     std::to_string(body.size()) + "\r\n\r\n" + body));
  auto r1 = c.ReadResponse();
  ASSERT_TRUE(r1);
  EXPECT_EQ(r1->status, 200);
  EXPECT_EQ(r1->body, "ok " + std::to_string(body.size()));
  EXPECT_EQ(r1->Header("connection"), "");

  ASSERT_TRUE(c.Send(
      "PUT /b/k2 HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n"));
  auto interim = c.ReadHead();
  ASSERT_TRUE(interim);
  EXPECT_EQ(*interim, "HTTP/1.1 100 Continue\r\n\r\n");
  ASSERT_TRUE(c.Send("hello world"));
  auto r2 = c.ReadResponse();
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->body, "ok 11");

  auto heads = handler_.heads();
  ASSERT_EQ(heads.size(), 2u);
  EXPECT_TRUE(heads[0].tls);
  EXPECT_TRUE(heads[1].expect_continue);
  EXPECT_EQ(heads[0].remote_address, "127.0.0.1");
  auto bodies = handler_.bodies();
  ASSERT_EQ(bodies.size(), 2u);
  EXPECT_TRUE(bodies[0] == body) << "body differs";
  EXPECT_EQ(bodies[1], "hello world");
}

TEST_F(TlsServerTest, RefusedExpectationGetsTheFinalStatusAndAGracefulClose) {
  StartServer();
  TlsClient c(port(), ca());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(
      c.Send("PUT /refuse/k HTTP/1.1\r\nHost: h\r\nContent-Length: 1000\r\n"
             "Expect: 100-continue\r\n\r\n"));
  auto r = c.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  EXPECT_EQ(r->Header("connection"), "close");
  EXPECT_EQ(r->body, "refused\n");
  EXPECT_EQ(c.WaitClose(), "close_notify");
}

TEST_F(TlsServerTest, RefusalWhileTheBodyIsStillArrivingIsStillReceived) {
  StartServer();
  TlsClient c(port(), ca());
  ASSERT_TRUE(c.connected());
  // No expectation: the client sends the whole body regardless of the early answer. (Under the
  // server's linger bound of 1 MiB: a client sending more than that is cut off.)
  const std::string body = Pattern(512 * 1024);
  ASSERT_TRUE(c.Send("PUT /refuse/k HTTP/1.1\r\nHost: h\r\nContent-Length: " +
                     std::to_string(body.size()) + "\r\n\r\n"));
  EXPECT_TRUE(c.Send(body));  // the server discards it while closing
  auto r = c.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  EXPECT_EQ(c.WaitClose(), "close_notify");
}

TEST_F(TlsServerTest, StreamedFileDownload) {
  StartServer();
  TlsClient c(port(), ca());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.Send("GET /file HTTP/1.1\r\nHost: h\r\n\r\n"));
  auto r = c.ReadResponse(/*head_only=*/true);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->Header("content-length"), std::to_string(TlsTestHandler::kFileBytes));
  auto [got, same] = c.ReadPattern(0, TlsTestHandler::kFileBytes);
  EXPECT_EQ(got, TlsTestHandler::kFileBytes);
  EXPECT_TRUE(same);
  ASSERT_TRUE(c.Send("GET /x HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"));
  auto r2 = c.ReadResponse();
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->body, "ok 0");
  EXPECT_EQ(c.WaitClose(), "close_notify");
}

TEST_F(TlsServerTest, StalledBodyIsAnsweredWithRequestTimeout) {
  ServerOptions options;
  options.body_timeout_seconds = 1;
  StartServer(options);
  TlsClient c(port(), ca());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.Send("PUT /b/slow HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\n0123456789"));
  auto r = c.ReadResponse();  // the read was cancelled under TLS; the response still goes out
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("REQUEST_TIMEOUT"), std::string::npos) << r->body;
  EXPECT_EQ(r->Header("connection"), "close");
}

TEST_F(TlsServerTest, PlainHttpOnTheTlsPortIsClosedWithoutAResponse) {
  StartServer();
  int fd = internal::ConnectLoopback(port());
  ASSERT_GE(fd, 0);
  const std::string request = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
  ASSERT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(request.size()));
  std::string received;
  char buffer[4096];
  ssize_t n;
  while ((n = ::recv(fd, buffer, sizeof buffer, 0)) > 0) received.append(buffer, n);
  const int error = n < 0 ? errno : 0;
  ::close(fd);
  EXPECT_TRUE(n == 0 || error == ECONNRESET) << "no close within the timeout";
  EXPECT_EQ(received.find("HTTP/1.1"), std::string::npos);
  EXPECT_TRUE(handler_.heads().empty());
  // The listener is unharmed; the plain listener on the same runtime serves http.
  TlsClient c(port(), ca());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.Send("GET /after HTTP/1.1\r\nHost: h\r\n\r\n"));
  ASSERT_TRUE(c.ReadResponse());
  int pfd = internal::ConnectLoopback(plain_->port());
  ASSERT_GE(pfd, 0);
  ASSERT_EQ(::send(pfd, request.data(), request.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(request.size()));
  n = ::recv(pfd, buffer, sizeof buffer, 0);
  ::close(pfd);
  ASSERT_GT(n, 12);
  EXPECT_EQ(std::string(buffer, 12), "HTTP/1.1 200");
  auto heads = handler_.heads();
  ASSERT_EQ(heads.size(), 2u);
  EXPECT_TRUE(heads[0].tls);
  EXPECT_FALSE(heads[1].tls);
}

TEST_F(TlsServerTest, SilentClientIsDroppedAfterTheHandshakeTimeout) {
  ServerOptions options;
  options.handshake_timeout_seconds = 1;
  StartServer(options);
  int fd = internal::ConnectLoopback(port());
  ASSERT_GE(fd, 0);
  auto start = std::chrono::steady_clock::now();
  char c;
  ssize_t n = ::recv(fd, &c, 1, 0);
  const int recv_errno = errno;
  auto elapsed = std::chrono::steady_clock::now() - start;
  ::close(fd);
  EXPECT_LE(n, 0);
  // Dropped by the server (end of stream or a reset), not given up by this client's own 10 s
  // receive timeout (EAGAIN); and not before the handshake timeout. A lower bound only: a
  // slow machine makes it later, never earlier.
  EXPECT_TRUE(n == 0 || (recv_errno != EAGAIN && recv_errno != EWOULDBLOCK)) << recv_errno;
  EXPECT_GE(elapsed, 800ms);
}

TEST_F(TlsServerTest, OldProtocolVersionsAreRefused) {
  StartServer();
  TlsClient old(port(), ca(), TLS1_1_VERSION);
  EXPECT_FALSE(old.connected());
  TlsClient tls12(port(), ca(), TLS1_2_VERSION);
  EXPECT_TRUE(tls12.connected());
  EXPECT_EQ(tls12.version(), "TLSv1.2");
}

TEST(TlsListenTest, BadFilesAreRefusedAtStartUpNamingTheFile) {
  CertDir certs;
  TlsTestHandler handler;
  auto runtime = Runtime::Create(1);
  auto listen = [&](const std::string& cert, const std::string& key) {
    ServerOptions options;
    options.tls_cert_file = cert;
    options.tls_key_file = key;
    return runtime->Listen(options, handler).status();
  };
  const std::string chain = certs.path("chain.pem");
  const std::string key = certs.path("key.pem");
  ASSERT_TRUE(listen(chain, key).ok());

  auto expect_error = [](const Status& s, const std::string& needle) {
    EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument) << s.ToString();
    EXPECT_NE(s.message().find(needle), std::string::npos) << s.ToString();
  };
  expect_error(listen(certs.path("missing.pem"), key), "missing.pem");
  expect_error(listen(chain, certs.path("missing-key.pem")), "missing-key.pem");
  expect_error(listen(certs.path("garbage.pem"), key), "garbage.pem");
  expect_error(listen(chain, certs.path("garbage.pem")), "garbage.pem");
  expect_error(listen(chain, certs.path("other_key.pem")), "does not match");
  // Refused, not prompted for on the terminal.
  expect_error(listen(chain, certs.path("locked_key.pem")), "locked_key.pem");
  expect_error(listen(chain, certs.path("locked_key.pem")), "passphrase");
  expect_error(listen(chain, ""), "without a key");
  expect_error(listen("", key), "without a certificate");
}

}  // namespace
}  // namespace sluice::http
