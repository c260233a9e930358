#pragma once
// ASCII text helpers: character classes, case, trimming and case-insensitive comparison.
//
// Everything here is ASCII only, on purpose: the names it serves (HTTP header and S3 header
// names, SQL identifiers, hex digests, configuration words) are defined over ASCII, and the
// <cctype> functions depend on the C locale and are undefined for negative chars. Bytes >= 0x80
// are never letters, digits or space here, and case mapping leaves them as they are, so UTF-8
// passes through unchanged ("Ä" and "ä" are not equal ignoring case).

#include <string>
#include <string_view>

namespace sluice {

constexpr bool IsAsciiUpper(char c) { return c >= 'A' && c <= 'Z'; }
constexpr bool IsAsciiLower(char c) { return c >= 'a' && c <= 'z'; }
constexpr bool IsAsciiAlpha(char c) { return IsAsciiUpper(c) || IsAsciiLower(c); }
constexpr bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }
constexpr bool IsAsciiAlnum(char c) { return IsAsciiAlpha(c) || IsAsciiDigit(c); }
// ' ', '\t', '\n', '\r', '\v', '\f': the C locale's isspace.
constexpr bool IsAsciiSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

constexpr char AsciiLower(char c) { return IsAsciiUpper(c) ? static_cast<char>(c - 'A' + 'a') : c; }
constexpr char AsciiUpper(char c) { return IsAsciiLower(c) ? static_cast<char>(c - 'a' + 'A') : c; }

inline void AsciiLowerInPlace(std::string& s) {
  for (char& c : s) c = AsciiLower(c);
}
inline void AsciiUpperInPlace(std::string& s) {
  for (char& c : s) c = AsciiUpper(c);
}
inline std::string AsciiLowered(std::string_view s) {
  std::string out(s);
  AsciiLowerInPlace(out);
  return out;
}
inline std::string AsciiUppered(std::string_view s) {
  std::string out(s);
  AsciiUpperInPlace(out);
  return out;
}

constexpr bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
  }
  return true;
}
constexpr bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && EqualsIgnoreCase(s.substr(0, prefix.size()), prefix);
}

// `s` without leading and trailing IsAsciiSpace characters (a view into `s`).
constexpr std::string_view TrimAscii(std::string_view s) {
  while (!s.empty() && IsAsciiSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsAsciiSpace(s.back())) s.remove_suffix(1);
  return s;
}

// The value of a hex digit (either case), or -1 for any other character.
constexpr int HexDigitValue(char c) {
  if (IsAsciiDigit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
constexpr bool IsHexString(std::string_view s) {
  for (char c : s) {
    if (HexDigitValue(c) < 0) return false;
  }
  return true;
}

}  // namespace sluice
