#include "sluice/alerts/transport.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>

namespace sluice::alerts {
namespace {

constexpr int kDefaultHttpPort = 80;
constexpr int kDefaultHttpsPort = 443;
constexpr std::string_view kAllowPrivateFlag = "--alert-allow-private";
// A DNS name is at most 253 characters (RFC 1035); an IP literal is shorter.
constexpr size_t kMaxHostLength = 253;
// What libcurl's CURLOPT_ERRORBUFFER needs.
constexpr size_t kErrorBufferSize = CURL_ERROR_SIZE;

// curl_global_init is not thread-safe and must run before any other thread uses libcurl;
// call_once makes the first caller do it and every other caller wait for it.
CURLcode GlobalInit() {
  static std::once_flag once;
  static CURLcode result = CURLE_OK;
  std::call_once(once, [] { result = curl_global_init(CURL_GLOBAL_DEFAULT); });
  return result;
}

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using CurlHandle = std::unique_ptr<CURL, CurlDeleter>;
using CurlList = std::unique_ptr<curl_slist, CurlDeleter>;

bool Append(CurlList& list, const std::string& item) {
  curl_slist* next = curl_slist_append(list.get(), item.c_str());
  if (next == nullptr) return false;
  static_cast<void>(list.release());
  list.reset(next);
  return true;
}

// Printable ASCII without space: what a URL typed into a configuration may hold (a space or a
// control character in it is a mistake or an injection attempt).
bool IsUrlText(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

enum class AddressClass {
  kPublic,
  kLoopback,
  kPrivate,
  kLinkLocal,
  kSharedCgnat,
  kUnspecified,
  kMulticast,
  kBroadcast,
  kReserved,
};

std::string_view ClassName(AddressClass c) {
  switch (c) {
    case AddressClass::kPublic:
      return "a public address";
    case AddressClass::kLoopback:
      return "a loopback address";
    case AddressClass::kPrivate:
      return "a private address";
    case AddressClass::kLinkLocal:
      return "a link-local address";
    case AddressClass::kSharedCgnat:
      return "a shared (CGNAT, 100.64/10) address";
    case AddressClass::kUnspecified:
      return "the unspecified address";
    case AddressClass::kMulticast:
      return "a multicast address";
    case AddressClass::kBroadcast:
      return "the broadcast address";
    case AddressClass::kReserved:
      return "a reserved address";
  }
  return "an unknown address";
}

// Classes that a flag may allow: a webhook receiver can legitimately live there in a lab or
// behind the same NAT. The others can never answer a connection.
bool AllowableWhenPrivate(AddressClass c) {
  return c == AddressClass::kLoopback || c == AddressClass::kPrivate ||
         c == AddressClass::kLinkLocal || c == AddressClass::kSharedCgnat;
}

// `a` in host byte order.
AddressClass ClassifyV4(uint32_t a) {
  const auto in = [a](uint32_t net, int bits) {
    return bits == 0 || (a >> (32 - bits)) == (net >> (32 - bits));
  };
  if (in(0x00000000, 8)) return AddressClass::kUnspecified;  // 0/8, "this network"
  if (in(0x7f000000, 8)) return AddressClass::kLoopback;
  if (in(0x0a000000, 8) || in(0xac100000, 12) || in(0xc0a80000, 16)) {
    return AddressClass::kPrivate;
  }
  if (in(0xa9fe0000, 16)) return AddressClass::kLinkLocal;
  if (in(0x64400000, 10)) return AddressClass::kSharedCgnat;
  if (in(0xe0000000, 4)) return AddressClass::kMulticast;
  if (a == 0xffffffff) return AddressClass::kBroadcast;
  if (in(0xf0000000, 4)) return AddressClass::kReserved;
  return AddressClass::kPublic;
}

uint32_t V4At(const uint8_t* b) {
  return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | uint32_t{b[3]};
}

AddressClass ClassifyV6(const in6_addr& addr) {
  const uint8_t* b = addr.s6_addr;
  const auto zero = [b](int from, int to) {
    return std::all_of(b + from, b + to, [](uint8_t x) { return x == 0; });
  };
  if (zero(0, 16)) return AddressClass::kUnspecified;
  if (zero(0, 15) && b[15] == 1) return AddressClass::kLoopback;
  // IPv4 embedded: mapped ::ffff:0:0/96, compatible ::/96 (deprecated, still routed by some
  // stacks), NAT64 64:ff9b::/96 (a gateway forwards to the embedded IPv4 address).
  if (zero(0, 10) && b[10] == 0xff && b[11] == 0xff) return ClassifyV4(V4At(b + 12));
  if (zero(0, 12)) return ClassifyV4(V4At(b + 12));
  static constexpr uint8_t kNat64[12] = {0x00, 0x64, 0xff, 0x9b};
  if (std::equal(b, b + 12, kNat64)) return ClassifyV4(V4At(b + 12));
  if ((b[0] & 0xfe) == 0xfc) return AddressClass::kPrivate;                    // fc00::/7
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return AddressClass::kLinkLocal;  // fe80::/10
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return AddressClass::kPrivate;    // fec0::/10 site
  if (b[0] == 0xff) return AddressClass::kMulticast;
  return AddressClass::kPublic;
}

// One resolved address, comparable with what curl is about to connect to.
struct Address {
  int family = AF_UNSPEC;
  std::array<uint8_t, 16> bytes{};  // 4 used for AF_INET

  std::string ToString() const {
    char buf[INET6_ADDRSTRLEN] = {};
    inet_ntop(family, bytes.data(), buf, sizeof buf);
    return buf;
  }
  AddressClass Class() const {
    if (family == AF_INET) return ClassifyV4(V4At(bytes.data()));
    in6_addr a;
    std::memcpy(a.s6_addr, bytes.data(), 16);
    return ClassifyV6(a);
  }
  bool operator==(const Address& o) const { return family == o.family && bytes == o.bytes; }
};

std::optional<Address> FromSockaddr(const sockaddr* sa) {
  Address a;
  if (sa->sa_family == AF_INET) {
    a.family = AF_INET;
    std::memcpy(a.bytes.data(), &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, 4);
    return a;
  }
  if (sa->sa_family == AF_INET6) {
    a.family = AF_INET6;
    std::memcpy(a.bytes.data(), &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, 16);
    return a;
  }
  return std::nullopt;
}

std::optional<Address> ParseLiteral(const std::string& text) {
  Address a;
  if (inet_pton(AF_INET, text.c_str(), a.bytes.data()) == 1) {
    a.family = AF_INET;
    return a;
  }
  if (inet_pton(AF_INET6, text.c_str(), a.bytes.data()) == 1) {
    a.family = AF_INET6;
    return a;
  }
  return std::nullopt;
}

Result<std::vector<Address>> Resolve(const std::string& host) {
  if (std::optional<Address> literal = ParseLiteral(host)) return std::vector<Address>{*literal};
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* list = nullptr;
  const int rc = getaddrinfo(host.c_str(), nullptr, &hints, &list);
  if (rc != 0) {
    const bool transient = rc == EAI_AGAIN || rc == EAI_MEMORY || rc == EAI_SYSTEM;
    return Err(transient ? ErrorCode::kUnavailable : ErrorCode::kInvalidArgument,
               "webhook host " + host + " does not resolve: " + gai_strerror(rc));
  }
  std::vector<Address> out;
  for (const addrinfo* p = list; p != nullptr; p = p->ai_next) {
    std::optional<Address> a = FromSockaddr(p->ai_addr);
    if (a && std::find(out.begin(), out.end(), *a) == out.end()) out.push_back(*a);
  }
  freeaddrinfo(list);
  if (out.empty()) {
    return Err(ErrorCode::kInvalidArgument, "webhook host " + host + " has no IP address");
  }
  return out;
}

struct ParsedUrl {
  bool https = false;
  std::string host;  // lower-case, no brackets
  int port = 0;
};

Status BadUrl(std::string_view why) {
  return Err(ErrorCode::kInvalidArgument, "webhook URL " + std::string(why));
}

Result<ParsedUrl> ParseWebhookUrl(std::string_view url) {
  if (url.size() > kMaxWebhookUrl) {
    return BadUrl("is " + std::to_string(url.size()) + " bytes, more than the " +
                  std::to_string(kMaxWebhookUrl) + " allowed");
  }
  if (url.empty()) return BadUrl("is empty");
  if (!IsUrlText(url)) return BadUrl("holds a space, a control or a non-ASCII character");
  ParsedUrl out;
  const size_t colon_slashes = url.find("://");
  const std::string scheme =
      AsciiLowered(url.substr(0, colon_slashes == std::string_view::npos ? 0 : colon_slashes));
  if (scheme == "https") {
    out.https = true;
  } else if (scheme != "http") {
    return BadUrl("must start with http:// or https://");
  }
  std::string_view rest = url.substr(colon_slashes + 3);
  const std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (authority.find('@') != std::string_view::npos) {
    return BadUrl("must not hold a user name or password (put a token in a header or the path)");
  }
  std::string_view host;
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return BadUrl("has an unterminated [IPv6] host");
    host = authority.substr(1, close - 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty() && after.front() != ':') return BadUrl("has text after its [IPv6] host");
    if (!after.empty()) port_text = after.substr(1);
    Address ignored;
    if (inet_pton(AF_INET6, std::string(host).c_str(), ignored.bytes.data()) != 1) {
      return BadUrl("has an [IPv6] host that is not an IPv6 address (zone ids are not allowed)");
    }
  } else {
    const size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
    const bool name_chars = std::all_of(host.begin(), host.end(), [](char c) {
      return IsAsciiAlnum(c) || c == '-' || c == '.' || c == '_';
    });
    if (!name_chars) return BadUrl("has a host that is not a DNS name or an IP address");
  }
  if (host.empty()) return BadUrl("has no host");
  if (host.size() > kMaxHostLength) return BadUrl("has a host longer than 253 characters");
  out.host = AsciiLowered(host);
  out.port = out.https ? kDefaultHttpsPort : kDefaultHttpPort;
  if (!port_text.empty()) {
    if (port_text.size() > 5 || !std::all_of(port_text.begin(), port_text.end(), IsAsciiDigit)) {
      return BadUrl("has a port that is not a number");
    }
    out.port = std::stoi(std::string(port_text));
    if (out.port < 1 || out.port > 65535) return BadUrl("has a port outside 1-65535");
  }
  return out;
}

// What the socket callback needs: the one address the request may connect to.
struct Pin {
  Address address;
  bool refused = false;
};

curl_socket_t OpenPinnedSocket(void* clientp, curlsocktype purpose, curl_sockaddr* addr) {
  auto* pin = static_cast<Pin*>(clientp);
  const std::optional<Address> a = FromSockaddr(&addr->addr);
  if (purpose != CURLSOCKTYPE_IPCXN || !a || !(*a == pin->address)) {
    pin->refused = true;
    return CURL_SOCKET_BAD;
  }
  return socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
}

struct Sink {
  std::string data;
  bool truncated = false;
};

size_t WriteBody(char* ptr, size_t size, size_t nmemb, void* userdata) {
  auto* sink = static_cast<Sink*>(userdata);
  const size_t n = size * nmemb;
  const size_t room = kMaxResponseBytes - sink->data.size();
  if (n > room) {
    // Stop reading: the status is already known, the rest of the body is not wanted.
    sink->data.append(ptr, room);
    sink->truncated = true;
    return 0;
  }
  sink->data.append(ptr, n);
  return n;
}

struct Source {
  std::string_view rest;
};

size_t ReadMessage(char* buffer, size_t size, size_t nitems, void* userdata) {
  auto* source = static_cast<Source*>(userdata);
  const size_t n = std::min(size * nitems, source->rest.size());
  std::memcpy(buffer, source->rest.data(), n);
  source->rest.remove_prefix(n);
  return n;
}

std::string CurlReason(CURLcode code, const char* error_buffer) {
  return error_buffer[0] != '\0' ? std::string(error_buffer) : curl_easy_strerror(code);
}

bool HasLineBreak(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

}  // namespace

Result<WebhookTarget> CheckWebhookUrl(std::string_view url, bool allow_private) {
  SLUICE_ASSIGN_OR_RETURN(ParsedUrl parsed, ParseWebhookUrl(url));
  SLUICE_ASSIGN_OR_RETURN(std::vector<Address> addresses, Resolve(parsed.host));
  const bool literal = ParseLiteral(parsed.host).has_value();
  // Every address must pass, not only the one chosen: the check must not depend on which one
  // the resolver happens to list first.
  for (const Address& a : addresses) {
    const AddressClass c = a.Class();
    if (c == AddressClass::kPublic || (allow_private && AllowableWhenPrivate(c))) continue;
    std::string message = "webhook target " + parsed.host;
    if (!literal) message += " resolves to " + a.ToString() + ", which";
    message += " is " + std::string(ClassName(c));
    if (AllowableWhenPrivate(c)) {
      message += "; start the server with " + std::string(kAllowPrivateFlag) + " to allow it";
    } else {
      message += ", which no webhook receiver can listen on";
    }
    return Err(ErrorCode::kAccessDenied, message);
  }
  const auto v4 = std::find_if(addresses.begin(), addresses.end(),
                               [](const Address& a) { return a.family == AF_INET; });
  WebhookTarget target;
  target.url = std::string(url);
  target.host = parsed.host;
  target.port = parsed.port;
  target.address = (v4 != addresses.end() ? *v4 : addresses.front()).ToString();
  return target;
}

HttpOutcome PostJson(const WebhookTarget& target,
                     const std::vector<std::pair<std::string, std::string>>& headers,
                     std::string_view body, const PostOptions& options) {
  HttpOutcome out;
  if (GlobalInit() != CURLE_OK) {
    out.error = "libcurl failed to initialise";
    return out;
  }
  const std::optional<Address> pinned = ParseLiteral(target.address);
  if (!pinned) {
    out.error = "webhook target " + target.host + " has no checked address";
    return out;
  }
  CurlList header_list;
  bool has_content_type = false;
  for (const auto& [name, value] : headers) {
    const bool bad_name = name.empty() || std::any_of(name.begin(), name.end(), [](char c) {
                            return c <= 0x20 || c >= 0x7f || c == ':';
                          });
    if (bad_name || HasLineBreak(value)) {
      out.error = "webhook header " + EscapeForLog(name, 64) + " is malformed (CR, LF or ':')";
      return out;
    }
    has_content_type = has_content_type || EqualsIgnoreCase(name, "content-type");
    if (!Append(header_list, name + ": " + value)) {
      out.error = "out of memory";
      return out;
    }
  }
  // "Expect:" turns off curl's 100-continue wait, a second of delay for bodies over 1 KiB.
  if ((!has_content_type && !Append(header_list, "Content-Type: application/json")) ||
      !Append(header_list, "Expect:")) {
    out.error = "out of memory";
    return out;
  }

  CurlHandle curl(curl_easy_init());
  if (!curl) {
    out.error = "libcurl could not make a handle";
    return out;
  }
  CURL* c = curl.get();
  Pin pin{*pinned};
  Sink sink;
  char error_buffer[kErrorBufferSize] = {};
  CurlList resolve;
  if (!ParseLiteral(target.host)) {
    const std::string address =
        pinned->family == AF_INET6 ? "[" + target.address + "]" : target.address;
    if (!Append(resolve, target.host + ":" + std::to_string(target.port) + ":" + address)) {
      out.error = "out of memory";
      return out;
    }
  }
  static const char kEmpty[] = "";
  curl_easy_setopt(c, CURLOPT_URL, target.url.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_PROXY, "");
  curl_easy_setopt(c, CURLOPT_RESOLVE, resolve.get());
  curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, &OpenPinnedSocket);
  curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &pin);
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  // A null POSTFIELDS would make curl read the body from stdin.
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.empty() ? kEmpty : body.data());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, header_list.get());
  curl_easy_setopt(c, CURLOPT_USERAGENT, "sluice");
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(options.timeout_ms));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options.connect_timeout_ms));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &WriteBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error_buffer);

  const CURLcode rc = curl_easy_perform(c);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  out.status = static_cast<int>(status);
  if (pin.refused) {
    out.status = 0;
    out.error = "refused to connect to webhook target " + target.host +
                " at an address other than the checked " + target.address;
    return out;
  }
  if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && sink.truncated)) {
    out.error = CurlReason(rc, error_buffer);
    return out;
  }
  if (status >= 200 && status <= 299) return out;
  out.error = "HTTP " + std::to_string(status);
  if (status >= 300 && status <= 399) {
    out.error += " (redirects are not followed: configure the final URL)";
  }
  if (!sink.data.empty()) out.error += ": " + EscapeForLog(sink.data, kMaxErrorBodyBytes);
  return out;
}

Status SendMail(const SmtpConfig& config, const std::vector<std::string>& to,
                std::string_view message) {
  const std::string_view url = config.url;
  const bool smtps = StartsWithIgnoreCase(url, "smtps://");
  if (!smtps && !StartsWithIgnoreCase(url, "smtp://")) {
    return Err(ErrorCode::kInvalidArgument, "the mail server URL must be smtp:// or smtps://");
  }
  const std::string_view rest = url.substr(url.find("://") + 3);
  const std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  // Checked before the URL is ever printed: user info there could be a password.
  if (authority.find('@') != std::string_view::npos) {
    return Err(ErrorCode::kInvalidArgument,
               "the mail server URL must not hold a user or password; set them separately");
  }
  if (!IsUrlText(url) || authority.empty()) {
    return Err(ErrorCode::kInvalidArgument,
               "the mail server URL " + EscapeForLog(url, 256) + " is malformed");
  }
  const auto bad_address = [](std::string_view a) {
    return a.empty() || a.find_first_of("\r\n<>") != std::string_view::npos;
  };
  if (bad_address(config.from)) {
    return Err(ErrorCode::kInvalidArgument, "the mail sender address is empty or malformed");
  }
  if (to.empty()) return Err(ErrorCode::kInvalidArgument, "an e-mail alert has no recipients");
  CurlList recipients;
  for (const std::string& address : to) {
    if (bad_address(address)) {
      return Err(ErrorCode::kInvalidArgument,
                 "the mail recipient " + EscapeForLog(address, 256) + " is malformed");
    }
    if (!Append(recipients, address)) return Err(ErrorCode::kInternal, "out of memory");
  }
  if (GlobalInit() != CURLE_OK) return Err(ErrorCode::kInternal, "libcurl failed to initialise");
  CurlHandle curl(curl_easy_init());
  if (!curl) return Err(ErrorCode::kInternal, "libcurl could not make a handle");
  CURL* c = curl.get();
  Source source{message};
  char error_buffer[kErrorBufferSize] = {};
  const long use_ssl = smtps || !config.user.empty() ? CURLUSESSL_ALL : CURLUSESSL_TRY;
  curl_easy_setopt(c, CURLOPT_URL, config.url.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(c, CURLOPT_PROXY, "");
  curl_easy_setopt(c, CURLOPT_USE_SSL, use_ssl);
  if (!config.user.empty()) {
    curl_easy_setopt(c, CURLOPT_USERNAME, config.user.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, config.password.c_str());
  }
  curl_easy_setopt(c, CURLOPT_MAIL_FROM, config.from.c_str());
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, recipients.get());
  curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(c, CURLOPT_READFUNCTION, &ReadMessage);
  curl_easy_setopt(c, CURLOPT_READDATA, &source);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(config.timeout_ms));
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error_buffer);
  const CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) {
    std::string reason = CurlReason(rc, error_buffer);
    // curl never quotes the password, but a relay's reply is foreign text: make sure.
    if (!config.password.empty() && reason.find(config.password) != std::string::npos) {
      reason = curl_easy_strerror(rc);
    }
    return Err(ErrorCode::kUnavailable, "sending mail through " + std::string(url) + ": " + reason);
  }
  return Status::Ok();
}

}  // namespace sluice::alerts
