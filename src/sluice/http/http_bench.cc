// Transport throughput on loopback: curl downloads a streamed file response and uploads a body
// of the same size, over http and over https, against this server with a handler that does no
// work of its own (the download is read from a sparse file, so from the page cache; the upload
// is counted and dropped). The figures bound what the S3 layer can reach on this machine. A
// tool, not a test (not in CTest).
//
// A second client is measured beside curl, so that a limit of curl's is not taken for the
// server's: a minimal blocking one in this process (1 MiB send/SSL_write calls, reads into a
// 1 MiB buffer). Both share the machine's cores with the server.
//
// Usage: http_bench [MiB=1024] [repeat=3] [threads=2]
// Needs curl and the openssl command (for a throwaway self-signed certificate).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "sluice/http/http.h"

namespace sluice::http {
namespace {

namespace fs = std::filesystem;

class BenchHandler : public Handler {
 public:
  explicit BenchHandler(std::string path) : path_(std::move(path)) {}
  Started Start(const RequestHead& head) override {
    Started started;
    started.exchange = std::make_unique<Sink>(this, head.method);
    return started;
  }

 private:
  class Sink : public Exchange {
   public:
    Sink(BenchHandler* owner, std::string method) : owner_(owner), method_(std::move(method)) {}
    Status OnBody(ByteView data) override {
      bytes_ += data.size();
      return Status::Ok();
    }
    Response Finish(const Status& body_status) override {
      Response r;
      if (!body_status.ok()) {
        r.status = 400;
        r.body = body_status.ToString();
        return r;
      }
      if (method_ == "GET") {
        auto file = FileSystem::Default().OpenRandomAccess(owner_->path_);
        if (!file.ok()) return Response{500, {}, file.status().ToString()};
        r.file_length = (*file)->size();
        r.file = std::shared_ptr<const RandomAccessFile>(std::move(file).value());
      } else {
        r.body = "ok " + std::to_string(bytes_) + "\n";
      }
      return r;
    }

   private:
    BenchHandler* owner_;
    std::string method_;
    uint64_t bytes_ = 0;
  };
  std::string path_;
};

// Runs `command` (a shell line) and returns its standard output, or "" on failure.
std::string Capture(const std::string& command) {
  std::string out;
  std::FILE* p = ::popen(command.c_str(), "r");
  if (p == nullptr) return out;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, p)) > 0) out.append(buffer, n);
  return ::pclose(p) == 0 ? out : "";
}

// One request over a fresh connection with a minimal client: an upload of `bytes` zeros, or a
// download read and dropped. Returns the seconds taken, or a negative number on failure.
double MinimalClient(uint16_t port, bool tls, bool upload, uint64_t bytes) {
  const auto start = std::chrono::steady_clock::now();
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return -1;
  SSL_CTX* ctx = nullptr;
  SSL* ssl = nullptr;
  if (tls) {
    ctx = SSL_CTX_new(TLS_client_method());  // no verification: the bench's own certificate
    ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_connect(ssl) != 1) return -1;
  }
  auto send_all = [&](const char* data, size_t n) {
    while (n > 0) {
      const long k =
          tls ? SSL_write(ssl, data, static_cast<int>(n)) : ::send(fd, data, n, MSG_NOSIGNAL);
      if (k <= 0) return false;
      data += k;
      n -= static_cast<size_t>(k);
    }
    return true;
  };
  std::vector<char> buffer(1 << 20, '\0');
  const std::string head =
      upload ? "PUT /f HTTP/1.1\r\nHost: b\r\nContent-Length: " + std::to_string(bytes) + "\r\n\r\n"
             : std::string("GET /f HTTP/1.1\r\nHost: b\r\n\r\n");
  bool ok = send_all(head.data(), head.size());
  for (uint64_t sent = 0; ok && upload && sent < bytes;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(buffer.size(), bytes - sent));
    ok = send_all(buffer.data(), n);
    sent += n;
  }
  // The response: for an upload a short head and "ok N"; for a download the head and `bytes`.
  std::string response_head;
  uint64_t body = 0;
  while (ok) {
    const long k = tls ? SSL_read(ssl, buffer.data(), static_cast<int>(buffer.size()))
                       : ::recv(fd, buffer.data(), buffer.size(), 0);
    if (k <= 0) {
      ok = false;
      break;
    }
    size_t used = 0;
    if (response_head.find("\r\n\r\n") == std::string::npos) {
      const size_t before = response_head.size();
      response_head.append(buffer.data(), static_cast<size_t>(k));
      const size_t end = response_head.find("\r\n\r\n");
      if (end == std::string::npos) continue;
      used = end + 4 - before;
    }
    body += static_cast<uint64_t>(k) - used;
    if (upload ? body > 0 : body >= bytes) break;
  }
  if (ssl != nullptr) SSL_free(ssl);
  if (ctx != nullptr) SSL_CTX_free(ctx);
  ::close(fd);
  if (!ok || response_head.compare(0, 12, "HTTP/1.1 200") != 0) return -1;
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

int Main(int argc, char** argv) {
  const uint64_t mib = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1024;
  const int repeat = argc > 2 ? std::atoi(argv[2]) : 3;
  const int threads = argc > 3 ? std::atoi(argv[3]) : 2;
  const fs::path dir =
      fs::temp_directory_path() / ("sluice-http-bench-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string data = (dir / "data.bin").string();
  std::fclose(std::fopen(data.c_str(), "w"));          // creates it
  fs::resize_file(fs::path(data), mib * 1024 * 1024);  // sparse: no disk, reads from page cache
  const std::string cert = (dir / "tls.crt").string();
  const std::string key = (dir / "tls.key").string();
  if (Capture("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 "
              "-subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 -keyout " +
              key + " -out " + cert + " 2>/dev/null && echo ok") != "ok\n") {
    std::fprintf(stderr, "http_bench: openssl could not make a certificate\n");
    return 1;
  }

  BenchHandler handler(data);
  auto runtime = Runtime::Create(threads);
  auto plain = runtime->Listen(ServerOptions{}, handler);
  ServerOptions tls_options;
  tls_options.tls_cert_file = cert;
  tls_options.tls_key_file = key;
  auto tls = runtime->Listen(tls_options, handler);
  if (!plain.ok() || !tls.ok()) {
    std::fprintf(stderr, "http_bench: %s\n",
                 (!plain.ok() ? plain.status() : tls.status()).ToString().c_str());
    return 1;
  }
  std::thread runner([&] { runtime->Run(); });

  std::printf("%llu MiB, %d runs each (median), %d server I/O threads, curl on the same host\n",
              static_cast<unsigned long long>(mib), repeat, threads);
  std::printf("%-6s %-9s %12s %18s\n", "scheme", "direction", "curl MB/s", "minimal client MB/s");
  for (const char* scheme : {"http", "https"}) {
    const uint16_t port = std::string(scheme) == "http" ? (*plain)->port() : (*tls)->port();
    const std::string url = std::string(scheme) + "://127.0.0.1:" + std::to_string(port) + "/f";
    const std::string curl = "curl -sS --fail --cacert " + cert + " -o /dev/null ";
    for (const char* direction : {"download", "upload"}) {
      std::vector<double> rates;
      for (int i = 0; i < repeat; ++i) {
        const bool down = std::string(direction) == "download";
        const auto start = std::chrono::steady_clock::now();
        const std::string out = Capture(curl + (down ? "" : "-T " + data + " ") + url +
                                        " -w '%{size_download} %{size_upload}'");
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        const uint64_t expected = mib * 1024 * 1024;
        unsigned long long got_down = 0, got_up = 0;
        if (std::sscanf(out.c_str(), "%llu %llu", &got_down, &got_up) != 2 ||
            (down ? got_down : got_up) != expected) {
          std::fprintf(stderr, "http_bench: curl %s over %s failed: '%s'\n", direction, scheme,
                       out.c_str());
          runtime->Stop();
          runner.join();
          return 1;
        }
        rates.push_back(static_cast<double>(expected) / seconds / 1e6);
      }
      std::vector<double> minimal_rates;
      for (int i = 0; i < repeat; ++i) {
        const double seconds = MinimalClient(port, std::string(scheme) == "https",
                                             std::string(direction) == "upload", mib << 20);
        if (seconds <= 0) {
          std::fprintf(stderr, "http_bench: the minimal client failed (%s %s)\n", scheme,
                       direction);
          runtime->Stop();
          runner.join();
          return 1;
        }
        minimal_rates.push_back(static_cast<double>(mib << 20) / seconds / 1e6);
      }
      std::printf("%-6s %-9s %12.0f %18.0f\n", scheme, direction, Median(rates),
                  Median(minimal_rates));
      std::fflush(stdout);
    }
  }
  runtime->Stop();
  runner.join();
  fs::remove_all(dir);
  return 0;
}

}  // namespace
}  // namespace sluice::http

int main(int argc, char** argv) { return sluice::http::Main(argc, argv); }
