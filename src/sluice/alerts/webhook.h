#pragma once
// alerts: what an alert says and how it is encoded for each channel. Pure functions from an
// Event to bytes: a CloudEvents JSON document signed the Standard Webhooks way for generic
// webhooks, a Slack incoming-webhook body, an RFC 5322 e-mail. Nothing here sends anything
// (transport.h does) or decides which events to raise.
//
// Standard Webhooks (https://www.standardwebhooks.com, spec/standard-webhooks.md): the sender
// POSTs the body with three headers,
//   webhook-id: <Event::id>             the same on every retry: the receiver's idempotency key
//   webhook-timestamp: <unix seconds>   of this attempt
//   webhook-signature: v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>
// where key is the base64-decoded secret after its "whsec_" prefix. Worked example, the spec's
// libraries' own vector: secret "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", id
// "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp 1614265330, body `{"test": 2432232314}` sign as
// "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=".
//
// CloudEvents 1.0, structured mode (JSON event format): the whole event is the body,
//   {"specversion":"1.0","id":"evt_...","source":"/sluice/connections/shop",
//    "type":"io.sluice.file.failed","subject":"orders/2026/a.parquet",
//    "time":"2026-12-07T21:04:12.000912Z","datacontenttype":"application/json","data":{...}}
// sent with Content-Type application/cloudevents+json.
//
// Thread-safety: every function is reentrant; the random ones draw from OpenSSL's RAND_bytes.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/core/core.h"

namespace sluice::alerts {

struct Event {
  std::string id;           // unique per event ("evt_" + 32 hex): CloudEvents id and webhook-id
  std::string type;         // "file.failed", "file.loaded", "table.blocked", "table.unblocked",
                            // "backlog.lagging", "backlog.recovered", "table.idle",
                            // "schema.changed", "digest", "ping"
  std::string source;       // "/sluice/connections/<connection>" (a URI-reference)
  std::string subject;      // "<table>/<key>" or "<table>"; may be empty
  int64_t time_micros = 0;  // when it happened, unix microseconds
  // A JSON object as text. The summaries read error_code (or code) and error_message (or
  // message, error) from it when present, and any top-level numbers; every field is optional.
  std::string data_json;
};

// "whsec_" + base64 of 24 random bytes, the Standard Webhooks secret format (at least 24
// bytes of key).
std::string NewWebhookSecret();

// The webhook-signature header value "v1,<base64>" for `body` (see above). `secret` is
// "whsec_<base64>"; the prefix may be left out, as the reference libraries allow. The key must
// decode to 24-64 bytes (the spec's bounds). kInvalidArgument for a malformed secret; the
// message never contains the secret.
Result<std::string> SignWebhook(std::string_view secret, std::string_view msg_id,
                                int64_t timestamp_seconds, std::string_view body);

// The CloudEvents 1.0 structured JSON of `e` (see above): type is "io.sluice." + e.type,
// subject only when non-empty, time RFC 3339 UTC with microseconds, data the data_json object
// embedded as JSON. data_json that is not JSON (a caller's bug) is embedded as a string rather
// than making the body invalid; empty data_json is {}.
std::string CloudEventJson(const Event& e);

// A Slack incoming-webhook body, {"text": "..."}: the Summary, then the event type and time on
// a second line. Slack's control characters &, <, > are escaped so that a key cannot mention
// @channel or forge a link.
std::string SlackJson(const Event& e);

// A complete RFC 5322 message: CRLF line ends; headers From, To (comma list), Subject
// "[sluice] <Summary>", Date (UTC), Message-ID "<id@sluice>", MIME-Version, Content-Type
// text/plain; charset=utf-8, Content-Transfer-Encoding 8bit; a body with the summary, the
// event's fields and its data pretty-printed. Header values have CR, LF and other control
// characters removed (no header injection); a non-ASCII subject is RFC 2047 encoded
// (=?UTF-8?B?...?=). Every line stays under 998 bytes (RFC 5322 2.1.1): longer body lines are
// broken. Dot-stuffing is left to the SMTP client (libcurl does it).
std::string EmailMessage(const Event& e, std::string_view from, const std::vector<std::string>& to);

// Enough of an error message to recognise it in a summary; the full text is in the data.
constexpr size_t kMaxSummaryMessage = 300;

// One line for humans, shared by Slack and e-mail:
//   "file failed: shop/orders/2026/a.parquet — SCHEMA_MISMATCH: column x is ..."
//   "backlog lagging: shop/orders (pending_files 120, oldest_age_seconds 3600)"
// what happened, then connection/subject, then the error code and message when data has them,
// else up to four of its top-level numbers. Valid UTF-8 without control characters; the error
// message is cut to kMaxSummaryMessage bytes.
std::string Summary(const Event& e);

}  // namespace sluice::alerts
