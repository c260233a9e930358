#pragma once
// alerts: sending, through libcurl. A webhook URL is checked before every delivery
// (CheckWebhookUrl) and the POST is pinned to the address that was checked (PostJson); an
// e-mail goes through an SMTP relay (SendMail). Retries, backoff and queueing are the
// caller's: each call here is one attempt that reports what happened.
//
// Why the check: a webhook URL is typed by an operator (or by anyone who can edit a
// connection's alerts) and the server then calls it from inside the network, so it could
// reach the cloud metadata service at 169.254.169.254, an admin port on localhost or a
// database on 10.x (SSRF, the Standard Webhooks spec's "Server side request forgery"). So
// the host's addresses must all be public; the connection is made to the one address that
// was checked (CURLOPT_RESOLVE), and a socket callback refuses any other, so a DNS answer
// that changes between the check and the connect (DNS rebinding) reaches nothing. Proxies
// from the environment are not used (they would connect elsewhere than the checked address).
//
// Refused address classes (IPv4, and IPv6 including the IPv4-mapped ::ffff:a.b.c.d, the
// deprecated IPv4-compatible ::a.b.c.d and the NAT64 64:ff9b::a.b.c.d forms of each):
//   with --alert-allow-private allowed:  loopback 127/8 ::1, private 10/8 172.16/12
//       192.168/16 fc00::/7 fec0::/10, link-local 169.254/16 fe80::/10, CGNAT 100.64/10
//   always (no server answers there):    unspecified 0/8 ::, multicast 224/4 ff00::/8,
//       broadcast 255.255.255.255, reserved 240/4
//
// A webhook URL's path may hold a token (Slack's do), so errors name its host, never the URL.
// SendMail's errors name the server URL and never the password.
//
// Thread-safety: every function may be called from any thread; each call uses its own curl
// handle. The first call initialises libcurl once for the process (curl_global_init).

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sluice/core/core.h"

namespace sluice::alerts {

// Longer than any webhook URL a service hands out (Slack's are ~80), short enough to log.
constexpr size_t kMaxWebhookUrl = 2048;
// The most of a receiver's answer read: enough for its error text, not a download.
constexpr size_t kMaxResponseBytes = 64 * 1024;
// How much of a failed answer's body goes into HttpOutcome::error.
constexpr size_t kMaxErrorBodyBytes = 200;

struct WebhookTarget {
  std::string url;      // as given (validated): scheme, host, port, path and query
  std::string host;     // lower-case name or IP literal, without IPv6 brackets
  int port = 0;         // explicit or the scheme's default
  std::string address;  // the checked numeric address to connect to ("93.184.216.34", "::1")
};

// Parses and checks `url`: http or https, no user info, at most kMaxWebhookUrl bytes, only
// printable ASCII; a host that is a DNS name of letters, digits, '-', '_', '.' or an IP
// literal; a port in 1-65535. Resolves the host (getaddrinfo) and requires every address to
// be public (classes above) unless `allow_private`. The address returned is the first IPv4
// one, else the first IPv6 one.
// Errors: kInvalidArgument for a malformed URL or a host that does not resolve; kAccessDenied
// for a non-public address ("webhook target 10.0.0.5 is a private address; start the server
// with --alert-allow-private to allow it"; unspecified/multicast/broadcast/reserved addresses
// are refused even then); kUnavailable when the resolver fails transiently (retry later).
Result<WebhookTarget> CheckWebhookUrl(std::string_view url, bool allow_private);

struct HttpOutcome {
  int status = 0;     // the HTTP status; 0 when there was no response (connect error, timeout)
  std::string error;  // empty on 2xx; else a short reason: curl's error text, or
                      // "HTTP 500: <first kMaxErrorBodyBytes of the body, escaped>"
};

struct PostOptions {
  int timeout_ms = 10000;  // the whole request
  int connect_timeout_ms = 5000;
};

// POSTs `body` to `target` (connecting only to target.address), with `headers` added
// (Content-Type: application/json unless they name one; a header with CR or LF is refused
// before anything is sent). Follows no redirects (a 3xx is a failure, as Standard Webhooks
// asks), speaks http and https only (TLS verified against the system's CAs), reads at most
// kMaxResponseBytes of the answer. Never throws.
HttpOutcome PostJson(const WebhookTarget& target,
                     const std::vector<std::pair<std::string, std::string>>& headers,
                     std::string_view body, const PostOptions& options = {});

struct SmtpConfig {
  std::string url;       // smtp://host[:port] (STARTTLS when offered) or smtps://host[:port]
  std::string from;      // envelope sender, "alerts@example.com"
  std::string user;      // empty: no authentication
  std::string password;  // never printed
  int timeout_ms = 15000;
};

// Sends `message` (EmailMessage's text, CRLF line ends) to `to` through the relay: MAIL FROM
// config.from, one RCPT TO per address, DATA (libcurl dot-stuffs). For smtp:// TLS is used
// when the server offers STARTTLS, and is required when a user is set, so that a password is
// never sent in clear (a relay that offers no TLS then fails with "STARTTLS not supported");
// smtps:// is TLS from the first byte. Errors: kInvalidArgument for a bad URL (not smtp/smtps,
// user info in it), no recipients or an address with CR, LF, '<' or '>'; kUnavailable when the
// relay cannot be reached or refuses the message, naming the server URL and curl's reason.
Status SendMail(const SmtpConfig& config, const std::vector<std::string>& to,
                std::string_view message);

}  // namespace sluice::alerts
