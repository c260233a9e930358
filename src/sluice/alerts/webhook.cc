#include "sluice/alerts/webhook.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <array>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "sluice/auth/auth.h"
#include "sluice/core/utf8.h"

namespace sluice::alerts {
namespace {

using Json = nlohmann::ordered_json;

constexpr std::string_view kSecretPrefix = "whsec_";
// Standard Webhooks: a symmetric key of at least 24 bytes (192 bits), at most 64 (512 bits).
constexpr size_t kMinSecretBytes = 24;
constexpr size_t kMaxSecretBytes = 64;
// What NewWebhookSecret draws: the spec's minimum, 32 base64 characters.
constexpr size_t kNewSecretBytes = 24;
constexpr std::string_view kConnectionsPrefix = "/sluice/connections/";
// Numbers shown in a summary when the event has no error to show.
constexpr size_t kMaxSummaryNumbers = 4;
// An e-mail subject long enough to read in a mail list; the body has the rest.
constexpr size_t kMaxSubjectBytes = 200;
// RFC 2047: an encoded-word is at most 75 characters. 39 bytes of text make 52 base64
// characters, a 64-character word: with "Subject: " before it the first line stays within 78.
constexpr size_t kEncodedWordBytes = 39;
// RFC 5322 2.1.1: lines at most 998 characters; body lines are broken well before that.
constexpr size_t kMaxBodyLine = 900;
// Header lines are folded before this many characters (RFC 5322's "should" limit).
constexpr size_t kHeaderFoldAt = 78;

void RandomBytes(unsigned char* out, size_t n) {
  if (RAND_bytes(out, static_cast<int>(n)) != 1) {
    // No randomness means no unguessable ids or secrets: continuing would be worse.
    LogError("alerts", "the random generator failed");
    std::abort();
  }
}

// `s` cut to at most `max` bytes without splitting a UTF-8 sequence.
std::string_view CutUtf8(std::string_view s, size_t max) {
  if (s.size() <= max) return s;
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

// Valid UTF-8 on one line: control characters (CR, LF, tab, ...) become spaces.
std::string OneLine(std::string_view s) {
  std::string out = ToValidUtf8(s);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return out;
}

// A header value with CR, LF and the other control characters removed, so that no value can
// end its header and start another.
std::string HeaderValue(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f) out += c;
  }
  return out;
}

std::string ConnectionOf(const Event& e) {
  std::string_view s = e.source;
  if (s.substr(0, kConnectionsPrefix.size()) != kConnectionsPrefix) return "";
  s.remove_prefix(kConnectionsPrefix.size());
  return std::string(s.substr(0, s.find('/')));
}

// The first of `names` that is a string field of `data`.
std::string StringField(const Json& data, std::initializer_list<const char*> names) {
  for (const char* name : names) {
    const auto it = data.find(name);
    if (it != data.end() && it->is_string()) return it->get<std::string>();
  }
  return "";
}

Json ParseData(const Event& e) {
  if (e.data_json.empty()) return Json::object();
  Json data = Json::parse(e.data_json, nullptr, /*allow_exceptions=*/false);
  if (data.is_discarded()) return Json(e.data_json);
  return data;
}

std::string Dump(const Json& j, int indent = -1) {
  return j.dump(indent, ' ', false, Json::error_handler_t::replace);
}

std::string Rfc5322Date(int64_t seconds) {
  std::string date = FormatHttpDate(seconds);  // "Fri, 27 Nov 2026 02:33:36 GMT"
  constexpr std::string_view kGmt = " GMT";
  if (date.size() > kGmt.size() && date.ends_with(kGmt)) {
    date.replace(date.size() - kGmt.size(), kGmt.size(), " +0000");
  }
  return date;
}

bool IsPrintableAscii(std::string_view s) {
  for (char c : s) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

// "Subject: ..." as is when printable ASCII, else RFC 2047 encoded-words folded one per line,
// each holding whole UTF-8 sequences.
std::string SubjectHeader(std::string_view subject) {
  if (IsPrintableAscii(subject)) return "Subject: " + std::string(subject);
  std::string out = "Subject:";
  while (!subject.empty()) {
    std::string_view chunk = CutUtf8(subject, kEncodedWordBytes);
    if (chunk.empty()) chunk = subject.substr(0, 1);  // unreachable for valid UTF-8
    if (out.size() > std::string_view("Subject:").size()) out += "\r\n";
    out += " =?UTF-8?B?" + auth::Base64Encode(chunk) + "?=";
    subject.remove_prefix(chunk.size());
  }
  return out;
}

std::string ToHeader(const std::vector<std::string>& to) {
  std::string out = "To:";
  size_t line = out.size();
  bool first = true;
  for (const std::string& raw : to) {
    const std::string address = HeaderValue(raw);
    if (address.empty()) continue;
    if (!first) {
      out += ',';
      ++line;
      if (line + 1 + address.size() > kHeaderFoldAt) {
        out += "\r\n";
        line = 0;
      }
    }
    out += ' ' + address;
    line += 1 + address.size();
    first = false;
  }
  return out;
}

// `text` with every line end made CRLF and every line under kMaxBodyLine bytes.
std::string BodyLines(std::string_view text) {
  std::string out;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t nl = text.find('\n', start);
    std::string_view line =
        text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    do {
      std::string_view piece = CutUtf8(line, kMaxBodyLine);
      if (piece.empty() && !line.empty()) piece = line.substr(0, 1);
      out.append(piece);
      out += "\r\n";
      line.remove_prefix(piece.size());
    } while (!line.empty());
    if (nl == std::string_view::npos || nl + 1 == text.size()) break;
    start = nl + 1;
  }
  return out;
}

}  // namespace

std::string NewWebhookSecret() {
  std::array<unsigned char, kNewSecretBytes> raw;
  RandomBytes(raw.data(), raw.size());
  return std::string(kSecretPrefix) + auth::Base64Encode(std::string_view(
                                          reinterpret_cast<const char*>(raw.data()), raw.size()));
}

Result<std::string> SignWebhook(std::string_view secret, std::string_view msg_id,
                                int64_t timestamp_seconds, std::string_view body) {
  if (secret.starts_with(kSecretPrefix)) secret.remove_prefix(kSecretPrefix.size());
  // The secret stays out of every message, and so does the decoder's offset into it.
  Result<std::string> key = auth::Base64Decode(secret);
  if (!key.ok()) {
    return Err(ErrorCode::kInvalidArgument,
               "the webhook secret is malformed: expected whsec_ followed by base64");
  }
  if (key->size() < kMinSecretBytes || key->size() > kMaxSecretBytes) {
    return Err(ErrorCode::kInvalidArgument,
               "the webhook secret decodes to " + std::to_string(key->size()) +
                   " bytes; Standard Webhooks keys are " + std::to_string(kMinSecretBytes) + "-" +
                   std::to_string(kMaxSecretBytes) + " bytes");
  }
  const std::string ts = std::to_string(timestamp_seconds);
  std::string content;
  content.reserve(msg_id.size() + ts.size() + body.size() + 2);
  content.append(msg_id).append(".").append(ts).append(".").append(body);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  if (HMAC(EVP_sha256(), key->data(), static_cast<int>(key->size()),
           reinterpret_cast<const unsigned char*>(content.data()), content.size(), mac,
           &mac_len) == nullptr) {
    return Err(ErrorCode::kInternal, "HMAC-SHA256 failed");
  }
  return "v1," + auth::Base64Encode(std::string_view(reinterpret_cast<const char*>(mac), mac_len));
}

std::string Summary(const Event& e) {
  std::string headline = e.type.empty() ? "event" : e.type;
  for (char& c : headline) {
    if (c == '.' || c == '_') c = ' ';
  }
  if (e.type == "ping") headline = "test alert";
  const std::string connection = ConnectionOf(e);
  std::string where = connection;
  if (!e.subject.empty()) where += (where.empty() ? "" : "/") + e.subject;

  std::string out = headline;
  if (!where.empty()) out += ": " + where;
  const Json data = ParseData(e);
  if (data.is_object()) {
    const std::string code = StringField(data, {"error_code", "code"});
    const std::string message = StringField(data, {"error_message", "message", "error"});
    if (!code.empty() || !message.empty()) {
      out += " \xE2\x80\x94 ";  // em dash
      out += code;
      if (!code.empty() && !message.empty()) out += ": ";
      const std::string_view cut = CutUtf8(message, kMaxSummaryMessage);
      out.append(cut);
      if (cut.size() < message.size()) out += "...";
    } else {
      std::string numbers;
      size_t shown = 0;
      for (const auto& [name, value] : data.items()) {
        if (shown == kMaxSummaryNumbers) break;
        if (!value.is_number()) continue;
        numbers += (shown++ == 0 ? "" : ", ") + name + " " + Dump(value);
      }
      if (!numbers.empty()) out += " (" + numbers + ")";
    }
  }
  return OneLine(out);
}

std::string CloudEventJson(const Event& e) {
  Json j;
  j["specversion"] = "1.0";
  j["id"] = e.id;
  j["source"] = e.source;
  j["type"] = "io.sluice." + e.type;
  if (!e.subject.empty()) j["subject"] = e.subject;
  j["time"] = FormatIsoMicros(e.time_micros);
  j["datacontenttype"] = "application/json";
  j["data"] = ParseData(e);
  return Dump(j);
}

std::string SlackJson(const Event& e) {
  // Slack reads &, < and > as markup (<!channel>, <url|text>); its docs ask for these three
  // escapes and no others.
  std::string text;
  const std::string raw = Summary(e) + "\n" + e.type + " at " + FormatIsoMicros(e.time_micros);
  for (char c : raw) {
    switch (c) {
      case '&':
        text += "&amp;";
        break;
      case '<':
        text += "&lt;";
        break;
      case '>':
        text += "&gt;";
        break;
      default:
        text += c;
    }
  }
  Json j;
  j["text"] = text;
  return Dump(j);
}

std::string EmailMessage(const Event& e, std::string_view from,
                         const std::vector<std::string>& to) {
  const std::string summary = Summary(e);
  std::string subject = "[sluice] " + std::string(CutUtf8(summary, kMaxSubjectBytes));
  if (summary.size() > kMaxSubjectBytes) subject += "...";

  std::string message_id;
  for (char c : e.id) {
    if (IsAsciiAlnum(c) || c == '-' || c == '_' || c == '.') message_id += c;
  }
  if (message_id.empty()) message_id = "event";

  std::string out;
  out += "From: " + HeaderValue(from) + "\r\n";
  out += ToHeader(to) + "\r\n";
  out += SubjectHeader(HeaderValue(subject)) + "\r\n";
  out += "Date: " + Rfc5322Date(e.time_micros / 1'000'000) + "\r\n";
  out += "Message-ID: <" + message_id + "@sluice>\r\n";
  out += "MIME-Version: 1.0\r\n";
  out += "Content-Type: text/plain; charset=utf-8\r\n";
  out += "Content-Transfer-Encoding: 8bit\r\n";
  out += "\r\n";

  std::string body = summary + "\n\n";
  body += "Event:   " + OneLine(e.type) + "\n";
  body += "ID:      " + OneLine(e.id) + "\n";
  body += "Source:  " + OneLine(e.source) + "\n";
  if (!e.subject.empty()) body += "Subject: " + OneLine(e.subject) + "\n";
  body += "Time:    " + FormatIsoMicros(e.time_micros) + "\n";
  body += "\nData:\n" + Dump(ParseData(e), 2) + "\n";
  out += BodyLines(body);
  return out;
}

}  // namespace sluice::alerts
