#include <random>
#include <utility>

#include "sluice/s3/response_internal.h"
#include "sluice/s3/s3.h"

namespace sluice::s3 {

std::string NewRequestId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kDigits[] = "0123456789ABCDEF";
  uint64_t v = rng();
  std::string out(16, '0');
  for (char& c : out) {
    c = kDigits[v & 15];
    v >>= 4;
  }
  return out;
}

std::string XmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') {
          out += '?';
        } else {
          out += c;
        }
    }
  }
  return out;
}

http::Response BaseResponse(const ResponseContext& ctx, const Clock& clock, int status) {
  http::Response r;
  r.status = status;
  r.headers = {{"x-amz-request-id", ctx.request_id},
               {"Date", FormatHttpDate(clock.NowSeconds())},
               {"Server", "sluice"}};
  if (!ctx.cors_origin.empty()) {
    r.headers.emplace_back("Access-Control-Allow-Origin", ctx.cors_origin);
    r.headers.emplace_back("Access-Control-Expose-Headers",
                           "ETag, x-amz-request-id, x-amz-version-id");
    r.headers.emplace_back("Vary", "Origin");
  }
  return r;
}

http::Response ErrorResponse(const ResponseContext& ctx, const Clock& clock, const Status& status) {
  const S3Error e = S3ErrorFor(status.code());
  http::Response r = BaseResponse(ctx, clock, e.http_status);
  std::string message = status.message();
  if (e.http_status == 500) {
    LogError("s3", "request " + ctx.request_id + " " + EscapeForLog(ctx.resource) + ": " +
                       status.ToString());
    message = "We encountered an internal error. Please try again.";
  } else if (message.empty()) {
    message = std::string(e.code);
  }
  r.close = ctx.body_pending;
  r.headers.emplace_back("Content-Type", "application/xml");
  if (ctx.head) return r;
  r.body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>";
  r.body += e.code;
  r.body += "</Code><Message>";
  r.body += XmlEscape(message);
  r.body += "</Message><Resource>";
  r.body += XmlEscape(ctx.resource);
  r.body += "</Resource><RequestId>";
  r.body += ctx.request_id;
  r.body += "</RequestId></Error>";
  return r;
}

http::Response ConnectionOverloadResponse() {
  const S3Error e = S3ErrorFor(ErrorCode::kSlowDown);
  http::Response r;
  r.status = e.http_status;
  r.headers.emplace_back("Content-Type", "application/xml");
  r.headers.emplace_back("Retry-After", "1");
  r.body = std::string(kXmlDeclaration) + "<Error><Code>" + std::string(e.code) +
           "</Code><Message>Too many connections; please reduce your request rate."
           "</Message></Error>";
  r.close = true;
  return r;
}

http::Response XmlResponse(const ResponseContext& ctx, const Clock& clock, int status,
                           std::string body) {
  http::Response r = BaseResponse(ctx, clock, status);
  r.headers.emplace_back("Content-Type", "application/xml");
  r.body = std::move(body);
  return r;
}

std::string FormatIsoMillis(int64_t micros) {
  const std::string full = FormatIsoMicros(micros);  // ...:36.123456Z
  return full.substr(0, full.size() - 4) + "Z";
}

std::string UrlEncode(std::string_view text) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~' || c == '/') {
      out += c;
    } else {
      out += '%';
      out += kDigits[u >> 4];
      out += kDigits[u & 15];
    }
  }
  return out;
}

const std::string* FindHeader(const http::HeaderList& headers, std::string_view name) {
  for (const auto& [n, v] : headers) {
    if (EqualsIgnoreCase(n, name)) return &v;
  }
  return nullptr;
}

std::string HeaderSafe(std::string_view value, size_t max_bytes) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  static constexpr std::string_view kEllipsis = "...";
  std::string out;
  // Where each input byte's output begins, so that a cut never splits an escape.
  std::vector<size_t> starts;
  for (const char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    starts.push_back(out.size());
    if (c >= 0x20 && c < 0x7F && c != '%') {
      out += static_cast<char>(c);
    } else {
      out += {'%', kHex[c >> 4], kHex[c & 0xF]};
    }
  }
  if (out.size() <= max_bytes) return out;
  const size_t room = max_bytes - std::min(max_bytes, kEllipsis.size());
  size_t keep = 0;
  for (size_t i = 0; i < starts.size(); ++i) {
    const size_t end = i + 1 < starts.size() ? starts[i + 1] : out.size();
    if (end > room) break;
    keep = end;
  }
  out.resize(keep);
  out += kEllipsis;
  return out;
}

}  // namespace sluice::s3
