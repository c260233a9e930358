#pragma once
// Strong types for identifiers that are easy to mix up (STYLE.md rule 12), and Secret, a
// string that never prints itself.

#include <compare>
#include <ostream>
#include <string>
#include <utility>

namespace sluice {

template <class Tag>
class NamedString {
 public:
  NamedString() = default;
  explicit NamedString(std::string v) : value_(std::move(v)) {}
  const std::string& str() const { return value_; }
  bool empty() const { return value_.empty(); }
  auto operator<=>(const NamedString&) const = default;

 private:
  std::string value_;
};

// An access key id (20 upper-case alphanumerics) travels from the request's signature through
// the credential lookup to the key-usage record beside strings of every other kind; the type
// keeps it from being swapped with a secret, a bucket or a table name on the way.
using AccessKeyId = NamedString<struct AccessKeyTag>;

// A secret value (secret access key, admin token). Printing it yields "<redacted>"; reach the
// bytes only through reveal(), where they are needed (HMAC keys, encryption).
class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string v) : value_(std::move(v)) {}
  const std::string& reveal() const { return value_; }
  bool empty() const { return value_.empty(); }
  friend std::ostream& operator<<(std::ostream& os, const Secret&) { return os << "<redacted>"; }

 private:
  std::string value_;
};

// Constant-time comparison for signatures and tokens: the time depends only on the lengths.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace sluice
