// Event encodings: the Standard Webhooks signature against the spec libraries' vector, the
// CloudEvents document byte for byte, Slack's escaping, and e-mail framing (CRLF, RFC 2047,
// header injection, line lengths).
#include "sluice/alerts/webhook.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sluice/auth/auth.h"
#include "sluice/core/utf8.h"

namespace sluice::alerts {
namespace {

using Json = nlohmann::json;

// 2026-12-07T21:04:12.000912Z, a Monday.
constexpr int64_t kTime = 1796677452000912;

Event FailedFile() {
  Event e;
  e.id = "evt_0123456789abcdef0123456789abcdef";
  e.type = "file.failed";
  e.source = "/sluice/connections/shop";
  e.subject = "orders/2026/a.parquet";
  e.time_micros = kTime;
  e.data_json =
      R"({"error_code":"SCHEMA_MISMATCH","error_message":"column x is INT64 in the file, TEXT in the table","seq":42})";
  return e;
}

Event LoadedFile() {
  Event e = FailedFile();
  e.type = "file.loaded";
  e.data_json = R"({"rows": 1200, "bytes": 52000, "seq": 43})";
  return e;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = text.find("\r\n", start);
    EXPECT_NE(end, std::string::npos) << "the text must end with CRLF";
    if (end == std::string::npos) break;
    out.push_back(text.substr(start, end - start));
    start = end + 2;
  }
  return out;
}

TEST(WebhookTest, SecretsAreRandomAndWellFormed) {
  const std::string secret = NewWebhookSecret();
  EXPECT_NE(secret, NewWebhookSecret());
  ASSERT_EQ(secret.substr(0, 6), "whsec_");
  Result<std::string> key = auth::Base64Decode(secret.substr(6));
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->size(), 24u);
  EXPECT_TRUE(SignWebhook(secret, "evt_1", 1, "{}").ok());
}

// The vector of the Standard Webhooks reference libraries (standard-webhooks/standard-webhooks,
// libraries/go/webhook_test.go TestWebhookSign, and svix's PHP testSignFunctionWorks).
TEST(WebhookTest, SignatureMatchesTheStandardWebhooksVector) {
  constexpr std::string_view kSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  constexpr std::string_view kId = "msg_p5jXN8AQM9LWM0D4loKWxJek";
  constexpr std::string_view kBody = R"({"test": 2432232314})";
  constexpr std::string_view kExpected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
  Result<std::string> sig = SignWebhook(kSecret, kId, 1614265330, kBody);
  ASSERT_TRUE(sig.ok()) << sig.status().ToString();
  EXPECT_EQ(*sig, kExpected);
  // The prefix is optional, as in the reference libraries.
  EXPECT_EQ(SignWebhook(kSecret.substr(6), kId, 1614265330, kBody).ValueOr(""), kExpected);
  // Every signed part counts.
  EXPECT_NE(SignWebhook(kSecret, kId, 1614265331, kBody).ValueOr(""), kExpected);
  EXPECT_NE(SignWebhook(kSecret, "msg_other", 1614265330, kBody).ValueOr(""), kExpected);
  EXPECT_NE(SignWebhook(kSecret, kId, 1614265330, R"({"test": 2432232315})").ValueOr(""),
            kExpected);
}

TEST(WebhookTest, MalformedSecretsAreRefusedWithoutQuotingThem) {
  const std::string short_key = "whsec_" + auth::Base64Encode(std::string(16, 'k'));
  const std::string long_key = "whsec_" + auth::Base64Encode(std::string(65, 'k'));
  for (const std::string& secret : {std::string("whsec_not*base64"), std::string("whsec_"),
                                    std::string("whsec_abc"), short_key, long_key}) {
    Result<std::string> sig = SignWebhook(secret, "msg_1", 1, "{}");
    ASSERT_FALSE(sig.ok()) << secret;
    EXPECT_EQ(sig.status().code(), ErrorCode::kInvalidArgument);
    if (secret.size() > 6) {
      EXPECT_EQ(sig.status().message().find(secret.substr(6)), std::string::npos)
          << sig.status().message();
    }
  }
  EXPECT_EQ(SignWebhook(short_key, "m", 1, "").status().message(),
            "the webhook secret decodes to 16 bytes; Standard Webhooks keys are 24-64 bytes");
}

TEST(WebhookTest, CloudEventIsStructuredJson) {
  EXPECT_EQ(CloudEventJson(FailedFile()),
            R"({"specversion":"1.0","id":"evt_0123456789abcdef0123456789abcdef",)"
            R"("source":"/sluice/connections/shop","type":"io.sluice.file.failed",)"
            R"("subject":"orders/2026/a.parquet","time":"2026-12-07T21:04:12.000912Z",)"
            R"("datacontenttype":"application/json","data":{"error_code":"SCHEMA_MISMATCH",)"
            R"("error_message":"column x is INT64 in the file, TEXT in the table","seq":42}})");
}

TEST(WebhookTest, CloudEventEdgeCases) {
  Event e = FailedFile();
  e.subject.clear();
  e.data_json.clear();
  Json j = Json::parse(CloudEventJson(e));
  EXPECT_FALSE(j.contains("subject"));
  EXPECT_EQ(j["data"], Json::object());

  e.data_json = "not json";  // a caller's bug: still a valid document
  j = Json::parse(CloudEventJson(e));
  EXPECT_EQ(j["data"], "not json");

  e.subject = "orders/\xff\xfe.parquet";  // invalid UTF-8 in a key must not throw
  j = Json::parse(CloudEventJson(e));
  EXPECT_EQ(j["subject"], "orders/\xEF\xBF\xBD\xEF\xBF\xBD.parquet");
}

TEST(WebhookTest, SummaryReadsWhatTheDataHas) {
  EXPECT_EQ(Summary(FailedFile()),
            "file failed: shop/orders/2026/a.parquet \xE2\x80\x94 SCHEMA_MISMATCH: column x is "
            "INT64 in the file, TEXT in the table");
  EXPECT_EQ(Summary(LoadedFile()),
            "file loaded: shop/orders/2026/a.parquet (rows 1200, bytes 52000, seq 43)");

  Event e = FailedFile();
  e.type = "table.blocked";
  e.subject = "orders";
  e.data_json = R"({"code": "PK_NULL"})";
  EXPECT_EQ(Summary(e), "table blocked: shop/orders \xE2\x80\x94 PK_NULL");
  e.data_json = R"({"message": "line one\nline two"})";
  EXPECT_EQ(Summary(e), "table blocked: shop/orders \xE2\x80\x94 line one line two");

  e.type = "backlog.lagging";
  e.data_json = R"({"table": "orders", "pending_files": 120, "oldest_age_seconds": 3600.5,
                    "a": 1, "b": 2, "c": 3, "ok": true})";
  EXPECT_EQ(
      Summary(e),
      "backlog lagging: shop/orders (pending_files 120, oldest_age_seconds 3600.5, a 1, b 2)");

  e.type = "ping";
  e.subject.clear();
  e.data_json.clear();
  EXPECT_EQ(Summary(e), "test alert: shop");
  e.source = "elsewhere";
  e.data_json = "[1, 2]";
  EXPECT_EQ(Summary(e), "test alert");
  e.type = "digest";
  e.data_json = "not json";
  EXPECT_EQ(Summary(e), "digest");
}

TEST(WebhookTest, SummaryCutsLongMessagesOnCharacterBoundaries) {
  Event e = FailedFile();
  std::string message(kMaxSummaryMessage - 1, 'x');
  message += "\xC3\xA4tail";  // an ä across the cut
  e.data_json = Json{{"error_code", "CORRUPT_FILE"}, {"error_message", message}}.dump();
  const std::string s = Summary(e);
  EXPECT_TRUE(s.ends_with(std::string(kMaxSummaryMessage - 1, 'x') + "...")) << s;
}

TEST(WebhookTest, SlackBodyEscapesMarkup) {
  Event e = FailedFile();
  e.subject = "orders/<!channel>&<http://x|y>.json";
  const Json j = Json::parse(SlackJson(e));
  ASSERT_TRUE(j.is_object());
  ASSERT_EQ(j.size(), 1u);
  const std::string text = j["text"];
  EXPECT_EQ(text,
            "file failed: shop/orders/&lt;!channel&gt;&amp;&lt;http://x|y&gt;.json \xE2\x80\x94 "
            "SCHEMA_MISMATCH: column x is INT64 in the file, TEXT in the table\n"
            "file.failed at 2026-12-07T21:04:12.000912Z");
}

TEST(WebhookTest, EmailIsACompleteRfc5322Message) {
  EXPECT_EQ(EmailMessage(LoadedFile(), "sluice <alerts@example.com>", {"ops@example.com"}),
            "From: sluice <alerts@example.com>\r\n"
            "To: ops@example.com\r\n"
            "Subject: [sluice] file loaded: shop/orders/2026/a.parquet (rows 1200, bytes 52000, "
            "seq 43)\r\n"
            "Date: Mon, 07 Dec 2026 21:04:12 +0000\r\n"
            "Message-ID: <evt_0123456789abcdef0123456789abcdef@sluice>\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: 8bit\r\n"
            "\r\n"
            "file loaded: shop/orders/2026/a.parquet (rows 1200, bytes 52000, seq 43)\r\n"
            "\r\n"
            "Event:   file.loaded\r\n"
            "ID:      evt_0123456789abcdef0123456789abcdef\r\n"
            "Source:  /sluice/connections/shop\r\n"
            "Subject: orders/2026/a.parquet\r\n"
            "Time:    2026-12-07T21:04:12.000912Z\r\n"
            "\r\n"
            "Data:\r\n"
            "{\r\n"
            "  \"rows\": 1200,\r\n"
            "  \"bytes\": 52000,\r\n"
            "  \"seq\": 43\r\n"
            "}\r\n");
}

// Decodes the Subject header's RFC 2047 encoded-words (one per folded line).
std::string DecodedSubject(const std::vector<std::string>& lines) {
  std::string out;
  bool in_subject = false;
  for (const std::string& line : lines) {
    std::string_view word;
    if (line.starts_with("Subject: ")) {
      in_subject = true;
      word = std::string_view(line).substr(9);
    } else if (in_subject && line.starts_with(" ")) {
      word = std::string_view(line).substr(1);
    } else if (in_subject) {
      break;
    } else {
      continue;
    }
    EXPECT_LE(word.size(), 75u);
    EXPECT_TRUE(word.starts_with("=?UTF-8?B?") && word.ends_with("?=")) << word;
    Result<std::string> text = auth::Base64Decode(word.substr(10, word.size() - 12));
    EXPECT_TRUE(text.ok());
    if (text.ok()) out += *text;
  }
  return out;
}

TEST(WebhookTest, EmailEncodesANonAsciiSubjectInWholeCharacters) {
  Event e = FailedFile();
  // 179 bytes of subject put the summary's em dash at bytes 198-200, across the 200-byte cut.
  e.subject = "orders/\xC3\xA4\xC3\xB6\xC3\xBC/" + std::string(157, 'a') + "\xE2\x82\xAC.json";
  ASSERT_EQ(e.subject.size(), 179u);
  const std::string mail = EmailMessage(e, "alerts@example.com", {"ops@example.com"});
  const std::vector<std::string> lines = Lines(mail);
  const std::string subject = DecodedSubject(lines);
  const std::string summary = Summary(e);
  ASSERT_EQ(summary.substr(198, 3), "\xE2\x80\x94");
  EXPECT_EQ(subject, "[sluice] " + summary.substr(0, 198) + "...");
  // Every encoded-word holds whole characters: each decodes to valid UTF-8 on its own.
  for (const std::string& line : lines) {
    if (!line.starts_with("Subject: =?") && !line.starts_with(" =?")) continue;
    const size_t start = line.find("=?UTF-8?B?") + 10;
    Result<std::string> word = auth::Base64Decode(line.substr(start, line.size() - start - 2));
    ASSERT_TRUE(word.ok());
    EXPECT_TRUE(IsValidUtf8(*word)) << line;
  }
}

TEST(WebhookTest, EmailHeadersCannotBeInjected) {
  Event e = LoadedFile();
  e.id = "evt_1>\r\nBcc: x@evil";
  const std::string mail =
      EmailMessage(e, "alerts@example.com\r\nBcc: evil@example.com",
                   {"ops@example.com\nBcc: evil2@example.com", "", "dev@example.com"});
  EXPECT_EQ(mail.find("\r\nBcc:"), std::string::npos) << mail;
  EXPECT_EQ(mail.find("\nBcc:"), std::string::npos) << mail;
  EXPECT_NE(mail.find("From: alerts@example.comBcc: evil@example.com\r\n"), std::string::npos);
  EXPECT_NE(mail.find("To: ops@example.comBcc: evil2@example.com, dev@example.com\r\n"),
            std::string::npos);
  EXPECT_NE(mail.find("Message-ID: <evt_1Bccxevil@sluice>\r\n"), std::string::npos);
}

TEST(WebhookTest, EmailLinesStayShortAndEndInCrlf) {
  Event e = FailedFile();
  std::string message;
  for (int i = 0; i < 400; ++i) message += "\xE2\x82\xAC long ";  // 3-byte characters
  e.data_json = Json{{"error_code", "CORRUPT_FILE"}, {"error_message", message}}.dump();
  std::vector<std::string> to;
  to.reserve(30);
  for (int i = 0; i < 30; ++i) to.push_back("recipient" + std::to_string(i) + "@example.com");
  const std::string mail = EmailMessage(e, "alerts@example.com", to);
  size_t bare_lf = 0;
  for (size_t i = 0; i < mail.size(); ++i)
    bare_lf += mail[i] == '\n' && (i == 0 || mail[i - 1] != '\r');
  EXPECT_EQ(bare_lf, 0u);
  const std::vector<std::string> lines = Lines(mail);
  bool in_headers = true;
  std::string to_header;
  for (const std::string& line : lines) {
    EXPECT_LT(line.size(), 998u);
    EXPECT_TRUE(IsValidUtf8(line)) << line;  // long lines are broken between characters
    if (line.empty()) in_headers = false;
    if (in_headers) {
      EXPECT_LE(line.size(), 78u) << line;
    }
    if (in_headers && (line.starts_with("To:") || (!to_header.empty() && line.starts_with(" ")))) {
      to_header += line;
    }
  }
  for (const std::string& r : to) EXPECT_NE(to_header.find(r), std::string::npos) << r;
}

}  // namespace
}  // namespace sluice::alerts
